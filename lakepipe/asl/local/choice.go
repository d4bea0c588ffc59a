package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

// match evaluates a choice rule against the state's input.
func (x *execution) match(name string, r asl.ChoiceRule, input any) (bool, error) {
	switch {
	case r.And != nil:
		for _, sub := range r.And {
			ok, err := x.match(name, sub, input)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.Or != nil:
		for _, sub := range r.Or {
			ok, err := x.match(name, sub, input)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.Not != nil:
		ok, err := x.match(name, *r.Not, input)
		return !ok, err
	}
	v, present, err := x.lookup(r.Variable, input)
	if err != nil {
		return false, err
	}
	if r.Op == "IsPresent" {
		return present == r.Value.(bool), nil
	}
	if !present {
		return false, fmt.Errorf("invalid path %q: the choice state's condition path references an invalid value", r.Variable)
	}
	op, operand := r.Op, r.Value
	if base, ok := strings.CutSuffix(op, "Path"); ok && asl.IsOperator(base) {
		// The operand is a path (…Path operators).
		var found bool
		if operand, found, err = x.lookup(operand.(string), input); err != nil {
			return false, err
		}
		if !found {
			return false, fmt.Errorf("invalid path %q in %s", r.Value, op)
		}
		op = base
	}
	if ok, known := typeTest(op, v, operand); known {
		return ok, nil
	}
	if ok, known := comparison(op, v, operand); known {
		return ok, nil
	}
	return false, errors.New("unknown operator " + r.Op)
}

// lookup reads a path of the input, or of the context object for a "$$."
// path; found is false when the path selects nothing.
func (x *execution) lookup(path string, input any) (v any, found bool, err error) {
	pp, err := asl.ParsePath(path)
	if err != nil {
		return nil, false, err
	}
	doc := input
	if pp.Context {
		doc = x.ctxObj
	}
	v, gerr := pp.Get(doc)
	return v, gerr == nil, nil
}

// typeTest evaluates the Is… operators, StringMatches and BooleanEquals;
// known is false for other operators.
func typeTest(op string, v, operand any) (ok, known bool) {
	want, _ := operand.(bool)
	switch op {
	case "IsNull":
		return (v == nil) == want, true
	case "IsNumeric":
		_, ok := number(v)
		return ok == want, true
	case "IsString":
		_, ok := v.(string)
		return ok == want, true
	case "IsBoolean":
		_, ok := v.(bool)
		return ok == want, true
	case "IsTimestamp":
		s, ok := v.(string)
		if ok {
			_, err := time.Parse(time.RFC3339, s)
			ok = err == nil
		}
		return ok == want, true
	case "StringMatches":
		s, ok := v.(string)
		pat, _ := operand.(string)
		return ok && wildcardMatch(pat, s), true
	case "BooleanEquals":
		b, ok := v.(bool)
		return ok && b == want, true
	}
	return false, false
}

// comparison evaluates the String…, Numeric… and Timestamp… comparisons
// (Equals, LessThan, …); values of the wrong type compare false. known
// is false for other operators.
func comparison(op string, v, operand any) (ok, known bool) {
	switch {
	case strings.HasPrefix(op, "String"):
		s, ok := v.(string)
		o, ok2 := operand.(string)
		return ok && ok2 && compare(op[len("String"):], strings.Compare(s, o)), true
	case strings.HasPrefix(op, "Numeric"):
		n, ok := number(v)
		o, ok2 := number(operand)
		if !ok || !ok2 {
			return false, true
		}
		c := 0
		if n < o {
			c = -1
		} else if n > o {
			c = 1
		}
		return compare(op[len("Numeric"):], c), true
	case strings.HasPrefix(op, "Timestamp"):
		s, ok := v.(string)
		o, ok2 := operand.(string)
		if !ok || !ok2 {
			return false, true
		}
		t1, err1 := time.Parse(time.RFC3339, s)
		t2, err2 := time.Parse(time.RFC3339, o)
		if err1 != nil || err2 != nil {
			return false, true
		}
		return compare(op[len("Timestamp"):], t1.Compare(t2)), true
	}
	return false, false
}

func compare(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	case float32:
		return float64(n), true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case int32:
		return float64(n), true
	}
	return 0, false
}

// wildcardMatch implements StringMatches: * matches any run of
// characters, \* a literal star, \\ a backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		lit  byte
	}
	var toks []tok
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '\\' && i+1 < len(pattern) {
			i++
			toks = append(toks, tok{lit: pattern[i]})
			continue
		}
		toks = append(toks, tok{star: c == '*', lit: c})
	}
	// Classic greedy matching with one backtrack point.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].lit == s[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			si = starS
			ti = starT + 1
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}
