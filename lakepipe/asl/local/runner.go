package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/lakepipe/asl"
)

// DefaultMaxEvents is the execution history limit of Step Functions
// standard workflows; an execution that reaches it fails, which also stops
// a polling loop that never ends on a virtual clock.
const DefaultMaxEvents = 25000

// Handler runs a Task: it gets the task's input (after InputPath and
// Parameters) and returns its result. A returned error fails the task
// with the error name Step Functions would see (see ErrorName).
type Handler func(ctx context.Context, input json.RawMessage) (json.RawMessage, error)

// Func adapts a typed handler — the same function a Lambda main passes to
// lambda.Start — to a Handler.
func Func[In, Out any](f func(context.Context, In) (Out, error)) Handler {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		var in In
		if err := json.Unmarshal(input, &in); err != nil {
			// As the Lambda Go runtime reports an undecodable event: by the
			// json error's type name (UnmarshalTypeError, SyntaxError).
			return nil, &TaskError{Name: ErrorName(err), Cause: err.Error()}
		}
		out, err := f(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(out)
	}
}

// TaskError fails a task with an explicit error name and cause, for
// handlers that stand in for service integrations (a Glue job run that
// failed is "States.TaskFailed" there).
type TaskError struct {
	Name  string
	Cause string
}

func (e *TaskError) Error() string { return e.Name + ": " + e.Cause }

// ErrorName returns the error name Step Functions reports for err returned
// by a Go Lambda handler: a *TaskError's Name, otherwise — as
// aws-lambda-go does — the name of the error's dynamic type, without the
// pointer ("TransferIncompleteError"). Wrapping hides it: an error made by
// fmt.Errorf is "wrapError".
func ErrorName(err error) string {
	var te *TaskError
	if errors.As(err, &te) {
		return te.Name
	}
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Name() == "" {
		return "Error"
	}
	return t.Name()
}

// OptionError reports a RunnerOptions field New refuses.
type OptionError = opt.Error

// RunnerOptions configures a Runner.
type RunnerOptions struct {
	// Now is the runner's time: Wait states, retry intervals, timeouts and
	// event timestamps read it, and task handlers read it with [Now].
	// Default time.Now. Tests pass a VirtualClock's Now (and its Sleep).
	Now func() time.Time
	// Sleep waits d or until ctx ends (returning ctx.Err()): Wait states
	// and retry intervals, and task handlers through [Sleep]. Default a
	// real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Jitter returns a number in [0, 1) for JitterStrategy FULL. Default
	// math/rand/v2.Float64.
	Jitter func() float64
	// MaxEvents bounds an execution's history. Default DefaultMaxEvents;
	// a negative one is an *OptionError.
	MaxEvents int
	// Logger gets one debug line per state transition and one info line
	// per execution end (names and error names only, never payloads).
	// Default: silent.
	Logger *slog.Logger
	// StateMachineARN is reported in the context object.
	// Default "arn:aws:states:local:000000000000:stateMachine:local".
	StateMachineARN string
}

// Runner executes one state machine definition with Go task handlers
// bound to resource ARNs. It is safe for concurrent use; register
// handlers before the first Run.
type Runner struct {
	m    *asl.StateMachine
	opts RunnerOptions

	mu       sync.RWMutex
	handlers map[string]Handler

	stats struct {
		executions, succeeded, failed, states, tasks, retries atomic.Int64
	}
}

// Stats is a snapshot of a Runner's counters since it was made.
type Stats struct {
	Executions int64 // runs started
	Succeeded  int64
	Failed     int64 // FAILED or TIMED_OUT
	States     int64 // states entered
	Tasks      int64 // task attempts (handler calls)
	Retries    int64 // retries scheduled by Retry rules
}

// Stats returns the runner's counters.
func (r *Runner) Stats() Stats {
	return Stats{
		Executions: r.stats.executions.Load(), Succeeded: r.stats.succeeded.Load(), Failed: r.stats.failed.Load(),
		States: r.stats.states.Load(), Tasks: r.stats.tasks.Load(), Retries: r.stats.retries.Load(),
	}
}

// New validates the definition and returns a runner for it. An invalid
// definition is asl.ValidationErrors, an invalid option an *OptionError.
func New(m *asl.StateMachine, optFns ...func(*RunnerOptions)) (*Runner, error) {
	if err := asl.Validate(m); err != nil {
		return nil, err
	}
	var o RunnerOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := opt.Min("local.RunnerOptions", "MaxEvents", o.MaxEvents, 0); err != nil {
		return nil, err
	}
	o.MaxEvents = opt.Default(o.MaxEvents, DefaultMaxEvents)
	o.StateMachineARN = opt.Default(o.StateMachineARN, "arn:aws:states:local:000000000000:stateMachine:local")
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	o.Logger = opt.Logger(o.Logger)
	return &Runner{m: m, opts: o, handlers: map[string]Handler{}}, nil
}

// Handle binds a resource ARN to a handler.
func (r *Runner) Handle(resource string, h Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[resource] = h
}

// Missing returns the Task resources of the definition that have no
// handler.
func (r *Runner) Missing() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []string
	var walk func(m *asl.StateMachine)
	walk = func(m *asl.StateMachine) {
		for _, ns := range m.States {
			switch s := ns.State.(type) {
			case *asl.Task:
				if r.handlers[s.Resource] == nil && !contains(out, s.Resource) {
					out = append(out, s.Resource)
				}
			case *asl.Parallel:
				for i := range s.Branches {
					walk(&s.Branches[i])
				}
			}
		}
	}
	walk(r.m)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Status of an execution.
const (
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
)

// Execution is the outcome of one run.
type Execution struct {
	Name   string
	Status string // SUCCEEDED, FAILED or TIMED_OUT
	Output json.RawMessage
	// Error and Cause are the failure's, as DescribeExecution shows them.
	Error, Cause string
	// FailedState is the state the execution failed in.
	FailedState string
	Start, Stop time.Time
	History     []Event
}

// Event is one history event, named as in GetExecutionHistory
// (TaskStateEntered, TaskScheduled, TaskFailed, ExecutionFailed, …).
type Event struct {
	ID        int
	Timestamp time.Time
	Type      string
	State     string // for state and task events
	Resource  string // for task events
	Error     string
	Cause     string
	// RetryIn is set on a failed task that will be retried: the interval
	// before the next attempt.
	RetryIn time.Duration
	// Data is the state's input (entered events), output (exited events)
	// or the execution's input/output.
	Data json.RawMessage
}

// Events returns the events of the given type.
func (e *Execution) Events(typ string) []Event {
	var out []Event
	for _, ev := range e.History {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// Run executes the state machine on input (JSON; empty means {}). The
// returned error is for misuse and cancellation only: an execution that
// fails is an *Execution with Status FAILED.
func (r *Runner) Run(ctx context.Context, name string, input []byte) (*Execution, error) {
	if len(bytes.TrimSpace(input)) == 0 {
		input = []byte("{}")
	}
	doc, err := decode(input)
	if err != nil {
		return nil, fmt.Errorf("local: execution input: %w", err)
	}
	if missing := r.Missing(); len(missing) > 0 {
		return nil, fmt.Errorf("local: no handler for %s", strings.Join(missing, ", "))
	}
	c := clock{now: r.opts.Now, sleep: r.opts.Sleep}
	x := &execution{r: r, clock: c, ex: &Execution{Name: name, Start: c.Now()}}
	x.ctxObj = map[string]any{
		"Execution": map[string]any{
			"Id":        strings.Replace(r.opts.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + name,
			"Name":      name,
			"Input":     doc,
			"StartTime": x.ex.Start.UTC().Format(time.RFC3339Nano),
		},
		"StateMachine": map[string]any{"Id": r.opts.StateMachineARN},
	}
	if r.m.TimeoutSeconds > 0 {
		x.deadline = x.ex.Start.Add(time.Duration(r.m.TimeoutSeconds) * time.Second)
	}
	r.stats.executions.Add(1)
	x.event(Event{Type: "ExecutionStarted", Data: input})
	ctx = context.WithValue(ctx, clockKey{}, x.clock)
	out, ferr := x.runScope(ctx, r.m, doc)
	x.ex.Stop = x.clock.Now()
	if ferr != nil {
		if ctx.Err() != nil && errors.Is(ferr, ctx.Err()) {
			return x.ex, ferr
		}
		var f *failure
		if !errors.As(ferr, &f) {
			return x.ex, ferr
		}
		x.ex.Status, x.ex.Error, x.ex.Cause, x.ex.FailedState = StatusFailed, f.name, f.cause, f.state
		typ := "ExecutionFailed"
		if f.timedOut {
			x.ex.Status, typ = StatusTimedOut, "ExecutionTimedOut"
		}
		r.stats.failed.Add(1)
		x.event(Event{Type: typ, State: f.state, Error: f.name, Cause: f.cause})
		r.opts.Logger.InfoContext(ctx, "execution failed", "execution", name, "state", f.state, "error", f.name)
		return x.ex, nil
	}
	x.ex.Output, _ = json.Marshal(out)
	x.ex.Status = StatusSucceeded
	r.stats.succeeded.Add(1)
	x.event(Event{Type: "ExecutionSucceeded", Data: x.ex.Output})
	r.opts.Logger.InfoContext(ctx, "execution succeeded", "execution", name)
	return x.ex, nil
}

type execution struct {
	r        *Runner
	clock    clock
	ex       *Execution
	ctxObj   map[string]any
	deadline time.Time
}

// failure is a state error on its way to a Catch or to the execution's end.
type failure struct {
	name, cause, state string
	timedOut           bool // the execution's own TimeoutSeconds
}

func (f *failure) Error() string { return f.name + ": " + f.cause }

func fail(state, name, format string, args ...any) *failure {
	return &failure{name: name, cause: fmt.Sprintf(format, args...), state: state}
}

func (x *execution) event(ev Event) {
	ev.ID = len(x.ex.History) + 1
	ev.Timestamp = x.clock.Now()
	x.ex.History = append(x.ex.History, ev)
}

func (x *execution) check(state string) error {
	if len(x.ex.History) >= x.r.opts.MaxEvents {
		return fail(state, asl.ErrorRuntime, "execution history reached %d events", x.r.opts.MaxEvents)
	}
	if !x.deadline.IsZero() && !x.clock.Now().Before(x.deadline) {
		return &failure{name: asl.ErrorTimeout, cause: "the execution ran longer than its TimeoutSeconds", state: state, timedOut: true}
	}
	return nil
}

func (x *execution) runScope(ctx context.Context, m *asl.StateMachine, input any) (any, error) {
	// One index per scope: States.Get on every step made a long chain
	// quadratic.
	states := make(map[string]asl.State, len(m.States))
	for _, ns := range m.States {
		if _, dup := states[ns.Name]; !dup {
			states[ns.Name] = ns.State
		}
	}
	name := m.StartAt
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := x.check(name); err != nil {
			return nil, err
		}
		st := states[name]
		raw, _ := json.Marshal(input)
		x.r.stats.states.Add(1)
		x.event(Event{Type: st.Type() + "StateEntered", State: name, Data: raw})
		x.r.opts.Logger.DebugContext(ctx, "state entered", "execution", x.ex.Name, "state", name, "type", st.Type())
		x.ctxObj["State"] = map[string]any{"Name": name, "EnteredTime": x.clock.Now().UTC().Format(time.RFC3339Nano), "RetryCount": 0}
		out, next, err := x.step(ctx, name, st, input)
		if err != nil {
			return nil, err
		}
		if _, isFail := st.(*asl.Fail); !isFail {
			raw, _ := json.Marshal(out)
			x.event(Event{Type: st.Type() + "StateExited", State: name, Data: raw})
		}
		if next == "" {
			return out, nil
		}
		name, input = next, out
	}
}

// retrying runs a Task or Parallel attempt with its retriers and catchers.
// It returns the state's output, or the catcher's Next and its output.
func (x *execution) retrying(ctx context.Context, name string, retry []asl.Retrier, catch []asl.Catcher, input any, attempt func(int) (any, error)) (any, string, error) {
	counts := make([]int, len(retry))
	for n := 0; ; n++ {
		out, err := attempt(n)
		if err == nil {
			return out, "", nil
		}
		var f *failure
		if !errors.As(err, &f) || f.timedOut {
			return nil, "", err
		}
		if i := matchRetrier(retry, f.name); i >= 0 {
			r := retry[i]
			maxAttempts := asl.DefaultMaxAttempts
			if r.MaxAttempts != nil {
				maxAttempts = *r.MaxAttempts
			}
			if counts[i] < maxAttempts {
				delay := retryDelay(r, counts[i], x.r.opts.Jitter)
				counts[i]++
				x.r.stats.retries.Add(1)
				x.markRetry(delay)
				if err := x.check(name); err != nil {
					return nil, "", err
				}
				if !x.deadline.IsZero() && x.clock.Now().Add(delay).After(x.deadline) {
					_ = x.clock.Sleep(ctx, x.deadline.Sub(x.clock.Now()))
					return nil, "", x.check(name)
				}
				if err := x.clock.Sleep(ctx, delay); err != nil {
					return nil, "", err
				}
				x.ctxObj["State"].(map[string]any)["RetryCount"] = n + 1
				continue
			}
		}
		for _, c := range catch {
			if !matches(c.ErrorEquals, f.name) {
				continue
			}
			out, err := x.resultPath(name, c.ResultPath, input, map[string]any{"Error": f.name, "Cause": f.cause})
			if err != nil {
				return nil, "", err
			}
			return out, c.Next, nil
		}
		return nil, "", f
	}
}

// markRetry records the retry interval on the last failure event.
func (x *execution) markRetry(d time.Duration) {
	for i := len(x.ex.History) - 1; i >= 0; i-- {
		switch x.ex.History[i].Type {
		case "TaskFailed", "TaskTimedOut", "ParallelStateFailed":
			x.ex.History[i].RetryIn = d
			return
		}
	}
}

// retryDelay is IntervalSeconds × BackoffRate^count, capped by
// MaxDelaySeconds, then with FULL jitter a uniform fraction of it.
func retryDelay(r asl.Retrier, count int, jitter func() float64) time.Duration {
	interval := float64(r.IntervalSeconds)
	if r.IntervalSeconds == 0 {
		interval = asl.DefaultIntervalSeconds
	}
	rate := r.BackoffRate
	if rate == 0 {
		rate = asl.DefaultBackoffRate
	}
	secs := interval * math.Pow(rate, float64(count))
	if r.MaxDelaySeconds > 0 {
		secs = min(secs, float64(r.MaxDelaySeconds))
	}
	if r.JitterStrategy == "FULL" {
		secs *= jitter()
	}
	return time.Duration(secs * float64(time.Second))
}

func matchRetrier(retry []asl.Retrier, name string) int {
	for i, r := range retry {
		if matches(r.ErrorEquals, name) {
			return i
		}
	}
	return -1
}

// matches applies the ErrorEquals rules: an exact name; States.ALL for any
// error but States.Runtime and States.DataLimitExceeded; States.TaskFailed
// for any of those but States.Timeout.
func matches(list []string, name string) bool {
	terminal := name == asl.ErrorRuntime || name == asl.ErrorDataLimitExceeded
	for _, e := range list {
		switch {
		case e == name && !terminal:
			return true
		case e == asl.ErrorALL && !terminal:
			return true
		case e == asl.ErrorTaskFailed && !terminal && name != asl.ErrorTimeout:
			return true
		}
	}
	return false
}
