package engine

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

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
	rowtime int64
	keys    []value.Value
	aggs    []value.Value
}

type evalFn func(*env) (value.Value, error)

type cexpr struct {
	fn  evalFn
	typ value.Kind // KindNull when the expression is the NULL literal
	lit *value.Value
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
}

type aggSpec struct {
	name string
	arg  evalFn // nil for COUNT(*)
	typ  value.Kind
}

func (s *scope) col(c *syntax.ColRef) (int, error) {
	if c.Qual != "" && c.Qual != s.stream && c.Qual != s.alias {
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
		return 0, c.P.Errorf("unknown column %q in stream %q%s", c.Name, s.stream, hint)
	}
	return i, nil
}

var aggNames = map[string]bool{"COUNT": true, "SUM": true, "AVG": true, "MIN": true, "MAX": true}

// groupKeys are a window's GROUP BY expressions. In the window's output an
// expression equal to one of them reads the group's key. Equality is
// structural; each node's hash is computed once, bottom-up, so matching
// every node of a SELECT list against the keys stays linear (printing each
// node to compare strings was cubic in the expression's size).
type groupKeys struct {
	exprs  []syntax.Expr
	hashes []uint64
	kinds  []value.Kind
	shapes map[shape]bool // of exprs: most nodes match none, and need no hash
	memo   map[syntax.Expr]uint64
}

// shape is a node's type and operator or name: equal expressions have
// equal shapes.
type shape struct {
	tag  byte
	name string
}

func shapeOf(e syntax.Expr) shape {
	switch e := e.(type) {
	case *syntax.Literal:
		return shape{1, ""}
	case *syntax.ColRef:
		return shape{2, e.Name}
	case *syntax.Binary:
		return shape{3, e.Op}
	case *syntax.Unary:
		return shape{4, e.Op}
	case *syntax.Call:
		return shape{5, e.Name}
	case *syntax.Step:
		return shape{6, ""}
	case *syntax.Cast:
		return shape{7, ""}
	case *syntax.IsNull:
		return shape{8, ""}
	case *syntax.Like:
		return shape{9, ""}
	case *syntax.Case:
		return shape{10, ""}
	case *syntax.Between:
		return shape{11, ""}
	case *syntax.In:
		return shape{12, ""}
	}
	return shape{}
}

// find returns the index of the key equal to e.
func (g *groupKeys) find(e syntax.Expr) (int, bool) {
	if !g.shapes[shapeOf(e)] {
		return 0, false
	}
	h := exprHash(e, g.memo)
	for i, kh := range g.hashes {
		if kh == h && equalExpr(e, g.exprs[i]) {
			return i, true
		}
	}
	return 0, false
}

// add records e as a key unless an equal one exists; it returns e's index.
func (g *groupKeys) add(e syntax.Expr, kind value.Kind) (int, bool) {
	if i, ok := g.find(e); ok {
		return i, false
	}
	g.exprs = append(g.exprs, e)
	g.hashes = append(g.hashes, exprHash(e, g.memo))
	g.shapes[shapeOf(e)] = true
	g.kinds = append(g.kinds, kind)
	return len(g.exprs) - 1, true
}

// exprHash hashes e's structure (the equality of equalExpr), memoised per
// node in memo.
func exprHash(e syntax.Expr, memo map[syntax.Expr]uint64) uint64 {
	if h, ok := memo[e]; ok {
		return h
	}
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h = (h ^ 0xff) * prime
	}
	mixU := func(x uint64) {
		for i := 0; i < 8; i++ {
			h = (h ^ (x & 0xff)) * prime
			x >>= 8
		}
	}
	switch e := e.(type) {
	case *syntax.Literal:
		mix("lit")
		mix(e.V.SQL())
	case *syntax.ColRef:
		mix("col")
		mix(e.Name)
	case *syntax.Binary:
		mix("bin")
		mix(e.Op)
	case *syntax.Unary:
		mix("un")
		mix(e.Op)
	case *syntax.Call:
		mix("call")
		mix(e.Name)
		if e.Star {
			mix("*")
		}
	case *syntax.Step:
		mix("step")
		mixU(uint64(e.Millis))
	case *syntax.Cast:
		mix("cast")
		mix(e.Type.String())
	case *syntax.IsNull:
		mix("isnull")
		mixU(uint64(b2i(e.Not)))
	case *syntax.Like:
		mix("like")
		mix(e.Pattern)
		mixU(uint64(b2i(e.Not)))
	case *syntax.Case:
		mix("case")
		mixU(uint64(len(e.Whens)))
		mixU(uint64(b2i(e.Operand != nil)))
		mixU(uint64(b2i(e.Else != nil)))
	case *syntax.Between:
		mix("between")
		mixU(uint64(b2i(e.Not)))
	case *syntax.In:
		mix("in")
		mixU(uint64(b2i(e.Not)))
	}
	for _, c := range syntax.Children(e) {
		mixU(exprHash(c, memo))
	}
	memo[e] = h
	return h
}

// equalExpr reports whether a and b are the same expression: what String
// prints alike (a column's qualifier does not count; != is <>).
func equalExpr(a, b syntax.Expr) bool {
	switch a := a.(type) {
	case *syntax.Literal:
		b, ok := b.(*syntax.Literal)
		return ok && a.V.K == b.V.K && a.V.SQL() == b.V.SQL()
	case *syntax.ColRef:
		b, ok := b.(*syntax.ColRef)
		return ok && a.Name == b.Name
	case *syntax.Binary:
		b, ok := b.(*syntax.Binary)
		return ok && a.Op == b.Op && equalExpr(a.L, b.L) && equalExpr(a.R, b.R)
	case *syntax.Unary:
		b, ok := b.(*syntax.Unary)
		return ok && a.Op == b.Op && equalExpr(a.X, b.X)
	case *syntax.Call:
		b, ok := b.(*syntax.Call)
		return ok && a.Name == b.Name && a.Star == b.Star && equalExprs(a.Args, b.Args)
	case *syntax.Step:
		b, ok := b.(*syntax.Step)
		return ok && a.Millis == b.Millis && equalExpr(a.X, b.X)
	case *syntax.Cast:
		b, ok := b.(*syntax.Cast)
		return ok && a.Type == b.Type && equalExpr(a.X, b.X)
	case *syntax.IsNull:
		b, ok := b.(*syntax.IsNull)
		return ok && a.Not == b.Not && equalExpr(a.X, b.X)
	case *syntax.Like:
		b, ok := b.(*syntax.Like)
		return ok && a.Not == b.Not && a.Pattern == b.Pattern && equalExpr(a.X, b.X)
	case *syntax.Between:
		b, ok := b.(*syntax.Between)
		return ok && a.Not == b.Not && equalExpr(a.X, b.X) && equalExpr(a.Lo, b.Lo) && equalExpr(a.Hi, b.Hi)
	case *syntax.In:
		b, ok := b.(*syntax.In)
		return ok && a.Not == b.Not && equalExpr(a.X, b.X) && equalExprs(a.List, b.List)
	case *syntax.Case:
		b, ok := b.(*syntax.Case)
		if !ok || len(a.Whens) != len(b.Whens) || (a.Operand == nil) != (b.Operand == nil) || (a.Else == nil) != (b.Else == nil) {
			return false
		}
		if a.Operand != nil && !equalExpr(a.Operand, b.Operand) || a.Else != nil && !equalExpr(a.Else, b.Else) {
			return false
		}
		for i, w := range a.Whens {
			if !equalExpr(w.Cond, b.Whens[i].Cond) || !equalExpr(w.Result, b.Whens[i].Result) {
				return false
			}
		}
		return true
	}
	return false
}

func equalExprs(a, b []syntax.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalExpr(a[i], b[i]) {
			return false
		}
	}
	return true
}

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
		return cexpr{typ: v.K, lit: &v, fn: func(*env) (value.Value, error) { return v, nil }}, nil
	case *syntax.ColRef:
		if e.Name == "ROWTIME" {
			return cexpr{typ: value.KindTime, fn: func(v *env) (value.Value, error) { return value.Value{K: value.KindTime, I: v.rowtime}, nil }}, nil
		}
		if s.agg && !s.inAgg {
			return cexpr{}, e.P.Errorf("column %q must appear in GROUP BY or in an aggregate", e.Name)
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
	if x.typ != value.KindTime {
		return cexpr{}, e.P.Errorf("STEP needs a TIMESTAMP, got %s", x.typ)
	}
	m := e.Millis
	return cexpr{typ: value.KindTime, fn: func(v *env) (value.Value, error) {
		t, err := x.fn(v)
		if err != nil || t.K == value.KindNull {
			return t, err
		}
		return value.Value{K: value.KindTime, I: floorDiv(t.I, m) * m}, nil
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
	if x.typ != value.KindInt && x.typ != value.KindFloat {
		return cexpr{}, e.P.Errorf("unary minus needs a number, got %s", x.typ)
	}
	return cexpr{typ: x.typ, fn: func(v *env) (value.Value, error) {
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

func (s *scope) compileCall(e *syntax.Call) (cexpr, error) {
	if aggNames[e.Name] {
		return s.compileAggregate(e)
	}
	args := make([]cexpr, len(e.Args))
	for i, a := range e.Args {
		c, err := s.compile(a)
		if err != nil {
			return cexpr{}, err
		}
		args[i] = c
	}
	switch e.Name {
	case "COALESCE":
		return compileCoalesce(e, args)
	case "UPPER", "LOWER":
		x, err := oneArg(e, args, value.KindString)
		if err != nil {
			return x, err
		}
		f := strings.ToUpper
		if e.Name == "LOWER" {
			f = strings.ToLower
		}
		return stringFn(x, value.KindString, func(s string) value.Value { return value.StringValue(f(s)) }), nil
	case "CHAR_LENGTH", "CHARACTER_LENGTH":
		x, err := oneArg(e, args, value.KindString)
		if err != nil {
			return x, err
		}
		return stringFn(x, value.KindInt, func(s string) value.Value { return value.IntValue(int64(utf8.RuneCountInString(s))) }), nil
	case "ABS", "FLOOR", "CEIL", "CEILING":
		x, err := oneArg(e, args, value.KindInt, value.KindFloat)
		if err != nil {
			return x, err
		}
		return compileRounding(e.Name, x), nil
	}
	if syntax.IsUnsupportedFunction(e.Name) {
		return cexpr{}, e.P.Unsupported(e.Name)
	}
	return cexpr{}, e.P.Errorf("unknown function %s", e.Name)
}

// compileAggregate compiles COUNT, SUM, AVG, MIN or MAX into a slot of the
// window's aggregates, which the expression then reads.
func (s *scope) compileAggregate(e *syntax.Call) (cexpr, error) {
	if !s.agg {
		return cexpr{}, e.P.Errorf("aggregate %s needs GROUP BY with a STEP(… ROWTIME BY INTERVAL …) window", e.Name)
	}
	if s.inAgg {
		return cexpr{}, e.P.Errorf("aggregates cannot be nested")
	}
	spec := aggSpec{name: e.Name, typ: value.KindInt}
	switch {
	case e.Star && e.Name == "COUNT":
	case e.Star:
		return cexpr{}, e.P.Errorf("%s(*) is not allowed; only COUNT(*)", e.Name)
	case len(e.Args) != 1:
		return cexpr{}, e.P.Errorf("%s takes one argument", e.Name)
	default:
		s.inAgg = true
		x, err := s.compile(e.Args[0])
		s.inAgg = false
		if err != nil {
			return cexpr{}, err
		}
		spec.arg = x.fn
		switch e.Name {
		case "COUNT":
		case "SUM", "AVG":
			if x.typ != value.KindInt && x.typ != value.KindFloat {
				return cexpr{}, e.P.Errorf("%s needs a number, got %s", e.Name, x.typ)
			}
			spec.typ = x.typ
			if e.Name == "AVG" {
				spec.typ = value.KindFloat
			}
		default:
			spec.typ = x.typ
		}
	}
	k := len(*s.aggs)
	*s.aggs = append(*s.aggs, spec)
	return cexpr{typ: spec.typ, fn: func(v *env) (value.Value, error) { return v.aggs[k], nil }}, nil
}

// oneArg returns the only argument of a call, of one of kinds (or NULL).
func oneArg(e *syntax.Call, args []cexpr, kinds ...value.Kind) (cexpr, error) {
	if len(args) != 1 {
		return cexpr{}, e.P.Errorf("%s takes one argument", e.Name)
	}
	for _, k := range kinds {
		if args[0].typ == k || args[0].typ == value.KindNull {
			return args[0], nil
		}
	}
	return cexpr{}, e.P.Errorf("%s does not take %s", e.Name, args[0].typ)
}

func compileCoalesce(e *syntax.Call, args []cexpr) (cexpr, error) {
	if len(args) == 0 {
		return cexpr{}, e.P.Errorf("COALESCE needs arguments")
	}
	typ, err := commonKind(e.P, "COALESCE", args)
	if err != nil {
		return cexpr{}, err
	}
	return cexpr{typ: typ, fn: func(v *env) (value.Value, error) {
		for _, a := range args {
			x, err := a.fn(v)
			if err != nil || x.K != value.KindNull {
				return widen(x, typ), err
			}
		}
		return value.Value{}, nil
	}}, nil
}

// stringFn applies f to a VARCHAR argument; NULL stays NULL.
func stringFn(x cexpr, typ value.Kind, f func(string) value.Value) cexpr {
	return cexpr{typ: typ, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil || a.K == value.KindNull {
			return a, err
		}
		return f(a.S), nil
	}}
}

// compileRounding compiles ABS, FLOOR, CEIL or CEILING of a number: FLOOR
// and CEIL leave integers as they are; ABS of the smallest BIGINT
// overflows.
func compileRounding(name string, x cexpr) cexpr {
	var f func(float64) float64
	switch name {
	case "ABS":
		f = math.Abs
	case "FLOOR":
		f = math.Floor
	default:
		f = math.Ceil
	}
	return cexpr{typ: x.typ, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		switch {
		case err != nil:
			return a, err
		case a.K == value.KindFloat:
			a.F = f(a.F)
		case a.K == value.KindInt && name == "ABS" && a.I < 0:
			if a.I == math.MinInt64 {
				return a, &EvalError{"BIGINT overflow"}
			}
			a.I = -a.I
		}
		return a, nil
	}}
}

func (s *scope) compileCast(e *syntax.Cast) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	t := e.Type
	return cexpr{typ: t.Kind, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil {
			return a, err
		}
		return castValue(a, t)
	}}, nil
}

// castValue converts v to t as CAST does.
func castValue(v value.Value, t value.Type) (value.Value, error) {
	if v.K == value.KindNull {
		return v, nil
	}
	switch t.Kind {
	case value.KindInt:
		return castInt(v, t)
	case value.KindFloat:
		switch v.K {
		case value.KindInt:
			return value.FloatValue(float64(v.I)), nil
		case value.KindFloat:
			return v, nil
		case value.KindString:
			f, err := strconv.ParseFloat(strings.TrimSpace(v.S), 64)
			if err != nil {
				return v, &EvalError{"cannot cast " + v.SQL() + " to DOUBLE"}
			}
			return value.FloatValue(f), nil
		}
	case value.KindString:
		return castString(v, t), nil
	case value.KindBool:
		switch v.K {
		case value.KindBool:
			return v, nil
		case value.KindString:
			switch strings.ToUpper(strings.TrimSpace(v.S)) {
			case "TRUE":
				return value.BoolValue(true), nil
			case "FALSE":
				return value.BoolValue(false), nil
			}
		}
	case value.KindTime:
		switch v.K {
		case value.KindTime:
			return v, nil
		case value.KindString:
			if ms, ok := parseTimestamp(v.S); ok {
				return value.Value{K: value.KindTime, I: ms}, nil
			}
		}
	}
	return v, &EvalError{"cannot cast " + v.SQL() + " to " + t.String()}
}

// castInt converts a non-NULL v to INTEGER or BIGINT.
func castInt(v value.Value, t value.Type) (value.Value, error) {
	var n int64
	switch v.K {
	case value.KindInt, value.KindBool:
		n = v.I
	case value.KindFloat:
		if math.IsNaN(v.F) || v.F >= 1<<63 || v.F < -1<<63 {
			return v, &EvalError{"cannot cast " + v.SQL() + " to " + t.String()}
		}
		n = int64(v.F)
	case value.KindString:
		p, err := strconv.ParseInt(strings.TrimSpace(v.S), 10, 64)
		if err != nil {
			return v, &EvalError{"cannot cast " + v.SQL() + " to " + t.String()}
		}
		n = p
	default:
		return v, &EvalError{"cannot cast " + v.SQL() + " to " + t.String()}
	}
	if t.Bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
		return v, &EvalError{strconv.FormatInt(n, 10) + " is out of range for INTEGER"}
	}
	return value.IntValue(n), nil
}

// castString converts a non-NULL v to VARCHAR(t.Len), truncating as SQL's
// CAST does.
func castString(v value.Value, t value.Type) value.Value {
	var s string
	switch v.K {
	case value.KindString:
		s = v.S
	case value.KindTime:
		s = v.Time().Format(value.SQLTimeLayout)
	default:
		s = string(v.AppendJSON(nil))
	}
	if utf8.RuneCountInString(s) > t.Len {
		s = truncateRunes(s, t.Len)
	}
	return value.StringValue(s)
}

func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
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
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
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
		return value.BoolValue(test(compareValues(a, b))), nil
	}}, nil
}

// compileConcat compiles ||.
func compileConcat(e *syntax.Binary, l, r cexpr) (cexpr, error) {
	if l.typ != value.KindString && l.typ != value.KindNull || r.typ != value.KindString && r.typ != value.KindNull {
		return cexpr{}, e.P.Errorf("|| needs VARCHAR operands, got %s and %s", l.typ, r.typ)
	}
	return cexpr{typ: value.KindString, fn: func(v *env) (value.Value, error) {
		a, err := l.fn(v)
		if err != nil {
			return a, err
		}
		b, err := r.fn(v)
		if err != nil || b.K == value.KindNull {
			return b, err
		}
		if a.K == value.KindNull {
			return a, nil
		}
		return value.StringValue(a.S + b.S), nil
	}}, nil
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
	return cexpr{typ: typ, fn: func(v *env) (value.Value, error) {
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
		return arith(op, a, b)
	}}, nil
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
	case a.K == value.KindString:
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

func (s *scope) compileLike(e *syntax.Like) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	if x.typ != value.KindString && x.typ != value.KindNull {
		return cexpr{}, e.P.Errorf("LIKE needs a VARCHAR, got %s", x.typ)
	}
	pat, not := e.Pattern, e.Not
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil || a.K == value.KindNull {
			return value.Value{}, err
		}
		return value.BoolValue(likeMatch(a.S, pat) != not), nil
	}}, nil
}

// likeMatch reports whether s matches the LIKE pattern p: % matches any run
// of characters, _ one character, anything else itself. It needs no
// compiled form (a regexp built from a megabyte pattern took minutes and
// gigabytes) and takes O(len(s)·len(p)) at worst: on a mismatch it
// retries only from the last %.
func likeMatch(s, p string) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '%':
				starP, starS = pi, si
				pi++
				continue
			case '_':
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			default:
				_, pn := utf8.DecodeRuneInString(p[pi:])
				_, sn := utf8.DecodeRuneInString(s[si:])
				if pn == sn && p[pi:pi+pn] == s[si:si+sn] {
					si += sn
					pi += pn
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last % swallow one more character and retry after it.
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si, pi = starS, starP+1
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

func (s *scope) compileCase(e *syntax.Case) (cexpr, error) {
	var operand *cexpr
	if e.Operand != nil {
		op, err := s.compile(e.Operand)
		if err != nil {
			return cexpr{}, err
		}
		operand = &op
	}
	conds := make([]cexpr, len(e.Whens))
	results := make([]cexpr, 0, len(e.Whens)+1)
	for i, w := range e.Whens {
		c, err := s.compile(w.Cond)
		if err != nil {
			return cexpr{}, err
		}
		if operand != nil {
			if !comparable(operand.typ, c.typ) {
				return cexpr{}, w.Cond.ExprPos().Errorf("cannot compare %s with %s", operand.typ, c.typ)
			}
		} else if c.typ != value.KindBool && c.typ != value.KindNull {
			return cexpr{}, w.Cond.ExprPos().Errorf("WHEN needs a BOOLEAN condition, got %s", c.typ)
		}
		conds[i] = c
		r, err := s.compile(w.Result)
		if err != nil {
			return cexpr{}, err
		}
		results = append(results, r)
	}
	var elseFn *cexpr
	if e.Else != nil {
		el, err := s.compile(e.Else)
		if err != nil {
			return cexpr{}, err
		}
		elseFn = &el
		results = append(results, el)
	}
	typ, err := commonKind(e.P, "CASE", results)
	if err != nil {
		return cexpr{}, err
	}
	return cexpr{typ: typ, fn: func(v *env) (value.Value, error) {
		var opv value.Value
		if operand != nil {
			var err error
			if opv, err = operand.fn(v); err != nil {
				return opv, err
			}
		}
		for i, c := range conds {
			cv, err := c.fn(v)
			if err != nil {
				return cv, err
			}
			hit := false
			if operand != nil {
				hit = opv.K != value.KindNull && cv.K != value.KindNull && compareValues(opv, cv) == 0
			} else {
				hit = cv.K == value.KindBool && cv.I == 1
			}
			if hit {
				r, err := results[i].fn(v)
				return widen(r, typ), err
			}
		}
		if elseFn != nil {
			r, err := elseFn.fn(v)
			return widen(r, typ), err
		}
		return value.Value{}, nil
	}}, nil
}

func (s *scope) compileBetween(e *syntax.Between) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	lo, err := s.compile(e.Lo)
	if err != nil {
		return cexpr{}, err
	}
	hi, err := s.compile(e.Hi)
	if err != nil {
		return cexpr{}, err
	}
	for _, b := range []cexpr{lo, hi} {
		if !comparable(x.typ, b.typ) {
			return cexpr{}, e.P.Errorf("cannot compare %s with %s", x.typ, b.typ)
		}
	}
	not := e.Not
	// x >= lo AND x <= hi in three-valued logic, x evaluated once; hi is
	// not evaluated when x < lo.
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil {
			return a, err
		}
		l, err := lo.fn(v)
		if err != nil {
			return l, err
		}
		geLo := a.K != value.KindNull && l.K != value.KindNull
		if geLo && compareValues(a, l) < 0 {
			return value.BoolValue(not), nil
		}
		h, err := hi.fn(v)
		if err != nil {
			return h, err
		}
		if a.K != value.KindNull && h.K != value.KindNull && compareValues(a, h) > 0 {
			return value.BoolValue(not), nil
		}
		if !geLo || h.K == value.KindNull {
			return value.Value{}, nil
		}
		return value.BoolValue(!not), nil
	}}, nil
}

func (s *scope) compileIn(e *syntax.In) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	list := make([]cexpr, len(e.List))
	for i, le := range e.List {
		c, err := s.compile(le)
		if err != nil {
			return cexpr{}, err
		}
		if !comparable(x.typ, c.typ) {
			return cexpr{}, le.ExprPos().Errorf("cannot compare %s with %s", x.typ, c.typ)
		}
		list[i] = c
	}
	not := e.Not
	// x = l1 OR x = l2 … in three-valued logic, x evaluated once and the
	// list up to the first match.
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil {
			return a, err
		}
		null := a.K == value.KindNull
		for _, c := range list {
			b, err := c.fn(v)
			if err != nil {
				return b, err
			}
			if b.K == value.KindNull || a.K == value.KindNull {
				null = true
				continue
			}
			if compareValues(a, b) == 0 {
				return value.BoolValue(!not), nil
			}
		}
		if null {
			return value.Value{}, nil
		}
		return value.BoolValue(not), nil
	}}, nil
}
