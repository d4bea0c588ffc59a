package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

const fnCheck = "arn:aws:lambda:us-west-2:123456789012:function:check"

var t0 = time.Date(2019, 8, 21, 6, 0, 0, 0, time.UTC)

// NotYetError is a named error type, as a Go Lambda returns it.
type NotYetError struct{ N int }

func (e *NotYetError) Error() string { return fmt.Sprintf("not yet (%d)", e.N) }

func seedRetryMachine() *asl.StateMachine {
	m := &asl.StateMachine{StartAt: "Check"}
	m.Add("Check", &asl.Task{
		Resource:   fnCheck,
		Parameters: map[string]any{"step": "raw", "year.$": "$.year"},
		ResultPath: "$.check",
		Retry: []asl.Retrier{{ErrorEquals: []string{"NotYetError"}, IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: asl.Int(5)},
			{ErrorEquals: []string{asl.ErrorALL}, MaxAttempts: asl.Int(0)}},
		Catch:      []asl.Catcher{{ErrorEquals: []string{asl.ErrorALL}, Next: "CheckFailed", ResultPath: "$.error"}},
		Transition: asl.Transition{Next: "Done"},
	})
	m.Add("CheckFailed", &asl.Fail{Error: "CheckFailed", Cause: "the check never passed"})
	m.Add("Done", &asl.Succeed{IO: asl.IO{OutputPath: "$.check"}})
	return m
}

func TestRetryBackoff(t *testing.T) {
	for _, tt := range []struct {
		name      string
		passAfter int // attempts that fail before one passes; -1 never
		status    string
		sleeps    []time.Duration
	}{
		{"passes on the 4th attempt", 3, StatusSucceeded, []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second}},
		{"retries exhausted", -1, StatusFailed, []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second, 240 * time.Second, 480 * time.Second}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := NewVirtualClock(t0)
			r, err := New(seedRetryMachine(), func(o *RunnerOptions) { o.Now, o.Sleep = clock.Now, clock.Sleep })
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			r.Handle(fnCheck, Func(func(_ context.Context, in struct{ Step, Year string }) (map[string]any, error) {
				calls++
				if in.Step != "raw" || in.Year != "2019" {
					return nil, fmt.Errorf("bad input %+v", in)
				}
				if tt.passAfter < 0 || calls <= tt.passAfter {
					return nil, &NotYetError{N: calls}
				}
				return map[string]any{"objects": 1}, nil
			}))
			ex, err := r.Run(context.Background(), "20190821-ab", []byte(`{"year":"2019"}`))
			if err != nil {
				t.Fatal(err)
			}
			if ex.Status != tt.status {
				t.Fatalf("status %s (%s: %s)", ex.Status, ex.Error, ex.Cause)
			}
			if got := clock.Sleeps(); !slices.Equal(got, tt.sleeps) {
				t.Fatalf("retry intervals %v, want %v", got, tt.sleeps)
			}
			var retryIn []time.Duration
			for _, ev := range ex.Events("TaskFailed") {
				retryIn = append(retryIn, ev.RetryIn)
				if ev.Error != "NotYetError" {
					t.Fatalf("error name %q", ev.Error)
				}
			}
			if len(ex.Events("TaskScheduled")) != len(tt.sleeps)+1 {
				t.Fatalf("%d attempts", len(ex.Events("TaskScheduled")))
			}
			st := r.Stats()
			if st.Executions != 1 || st.Tasks != int64(len(tt.sleeps)+1) || st.Retries != int64(len(tt.sleeps)) || st.Succeeded+st.Failed != 1 {
				t.Fatalf("stats %+v", st)
			}
			if tt.status == StatusSucceeded {
				if string(ex.Output) != `{"objects":1}` || !ex.Stop.Equal(t0.Add(210*time.Second)) {
					t.Fatalf("output %s at %s", ex.Output, ex.Stop)
				}
				return
			}
			// Exhausted: the last failure has no retry, the catch took it to
			// the Fail state with {Error, Cause} at $.error.
			if retryIn[len(retryIn)-1] != 0 || ex.Error != "CheckFailed" || ex.FailedState != "CheckFailed" {
				t.Fatalf("retryIn %v, error %s in %s", retryIn, ex.Error, ex.FailedState)
			}
			entered := ex.Events("FailStateEntered")
			if len(entered) != 1 {
				t.Fatalf("fail state entered %d times", len(entered))
			}
			var in struct {
				Year  string
				Error struct{ Error, Cause string }
			}
			if err := json.Unmarshal(entered[0].Data, &in); err != nil {
				t.Fatal(err)
			}
			var cause struct{ ErrorMessage, ErrorType string }
			if err := json.Unmarshal([]byte(in.Error.Cause), &cause); err != nil {
				t.Fatalf("cause %q: %v", in.Error.Cause, err)
			}
			if in.Year != "2019" || in.Error.Error != "NotYetError" || cause.ErrorType != "NotYetError" || cause.ErrorMessage != "not yet (6)" {
				t.Fatalf("Fail state input %s", entered[0].Data)
			}
			last := ex.History[len(ex.History)-1]
			if last.Type != "ExecutionFailed" || last.Error != "CheckFailed" || last.Cause != "the check never passed" {
				t.Fatalf("last event %+v", last)
			}
		})
	}
}

func TestRetryRules(t *testing.T) {
	tests := []struct {
		name   string
		r      asl.Retrier
		jitter float64
		want   []time.Duration
	}{
		{"defaults: 1 s, ×2, 3 attempts", asl.Retrier{ErrorEquals: []string{asl.ErrorALL}}, 0, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}},
		{"MaxDelaySeconds caps", asl.Retrier{ErrorEquals: []string{asl.ErrorTaskFailed}, IntervalSeconds: 10, BackoffRate: 3, MaxAttempts: asl.Int(4), MaxDelaySeconds: 60}, 0,
			[]time.Duration{10 * time.Second, 30 * time.Second, 60 * time.Second, 60 * time.Second}},
		{"full jitter", asl.Retrier{ErrorEquals: []string{"Boom"}, IntervalSeconds: 10, BackoffRate: 1, MaxAttempts: asl.Int(2), JitterStrategy: "FULL"}, 0.25,
			[]time.Duration{2500 * time.Millisecond, 2500 * time.Millisecond}},
		{"MaxAttempts 0", asl.Retrier{ErrorEquals: []string{"Boom"}, MaxAttempts: asl.Int(0)}, 0, nil},
		{"name does not match", asl.Retrier{ErrorEquals: []string{"Other"}}, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &asl.StateMachine{StartAt: "T"}
			m.Add("T", &asl.Task{Resource: fnCheck, Retry: []asl.Retrier{tt.r}, Transition: asl.Transition{End: true}})
			clock := NewVirtualClock(t0)
			r, err := New(m, func(o *RunnerOptions) {
				o.Now, o.Sleep = clock.Now, clock.Sleep
				o.Jitter = func() float64 { return tt.jitter }
			})
			if err != nil {
				t.Fatal(err)
			}
			r.Handle(fnCheck, func(context.Context, json.RawMessage) (json.RawMessage, error) {
				return nil, &TaskError{Name: "Boom", Cause: "always"}
			})
			ex, err := r.Run(context.Background(), "x", nil)
			if err != nil {
				t.Fatal(err)
			}
			if ex.Status != StatusFailed || ex.Error != "Boom" || ex.Cause != "always" || ex.FailedState != "T" {
				t.Fatalf("%+v", ex)
			}
			if got := clock.Sleeps(); !slices.Equal(got, tt.want) {
				t.Fatalf("sleeps %v, want %v", got, tt.want)
			}
		})
	}
}

func TestErrorMatching(t *testing.T) {
	tests := []struct {
		list []string
		name string
		want bool
	}{
		{[]string{asl.ErrorALL}, "CrawlerFailedError", true},
		{[]string{asl.ErrorALL}, asl.ErrorRuntime, false},
		{[]string{asl.ErrorTaskFailed}, "CrawlerFailedError", true},
		{[]string{asl.ErrorTaskFailed}, asl.ErrorTimeout, false},
		{[]string{asl.ErrorTimeout}, asl.ErrorTimeout, true},
		{[]string{"States.All"}, "X", false}, // the seed's spelling matches nothing
		{[]string{"LandingToRawFileTransferInCompleteException"}, "LandingToRawFileTransferIncompleteException", false},
	}
	for _, tt := range tests {
		if got := matches(tt.list, tt.name); got != tt.want {
			t.Errorf("matches(%v, %s) = %v", tt.list, tt.name, got)
		}
	}
	if got := ErrorName(&NotYetError{}); got != "NotYetError" {
		t.Errorf("ErrorName = %s", got)
	}
	if got := ErrorName(fmt.Errorf("wrapped: %w", &NotYetError{})); got != "wrapError" {
		t.Errorf("wrapped ErrorName = %s", got)
	}
	if got := ErrorName(errors.New("x")); got != "errorString" {
		t.Errorf("errors.New ErrorName = %s", got)
	}
}

func TestDataFlowAndChoice(t *testing.T) {
	m := &asl.StateMachine{StartAt: "Init"}
	m.Add("Init", &asl.Pass{Result: json.RawMessage(`{"n":0,"state":"RUNNING"}`), ResultPath: "$.crawl", Transition: asl.Transition{Next: "Poll"}})
	m.Add("Poll", &asl.Task{Resource: fnCheck, IO: asl.IO{InputPath: "$.crawl"}, Parameters: map[string]any{"n.$": "$.n", "exec.$": "$$.Execution.Name", "fixed": map[string]any{"k": 1}},
		ResultSelector: map[string]any{"n.$": "$.n", "state.$": "$.state"}, ResultPath: "$.crawl", Transition: asl.Transition{Next: "Done?"}})
	m.Add("Done?", &asl.Choice{Choices: []asl.ChoiceRule{
		asl.And(asl.Rule("$.crawl.state", "StringEquals", "READY"), asl.Rule("$.crawl.n", "NumericGreaterThanEquals", 3)).Then("Out"),
		asl.Rule("$.crawl.state", "StringEquals", "FAILED").Then("Failed"),
	}, Default: "Wait"})
	m.Add("Wait", &asl.Wait{SecondsPath: "$.delay", Transition: asl.Transition{Next: "Poll"}})
	m.Add("Out", &asl.Pass{Parameters: map[string]any{"polls.$": "$.crawl.n", "keep.$": "$.keep"}, IO: asl.IO{OutputPath: "$"}, Transition: asl.Transition{Next: "Drop"}})
	m.Add("Drop", &asl.Pass{Result: json.RawMessage(`"ignored"`), ResultPath: asl.Null, Transition: asl.Transition{End: true}})
	m.Add("Failed", &asl.Fail{Error: "CrawlFailed"})

	clock := NewVirtualClock(t0)
	r, err := New(m, func(o *RunnerOptions) { o.Now, o.Sleep = clock.Now, clock.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	r.Handle(fnCheck, func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		var p struct {
			N     int
			Exec  string
			Fixed struct{ K int }
		}
		if err := json.Unmarshal(in, &p); err != nil || p.Exec != "run-1" || p.Fixed.K != 1 {
			return nil, fmt.Errorf("input %s", in)
		}
		st := "RUNNING"
		if p.N+1 >= 3 {
			st = "READY"
		}
		return json.Marshal(map[string]any{"n": p.N + 1, "state": st, "noise": "dropped by ResultSelector"})
	})
	ex, err := r.Run(context.Background(), "run-1", []byte(`{"delay":45,"keep":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	if ex.Status != StatusSucceeded || string(ex.Output) != `{"keep":[1,2],"polls":3}` {
		t.Fatalf("%s %s %s: %s", ex.Status, ex.Error, ex.Cause, ex.Output)
	}
	if got := clock.Sleeps(); !slices.Equal(got, []time.Duration{45 * time.Second, 45 * time.Second}) {
		t.Fatalf("waits %v", got)
	}
	if n := len(ex.Events("WaitStateEntered")); n != 2 {
		t.Fatalf("%d waits in history", n)
	}
}

func TestChoiceOperators(t *testing.T) {
	input := map[string]any{"s": "READY", "n": json.Number("3"), "b": true, "t": "2019-08-21T00:00:00Z", "nil": nil, "other": "READY", "file": "customers_20190821.csv"}
	tests := []struct {
		rule asl.ChoiceRule
		want bool
	}{
		{asl.Rule("$.s", "StringEquals", "READY"), true},
		{asl.Rule("$.s", "StringEqualsPath", "$.other"), true},
		{asl.Rule("$.s", "StringLessThan", "S"), true},
		{asl.Rule("$.n", "NumericEquals", 3), true},
		{asl.Rule("$.n", "NumericGreaterThan", 3.5), false},
		{asl.Rule("$.n", "NumericLessThanEquals", 3), true},
		{asl.Rule("$.s", "NumericEquals", 3), false},
		{asl.Rule("$.b", "BooleanEquals", true), true},
		{asl.Rule("$.t", "TimestampLessThan", "2019-08-22T00:00:00Z"), true},
		{asl.Rule("$.nil", "IsNull", true), true},
		{asl.Rule("$.missing", "IsPresent", false), true},
		{asl.Rule("$.n", "IsNumeric", true), true},
		{asl.Rule("$.t", "IsTimestamp", true), true},
		{asl.Rule("$.file", "StringMatches", "customers_*.csv"), true},
		{asl.Rule("$.file", "StringMatches", "*.parquet"), false},
		{asl.Or(asl.Rule("$.s", "StringEquals", "X"), asl.Not(asl.Rule("$.b", "BooleanEquals", false))), true},
	}
	x := &execution{}
	for _, tt := range tests {
		got, err := x.match("C", tt.rule, input)
		if err != nil || got != tt.want {
			b, _ := json.Marshal(tt.rule)
			t.Errorf("%s: %v %v", b, got, err)
		}
	}
	if _, err := x.match("C", asl.Rule("$.missing", "StringEquals", "x"), input); err == nil {
		t.Error("a missing variable must be a runtime error")
	}
}

func TestTimeoutsAndParallel(t *testing.T) {
	m := &asl.StateMachine{StartAt: "Both", TimeoutSeconds: 600}
	m.Add("Both", &asl.Parallel{Branches: []asl.StateMachine{
		{StartAt: "A", States: asl.States{{Name: "A", State: &asl.Pass{Result: json.RawMessage(`1`), Transition: asl.Transition{End: true}}}}},
		{StartAt: "B", States: asl.States{{Name: "B", State: &asl.Task{Resource: fnCheck, TimeoutSeconds: 100, Transition: asl.Transition{End: true}}}}},
	}, ResultPath: "$.both", Catch: []asl.Catcher{{ErrorEquals: []string{asl.ErrorTimeout}, Next: "Slow", ResultPath: "$.err"}}, Transition: asl.Transition{End: true}})
	m.Add("Slow", &asl.Wait{Seconds: 3600, Transition: asl.Transition{End: true}})

	for _, taskTakes := range []time.Duration{10 * time.Second, 200 * time.Second} {
		clock := NewVirtualClock(t0)
		r, _ := New(m, func(o *RunnerOptions) { o.Now, o.Sleep = clock.Now, clock.Sleep })
		r.Handle(fnCheck, func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(`"b"`), Sleep(ctx, taskTakes)
		})
		ex, err := r.Run(context.Background(), "p", []byte(`{"x":1}`))
		if err != nil {
			t.Fatal(err)
		}
		if taskTakes < 100*time.Second {
			if ex.Status != StatusSucceeded || string(ex.Output) != `{"both":[1,"b"],"x":1}` {
				t.Fatalf("fast: %s %s", ex.Status, ex.Output)
			}
			continue
		}
		// The task times out, the catch goes to a one-hour Wait, and the
		// execution's own 600 s timeout ends it.
		if ex.Status != StatusTimedOut || ex.Error != asl.ErrorTimeout || len(ex.Events("TaskTimedOut")) != 1 || !ex.Stop.Equal(t0.Add(600*time.Second)) {
			t.Fatalf("slow: %s %s at %s", ex.Status, ex.Error, ex.Stop.Sub(t0))
		}
	}
}

func TestRunnerMisuse(t *testing.T) {
	bad := &asl.StateMachine{StartAt: "A", States: asl.States{{Name: "A", State: &asl.Pass{}}}}
	if _, err := New(bad); err == nil {
		t.Fatal("invalid machine accepted")
	}
	r, err := New(seedRetryMachine())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Run(context.Background(), "x", nil); err == nil || !strings.Contains(err.Error(), fnCheck) {
		t.Fatalf("missing handler: %v", err)
	}
	r.Handle(fnCheck, func(context.Context, json.RawMessage) (json.RawMessage, error) { return nil, nil })
	if _, err := r.Run(context.Background(), "x", []byte("{")); err == nil {
		t.Fatal("bad input accepted")
	}
	// A parameter path missing from the input: States.ParameterPathFailure,
	// caught by the States.ALL catcher.
	ex, err := r.Run(context.Background(), "x", []byte(`{}`))
	if err != nil || ex.Status != StatusFailed || ex.FailedState != "CheckFailed" {
		t.Fatalf("%v %+v", err, ex)
	}
	in := ex.Events("FailStateEntered")[0].Data
	if !strings.Contains(string(in), asl.ErrorParameterPathFailure) {
		t.Fatalf("fail state input %s", in)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := r.Run(ctx, "x", []byte(`{"year":"1"}`)); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestWaitKindsAndContext(t *testing.T) {
	m := &asl.StateMachine{StartAt: "Until"}
	m.Add("Until", &asl.Wait{Timestamp: "2019-08-21T06:10:00Z", Transition: asl.Transition{Next: "UntilPath"}})
	m.Add("UntilPath", &asl.Wait{TimestampPath: "$.at", Transition: asl.Transition{Next: "For"}})
	m.Add("For", &asl.Wait{SecondsPath: "$.secs", Transition: asl.Transition{Next: "Ctx"}})
	m.Add("Ctx", &asl.Task{Resource: fnCheck, Parameters: map[string]any{"retry.$": "$$.State.RetryCount", "name.$": "$$.Execution.Name", "state.$": "$$.State.Name"},
		Retry: []asl.Retrier{{ErrorEquals: []string{"NotYetError"}, IntervalSeconds: 5, MaxAttempts: asl.Int(2)}}, Transition: asl.Transition{End: true}})
	clock := NewVirtualClock(t0)
	r, err := New(m, func(o *RunnerOptions) { o.Now, o.Sleep = clock.Now, clock.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	r.Handle(fnCheck, func(_ context.Context, in json.RawMessage) (json.RawMessage, error) {
		seen = append(seen, string(in))
		if len(seen) < 3 {
			return nil, &NotYetError{}
		}
		return in, nil
	})
	ex, err := r.Run(context.Background(), "ctx-run", []byte(`{"at":"2019-08-21T07:00:00Z","secs":1.5}`))
	if err != nil || ex.Status != StatusSucceeded {
		t.Fatalf("%v %+v", err, ex)
	}
	want := []time.Duration{10 * time.Minute, 50 * time.Minute, 1500 * time.Millisecond, 5 * time.Second, 10 * time.Second}
	if got := clock.Sleeps(); !slices.Equal(got, want) {
		t.Fatalf("sleeps %v, want %v", got, want)
	}
	if seen[0] != `{"name":"ctx-run","retry":0,"state":"Ctx"}` || seen[2] != `{"name":"ctx-run","retry":2,"state":"Ctx"}` {
		t.Fatalf("context object: %v", seen)
	}
}
