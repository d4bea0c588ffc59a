package local

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe/asl"
)

// BenchmarkRunnerPollingLoop runs a Wait/Task/Choice polling loop of 100
// rounds per execution (the shape of the pipeline's crawler loops) with an
// in-memory task, and reports state transitions per second: the runner's
// own overhead, JSONPath and history included.
func BenchmarkRunnerPollingLoop(b *testing.B) {
	m := &asl.StateMachine{StartAt: "Init"}
	m.Add("Init", &asl.Pass{Result: json.RawMessage(`{"n":0,"done":false}`), ResultPath: "$.poll", Transition: asl.Transition{Next: "Wait"}})
	m.Add("Wait", &asl.Wait{Seconds: 30, Transition: asl.Transition{Next: "Poll"}})
	m.Add("Poll", &asl.Task{Resource: fnCheck, Parameters: map[string]any{"n.$": "$.poll.n", "exec.$": "$$.Execution.Name"},
		ResultPath: "$.poll", Transition: asl.Transition{Next: "Done?"}})
	m.Add("Done?", &asl.Choice{Choices: []asl.ChoiceRule{asl.Rule("$.poll.done", "BooleanEquals", true).Then("Done")}, Default: "Wait"})
	m.Add("Done", &asl.Succeed{})
	r, err := New(m, func(o *RunnerOptions) { vc := NewVirtualClock(t0); o.Now, o.Sleep = vc.Now, vc.Sleep })
	if err != nil {
		b.Fatal(err)
	}
	r.Handle(fnCheck, Func(func(_ context.Context, in struct{ N int }) (map[string]any, error) {
		return map[string]any{"n": in.N + 1, "done": in.N+1 >= 100}, nil
	}))
	input := []byte(`{"year":"2019","month":"08","day":"21","dataset":"customers"}`)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		ex, err := r.Run(context.Background(), "x"+strconv.Itoa(i), input)
		if err != nil || ex.Status != StatusSucceeded {
			b.Fatal(err, ex.Status)
		}
	}
	b.ReportMetric(float64(r.Stats().States)/time.Since(start).Seconds(), "states/s")
}

// BenchmarkRunnerVsStepFunctionsLocal runs the same 20-state Pass/Choice
// definition on stepfunctions-local (the npm emulator, the only other
// local executor here) and on the runner, 20 executions each per round,
// and reports executions/s of both and their ratio (runner over
// stepfunctions-local). stepfunctions-local runs executions
// asynchronously: its figure includes DescribeExecution polling.
func BenchmarkRunnerVsStepFunctionsLocal(b *testing.B) {
	ctx := context.Background()
	c := awstest.StepFunctions(b)
	m := &asl.StateMachine{StartAt: "S0"}
	for i := range 19 {
		m.Add("S"+strconv.Itoa(i), &asl.Pass{Result: json.RawMessage(strconv.Itoa(i)), ResultPath: asl.Path("$.s" + strconv.Itoa(i%5)),
			Transition: asl.Transition{Next: "S" + strconv.Itoa(i+1)}})
	}
	m.Add("S19", &asl.Choice{Choices: []asl.ChoiceRule{asl.Rule("$.s3", "NumericEquals", 18).Then("Done")}, Default: "Done"})
	m.Add("Done", &asl.Succeed{})
	def, _ := json.Marshal(m)
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String(awstest.Name(b, "bench")),
		Definition: aws.String(string(def)), RoleArn: aws.String("arn:aws:iam::123456789012:role/sfn")})
	if err != nil {
		b.Fatal(err)
	}
	r, err := New(m, func(o *RunnerOptions) { vc := NewVirtualClock(t0); o.Now, o.Sleep = vc.Now, vc.Sleep })
	if err != nil {
		b.Fatal(err)
	}
	const perRound = 20
	input := aws.String(`{"x":1}`)
	var theirs, ours time.Duration
	rounds := 0
	for b.Loop() {
		rounds++
		start := time.Now()
		arns := make([]*string, perRound)
		for i := range arns {
			out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: input})
			if err != nil {
				b.Fatal(err)
			}
			arns[i] = out.ExecutionArn
		}
		for _, arn := range arns {
			for {
				d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: arn})
				if err != nil {
					b.Fatal(err)
				}
				if d.Status == sfntypes.ExecutionStatusSucceeded {
					break
				}
				if d.Status != sfntypes.ExecutionStatusRunning {
					b.Fatalf("stepfunctions-local: %s", d.Status)
				}
				time.Sleep(time.Millisecond)
			}
		}
		theirs += time.Since(start)
		start = time.Now()
		for i := range perRound {
			ex, err := r.Run(ctx, "b"+strconv.Itoa(i), []byte(*input))
			if err != nil || ex.Status != StatusSucceeded {
				b.Fatal(err)
			}
		}
		ours += time.Since(start)
	}
	n := float64(rounds * perRound)
	b.ReportMetric(n/ours.Seconds(), "runner-execs/s")
	b.ReportMetric(n/theirs.Seconds(), "sfnlocal-execs/s")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "ratio")
}
