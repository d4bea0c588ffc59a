package local

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

func TestService(t *testing.T) {
	ctx := context.Background()
	m := &asl.StateMachine{StartAt: "T"}
	m.Add("T", &asl.Task{Resource: fnCheck, Transition: asl.Transition{End: true}})
	r, err := New(m, func(o *RunnerOptions) { vc := NewVirtualClock(t0); o.Now, o.Sleep = vc.Now, vc.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	r.Handle(fnCheck, func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var v struct{ Fail bool }
		_ = json.Unmarshal(in, &v)
		if v.Fail {
			return nil, &NotYetError{N: 1}
		}
		return in, nil
	})
	const arn = "arn:aws:states:us-east-1:000000000000:stateMachine:pipeline"
	s := NewService(r, arn)
	out, err := s.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("ok"), Input: aws.String(`{"a":1}`)})
	if err != nil || aws.ToString(out.ExecutionArn) != "arn:aws:states:us-east-1:000000000000:execution:pipeline:ok" {
		t.Fatalf("%v %v", out, err)
	}
	d, err := s.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
	if err != nil || d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"a":1}` || aws.ToString(d.Input) != `{"a":1}` {
		t.Fatalf("%+v %v", d, err)
	}
	var exists *sfntypes.ExecutionAlreadyExists
	if _, err := s.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("ok")}); !errors.As(err, &exists) {
		t.Fatalf("same name: %v", err)
	}
	out, _ = s.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn), Name: aws.String("bad"), Input: aws.String(`{"Fail":true}`)})
	d, _ = s.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: out.ExecutionArn})
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != "NotYetError" {
		t.Fatalf("%+v", d)
	}
	var missing *sfntypes.StateMachineDoesNotExist
	if _, err := s.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(arn + "x"), Name: aws.String("n")}); !errors.As(err, &missing) {
		t.Fatalf("other machine: %v", err)
	}
	var nope *sfntypes.ExecutionDoesNotExist
	if _, err := s.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("x")}); !errors.As(err, &nope) {
		t.Fatalf("unknown execution: %v", err)
	}
}
