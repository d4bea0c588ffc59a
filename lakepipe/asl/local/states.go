package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

// step runs one state and returns its output and the next state ("" when
// the scope ends).
func (x *execution) step(ctx context.Context, name string, st asl.State, input any) (any, string, error) {
	switch s := st.(type) {
	case *asl.Pass:
		return x.pass(name, s, input)
	case *asl.Task:
		return x.withNext(s.Next)(x.retrying(ctx, name, s.Retry, s.Catch, input, func(int) (any, error) {
			return x.task(ctx, name, s, input)
		}))
	case *asl.Parallel:
		return x.withNext(s.Next)(x.retrying(ctx, name, s.Retry, s.Catch, input, func(int) (any, error) {
			return x.parallel(ctx, name, s, input)
		}))
	case *asl.Choice:
		return x.choice(name, s, input)
	case *asl.Wait:
		return x.wait(ctx, name, s, input)
	case *asl.Succeed:
		eff, err := x.inputPath(name, s.InputPath, input)
		if err != nil {
			return nil, "", err
		}
		out, err := x.outputPath(name, s.OutputPath, eff)
		return out, "", err
	case *asl.Fail:
		return nil, "", &failure{name: s.Error, cause: s.Cause, state: name}
	}
	return nil, "", fail(name, asl.ErrorRuntime, "unsupported state type %s", st.Type())
}

// withNext completes retrying's result: a state that succeeded without
// a catcher's Next goes to next.
func (x *execution) withNext(next string) func(any, string, error) (any, string, error) {
	return func(out any, caught string, err error) (any, string, error) {
		if caught == "" && err == nil {
			caught = next
		}
		return out, caught, err
	}
}

func (x *execution) pass(name string, s *asl.Pass, input any) (any, string, error) {
	eff, err := x.effectiveInput(name, s.InputPath, s.Parameters, input)
	if err != nil {
		return nil, "", err
	}
	result := eff
	if s.Result != nil {
		if result, err = decode(s.Result); err != nil {
			return nil, "", fail(name, asl.ErrorRuntime, "Result: %v", err)
		}
	}
	out, err := x.resultPath(name, s.ResultPath, input, result)
	if err != nil {
		return nil, "", err
	}
	out, err = x.outputPath(name, s.OutputPath, out)
	return out, s.Next, err
}

func (x *execution) choice(name string, s *asl.Choice, input any) (any, string, error) {
	eff, err := x.inputPath(name, s.InputPath, input)
	if err != nil {
		return nil, "", err
	}
	next := s.Default
	for i, rule := range s.Choices {
		ok, err := x.match(name, rule, eff)
		if err != nil {
			return nil, "", fail(name, asl.ErrorRuntime, "Choices[%d]: %v", i, err)
		}
		if ok {
			next = rule.Next
			break
		}
	}
	if next == "" {
		return nil, "", fail(name, asl.ErrorNoChoiceMatched, "no choice rule matched and there is no Default")
	}
	out, err := x.outputPath(name, s.OutputPath, eff)
	return out, next, err
}

// wait sleeps on the runner's clock, never past the execution's
// deadline.
func (x *execution) wait(ctx context.Context, name string, s *asl.Wait, input any) (any, string, error) {
	eff, err := x.inputPath(name, s.InputPath, input)
	if err != nil {
		return nil, "", err
	}
	d, err := x.waitFor(name, s, eff)
	if err != nil {
		return nil, "", err
	}
	if !x.deadline.IsZero() {
		if left := x.deadline.Sub(x.clock.Now()); d > left {
			d = max(left, 0)
		}
	}
	if d > 0 {
		if err := x.clock.Sleep(ctx, d); err != nil {
			return nil, "", err
		}
	}
	if err := x.check(name); err != nil {
		return nil, "", err
	}
	out, err := x.outputPath(name, s.OutputPath, eff)
	return out, s.Next, err
}

func (x *execution) task(ctx context.Context, name string, s *asl.Task, raw any) (any, error) {
	eff, err := x.effectiveInput(name, s.InputPath, s.Parameters, raw)
	if err != nil {
		return nil, err
	}
	in, _ := json.Marshal(eff)
	x.r.mu.RLock()
	h := x.r.handlers[s.Resource]
	x.r.mu.RUnlock()
	x.r.stats.tasks.Add(1)
	x.event(Event{Type: "TaskScheduled", State: name, Resource: s.Resource, Data: in})
	started := x.clock.Now()
	res, herr := h(ctx, in)
	if herr != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if s.TimeoutSeconds > 0 && x.clock.Now().Sub(started) > time.Duration(s.TimeoutSeconds)*time.Second {
		x.event(Event{Type: "TaskTimedOut", State: name, Resource: s.Resource, Error: asl.ErrorTimeout})
		return nil, fail(name, asl.ErrorTimeout, "task ran longer than %d s", s.TimeoutSeconds)
	}
	if herr != nil {
		ename := ErrorName(herr)
		cause := herr.Error()
		var te *TaskError
		if errors.As(herr, &te) {
			cause = te.Cause
		} else if strings.HasPrefix(s.Resource, "arn:aws:lambda:") {
			// What Step Functions shows for a Go Lambda's error.
			c, _ := json.Marshal(map[string]any{"errorMessage": herr.Error(), "errorType": ename})
			cause = string(c)
		}
		x.event(Event{Type: "TaskFailed", State: name, Resource: s.Resource, Error: ename, Cause: cause})
		return nil, &failure{name: ename, cause: cause, state: name}
	}
	x.event(Event{Type: "TaskSucceeded", State: name, Resource: s.Resource, Data: res})
	var result any
	if len(bytes.TrimSpace(res)) > 0 {
		if result, err = decode(res); err != nil {
			return nil, fail(name, asl.ErrorRuntime, "task result is not JSON: %v", err)
		}
	}
	return x.output(name, s.ResultSelector, s.ResultPath, s.OutputPath, raw, result)
}

func (x *execution) parallel(ctx context.Context, name string, s *asl.Parallel, raw any) (any, error) {
	eff, err := x.effectiveInput(name, s.InputPath, s.Parameters, raw)
	if err != nil {
		return nil, err
	}
	// Branches run one after another, so a virtual clock stays
	// deterministic; their outputs keep branch order, as in AWS.
	results := make([]any, len(s.Branches))
	for i := range s.Branches {
		out, err := x.runScope(ctx, &s.Branches[i], eff)
		if err != nil {
			var f *failure
			if errors.As(err, &f) && !f.timedOut {
				x.event(Event{Type: "ParallelStateFailed", State: name, Error: f.name, Cause: f.cause})
				return nil, &failure{name: f.name, cause: f.cause, state: name}
			}
			return nil, err
		}
		results[i] = out
	}
	var result any = results
	return x.output(name, s.ResultSelector, s.ResultPath, s.OutputPath, raw, result)
}

// effectiveInput is a Pass, Task or Parallel state's effective input: its
// InputPath of the state's input, then its Parameters.
func (x *execution) effectiveInput(name string, inputPath asl.Path, params map[string]any, input any) (any, error) {
	eff, err := x.inputPath(name, inputPath, input)
	if err != nil || params == nil {
		return eff, err
	}
	return x.payload(name, params, eff)
}
