package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Limits of the service that parsing enforces.
const (
	// MaxDefinitionBytes is the largest definition Step Functions accepts
	// (CreateStateMachine's definition: 1,048,576 bytes).
	MaxDefinitionBytes = 1 << 20
	// MaxNestingDepth bounds how deeply a definition nests JSON objects
	// and arrays (Parameters, Result, Choice rules, Parallel branches):
	// it keeps the decoder's stack shallow on hostile input.
	MaxNestingDepth = 100
	// MaxRuleNest bounds how deeply Choice rules nest through And, Or and
	// Not.
	MaxRuleNest = 16
)

// DefinitionTooLargeError reports a definition over MaxDefinitionBytes.
type DefinitionTooLargeError struct {
	Size, Limit int
}

func (e *DefinitionTooLargeError) Error() string {
	return fmt.Sprintf("asl: definition is %d bytes, over the %d-byte limit of Step Functions", e.Size, e.Limit)
}

// NestingTooDeepError reports a definition nested deeper than a limit:
// What is "Parallel states" (limit MaxParallelNest), "Choice rules"
// (MaxRuleNest) or "objects and arrays" (MaxNestingDepth); Offset is the
// byte at which the limit was crossed.
type NestingTooDeepError struct {
	What   string
	Limit  int
	Offset int
}

func (e *NestingTooDeepError) Error() string {
	return fmt.Sprintf("asl: %s nested deeper than %d levels (at byte %d)", e.What, e.Limit, e.Offset)
}

// checkNesting scans data once for nesting beyond the limits, before any
// decoding: encoding/json re-reads every nested level for each level
// above it (each has its own UnmarshalJSON), so 2,000 nested Parallels
// (146 KB) cost 14 s and 1.6 GB, and 1 MB of them far longer. A container
// is a Parallel level when it is the value of a "Branches" member, a rule
// level when it is the value of "And", "Or" or "Not" (matched without
// case, as encoding/json matches field names; a key holding an escape
// counts as both, since it may spell either). Malformed JSON is left to
// the decoder.
func checkNesting(data []byte) error {
	const (
		other = iota
		branches
		rules
		both
	)
	var stack []uint8
	nBranches, nRules := 0, 0
	inString, escaped, keyEscaped := false, false, false
	strStart, key, pending := 0, -1, -1
	for i, c := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped, keyEscaped = true, true
			case c == '"':
				inString = false
				k := other
				switch str := data[strStart:i]; {
				case keyEscaped:
					k = both
				case bytes.EqualFold(str, []byte("Branches")):
					k = branches
				case bytes.EqualFold(str, []byte("And")), bytes.EqualFold(str, []byte("Or")), bytes.EqualFold(str, []byte("Not")):
					k = rules
				}
				key = k
			}
			continue
		}
		switch c {
		case '"':
			inString, keyEscaped, strStart = true, false, i+1
			pending = -1
		case ':':
			pending, key = key, -1
		case ',':
			pending, key = -1, -1
		case '{', '[':
			kind := uint8(other)
			if pending >= 0 {
				kind = uint8(pending)
			}
			pending, key = -1, -1
			stack = append(stack, kind)
			if kind == branches || kind == both {
				nBranches++
			}
			if kind == rules || kind == both {
				nRules++
			}
			switch {
			case len(stack) > MaxNestingDepth:
				return &NestingTooDeepError{What: "objects and arrays", Limit: MaxNestingDepth, Offset: i}
			case nBranches > MaxParallelNest:
				return &NestingTooDeepError{What: "Parallel states", Limit: MaxParallelNest, Offset: i}
			case nRules > MaxRuleNest:
				return &NestingTooDeepError{What: "Choice rules", Limit: MaxRuleNest, Offset: i}
			}
		case '}', ']':
			pending, key = -1, -1
			if n := len(stack); n > 0 {
				kind := stack[n-1]
				stack = stack[:n-1]
				if kind == branches || kind == both {
					nBranches--
				}
				if kind == rules || kind == both {
					nRules--
				}
			}
		}
	}
	return nil
}

// StateMachine is an Amazon States Language document: the top level of a
// state machine or a Parallel branch (which has no TimeoutSeconds).
type StateMachine struct {
	Comment        string
	StartAt        string
	States         States
	TimeoutSeconds int    // 0: none
	Version        string // "1.0" or empty
}

// NamedState is one entry of States.
type NamedState struct {
	Name  string
	State State
}

// States keeps the states in the order they were added (or appear in a
// parsed document) so that generated definitions read top to bottom.
type States []NamedState

// Get returns the named state, or nil.
func (s States) Get(name string) State {
	for _, ns := range s {
		if ns.Name == name {
			return ns.State
		}
	}
	return nil
}

// index maps each name to its first state: built once per scope so that
// lookups stay constant-time on long chains.
func (s States) index() map[string]State {
	idx := make(map[string]State, len(s))
	for _, ns := range s {
		if _, dup := idx[ns.Name]; !dup {
			idx[ns.Name] = ns.State
		}
	}
	return idx
}

// Add appends a state and returns the machine, for chaining.
func (m *StateMachine) Add(name string, s State) *StateMachine {
	m.States = append(m.States, NamedState{Name: name, State: s})
	return m
}

// State is one of *Task, *Pass, *Choice, *Wait, *Succeed, *Fail, *Parallel.
type State interface {
	// Type returns the ASL "Type" value.
	Type() string
	isState()
}

// Path is a reference path such as "$.year". The zero value means the field
// is absent (its default applies, "$"); Null marshals as JSON null, which
// for InputPath means an empty input, for ResultPath "discard the result
// and keep the input", and for OutputPath an empty output.
type Path string

// Null is the JSON null path.
const Null Path = "\x00null"

// MarshalJSON writes null for Null.
func (p Path) MarshalJSON() ([]byte, error) {
	if p == Null {
		return []byte("null"), nil
	}
	return json.Marshal(string(p))
}

// UnmarshalJSON reads null as Null.
func (p *Path) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = Null
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == string(Null) {
		return errors.New("asl: path may not hold NUL")
	}
	*p = Path(s)
	return nil
}

// Int returns a pointer to n, for MaxAttempts (where 0 is meaningful).
func Int(n int) *int { return &n }

// Retrier is one entry of a Retry field.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds int      `json:"IntervalSeconds,omitempty"` // default 1
	MaxAttempts     *int     `json:"MaxAttempts,omitempty"`     // default 3; 0 never retries
	BackoffRate     float64  `json:"BackoffRate,omitempty"`     // default 2.0
	MaxDelaySeconds int      `json:"MaxDelaySeconds,omitempty"` // cap on one interval
	JitterStrategy  string   `json:"JitterStrategy,omitempty"`  // FULL or NONE
}

// Retrier defaults, as AWS documents them.
const (
	DefaultIntervalSeconds = 1
	DefaultMaxAttempts     = 3
	DefaultBackoffRate     = 2.0
)

// Catcher is one entry of a Catch field.
type Catcher struct {
	ErrorEquals []string `json:"ErrorEquals"`
	Next        string   `json:"Next"`
	ResultPath  Path     `json:"ResultPath,omitempty"`
}

// Predefined error names.
const (
	ErrorALL                    = "States.ALL"
	ErrorTimeout                = "States.Timeout"
	ErrorTaskFailed             = "States.TaskFailed"
	ErrorPermissions            = "States.Permissions"
	ErrorHeartbeatTimeout       = "States.HeartbeatTimeout"
	ErrorResultPathMatchFailure = "States.ResultPathMatchFailure"
	ErrorParameterPathFailure   = "States.ParameterPathFailure"
	ErrorBranchFailed           = "States.BranchFailed"
	ErrorNoChoiceMatched        = "States.NoChoiceMatched"
	ErrorIntrinsicFailure       = "States.IntrinsicFailure"
	ErrorRuntime                = "States.Runtime"
	ErrorDataLimitExceeded      = "States.DataLimitExceeded"
	ErrorExceedToleratedFailure = "States.ExceedToleratedFailureThreshold"
	ErrorItemReaderFailed       = "States.ItemReaderFailed"
	ErrorResultWriterFailed     = "States.ResultWriterFailed"
	ErrorQueryEvaluationError   = "States.QueryEvaluationError"
)

// PredefinedErrors lists every States.* error name.
var PredefinedErrors = []string{ErrorALL, ErrorTimeout, ErrorTaskFailed, ErrorPermissions, ErrorHeartbeatTimeout,
	ErrorResultPathMatchFailure, ErrorParameterPathFailure, ErrorBranchFailed, ErrorNoChoiceMatched,
	ErrorIntrinsicFailure, ErrorRuntime, ErrorDataLimitExceeded, ErrorExceedToleratedFailure,
	ErrorItemReaderFailed, ErrorResultWriterFailed, ErrorQueryEvaluationError}

// Transition is the Next/End pair of states that move on.
type Transition struct {
	Next string `json:"Next,omitempty"`
	End  bool   `json:"End,omitempty"`
}

// IO is the input/output filtering common to most states.
type IO struct {
	Comment    string `json:"Comment,omitempty"`
	InputPath  Path   `json:"InputPath,omitempty"`
	OutputPath Path   `json:"OutputPath,omitempty"`
}

// Task runs a resource: a Lambda ARN or a service integration such as
// "arn:aws:states:::glue:startJobRun.sync".
type Task struct {
	IO
	Resource string `json:"Resource"`
	// Parameters builds the task input; keys ending in ".$" take a path
	// ("year.$": "$.year") or an intrinsic function.
	Parameters       map[string]any `json:"Parameters,omitempty"`
	ResultSelector   map[string]any `json:"ResultSelector,omitempty"`
	ResultPath       Path           `json:"ResultPath,omitempty"`
	TimeoutSeconds   int            `json:"TimeoutSeconds,omitempty"`
	HeartbeatSeconds int            `json:"HeartbeatSeconds,omitempty"`
	Retry            []Retrier      `json:"Retry,omitempty"`
	Catch            []Catcher      `json:"Catch,omitempty"`
	Transition
}

// Pass passes its input (or Result) on.
type Pass struct {
	IO
	Parameters map[string]any  `json:"Parameters,omitempty"`
	Result     json.RawMessage `json:"Result,omitempty"`
	ResultPath Path            `json:"ResultPath,omitempty"`
	Transition
}

// Choice branches on its input.
type Choice struct {
	IO
	Choices []ChoiceRule `json:"Choices"`
	Default string       `json:"Default,omitempty"`
}

// Wait waits a fixed time or until a timestamp; exactly one field is set.
type Wait struct {
	IO
	Seconds       int    `json:"Seconds,omitempty"`
	Timestamp     string `json:"Timestamp,omitempty"`
	SecondsPath   Path   `json:"SecondsPath,omitempty"`
	TimestampPath Path   `json:"TimestampPath,omitempty"`
	Transition
}

// Succeed ends the execution successfully.
type Succeed struct {
	IO
}

// Fail ends the execution with an error.
type Fail struct {
	Comment string `json:"Comment,omitempty"`
	Error   string `json:"Error,omitempty"`
	Cause   string `json:"Cause,omitempty"`
}

// Parallel runs branches on the same input; its result is the array of
// their outputs.
type Parallel struct {
	IO
	Branches       []StateMachine `json:"Branches"`
	Parameters     map[string]any `json:"Parameters,omitempty"`
	ResultSelector map[string]any `json:"ResultSelector,omitempty"`
	ResultPath     Path           `json:"ResultPath,omitempty"`
	Retry          []Retrier      `json:"Retry,omitempty"`
	Catch          []Catcher      `json:"Catch,omitempty"`
	Transition
}

func (*Task) Type() string     { return "Task" }
func (*Pass) Type() string     { return "Pass" }
func (*Choice) Type() string   { return "Choice" }
func (*Wait) Type() string     { return "Wait" }
func (*Succeed) Type() string  { return "Succeed" }
func (*Fail) Type() string     { return "Fail" }
func (*Parallel) Type() string { return "Parallel" }
func (*Task) isState()         {}
func (*Pass) isState()         {}
func (*Choice) isState()       {}
func (*Wait) isState()         {}
func (*Succeed) isState()      {}
func (*Fail) isState()         {}
func (*Parallel) isState()     {}

// marshalState writes {"Type": …, fields…}, Type first as AWS shows it.
func marshalState(s State) ([]byte, error) {
	// The alias types drop the State methods, so no recursion.
	var body []byte
	var err error
	switch v := s.(type) {
	case *Task:
		type t Task
		body, err = json.Marshal((*t)(v))
	case *Pass:
		type t Pass
		body, err = json.Marshal((*t)(v))
	case *Choice:
		type t Choice
		body, err = json.Marshal((*t)(v))
	case *Wait:
		type t Wait
		body, err = json.Marshal((*t)(v))
	case *Succeed:
		type t Succeed
		body, err = json.Marshal((*t)(v))
	case *Fail:
		type t Fail
		body, err = json.Marshal((*t)(v))
	case *Parallel:
		type t Parallel
		body, err = json.Marshal((*t)(v))
	default:
		return nil, fmt.Errorf("asl: unknown state type %T", s)
	}
	if err != nil {
		return nil, err
	}
	out := []byte(`{"Type":"` + s.Type() + `"`)
	if len(body) > 2 {
		out = append(out, ',')
		out = append(out, body[1:]...)
	} else {
		out = append(out, '}')
	}
	return out, nil
}

func newState(typ string) (State, error) {
	switch typ {
	case "Task":
		return &Task{}, nil
	case "Pass":
		return &Pass{}, nil
	case "Choice":
		return &Choice{}, nil
	case "Wait":
		return &Wait{}, nil
	case "Succeed":
		return &Succeed{}, nil
	case "Fail":
		return &Fail{}, nil
	case "Parallel":
		return &Parallel{}, nil
	case "Map":
		return nil, errors.New(`asl: state type "Map" is not supported`)
	}
	return nil, fmt.Errorf("asl: unknown state type %q", typ)
}

func unmarshalState(data []byte) (State, error) {
	var head struct{ Type string }
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, err
	}
	s, err := newState(head.Type)
	if err != nil {
		return nil, err
	}
	// Strict: an unknown or misspelt field ("Retries", "ErrorEqual") is an
	// error, not silently dropped. The Type member is accepted by the
	// wrapper rather than stripped, which would re-encode the state (and,
	// for a Parallel, every state nested in it).
	var target any
	switch v := s.(type) {
	case *Task:
		type t Task
		target = &struct {
			Type string
			*t
		}{t: (*t)(v)}
	case *Pass:
		type t Pass
		target = &struct {
			Type string
			*t
		}{t: (*t)(v)}
	case *Choice:
		type t Choice
		target = &struct {
			Type string
			*t
		}{t: (*t)(v)}
	case *Wait:
		type t Wait
		target = &struct {
			Type string
			*t
		}{t: (*t)(v)}
	case *Succeed:
		type t Succeed
		target = &struct {
			Type string
			*t
		}{t: (*t)(v)}
	case *Fail:
		type t Fail
		target = &struct {
			Type string
			*t
		}{t: (*t)(v)}
	case *Parallel:
		type t Parallel
		target = &struct {
			Type string
			*t
		}{t: (*t)(v)}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return nil, err
	}
	return s, nil
}

// MarshalJSON writes the states in order.
func (s States) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, ns := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(ns.Name)
		b.Write(name)
		b.WriteByte(':')
		if ns.State == nil {
			return nil, fmt.Errorf("asl: state %q is nil", ns.Name)
		}
		body, err := marshalState(ns.State)
		if err != nil {
			return nil, fmt.Errorf("asl: state %q: %w", ns.Name, err)
		}
		b.Write(body)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads the states in document order; a duplicate name is
// an error.
func (s *States) UnmarshalJSON(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return errors.New("asl: States is not an object")
	}
	var out States
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("asl: state %q: %w", name, err)
		}
		if seen[name] {
			return fmt.Errorf("asl: state %q defined twice", name)
		}
		seen[name] = true
		st, err := unmarshalState(raw)
		if err != nil {
			return fmt.Errorf("asl: state %q: %w", name, err)
		}
		out = append(out, NamedState{Name: name, State: st})
	}
	if _, err := dec.Token(); err != nil {
		return err
	}
	*s = out
	return nil
}

type machineJSON struct {
	Comment        string `json:"Comment,omitempty"`
	StartAt        string `json:"StartAt"`
	States         States `json:"States"`
	TimeoutSeconds int    `json:"TimeoutSeconds,omitempty"`
	Version        string `json:"Version,omitempty"`
}

// MarshalJSON writes the document with the field names AWS expects.
func (m StateMachine) MarshalJSON() ([]byte, error) {
	return json.Marshal(machineJSON(m))
}

// UnmarshalJSON reads a document strictly: unknown fields are errors.
func (m *StateMachine) UnmarshalJSON(data []byte) error {
	var v machineJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*m = StateMachine(v)
	return nil
}

// Parse decodes an ASL JSON document (it does not validate it: see
// Validate). Unknown fields and unsupported state types are errors; a
// definition over MaxDefinitionBytes is a *DefinitionTooLargeError, and
// one with Parallel states nested deeper than MaxParallelNest, Choice
// rules deeper than MaxRuleNest or JSON deeper than MaxNestingDepth a
// *NestingTooDeepError, both reported before decoding, so that parsing
// stays linear in the definition's size.
func Parse(data []byte) (*StateMachine, error) {
	if len(data) > MaxDefinitionBytes {
		return nil, &DefinitionTooLargeError{Size: len(data), Limit: MaxDefinitionBytes}
	}
	if err := checkNesting(data); err != nil {
		return nil, err
	}
	var m StateMachine
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("asl: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("asl: trailing data after the document")
	}
	return &m, nil
}

// JSON returns the definition indented by two spaces, as committed files
// and the console show it.
func (m *StateMachine) JSON() ([]byte, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
