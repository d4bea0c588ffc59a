package local

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

// TestHandlerClock: a task handler reads and waits on the runner's time
// through Now and Sleep, after a Wait state has moved it; outside a
// runner they are the real clock.
func TestHandlerClock(t *testing.T) {
	m := &asl.StateMachine{StartAt: "W"}
	m.Add("W", &asl.Wait{Seconds: 90, Transition: asl.Transition{Next: "T"}})
	m.Add("T", &asl.Task{Resource: fnCheck, Transition: asl.Transition{End: true}})
	vc := NewVirtualClock(t0)
	r, err := New(m, func(o *RunnerOptions) { o.Now, o.Sleep = vc.Now, vc.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	var seen, after time.Time
	r.Handle(fnCheck, func(ctx context.Context, _ json.RawMessage) (json.RawMessage, error) {
		seen = Now(ctx)
		if err := Sleep(ctx, 10*time.Second); err != nil {
			return nil, err
		}
		after = Now(ctx)
		return json.RawMessage(`{}`), nil
	})
	ex, err := r.Run(context.Background(), "clock", []byte(`{}`))
	if err != nil || ex.Status != StatusSucceeded {
		t.Fatalf("%v %+v", err, ex)
	}
	if want := t0.Add(90 * time.Second); !seen.Equal(want) || !after.Equal(want.Add(10*time.Second)) {
		t.Fatalf("handler saw %s then %s, want %s and 10 s later", seen, after, want)
	}
	if !ex.Stop.Equal(after) {
		t.Fatalf("execution stopped at %s, want %s", ex.Stop, after)
	}

	// Outside a runner: the real clock, and Sleep ends with the context.
	if Now(context.Background()).Before(t0) {
		t.Fatal("Now outside a runner is not the real time")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on a cancelled context: %v", err)
	}
}

// TestNewRefusesInvalidOptions: a negative MaxEvents is an *OptionError,
// not the default.
func TestNewRefusesInvalidOptions(t *testing.T) {
	m := &asl.StateMachine{StartAt: "P"}
	m.Add("P", &asl.Pass{Transition: asl.Transition{End: true}})
	_, err := New(m, func(o *RunnerOptions) { o.MaxEvents = -1 })
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Field != "MaxEvents" {
		t.Fatalf("MaxEvents -1: %v", err)
	}
}
