package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/lakepipe/asl"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
)

func newASL(a *app) *cobra.Command {
	c := group(&cobra.Command{Use: "asl", Short: "Lint and run Amazon States Language definitions"})
	c.AddCommand(newASLLint(a), newASLRun(a))
	return c
}

// aslProblem is one finding of asl lint.
type aslProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	State   string `json:"state,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (p aslProblem) String() string {
	return fmt.Sprintf("%s:%d:%d: %s", p.File, p.Line, p.Col, p.Message)
}

func newASLLint(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "lint FILE…",
		Short: "Check state machine definitions; one file:line:col line per problem",
		Long: `Parse and validate Amazon States Language definitions as lakepipe/asl does:
unknown or misspelt fields, states that are missing, unreachable or both Next
and End, misspelt States.* errors ("States.All"), a States.ALL that is not
last, bad paths and Parameters, Wait and Choice mistakes, out-of-range
retries and timeouts. Each problem is printed as file:line:col: message, the
line and column of the JSON member at fault, as compilers and CI annotations
expect.

Exit status 1 when a file has a problem or cannot be read.`,
		Example: `  lakekit asl lint statemachine/*.asl.json
  lakekit --json asl lint pipeline.asl.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{errors.New("lint needs at least one FILE")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, files []string) error {
			problems := []aslProblem{}
			for _, f := range files {
				problems = append(problems, lintFile(f)...)
			}
			if err := a.summary(struct {
				Files    int          `json:"files"`
				Problems []aslProblem `json:"problems"`
			}{len(files), problems}, func(w io.Writer) {
				for _, p := range problems {
					fmt.Fprintln(w, p)
				}
			}); err != nil {
				return err
			}
			if len(problems) > 0 {
				return fmt.Errorf("%d problems in %d files", len(problems), len(files))
			}
			return nil
		},
	}
}

// lintFile parses and validates one definition.
func lintFile(file string) []aslProblem {
	data, err := os.ReadFile(file)
	if err != nil {
		return []aslProblem{{File: file, Line: 1, Col: 1, Message: err.Error()}}
	}
	root, _ := jsonLocate(data) // nil for a document that does not parse: positions then come from the error
	at := func(n *jsonNode, p aslProblem) aslProblem {
		if n != nil {
			p.Line, p.Col = lineCol(data, n.pos)
		} else {
			p.Line, p.Col = 1, 1
		}
		return p
	}
	m, err := asl.Parse(data)
	if err != nil {
		p := aslProblem{File: file, Message: strings.ReplaceAll(err.Error(), "asl: ", "")}
		var se *json.SyntaxError
		if errors.As(err, &se) {
			p.Line, p.Col = lineCol(data, int(se.Offset)-1) // Offset is just after the bad byte
			return []aslProblem{p}
		}
		return []aslProblem{at(parseErrorNode(root, err), p)}
	}
	err = asl.Validate(m)
	var verrs asl.ValidationErrors
	if err == nil || !errors.As(err, &verrs) {
		if err != nil {
			return []aslProblem{at(root, aslProblem{File: file, Message: err.Error()})}
		}
		return nil
	}
	out := make([]aslProblem, 0, len(verrs))
	for _, ve := range verrs {
		var n *jsonNode
		if root != nil {
			n = root.find(append(statePath(ve.State), fieldPath(ve.Field)...))
		}
		out = append(out, at(n, aslProblem{File: file, State: ve.State, Field: ve.Field, Message: strings.TrimPrefix(ve.Error(), "asl: ")}))
	}
	sort.SliceStable(out, func(i, j int) bool {
		return out[i].Line < out[j].Line || out[i].Line == out[j].Line && out[i].Col < out[j].Col
	})
	return out
}

var branchScope = regexp.MustCompile(`/Branches\[(\d+)\](/|$)`)

// statePath is the document path of a validator's state name:
// "P/Branches[0]/Inner" is States.P.Branches[0].States.Inner.
func statePath(state string) []string {
	if state == "" {
		return nil
	}
	path := []string{"States"}
	for {
		loc := branchScope.FindStringSubmatchIndex(state)
		if loc == nil {
			return append(path, state)
		}
		path = append(path, state[:loc[0]], "Branches", state[loc[2]:loc[3]])
		if loc[5] == loc[4] { // the scope itself, no state in it
			return path
		}
		path = append(path, "States")
		state = state[loc[1]:]
	}
}

var (
	parseErrState = regexp.MustCompile(`state ("(?:[^"\\]|\\.)*")`)
	parseErrField = regexp.MustCompile(`unknown field ("(?:[^"\\]|\\.)*")`)
)

// parseErrorNode finds the node a Parse error is about: the states its
// message names, nested through Parallel branches (where two branches may
// hold states of the same name), then the unknown field or mistyped value
// within the last of them.
func parseErrorNode(root *jsonNode, err error) *jsonNode {
	if root == nil {
		return nil
	}
	msg := err.Error()
	cands := []*jsonNode{root}
	for i, m := range parseErrState.FindAllStringSubmatch(msg, -1) {
		name, uerr := strconv.Unquote(m[1])
		if uerr != nil {
			break
		}
		var next []*jsonNode
		for _, n := range cands {
			if i == 0 {
				if s := n.member("States"); s != nil && s.member(name) != nil {
					next = append(next, s.member(name))
				}
				continue
			}
			if br := n.member("Branches"); br != nil {
				for _, b := range br.elems {
					if s := b.member("States"); s != nil && s.member(name) != nil {
						next = append(next, s.member(name))
					}
				}
			}
		}
		if len(next) == 0 {
			break
		}
		cands = next
	}
	var key string
	if m := parseErrField.FindStringSubmatch(msg); m != nil {
		key, _ = strconv.Unquote(m[1])
	}
	var te *json.UnmarshalTypeError
	if key == "" && errors.As(err, &te) && te.Field != "" {
		segs := strings.Split(te.Field, ".")
		key = segs[len(segs)-1]
	}
	if key == "" && strings.Contains(msg, "state type") {
		key = "Type"
	}
	if key != "" {
		for _, n := range cands {
			if f := n.findKey(key); f != nil {
				return f
			}
		}
	}
	return cands[0]
}

// scriptedTask is one scripted answer of a Task resource in a handlers
// file: its result, or an error name and cause; with neither, the task
// returns its input.
type scriptedTask struct {
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Cause  string          `json:"cause"`
}

// scriptedHandler answers a resource's calls in turn from its scripted
// answers; the last one answers every later call.
type scriptedHandler struct {
	mu      sync.Mutex
	answers []scriptedTask
	calls   int
}

func (h *scriptedHandler) handle(_ context.Context, input json.RawMessage) (json.RawMessage, error) {
	h.mu.Lock()
	t := h.answers[min(h.calls, len(h.answers)-1)]
	h.calls++
	h.mu.Unlock()
	switch {
	case t.Error != "":
		return nil, &local.TaskError{Name: t.Error, Cause: t.Cause}
	case t.Result != nil:
		return t.Result, nil
	}
	return input, nil
}

// parseHandlers reads a handlers file: an object from resource ARN to one
// scripted answer or a list of them, answered in turn.
func parseHandlers(data []byte) (map[string]*scriptedHandler, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	out := make(map[string]*scriptedHandler, len(raw))
	for res, v := range raw {
		v = bytes.TrimSpace(v)
		var answers []scriptedTask
		if len(v) > 0 && v[0] == '[' {
			var list []json.RawMessage
			if err := json.Unmarshal(v, &list); err != nil {
				return nil, fmt.Errorf("resource %q: %w", res, err)
			}
			if len(list) == 0 {
				return nil, fmt.Errorf("resource %q: an empty list answers nothing", res)
			}
			for i, item := range list {
				t, err := parseScriptedTask(item)
				if err != nil {
					return nil, fmt.Errorf("resource %q: answer %d: %w", res, i+1, err)
				}
				answers = append(answers, t)
			}
		} else {
			t, err := parseScriptedTask(v)
			if err != nil {
				return nil, fmt.Errorf("resource %q: %w", res, err)
			}
			answers = []scriptedTask{t}
		}
		out[res] = &scriptedHandler{answers: answers}
	}
	return out, nil
}

func parseScriptedTask(data []byte) (scriptedTask, error) {
	var t scriptedTask
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, fmt.Errorf(`want {"result": …} or {"error": NAME, "cause": TEXT}: %w`, err)
	}
	if t.Error != "" && t.Result != nil {
		return t, errors.New("both a result and an error")
	}
	if t.Error == "" && t.Cause != "" {
		return t, errors.New("a cause without an error name")
	}
	return t, nil
}

// aslRunSummary is the --json summary of asl run.
type aslRunSummary struct {
	Name        string          `json:"name"`
	Status      string          `json:"status"`
	Output      json.RawMessage `json:"output,omitempty"`
	Error       string          `json:"error,omitempty"`
	Cause       string          `json:"cause,omitempty"`
	FailedState string          `json:"failed_state,omitempty"`
	States      int64           `json:"states"`
	Tasks       int64           `json:"tasks"`
	Retries     int64           `json:"retries"`
	Waited      string          `json:"waited"` // time the Wait states and retry intervals took on the runner's clock
}

func newASLRun(a *app) *cobra.Command {
	var input, handlers, name string
	var realTime, history bool
	c := &cobra.Command{
		Use:   "run FILE --handlers handlers.json [--input JSON|@FILE]",
		Short: "Run a state machine locally, each Task answered from a handlers file",
		Long: `Run a definition with lakepipe/asl/local's runner: every state type but Map,
paths, Parameters, ResultSelector, Retry and Catch, Wait, Parallel, timeouts.
Each Task resource is answered from the handlers file, an object from resource
ARN to its answer:

  {
    "arn:aws:lambda:us-east-1:123456789012:function:check": {"result": {"ok": true}},
    "arn:aws:lambda:us-east-1:123456789012:function:load":  {"error": "LoadError", "cause": "no rows"},
    "arn:aws:lambda:us-east-1:123456789012:function:flaky": [{"error": "Throttled"}, {"result": 1}],
    "arn:aws:lambda:us-east-1:123456789012:function:echo":  {}
  }

A list answers successive calls in turn (retries included), its last entry
every call after; an empty object returns the task's input. Time is virtual
unless --real-time: Wait states and retry intervals take no time.

Prints the execution's output; when it fails, its error and cause, with exit
status 1.`,
		Example: `  lakekit asl run pipeline.asl.json --handlers handlers.json --input '{"year": "2024"}'
  lakekit --json asl run pipeline.asl.json --handlers handlers.json --input @input.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "handlers"); err != nil {
				return err
			}
			in, err := readInput(input)
			if err != nil {
				return err
			}
			return a.aslRun(cmd.Context(), aslRunArgs{file: args[0], handlers: handlers, name: name, input: in, realTime: realTime, history: history})
		},
	}
	f := c.Flags()
	f.StringVar(&input, "input", "{}", "the execution input: `JSON`, or @FILE to read it from a file")
	f.StringVar(&handlers, "handlers", "", "the `FILE` scripting each Task resource's result or error (required)")
	f.StringVar(&name, "name", "local", "the execution `NAME` (in the context object)")
	f.BoolVar(&realTime, "real-time", false, "wait for real in Wait states and retry intervals")
	f.BoolVar(&history, "history", false, "print the execution's event history on stderr")
	return c
}

// readInput reads --input: inline JSON, or @FILE.
func readInput(s string) ([]byte, error) {
	data := []byte(s)
	if name, ok := strings.CutPrefix(s, "@"); ok {
		var err error
		if data, err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("--input: %w", err)
		}
	}
	if !json.Valid(data) {
		return nil, usageError{fmt.Errorf("--input is not valid JSON: %.60q", data)}
	}
	return data, nil
}

type aslRunArgs struct {
	file, handlers, name string
	input                []byte
	realTime, history    bool
}

func (a *app) aslRun(ctx context.Context, in aslRunArgs) error {
	def, err := os.ReadFile(in.file)
	if err != nil {
		return err
	}
	m, err := asl.Parse(def)
	if err != nil {
		return fmt.Errorf("%s: %w (lakekit asl lint shows where)", in.file, err)
	}
	hdata, err := os.ReadFile(in.handlers)
	if err != nil {
		return err
	}
	hs, err := parseHandlers(hdata)
	if err != nil {
		return fmt.Errorf("%s: %w", in.handlers, err)
	}
	vc := local.NewVirtualClock(time.Now())
	r, err := local.New(m, func(o *local.RunnerOptions) {
		if !in.realTime {
			o.Now, o.Sleep = vc.Now, vc.Sleep
		}
	})
	if err != nil {
		return fmt.Errorf("%s: %w (lakekit asl lint shows where)", in.file, err)
	}
	for res, h := range hs {
		r.Handle(res, h.handle)
	}
	if missing := r.Missing(); len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%s: no answer for the Task resources %s", in.handlers, strings.Join(missing, ", "))
	}
	ex, err := r.Run(ctx, in.name, in.input)
	if err != nil {
		return err
	}
	if in.history {
		for _, e := range ex.History {
			fmt.Fprintf(a.stderr, "%3d %s %s %s%s\n", e.ID, e.Type, e.State, e.Error, retryNote(e.RetryIn))
		}
	}
	st := r.Stats()
	var waited time.Duration
	for _, d := range vc.Sleeps() {
		waited += d
	}
	if in.realTime {
		waited = ex.Stop.Sub(ex.Start)
	}
	sum := aslRunSummary{Name: ex.Name, Status: ex.Status, Output: ex.Output, Error: ex.Error, Cause: ex.Cause,
		FailedState: ex.FailedState, States: st.States, Tasks: st.Tasks, Retries: st.Retries, Waited: waited.String()}
	if err := a.summary(sum, func(w io.Writer) {
		if ex.Status == local.StatusSucceeded {
			fmt.Fprintf(w, "%s\n", ex.Output)
		}
	}); err != nil {
		return err
	}
	if ex.Status != local.StatusSucceeded {
		return fmt.Errorf("execution %s in state %q: %s: %s", ex.Status, ex.FailedState, ex.Error, ex.Cause)
	}
	return nil
}

func retryNote(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return " (retry in " + d.String() + ")"
}
