package asl

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits of the service that validation enforces.
const (
	MaxStateNameLen = 80       // characters in a state name
	MaxAttemptsMax  = 99999999 // largest MaxAttempts AWS accepts
	MaxDelayMax     = 31622400 // largest MaxDelaySeconds (one year)
	MaxTimeout      = 99999999 // largest TimeoutSeconds
	MaxWaitSeconds  = 31536000 // a Wait may last a year at most
	MaxParallelNest = 10       // depth of nested Parallel states checked
	rootScope       = ""
)

// IntrinsicFunctions lists the intrinsic functions of ASL.
var IntrinsicFunctions = []string{"States.Format", "States.StringToJson", "States.JsonToString", "States.Array",
	"States.ArrayPartition", "States.ArrayContains", "States.ArrayRange", "States.ArrayGetItem", "States.ArrayLength",
	"States.ArrayUnique", "States.Base64Encode", "States.Base64Decode", "States.Hash", "States.JsonMerge",
	"States.MathRandom", "States.MathAdd", "States.StringSplit", "States.UUID"}

// ValidationError is one problem in a definition. State names the state
// (with "Branch[i]/" scopes for Parallel branches); it is empty for
// problems of the document itself.
type ValidationError struct {
	State   string
	Field   string // "Retry[1].ErrorEquals", "Next", …
	Message string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("asl: ")
	if e.State != "" {
		fmt.Fprintf(&b, "state %q: ", e.State)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ValidationErrors is every problem Validate found, in document order.
// Use errors.As to get at it, or at its first *ValidationError.
type ValidationErrors []*ValidationError

func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap gives errors.As access to each *ValidationError.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// Validate checks a definition for the mistakes AWS rejects at creation
// and for those it accepts but that make a machine wrong: a StartAt, Next,
// Default or Catch Next naming no state; unreachable states; a state with
// both or neither of Next and End; a Choice with no rules, a rule with
// Next nested inside And/Or/Not or an operand of the wrong type; a Wait
// without exactly one of its four fields; States.ALL misspelt
// ("States.All"), not alone in its ErrorEquals or not in the last
// retrier/catcher; unknown States.* names; BackoffRate < 1; negative
// intervals or attempts; HeartbeatSeconds ≥ TimeoutSeconds; paths that do
// not start with "$"; Parameters keys ending in ".$" whose value is not a
// path or intrinsic, and keys without ".$" whose value looks like a path.
// It returns nil or a ValidationErrors.
func Validate(m *StateMachine) error {
	v := &validator{}
	v.scope(rootScope, m, 0)
	if m.TimeoutSeconds < 0 || m.TimeoutSeconds > MaxTimeout {
		v.add("", "TimeoutSeconds", "must be between 1 and %d", MaxTimeout)
	}
	if m.Version != "" && m.Version != "1.0" {
		v.add("", "Version", "must be \"1.0\"")
	}
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

type validator struct {
	errs ValidationErrors
}

func (v *validator) add(state, field, format string, args ...any) {
	v.errs = append(v.errs, &ValidationError{State: state, Field: field, Message: fmt.Sprintf(format, args...)})
}

// scope validates the states of a state machine or Parallel branch;
// prefix names the scope in errors ("" at the top, "P/Branches[0]/" in
// a branch).
func (v *validator) scope(prefix string, m *StateMachine, depth int) {
	scopeName := strings.TrimSuffix(prefix, "/")
	if depth > MaxParallelNest {
		v.add(scopeName, "Branches", "Parallel states nested deeper than %d", MaxParallelNest)
		return
	}
	if len(m.States) == 0 {
		v.add(scopeName, "States", "no states")
		return
	}
	names := v.stateNames(prefix, m)
	if m.StartAt == "" {
		v.add(scopeName, "StartAt", "missing")
	} else if !names[m.StartAt] {
		v.add(scopeName, "StartAt", "names no state: %q", m.StartAt)
	}
	target := func(state, field, next string) {
		if next != "" && !names[next] {
			v.add(state, field, "names no state in this scope: %q", next)
		}
	}
	for _, ns := range m.States {
		name := prefix + ns.Name
		switch s := ns.State.(type) {
		case *Task:
			v.task(name, s, target)
		case *Pass:
			v.io(name, s.IO)
			v.payload(name, "Parameters", s.Parameters)
			v.refPath(name, "ResultPath", s.ResultPath)
			if s.Result != nil && !json.Valid(s.Result) {
				v.add(name, "Result", "not valid JSON")
			}
			v.transition(name, s.Transition, target)
		case *Choice:
			v.choice(name, s, target)
		case *Wait:
			v.wait(name, s)
			v.transition(name, s.Transition, target)
		case *Succeed:
			v.io(name, s.IO)
		case *Fail:
		case *Parallel:
			v.parallel(name, s, depth, target)
		case nil:
			v.add(name, "", "nil state")
		default:
			v.add(name, "Type", "unsupported state %T", s)
		}
	}
	v.reachability(prefix, m)
}

// stateNames checks the scope's state names and returns them.
func (v *validator) stateNames(prefix string, m *StateMachine) map[string]bool {
	names := map[string]bool{}
	for _, ns := range m.States {
		name := prefix + ns.Name
		switch {
		case ns.Name == "":
			v.add(name, "", "empty state name")
		case len([]rune(ns.Name)) > MaxStateNameLen:
			v.add(name, "", "state name longer than %d characters", MaxStateNameLen)
		case names[ns.Name]:
			v.add(name, "", "defined twice")
		}
		names[ns.Name] = true
	}
	return names
}

func (v *validator) task(name string, s *Task, target func(state, field, next string)) {
	v.io(name, s.IO)
	if s.Resource == "" {
		v.add(name, "Resource", "missing")
	} else if !strings.HasPrefix(s.Resource, "arn:") {
		v.add(name, "Resource", "%q is not an ARN", s.Resource)
	}
	v.payload(name, "Parameters", s.Parameters)
	v.payload(name, "ResultSelector", s.ResultSelector)
	v.refPath(name, "ResultPath", s.ResultPath)
	if s.TimeoutSeconds < 0 || s.TimeoutSeconds > MaxTimeout {
		v.add(name, "TimeoutSeconds", "must be between 1 and %d", MaxTimeout)
	}
	if s.HeartbeatSeconds < 0 {
		v.add(name, "HeartbeatSeconds", "must be positive")
	}
	if s.HeartbeatSeconds > 0 && s.TimeoutSeconds > 0 && s.HeartbeatSeconds >= s.TimeoutSeconds {
		v.add(name, "HeartbeatSeconds", "%d is not less than TimeoutSeconds %d", s.HeartbeatSeconds, s.TimeoutSeconds)
	}
	v.retry(name, s.Retry)
	v.catch(name, s.Catch, target)
	v.transition(name, s.Transition, target)
}

func (v *validator) choice(name string, s *Choice, target func(state, field, next string)) {
	v.io(name, s.IO)
	if len(s.Choices) == 0 {
		v.add(name, "Choices", "a Choice needs at least one rule")
	}
	for i, r := range s.Choices {
		field := fmt.Sprintf("Choices[%d]", i)
		if r.Next == "" {
			v.add(name, field+".Next", "a top-level rule needs Next")
		}
		target(name, field+".Next", r.Next)
		v.rule(name, field, r, true)
	}
	target(name, "Default", s.Default)
}

func (v *validator) wait(name string, s *Wait) {
	v.io(name, s.IO)
	set := 0
	if s.Seconds != 0 {
		set++
		if s.Seconds < 0 || s.Seconds > MaxWaitSeconds {
			v.add(name, "Seconds", "must be between 0 and %d", MaxWaitSeconds)
		}
	}
	if s.Timestamp != "" {
		set++
		if _, err := time.Parse(time.RFC3339, s.Timestamp); err != nil {
			v.add(name, "Timestamp", "not an RFC 3339 timestamp: %q", s.Timestamp)
		}
	}
	if s.SecondsPath != "" {
		set++
		v.refPath(name, "SecondsPath", s.SecondsPath)
	}
	if s.TimestampPath != "" {
		set++
		v.refPath(name, "TimestampPath", s.TimestampPath)
	}
	if set != 1 {
		v.add(name, "", "a Wait needs exactly one of Seconds, Timestamp, SecondsPath and TimestampPath (has %d)", set)
	}
}

func (v *validator) parallel(name string, s *Parallel, depth int, target func(state, field, next string)) {
	v.io(name, s.IO)
	if len(s.Branches) == 0 {
		v.add(name, "Branches", "a Parallel needs at least one branch")
	}
	for i := range s.Branches {
		b := &s.Branches[i]
		if b.TimeoutSeconds != 0 || b.Version != "" {
			v.add(name, fmt.Sprintf("Branches[%d]", i), "a branch may not set TimeoutSeconds or Version")
		}
		v.scope(fmt.Sprintf("%s/Branches[%d]/", name, i), b, depth+1)
	}
	v.payload(name, "Parameters", s.Parameters)
	v.payload(name, "ResultSelector", s.ResultSelector)
	v.refPath(name, "ResultPath", s.ResultPath)
	v.retry(name, s.Retry)
	v.catch(name, s.Catch, target)
	v.transition(name, s.Transition, target)
}

func (v *validator) transition(name string, t Transition, target func(state, field, next string)) {
	switch {
	case t.Next != "" && t.End:
		v.add(name, "Next", "has both Next and End")
	case t.Next == "" && !t.End:
		v.add(name, "Next", "needs Next or End: true")
	}
	target(name, "Next", t.Next)
}

// successors lists where a state may go next.
func successors(s State) []string {
	var out []string
	switch s := s.(type) {
	case *Task:
		out = append(out, s.Next)
		for _, c := range s.Catch {
			out = append(out, c.Next)
		}
	case *Pass:
		out = append(out, s.Next)
	case *Wait:
		out = append(out, s.Next)
	case *Parallel:
		out = append(out, s.Next)
		for _, c := range s.Catch {
			out = append(out, c.Next)
		}
	case *Choice:
		for _, r := range s.Choices {
			out = append(out, r.Next)
		}
		out = append(out, s.Default)
	}
	return slices.DeleteFunc(out, func(n string) bool { return n == "" })
}

func terminal(s State) bool {
	switch s := s.(type) {
	case *Succeed, *Fail:
		return true
	case *Task:
		return s.End
	case *Pass:
		return s.End
	case *Wait:
		return s.End
	case *Parallel:
		return s.End
	}
	return false
}

func (v *validator) reachability(prefix string, m *StateMachine) {
	idx := m.States.index()
	if idx[m.StartAt] == nil {
		return
	}
	seen := map[string]bool{m.StartAt: true}
	queue := []string{m.StartAt}
	end := false
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		s := idx[n]
		if s == nil {
			continue
		}
		end = end || terminal(s)
		for _, next := range successors(s) {
			if !seen[next] {
				seen[next] = true
				queue = append(queue, next)
			}
		}
	}
	for _, ns := range m.States {
		if !seen[ns.Name] {
			v.add(prefix+ns.Name, "", "unreachable from StartAt %q", m.StartAt)
		}
	}
	if !end {
		v.add(strings.TrimSuffix(prefix, "/"), "States", "no terminal state (End, Succeed or Fail) is reachable")
	}
}

func (v *validator) errorNames(name, field string, names []string, last bool) {
	if len(names) == 0 {
		v.add(name, field, "ErrorEquals is empty")
		return
	}
	for _, e := range names {
		if e == "" {
			v.add(name, field, "empty error name")
			continue
		}
		if strings.HasPrefix(strings.ToLower(e), "states.") && !slices.Contains(PredefinedErrors, e) {
			for _, p := range PredefinedErrors {
				if strings.EqualFold(p, e) {
					v.add(name, field, "%q is not a predefined error (did you mean %q?)", e, p)
					goto next
				}
			}
			v.add(name, field, "%q is not a predefined error name", e)
		}
	next:
	}
	if slices.Contains(names, ErrorALL) {
		if len(names) > 1 {
			v.add(name, field, "%s must be alone in its ErrorEquals", ErrorALL)
		}
		if !last {
			v.add(name, field, "%s must be in the last entry: later entries never match", ErrorALL)
		}
	}
}

func (v *validator) retry(name string, rs []Retrier) {
	for i, r := range rs {
		field := fmt.Sprintf("Retry[%d]", i)
		v.errorNames(name, field+".ErrorEquals", r.ErrorEquals, i == len(rs)-1)
		if r.IntervalSeconds < 0 || r.IntervalSeconds > MaxTimeout {
			v.add(name, field+".IntervalSeconds", "must be between 1 and %d", MaxTimeout)
		}
		if r.MaxAttempts != nil && (*r.MaxAttempts < 0 || *r.MaxAttempts > MaxAttemptsMax) {
			v.add(name, field+".MaxAttempts", "must be between 0 and %d", MaxAttemptsMax)
		}
		if r.BackoffRate != 0 && r.BackoffRate < 1 {
			v.add(name, field+".BackoffRate", "%g is less than 1.0", r.BackoffRate)
		}
		if r.MaxDelaySeconds < 0 || r.MaxDelaySeconds > MaxDelayMax {
			v.add(name, field+".MaxDelaySeconds", "must be between 1 and %d", MaxDelayMax)
		}
		if r.JitterStrategy != "" && r.JitterStrategy != "FULL" && r.JitterStrategy != "NONE" {
			v.add(name, field+".JitterStrategy", "%q is neither FULL nor NONE", r.JitterStrategy)
		}
	}
}

func (v *validator) catch(name string, cs []Catcher, target func(state, field, next string)) {
	for i, c := range cs {
		field := fmt.Sprintf("Catch[%d]", i)
		v.errorNames(name, field+".ErrorEquals", c.ErrorEquals, i == len(cs)-1)
		if c.Next == "" {
			v.add(name, field+".Next", "missing")
		}
		target(name, field+".Next", c.Next)
		v.refPath(name, field+".ResultPath", c.ResultPath)
	}
}

func (v *validator) io(name string, io IO) {
	v.path(name, "InputPath", io.InputPath)
	v.path(name, "OutputPath", io.OutputPath)
}

// path checks a Path field: absent, null, or a JSONPath starting with "$".
func (v *validator) path(name, field string, p Path) {
	if p == "" || p == Null {
		return
	}
	if err := CheckPath(string(p), false); err != nil {
		v.add(name, field, "%v", err)
	}
}

// refPath checks a reference path (no wildcards or filters), as ResultPath
// must be.
func (v *validator) refPath(name, field string, p Path) {
	if p == "" || p == Null {
		return
	}
	if err := CheckPath(string(p), true); err != nil {
		v.add(name, field, "%v", err)
	}
}

// CheckPath reports whether p is a JSONPath the runner and AWS accept:
// "$", "$$" for the context object, then .name, ['name'] or [index]
// segments; unless reference is set, [*] wildcards are allowed too.
func CheckPath(p string, reference bool) error {
	_, err := ParsePath(p)
	if err != nil {
		return err
	}
	if reference && strings.Contains(p, "*") {
		return fmt.Errorf("%q: a reference path may not hold wildcards", p)
	}
	return nil
}

func (v *validator) payload(name, field string, m map[string]any) {
	for k, val := range m {
		f := field + "." + k
		if key, ok := strings.CutSuffix(k, ".$"); ok {
			if key == "" {
				v.add(name, f, "empty key")
			}
			s, isStr := val.(string)
			switch {
			case !isStr:
				v.add(name, f, "a key ending in .$ needs a path or intrinsic function string, got %T", val)
			case strings.HasPrefix(s, "$"):
				if err := CheckPath(s, false); err != nil {
					v.add(name, f, "%v", err)
				}
			case strings.HasPrefix(s, "States."):
				fn, _, ok := strings.Cut(s, "(")
				if !strings.HasSuffix(s, ")") || !ok {
					v.add(name, f, "%q is not an intrinsic function call", s)
				} else if !slices.Contains(IntrinsicFunctions, fn) {
					v.add(name, f, "%s is not an intrinsic function", fn)
				}
			default:
				v.add(name, f, "%q is neither a path nor an intrinsic function", s)
			}
			continue
		}
		switch val := val.(type) {
		case string:
			if strings.HasPrefix(val, "$.") || val == "$" {
				v.add(name, f, "value %q looks like a path but the key does not end in .$ (it is passed as a literal string)", val)
			}
		case map[string]any:
			v.payload(name, f, val)
		}
	}
}

func (v *validator) rule(name, field string, r ChoiceRule, top bool) {
	if !top && r.Next != "" {
		v.add(name, field+".Next", "a nested rule may not have Next")
	}
	n := 0
	if r.And != nil {
		n++
	}
	if r.Or != nil {
		n++
	}
	if r.Not != nil {
		n++
	}
	if r.Op != "" {
		n++
	}
	if n != 1 {
		v.add(name, field, "a rule needs exactly one of a comparison, And, Or and Not")
		return
	}
	switch {
	case r.And != nil || r.Or != nil:
		list, op := r.And, "And"
		if r.Or != nil {
			list, op = r.Or, "Or"
		}
		if len(list) == 0 {
			v.add(name, field+"."+op, "empty")
		}
		for i, sub := range list {
			v.rule(name, fmt.Sprintf("%s.%s[%d]", field, op, i), sub, false)
		}
	case r.Not != nil:
		v.rule(name, field+".Not", *r.Not, false)
	default:
		if r.Variable == "" {
			v.add(name, field+".Variable", "missing")
		} else if err := CheckPath(r.Variable, false); err != nil {
			v.add(name, field+".Variable", "%v", err)
		}
		if !IsOperator(r.Op) {
			v.add(name, field, "unknown operator %q", r.Op)
			return
		}
		v.operand(name, field+"."+r.Op, r.Op, r.Value)
	}
}

func (v *validator) operand(name, field, op string, val any) {
	bad := func(want string) { v.add(name, field, "operand %v (%T) is not %s", val, val, want) }
	switch {
	case strings.HasSuffix(op, "Path"):
		s, ok := val.(string)
		if !ok {
			bad("a path")
		} else if err := CheckPath(s, false); err != nil {
			v.add(name, field, "%v", err)
		}
	case strings.HasPrefix(op, "Is"):
		if _, ok := val.(bool); !ok {
			bad("a boolean")
		}
	case op == "BooleanEquals":
		if _, ok := val.(bool); !ok {
			bad("a boolean")
		}
	case strings.HasPrefix(op, "Numeric"):
		switch val.(type) {
		case float64, float32, int, int32, int64:
		default:
			bad("a number")
		}
	case strings.HasPrefix(op, "Timestamp"):
		s, ok := val.(string)
		if !ok {
			bad("a timestamp string")
		} else if _, err := time.Parse(time.RFC3339, s); err != nil {
			v.add(name, field, "not an RFC 3339 timestamp: %q", s)
		}
	default: // String…, StringMatches
		if _, ok := val.(string); !ok {
			bad("a string")
		}
	}
}
