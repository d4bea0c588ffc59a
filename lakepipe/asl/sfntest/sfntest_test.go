package sfntest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakekit/lakekit/lakepipe/asl/sfntest"
)

const definition = `{"StartAt":"Route","States":{
  "Route":{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"},
  "Big":{"Type":"Pass","Result":"big","End":true},
  "Small":{"Type":"Fail","Error":"TooSmall","Cause":"n <= 1"}}}`

func TestNew(t *testing.T) {
	ctx := context.Background()
	srv := sfntest.New(t)
	arn := srv.NewStateMachine(t, definition)
	if !strings.Contains(arn, ":stateMachine:") {
		t.Fatalf("ARN %s", arn)
	}
	run := func(input string) *sfn.DescribeExecutionOutput {
		t.Helper()
		ex, err := srv.Client.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: &arn, Input: &input})
		if err != nil {
			t.Fatal(err)
		}
		// Generous: a loaded CI machine may be slow to run even this.
		for range 3000 {
			d, err := srv.Client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != sfntypes.ExecutionStatusRunning {
				return d
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatal("execution still RUNNING after a minute")
		return nil
	}
	if d := run(`{"n":2}`); d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `"big"` {
		t.Fatalf("n=2: %s %s", d.Status, aws.ToString(d.Output))
	}
	// On AWS a Fail state fails the execution; stepfunctions-local 1.3.1
	// enters it (the history says so) but reports SUCCEEDED. Assert what
	// both agree on, and say so in the package doc.
	d := run(`{"n":0}`)
	h, err := srv.Client.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: d.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	entered := false
	for _, e := range h.Events {
		entered = entered || e.Type == sfntypes.HistoryEventTypeFailStateEntered
	}
	if !entered {
		t.Fatalf("n=0: no FailStateEntered in %d events", len(h.Events))
	}
	// A definition the service refuses.
	if _, err := srv.Client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"),
		Definition: aws.String(`{"StartAt":"Nowhere","States":{}}`), RoleArn: aws.String(sfntest.RoleARN)}); err == nil {
		t.Fatal("an invalid definition was accepted")
	}
}
