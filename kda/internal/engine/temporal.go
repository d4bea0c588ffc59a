package engine

import (
	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The temporal predicates of SQL:2011 over TIMESTAMP periods: a period
// is PERIOD (s, e) or (s, e), the times s <= t < e. With P1 = (s1, e1)
// and P2 = (s2, e2):
//
//	P1 CONTAINS P2              s1 <= s2 AND e1 >= e2
//	P1 CONTAINS t               s1 <= t AND t < e1
//	P1 OVERLAPS P2              s1 < e2 AND s2 < e1
//	P1 EQUALS P2                s1 = s2 AND e1 = e2
//	P1 PRECEDES P2              e1 <= s2
//	P1 SUCCEEDS P2              s1 >= e2
//	P1 IMMEDIATELY PRECEDES P2  e1 = s2
//	P1 IMMEDIATELY SUCCEEDS P2  s1 = e2
//
// A NULL end makes the predicate NULL; a period that ends before it
// starts fails the row (SQL's invalid period value).

// period is a compiled period: its two ends.
type period struct{ s, e cexpr }

// compilePeriod compiles x as a period: (s, e) or PERIOD(s, e) of
// TIMESTAMPs.
func (s *scope) compilePeriod(pred string, x syntax.Expr) (period, error) {
	var ends []syntax.Expr
	switch x := x.(type) {
	case *syntax.Row:
		ends = x.Items
	case *syntax.Call:
		if x.Name == "PERIOD" {
			ends = x.Args
		}
	}
	if len(ends) != 2 {
		return period{}, x.ExprPos().Errorf("%s needs periods (start, end) or PERIOD(start, end), got %s", pred, x)
	}
	var p period
	for i, end := range ends {
		c, err := s.compile(end)
		if err != nil {
			return period{}, err
		}
		if c.typ != value.KindTime && c.typ != value.KindNull {
			return period{}, end.ExprPos().Errorf("%s: a period's ends are TIMESTAMPs, got %s", pred, c.typ)
		}
		if i == 0 {
			p.s = c
		} else {
			p.e = c
		}
	}
	return p, nil
}

// ends evaluates a period: ok is false when an end is NULL.
func (p period) ends(v *env) (s, e int64, ok bool, err error) {
	a, err := p.s.fn(v)
	if err != nil {
		return 0, 0, false, err
	}
	b, err := p.e.fn(v)
	if err != nil || a.K == value.KindNull || b.K == value.KindNull {
		return 0, 0, false, err
	}
	if a.I > b.I {
		return 0, 0, false, &EvalError{"invalid period: it ends (" + b.SQL() + ") before it starts (" + a.SQL() + ")"}
	}
	return a.I, b.I, true, nil
}

// compileTemporal compiles a temporal predicate.
func (s *scope) compileTemporal(e *syntax.Temporal) (cexpr, error) {
	pred := e.Pred
	l, err := s.compilePeriod(pred, e.L)
	if err != nil {
		return cexpr{}, err
	}
	if pred == "CONTAINS" {
		if _, isRow := e.R.(*syntax.Row); !isRow && !isPeriodCall(e.R) {
			t, err := s.compile(e.R)
			if err != nil {
				return cexpr{}, err
			}
			if t.typ != value.KindTime && t.typ != value.KindNull {
				return cexpr{}, e.R.ExprPos().Errorf("CONTAINS needs a period or a TIMESTAMP on its right, got %s", t.typ)
			}
			return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
				s1, e1, ok, err := l.ends(v)
				if !ok {
					return value.Value{}, err
				}
				x, err := t.fn(v)
				if err != nil || x.K == value.KindNull {
					return value.Value{}, err
				}
				return value.BoolValue(s1 <= x.I && x.I < e1), nil
			}}, nil
		}
	}
	r, err := s.compilePeriod(pred, e.R)
	if err != nil {
		return cexpr{}, err
	}
	var test func(s1, e1, s2, e2 int64) bool
	switch pred {
	case "CONTAINS":
		test = func(s1, e1, s2, e2 int64) bool { return s1 <= s2 && e1 >= e2 }
	case "OVERLAPS":
		test = func(s1, e1, s2, e2 int64) bool { return s1 < e2 && s2 < e1 }
	case "EQUALS":
		test = func(s1, e1, s2, e2 int64) bool { return s1 == s2 && e1 == e2 }
	case "PRECEDES":
		test = func(_, e1, s2, _ int64) bool { return e1 <= s2 }
	case "SUCCEEDS":
		test = func(s1, _, _, e2 int64) bool { return s1 >= e2 }
	case "IMMEDIATELY PRECEDES":
		test = func(_, e1, s2, _ int64) bool { return e1 == s2 }
	case "IMMEDIATELY SUCCEEDS":
		test = func(s1, _, _, e2 int64) bool { return s1 == e2 }
	default:
		return cexpr{}, e.P.Unsupported(pred)
	}
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		s1, e1, ok, err := l.ends(v)
		if !ok {
			return value.Value{}, err
		}
		s2, e2, ok, err := r.ends(v)
		if !ok {
			return value.Value{}, err
		}
		return value.BoolValue(test(s1, e1, s2, e2)), nil
	}}, nil
}

func isPeriodCall(x syntax.Expr) bool {
	c, ok := x.(*syntax.Call)
	return ok && c.Name == "PERIOD"
}
