package engine

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// EvalError is a row that failed evaluation (division by zero, a value
// that does not fit its column, a failed CAST). The row goes to the
// error_stream with this message; processing continues.
type EvalError struct{ Msg string }

func (e *EvalError) Error() string { return e.Msg }

// env is what a compiled expression reads: the current row, or in a
// window's output the group keys and finished aggregates.
type env struct {
	row     []value.Value
	ref     []value.Value // the joined table row, in a pump with a JOIN
	rowtime int64
	keys    []value.Value
	aggs    []value.Value
	// sideRT are the left and right rows' ROWTIMEs of a stream-to-stream
	// join's pair (a.ROWTIME, b.ROWTIME); rowtime is the pair's.
	sideRT [2]int64
}

type evalFn func(*env) (value.Value, error)

type cexpr struct {
	fn   evalFn
	typ  value.Kind // KindNull when the expression is the NULL literal
	lit  *value.Value
	qual value.Qualifier // an interval's qualifier (zero: the widest)
}

// scope resolves names while compiling one pump's expressions.
type scope struct {
	stream string
	alias  string
	cols   []value.Column
	idx    map[string]int

	// In a window's output, expressions must be group keys or aggregates.
	agg  bool
	keys *groupKeys
	aggs *[]aggSpec
	// inAgg is set while compiling an aggregate's argument (row scope).
	inAgg bool

	// slide collects the calls with OVER of a SELECT list without GROUP
	// BY; windows are its WINDOW clause.
	slide   *slide
	windows []syntax.NamedWindow
	ref     *refScope // the JOINed table, or nil
	// streamJoin: ref is the other stream of a stream-to-stream join.
	streamJoin bool
	// using are the columns of JOIN … USING, read unqualified as
	// usingMode says.
	using     map[string]bool
	usingMode usingMode
	// chain: the FROM stream is a JOIN chain's hidden stream (chain.go).
	chain *chainInfo

	now  func() time.Time  // the engine's clock, for CURRENT_ROW_TIMESTAMP
	rows map[string]*rowFn // row-valued calls by their text, shared by their fields

	eng      *Engine // its tables and streams, for IN and EXISTS subqueries
	udfs     udfs    // the user-defined functions (udf.go)
	defining *udf    // the function whose body this scope compiles, or nil
	calls    []*udf  // the functions that body calls
}

type aggSpec struct {
	name     string
	arg      evalFn // nil for COUNT(*)
	typ      value.Kind
	distinct bool // f(DISTINCT x): each distinct value once
}

func (s *scope) col(c *syntax.ColRef) (int, error) {
	if c.Qual != "" && c.Qual != s.stream && c.Qual != s.alias {
		// REC.COLUMN1 unqualified: a subquery's row-valued column.
		if i, ok := s.idx[c.Qual+"."+c.Name]; ok {
			return i, nil
		}
		if s.chain != nil && slices.Contains(s.chain.quals, c.Qual) {
			return 0, c.P.Errorf("unknown column %q in %q", c.Name, c.Qual)
		}
		return 0, c.P.Errorf("unknown stream or alias %q", c.Qual)
	}
	i, ok := s.idx[c.Name]
	if !ok {
		hint := ""
		if strings.ToUpper(c.Name) != c.Name {
			hint = " (unquoted names are upper-cased; quote it)"
		} else if _, ok := s.idx[strings.ToLower(c.Name)]; ok {
			hint = " (unquoted names are upper-cased: write \"" + strings.ToLower(c.Name) + "\")"
		}
		if s.chain != nil { // a JOIN chain's hidden stream (chain.go)
			return 0, c.P.Errorf("unknown column %q in the JOINs before it, or in more than one of their sides: qualify it%s", c.Name, hint)
		}
		return 0, c.P.Errorf("unknown column %q in stream %q%s", c.Name, s.stream, hint)
	}
	return i, nil
}

var aggNames = map[string]bool{"COUNT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true,
	"STDDEV_POP": true, "STDDEV_SAMP": true, "VAR_POP": true, "VAR_SAMP": true, "ANY": true, "EVERY": true}

func (s *scope) compile(e syntax.Expr) (cexpr, error) {
	if s.agg && !s.inAgg {
		if k, ok := s.keys.find(e); ok {
			ks := s.keys.kinds[k]
			return cexpr{typ: ks, fn: func(v *env) (value.Value, error) { return v.keys[k], nil }}, nil
		}
	}
	switch e := e.(type) {
	case *syntax.Literal:
		v := e.V
		return cexpr{typ: v.K, lit: &v, qual: e.Qual, fn: func(*env) (value.Value, error) { return v, nil }}, nil
	case *syntax.ColRef:
		if i, ok := s.chainRowtime(e); ok {
			return cexpr{typ: value.KindTime, fn: colFn(i)}, nil
		}
		if i, ok := s.joinRowtime(e); ok && e.Name == "ROWTIME" {
			return cexpr{typ: value.KindTime, fn: joinRowtimeFn(i)}, nil
		}
		if e.Name == "ROWTIME" {
			return cexpr{typ: value.KindTime, fn: func(v *env) (value.Value, error) { return value.Value{K: value.KindTime, I: v.rowtime}, nil }}, nil
		}
		if s.agg && !s.inAgg {
			return cexpr{}, e.P.Errorf("column %q must appear in GROUP BY or in an aggregate", e.Name)
		}
		if e.Qual == "" && s.using[e.Name] {
			return s.compileUsing(e), nil
		}
		if i, found, err := s.tableCol(e); err != nil || found {
			if err != nil {
				return cexpr{}, err
			}
			return cexpr{typ: s.ref.t.cols[i].Type.Kind, fn: func(v *env) (value.Value, error) {
				if v.ref == nil {
					return value.Value{}, nil
				}
				return v.ref[i], nil
			}}, nil
		}
		i, err := s.col(e)
		if err != nil {
			return cexpr{}, err
		}
		return cexpr{typ: s.cols[i].Type.Kind, fn: func(v *env) (value.Value, error) { return v.row[i], nil }}, nil
	case *syntax.Step:
		return s.compileStep(e)
	case *syntax.IsNull:
		return s.compileIsNull(e)
	case *syntax.Unary:
		return s.compileUnary(e)
	case *syntax.Cast:
		return s.compileCast(e)
	case *syntax.Like:
		return s.compileLike(e)
	case *syntax.Case:
		return s.compileCase(e)
	case *syntax.Between:
		return s.compileBetween(e)
	case *syntax.In:
		return s.compileIn(e)
	case *syntax.Call:
		return s.compileCall(e)
	case *syntax.Subquery:
		return s.compileSubquery(e)
	case *syntax.Row:
		return cexpr{}, e.P.Errorf("a row value %s is only allowed before IN (SELECT …) or in a temporal predicate", e)
	case *syntax.Temporal:
		return s.compileTemporal(e)
	case *syntax.Field:
		return s.compileField(e)
	case *syntax.Binary:
		return s.compileBinary(e)
	}
	return cexpr{}, e.ExprPos().Errorf("unsupported expression %s", e)
}

// compileStep compiles STEP(ts BY INTERVAL …): ts rounded down to the
// interval.
func (s *scope) compileStep(e *syntax.Step) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	m := e.Millis
	switch {
	case x.typ == value.KindDate && m%value.DayMillis == 0:
		m /= value.DayMillis // DATEs are days
	case x.typ == value.KindTimeOfDay && value.DayMillis%m == 0, x.typ == value.KindTime:
	default:
		return cexpr{}, e.P.Errorf("STEP needs a TIMESTAMP (a TIME by a part of a day, a DATE by days), got %s", x.typ)
	}
	k := x.typ
	return cexpr{typ: k, fn: func(v *env) (value.Value, error) {
		t, err := x.fn(v)
		if err != nil || t.K == value.KindNull {
			return t, err
		}
		return value.Value{K: k, I: floorDiv(t.I, m) * m}, nil
	}}, nil
}

func (s *scope) compileIsNull(e *syntax.IsNull) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	not := e.Not
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		return value.BoolValue((a.K == value.KindNull) != not), err
	}}, nil
}

// compileUnary compiles NOT and unary minus.
func (s *scope) compileUnary(e *syntax.Unary) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	if e.Op == "NOT" {
		if x.typ != value.KindBool && x.typ != value.KindNull {
			return cexpr{}, e.P.Errorf("NOT needs a BOOLEAN, got %s", x.typ)
		}
		return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
			a, err := x.fn(v)
			if err != nil || a.K == value.KindNull {
				return a, err
			}
			return value.BoolValue(a.I == 0), nil
		}}, nil
	}
	if x.typ != value.KindInt && x.typ != value.KindFloat && !isInterval(x.typ) {
		return cexpr{}, e.P.Errorf("unary minus needs a number or an interval, got %s", x.typ)
	}
	return cexpr{typ: x.typ, qual: x.qual, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		a.I, a.F = -a.I, -a.F
		return a, err
	}}, nil
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func numeric(k value.Kind) bool {
	return k == value.KindInt || k == value.KindFloat || k == value.KindNull
}

func comparable(a, b value.Kind) bool {
	if a == value.KindNull || b == value.KindNull || a == b {
		return true
	}
	return numeric(a) && numeric(b)
}

func (s *scope) compileBinary(e *syntax.Binary) (cexpr, error) {
	l, err := s.compile(e.L)
	if err != nil {
		return cexpr{}, err
	}
	r, err := s.compile(e.R)
	if err != nil {
		return cexpr{}, err
	}
	switch e.Op {
	case "AND", "OR":
		return compileLogic(e, l, r)
	case "=", "<>", "<", "<=", ">", ">=":
		return compileComparison(e, l, r)
	case "||":
		return compileConcat(e, l, r)
	}
	if e.Qual.From != value.UnitNone {
		return compileDiff(e, l, r) // (a - b) qualifier
	}
	if temporal(l.typ, r.typ) {
		return compileTemporalArith(e, l, r)
	}
	return compileArith(e, l, r) // + - * / %
}

// compileLogic compiles AND or OR, with SQL's three-valued logic.
func compileLogic(e *syntax.Binary, l, r cexpr) (cexpr, error) {
	for _, x := range []cexpr{l, r} {
		if x.typ != value.KindBool && x.typ != value.KindNull {
			return cexpr{}, e.P.Errorf("%s needs BOOLEAN operands, got %s", e.Op, x.typ)
		}
	}
	and := e.Op == "AND"
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := l.fn(v)
		if err != nil {
			return a, err
		}
		// Short-circuit: FALSE AND x = FALSE, TRUE OR x = TRUE.
		if a.K == value.KindBool && (a.I == 1) != and {
			return a, nil
		}
		b, err := r.fn(v)
		if err != nil {
			return b, err
		}
		if b.K == value.KindBool && (b.I == 1) != and {
			return b, nil
		}
		if a.K == value.KindNull || b.K == value.KindNull {
			return value.Value{}, nil
		}
		return b, nil
	}}, nil
}

// compileComparison compiles = <> < <= > >=; NULL compares unknown.
func compileComparison(e *syntax.Binary, l, r cexpr) (cexpr, error) {
	if !comparable(l.typ, r.typ) {
		return cexpr{}, e.P.Errorf("cannot compare %s with %s", l.typ, r.typ)
	}
	test := cmpTest(e.Op)
	if fn := fastCompare(e, l, r, test); fn != nil {
		return cexpr{typ: value.KindBool, fn: fn}, nil
	}
	return cexpr{typ: value.KindBool, fn: strict(l, r, func(a, b value.Value) (value.Value, error) {
		return value.BoolValue(test(compareValues(a, b))), nil
	})}, nil
}

// strict evaluates l then r and applies f to their values, or yields NULL
// when either is NULL, as SQL's strict operators do.
func strict(l, r cexpr, f func(a, b value.Value) (value.Value, error)) evalFn {
	return func(v *env) (value.Value, error) {
		a, err := l.fn(v)
		if err != nil {
			return a, err
		}
		b, err := r.fn(v)
		if err != nil {
			return b, err
		}
		if a.K == value.KindNull || b.K == value.KindNull {
			return value.Value{}, nil
		}
		return f(a, b)
	}
}

// compileConcat compiles ||.
func compileConcat(e *syntax.Binary, l, r cexpr) (cexpr, error) {
	if l.typ != value.KindString && l.typ != value.KindNull || r.typ != value.KindString && r.typ != value.KindNull {
		return cexpr{}, e.P.Errorf("|| needs VARCHAR operands, got %s and %s", l.typ, r.typ)
	}
	return cexpr{typ: value.KindString, fn: strict(l, r, func(a, b value.Value) (value.Value, error) {
		return value.StringValue(a.S + b.S), nil
	})}, nil
}

// compileArith compiles + - * / %: BIGINT unless an operand is DOUBLE.
func compileArith(e *syntax.Binary, l, r cexpr) (cexpr, error) {
	if !numeric(l.typ) || !numeric(r.typ) {
		return cexpr{}, e.P.Errorf("%s needs numbers, got %s and %s", e.Op, l.typ, r.typ)
	}
	typ := value.KindInt
	if l.typ == value.KindFloat || r.typ == value.KindFloat {
		typ = value.KindFloat
	}
	op := e.Op[0]
	return cexpr{typ: typ, fn: strict(l, r, func(a, b value.Value) (value.Value, error) { return arith(op, a, b) })}, nil
}

func arith(op byte, a, b value.Value) (value.Value, error) {
	if a.K == value.KindInt && b.K == value.KindInt {
		x, y := a.I, b.I
		switch op {
		case '+':
			z := x + y
			if (z > x) != (y > 0) {
				return a, &EvalError{"BIGINT overflow"}
			}
			return value.IntValue(z), nil
		case '-':
			z := x - y
			if (z < x) != (y > 0) {
				return a, &EvalError{"BIGINT overflow"}
			}
			return value.IntValue(z), nil
		case '*':
			if x != 0 && ((x*y)/x != y || x == -1 && y == math.MinInt64 || y == -1 && x == math.MinInt64) {
				return a, &EvalError{"BIGINT overflow"}
			}
			return value.IntValue(x * y), nil
		case '/', '%':
			if y == 0 {
				return a, &EvalError{"division by zero"}
			}
			if y == -1 && x == math.MinInt64 {
				return a, &EvalError{"BIGINT overflow"}
			}
			if op == '/' {
				return value.IntValue(x / y), nil
			}
			return value.IntValue(x % y), nil
		}
	}
	x, y := a.Float(), b.Float()
	switch op {
	case '+':
		return value.FloatValue(x + y), nil
	case '-':
		return value.FloatValue(x - y), nil
	case '*':
		return value.FloatValue(x * y), nil
	case '/':
		if y == 0 {
			return a, &EvalError{"division by zero"}
		}
		return value.FloatValue(x / y), nil
	}
	if y == 0 {
		return a, &EvalError{"division by zero"}
	}
	return value.FloatValue(math.Mod(x, y)), nil
}

func cmpTest(op string) func(int) bool {
	switch op {
	case "=":
		return func(c int) bool { return c == 0 }
	case "<>":
		return func(c int) bool { return c != 0 }
	case "<":
		return func(c int) bool { return c < 0 }
	case "<=":
		return func(c int) bool { return c <= 0 }
	case ">":
		return func(c int) bool { return c > 0 }
	}
	return func(c int) bool { return c >= 0 }
}

// compareValues orders two non-NULL values of comparable kinds.
func compareValues(a, b value.Value) int {
	switch {
	case a.K == value.KindInt && b.K == value.KindInt, a.K == value.KindTime && b.K == value.KindTime, a.K == value.KindBool && b.K == value.KindBool:
		return cmp3(a.I, b.I)
	case a.K == b.K && a.K >= value.KindDate && a.K <= value.KindMonths: // DATE, TIME, intervals
		return cmp3(a.I, b.I)
	case a.K == value.KindString, a.K == value.KindBinary:
		return strings.Compare(a.S, b.S)
	}
	x, y := a.Float(), b.Float()
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func cmp3(x, y int64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// fastCompare specialises "column op integer literal" on an integer column,
// the shape of nearly every KDA filter, to one closure without calls.
func fastCompare(e *syntax.Binary, l, r cexpr, test func(int) bool) evalFn {
	col, ok := e.L.(*syntax.ColRef)
	if !ok || r.lit == nil || r.lit.K != value.KindInt || l.typ != value.KindInt || col.Name == "ROWTIME" {
		return nil
	}
	lf := l.fn
	c := r.lit.I
	var pred func(int64) bool
	switch e.Op {
	case ">":
		return func(v *env) (value.Value, error) {
			a, err := lf(v)
			if a.K != value.KindInt {
				return value.Value{}, err
			}
			return value.Value{K: value.KindBool, I: b2i(a.I > c)}, err
		}
	case "<":
		return func(v *env) (value.Value, error) {
			a, err := lf(v)
			if a.K != value.KindInt {
				return value.Value{}, err
			}
			return value.Value{K: value.KindBool, I: b2i(a.I < c)}, err
		}
	default:
		pred = func(x int64) bool { return test(cmp3(x, c)) }
	}
	return func(v *env) (value.Value, error) {
		a, err := lf(v)
		if a.K != value.KindInt {
			return value.Value{}, err
		}
		return value.BoolValue(pred(a.I)), err
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// commonKind is the result kind of values that may be any of args: one
// kind, or DOUBLE for a mix of numbers.
func commonKind(p syntax.Pos, what string, args []cexpr) (value.Kind, error) {
	typ := value.KindNull
	for _, a := range args {
		switch {
		case a.typ == value.KindNull || a.typ == typ:
		case typ == value.KindNull:
			typ = a.typ
		case numeric(typ) && numeric(a.typ):
			typ = value.KindFloat
		default:
			return 0, p.Errorf("%s mixes %s and %s", what, typ, a.typ)
		}
	}
	return typ, nil
}

func widen(v value.Value, k value.Kind) value.Value {
	if k == value.KindFloat && v.K == value.KindInt {
		return value.FloatValue(float64(v.I))
	}
	return v
}
