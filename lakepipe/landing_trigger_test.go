package lakepipe

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe/asl"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
)

// TestTriggerStepFunctionsLocal starts executions on stepfunctions-local
// from a real S3 notification; the same notification delivered again
// starts nothing new.
func TestTriggerStepFunctionsLocal(t *testing.T) {
	ctx := context.Background()
	c := awstest.StepFunctions(t)
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name:       aws.String(awstest.Name(t, "trigger")),
		Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`),
		RoleArn:    aws.String("arn:aws:iam::123456789012:role/sfn"),
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.S3Event
	if err := json.Unmarshal([]byte(landingEventJSON), &ev); err != nil {
		t.Fatal(err)
	}
	trig, err := NewTrigger(c, aws.ToString(sm.StateMachineArn))
	if err != nil {
		t.Fatal(err)
	}
	res, err := trig.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Started) != 1 || len(res.Skipped) != 2 || res.Started[0].Input.Dataset != "customers" {
		t.Fatalf("%+v", res)
	}
	desc, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(res.Started[0].ExecutionARN)})
	if err != nil {
		t.Fatal(err)
	}
	var in ExecutionInput
	if err := json.Unmarshal([]byte(aws.ToString(desc.Input)), &in); err != nil || in.Year != "2019" || in.Month != "08" || in.Day != "21" {
		t.Fatalf("execution input %s: %v", aws.ToString(desc.Input), err)
	}
	if aws.ToString(desc.Name) != res.Started[0].Name {
		t.Fatalf("name %s", aws.ToString(desc.Name))
	}
	again, err := trig.Handle(ctx, ev)
	if err != nil {
		t.Fatalf("duplicate delivery: %v", err)
	}
	if len(again.Started) != 0 || len(again.Duplicates) != 1 {
		t.Fatalf("duplicate delivery: %+v", again)
	}
}

// TestTriggerStartFails: a StartExecution failure is returned (so Lambda
// retries the event), naming the key; mismatched keys are only reported.
func TestTriggerStartFails(t *testing.T) {
	var ev events.S3Event
	if err := json.Unmarshal([]byte(landingEventJSON), &ev); err != nil {
		t.Fatal(err)
	}
	m := &asl.StateMachine{StartAt: "P"}
	m.Add("P", &asl.Pass{Transition: asl.Transition{End: true}})
	r, err := local.New(m)
	if err != nil {
		t.Fatal(err)
	}
	svc := local.NewService(r, "arn:aws:states:us-east-1:000000000000:stateMachine:other")
	trig, err := NewTrigger(svc, "arn:aws:states:us-east-1:000000000000:stateMachine:pipeline")
	if err != nil {
		t.Fatal(err)
	}
	res, err := trig.Handle(context.Background(), ev)
	var missing *sfntypes.StateMachineDoesNotExist
	if !errors.As(err, &missing) || !strings.Contains(err.Error(), "customers_20190821.csv") || len(res.Started) != 0 || len(res.Skipped) != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}
