package local

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe/asl"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestConformanceStepFunctionsLocal runs the same definitions on
// stepfunctions-local and on the local runner and compares the outputs:
// the data flow (InputPath, Result, ResultPath, OutputPath) and Choice
// rules must agree. stepfunctions-local 1.3.1 departs from AWS in ways
// these definitions avoid: it ignores Parameters on Pass states, refuses
// "ResultPath": null, applies ResultPath to the InputPath-filtered input
// rather than the raw state input, and replaces the top-level member on a
// nested ResultPath ("$.a.b" drops a's other members). The runner follows
// the AWS documentation there; its own tests cover those cases.
func TestConformanceStepFunctionsLocal(t *testing.T) {
	ctx := context.Background()
	c := awstest.StepFunctions(t)
	end := asl.Transition{End: true}

	flow := &asl.StateMachine{StartAt: "Shape"}
	flow.Add("Shape", &asl.Pass{IO: asl.IO{InputPath: "$.in"}, Transition: asl.Transition{Next: "Const"}})
	flow.Add("Const", &asl.Pass{Result: json.RawMessage(`{"n":3,"state":"READY","done":true}`), ResultPath: "$.crawl", Transition: asl.Transition{Next: "Route"}})
	flow.Add("Route", &asl.Choice{Choices: []asl.ChoiceRule{
		asl.And(asl.Rule("$.crawl.state", "StringEquals", "READY"), asl.Not(asl.Rule("$.crawl.n", "NumericLessThan", 3))).Then("Ready"),
		asl.Rule("$.crawl.done", "BooleanEquals", true).Then("Other"),
	}, Default: "Other"})
	flow.Add("Ready", &asl.Pass{Result: json.RawMessage(`["a",{"b":1}]`), ResultPath: "$.result", Transition: asl.Transition{Next: "Pick"}})
	flow.Add("Pick", &asl.Pass{IO: asl.IO{OutputPath: "$.crawl"}, Transition: asl.Transition{Next: "Wrap"}})
	flow.Add("Wrap", &asl.Pass{ResultPath: "$.again", Transition: end})
	flow.Add("Other", &asl.Pass{Result: json.RawMessage(`"other"`), Transition: end})

	second := &asl.StateMachine{StartAt: "Route"}
	second.Add("Route", &asl.Choice{Choices: []asl.ChoiceRule{
		asl.Or(asl.Rule("$.s", "StringGreaterThan", "m"), asl.Rule("$.n", "NumericGreaterThanEquals", 10)).Then("Big"),
	}, Default: "Small"})
	second.Add("Big", &asl.Pass{Result: json.RawMessage(`"big"`), ResultPath: "$.kind", Transition: end})
	second.Add("Small", &asl.Pass{Result: json.RawMessage(`"small"`), ResultPath: "$.kind", IO: asl.IO{OutputPath: "$.kind"}, Transition: end})

	cases := []struct {
		name  string
		m     *asl.StateMachine
		input string
	}{
		{"flow", flow, `{"in":{"year":"2019","day":"21"},"keep":[1,2]}`},
		{"choice big by string", second, `{"s":"zeta","n":1}`},
		{"choice big by number", second, `{"s":"alpha","n":12.5}`},
		{"choice small", second, `{"s":"alpha","n":2}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			def, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(awstest.Name(t, "conf")),
				Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn")})
			if err != nil {
				t.Fatal(err)
			}
			start, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(tc.input)})
			if err != nil {
				t.Fatal(err)
			}
			var theirs *sfn.DescribeExecutionOutput
			deadline := time.Now().Add(20 * time.Second)
			for {
				theirs, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: start.ExecutionArn})
				if err != nil {
					t.Fatal(err)
				}
				if theirs.Status != sfntypes.ExecutionStatusRunning || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			r, err := New(tc.m, func(o *RunnerOptions) { vc := NewVirtualClock(t0); o.Now, o.Sleep = vc.Now, vc.Sleep })
			if err != nil {
				t.Fatal(err)
			}
			ours, err := r.Run(ctx, "conf", []byte(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			if string(theirs.Status) != ours.Status {
				t.Fatalf("status: stepfunctions-local %s, runner %s", theirs.Status, ours.Status)
			}
			if !conformanceSameJSON(t, aws.ToString(theirs.Output), string(ours.Output)) {
				t.Fatalf("output: stepfunctions-local %s, runner %s", aws.ToString(theirs.Output), ours.Output)
			}
		})
	}
}

func conformanceSameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%q: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
