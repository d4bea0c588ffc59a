package asl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ChoiceRule is one rule of a Choice state: a comparison (Variable, Op,
// Value), or And/Or of rules, or Not of one. Top-level rules carry Next;
// nested rules don't.
type ChoiceRule struct {
	Variable string
	Op       string // a comparison operator: StringEquals, NumericGreaterThanPath, IsPresent, …
	Value    any    // its operand: string, float64/int, bool or (for …Path) a path string
	And, Or  []ChoiceRule
	Not      *ChoiceRule
	Next     string
}

// Comparison operators. Each also exists with a "Path" suffix (its operand
// is a path into the input), except the Is… tests and StringMatches.
var comparisonOps = []string{
	"StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals", "StringGreaterThanEquals",
	"NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals", "NumericGreaterThanEquals",
	"BooleanEquals",
	"TimestampEquals", "TimestampLessThan", "TimestampGreaterThan", "TimestampLessThanEquals", "TimestampGreaterThanEquals",
}

var testOps = []string{"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp", "StringMatches"}

// IsOperator reports whether op is a Choice comparison operator.
func IsOperator(op string) bool {
	if slices.Contains(testOps, op) {
		return true
	}
	return slices.Contains(comparisonOps, strings.TrimSuffix(op, "Path"))
}

// Rule returns a comparison rule: Rule("$.state", "StringEquals", "READY").
func Rule(variable, op string, value any) ChoiceRule {
	return ChoiceRule{Variable: variable, Op: op, Value: value}
}

// Then sets the rule's Next and returns it.
func (r ChoiceRule) Then(next string) ChoiceRule { r.Next = next; return r }

// And returns a rule true when all rules are.
func And(rules ...ChoiceRule) ChoiceRule { return ChoiceRule{And: rules} }

// Or returns a rule true when any rule is.
func Or(rules ...ChoiceRule) ChoiceRule { return ChoiceRule{Or: rules} }

// Not returns a rule true when r is false.
func Not(r ChoiceRule) ChoiceRule { return ChoiceRule{Not: &r} }

// MarshalJSON writes the rule as ASL: {"Variable": …, "<Op>": value, "Next": …}.
func (r ChoiceRule) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	field := func(name string, v any) error {
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		fmt.Fprintf(&b, "%q:", name)
		b.Write(data)
		return nil
	}
	var err error
	switch {
	case r.And != nil:
		err = field("And", r.And)
	case r.Or != nil:
		err = field("Or", r.Or)
	case r.Not != nil:
		err = field("Not", r.Not)
	default:
		if err = field("Variable", r.Variable); err == nil && r.Op != "" {
			err = field(r.Op, r.Value)
		}
	}
	if err == nil && r.Next != "" {
		err = field("Next", r.Next)
	}
	if err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an ASL choice rule; a member that is neither a known
// field nor an operator is an error.
func (r *ChoiceRule) UnmarshalJSON(data []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	var out ChoiceRule
	for k, v := range m {
		var err error
		switch k {
		case "Variable":
			err = json.Unmarshal(v, &out.Variable)
		case "Next":
			err = json.Unmarshal(v, &out.Next)
		case "And":
			err = json.Unmarshal(v, &out.And)
			if err == nil && out.And == nil {
				out.And = []ChoiceRule{}
			}
		case "Or":
			err = json.Unmarshal(v, &out.Or)
			if err == nil && out.Or == nil {
				out.Or = []ChoiceRule{}
			}
		case "Not":
			out.Not = &ChoiceRule{}
			err = json.Unmarshal(v, out.Not)
		case "Comment":
		default:
			if !IsOperator(k) {
				return fmt.Errorf("unknown choice rule field %q", k)
			}
			if out.Op != "" {
				return fmt.Errorf("choice rule has two operators, %s and %s", out.Op, k)
			}
			out.Op = k
			err = json.Unmarshal(v, &out.Value)
		}
		if err != nil {
			return fmt.Errorf("choice rule %s: %w", k, err)
		}
	}
	if out.Op == "" && out.And == nil && out.Or == nil && out.Not == nil {
		return errors.New("choice rule has no comparison, And, Or or Not")
	}
	*r = out
	return nil
}
