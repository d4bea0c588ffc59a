package engine

import (
	"math"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The predicates IS [NOT] TRUE/FALSE, IS [NOT] DISTINCT FROM and LIKE …
// ESCAPE, the functions NULLIF, MOD, POWER, EXP, LN, LOG10, EXTRACT,
// CURRENT_TIMESTAMP, LOCALTIMESTAMP, CURRENT_DATE, CURRENT_TIME and
// LOCALTIME, and the aggregates STDDEV_POP,
// STDDEV_SAMP, VAR_POP and VAR_SAMP of tumbling and stagger windows.

// compileMoreCall compiles the calls above; ok is false for another name.
func (s *scope) compileMoreCall(e *syntax.Call, args []cexpr) (c cexpr, ok bool, err error) {
	switch e.Name {
	case "IS TRUE", "IS FALSE":
		c, err = compileIsTruth(e, args)
	case "IS DISTINCT FROM":
		c, err = compileIsDistinct(e, args)
	case "LIKE ESCAPE":
		c, err = compileLikeEscape(e, args)
	case "NULLIF":
		c, err = compileNullif(e, args)
	case "MOD":
		c, err = compileMod(e, args)
	case "POWER", "EXP", "LN", "LOG10":
		c, err = compileMath(e, args)
	case "EXTRACT":
		c, err = compileExtract(e, args)
	case "CURRENT_TIMESTAMP", "LOCALTIMESTAMP", "CURRENT_DATE", "CURRENT_TIME", "LOCALTIME":
		c, err = s.compileQueryTime(e, args)
	case "MONOTONIC":
		c, err = compileMonotonic(e, args)
	default:
		return c, false, nil
	}
	return c, true, err
}

// compileIsTruth compiles x IS TRUE / IS FALSE: never NULL.
func compileIsTruth(e *syntax.Call, args []cexpr) (cexpr, error) {
	x := args[0]
	if x.typ != value.KindBool && x.typ != value.KindNull {
		return cexpr{}, e.P.Errorf("%s needs a BOOLEAN, got %s", e.Name, x.typ)
	}
	want := int64(0)
	if e.Name == "IS TRUE" {
		want = 1
	}
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		return value.BoolValue(a.K == value.KindBool && a.I == want), err
	}}, nil
}

// compileIsDistinct compiles a IS DISTINCT FROM b: a <> b with NULL equal
// to NULL and unequal to anything else; never NULL.
func compileIsDistinct(e *syntax.Call, args []cexpr) (cexpr, error) {
	l, r := args[0], args[1]
	if !comparable(l.typ, r.typ) {
		return cexpr{}, e.P.Errorf("cannot compare %s with %s", l.typ, r.typ)
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
			return value.BoolValue(a.K != b.K), nil
		}
		return value.BoolValue(compareValues(a, b) != 0), nil
	}}, nil
}

// compileLikeEscape compiles x LIKE 'pattern' ESCAPE 'c': c before %, _ or
// itself makes it literal.
func compileLikeEscape(e *syntax.Call, args []cexpr) (cexpr, error) {
	x := args[0]
	if x.typ != value.KindString && x.typ != value.KindNull {
		return cexpr{}, e.P.Errorf("LIKE needs a VARCHAR, got %s", x.typ)
	}
	pat, esc := args[1].lit.S, args[2].lit.S
	if utf8.RuneCountInString(esc) != 1 {
		return cexpr{}, e.Args[2].ExprPos().Errorf("the LIKE escape must be one character, got '%s'", esc)
	}
	escRune, _ := utf8.DecodeRuneInString(esc)
	var re strings.Builder
	re.WriteString(`^(?s:`)
	for rs := []rune(pat); len(rs) > 0; rs = rs[1:] {
		switch c := rs[0]; {
		case c == escRune:
			if len(rs) == 1 || rs[1] != '%' && rs[1] != '_' && rs[1] != escRune {
				return cexpr{}, e.Args[1].ExprPos().Errorf("in LIKE '%s' ESCAPE '%s', the escape must come before %%, _ or itself", pat, esc)
			}
			re.WriteString(regexp.QuoteMeta(string(rs[1])))
			rs = rs[1:]
		case c == '%':
			re.WriteString(`.*`)
		case c == '_':
			re.WriteString(`.`)
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString(`)$`)
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return cexpr{}, e.Args[1].ExprPos().Errorf("LIKE pattern: %v", err)
	}
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil || a.K == value.KindNull {
			return value.Value{}, err
		}
		return value.BoolValue(rx.MatchString(a.S)), nil
	}}, nil
}

// compileNullif compiles NULLIF(a, b): NULL when a = b, else a.
func compileNullif(e *syntax.Call, args []cexpr) (cexpr, error) {
	if len(args) != 2 {
		return cexpr{}, e.P.Errorf("NULLIF takes 2 arguments, got %d", len(args))
	}
	l, r := args[0], args[1]
	if !comparable(l.typ, r.typ) {
		return cexpr{}, e.P.Errorf("cannot compare %s with %s", l.typ, r.typ)
	}
	return cexpr{typ: l.typ, fn: func(v *env) (value.Value, error) {
		a, err := l.fn(v)
		if err != nil || a.K == value.KindNull {
			return a, err
		}
		b, err := r.fn(v)
		if err != nil {
			return b, err
		}
		if b.K != value.KindNull && compareValues(a, b) == 0 {
			return value.Value{}, nil
		}
		return a, nil
	}}, nil
}

// compileMod compiles MOD(a, b): the remainder of a / b, with a's sign;
// BIGINT for integers, else DOUBLE.
func compileMod(e *syntax.Call, args []cexpr) (cexpr, error) {
	if err := argKinds(e, args, 2, value.KindInt, value.KindInt); err != nil {
		return cexpr{}, err
	}
	return compileArith(&syntax.Binary{P: e.P, Op: "%"}, args[0], args[1])
}

// compileMath compiles POWER(x, y), EXP(x), LN(x) and LOG10(x), as DOUBLE.
func compileMath(e *syntax.Call, args []cexpr) (cexpr, error) {
	kinds := []value.Kind{value.KindFloat}
	if e.Name == "POWER" {
		kinds = append(kinds, value.KindFloat)
	}
	for i, a := range args {
		if i < len(kinds) && !numeric(a.typ) {
			return cexpr{}, e.Args[i].ExprPos().Errorf("argument %d of %s must be a number, got %s", i+1, e.Name, a.typ)
		}
	}
	if len(args) != len(kinds) {
		return cexpr{}, e.P.Errorf("%s takes %d argument(s), got %d", e.Name, len(kinds), len(args))
	}
	name := e.Name
	return strictCall(value.KindFloat, args, func(a []value.Value) (value.Value, error) {
		x := a[0].Float()
		var r float64
		switch name {
		case "POWER":
			r = math.Pow(x, a[1].Float())
		case "EXP":
			r = math.Exp(x)
		default:
			if x <= 0 {
				return value.Value{}, &EvalError{name + " of a number not above 0"}
			}
			if r = math.Log(x); name == "LOG10" {
				r = math.Log10(x)
			}
		}
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return value.Value{}, &EvalError{name + " is not a finite number"}
		}
		return value.FloatValue(r), nil
	}), nil
}

// compileExtract compiles EXTRACT(field FROM ts) (as EXTRACT('field',
// ts)): BIGINT, or DOUBLE with the milliseconds for SECOND (the
// reference's DECIMAL(5,3)); UTC.
func compileExtract(e *syntax.Call, args []cexpr) (cexpr, error) {
	field := args[0].lit.S
	if k := args[1].typ; k == value.KindDate || k == value.KindTimeOfDay || isInterval(k) {
		return compileExtractTemporal(e, field, args[1])
	}
	if args[1].typ != value.KindTime && args[1].typ != value.KindNull {
		return cexpr{}, e.Args[1].ExprPos().Errorf("EXTRACT needs a TIMESTAMP, DATE, TIME or INTERVAL, got %s", args[1].typ)
	}
	typ := value.KindInt
	if field == "SECOND" {
		typ = value.KindFloat
	}
	return strictCall(typ, args[1:], func(a []value.Value) (value.Value, error) {
		t := time.UnixMilli(a[0].I).UTC()
		var n int
		switch field {
		case "YEAR":
			n = t.Year()
		case "MONTH":
			n = int(t.Month())
		case "DAY":
			n = t.Day()
		case "HOUR":
			n = t.Hour()
		case "MINUTE":
			n = t.Minute()
		default:
			return value.FloatValue(float64(t.Second()) + float64(t.Nanosecond()/1e6)/1000), nil
		}
		return value.IntValue(int64(n)), nil
	}), nil
}

// compileQueryTime compiles CURRENT_TIMESTAMP, LOCALTIMESTAMP,
// CURRENT_DATE, CURRENT_TIME and LOCALTIME (UTC, as all of KDA's times):
// the time the query first runs, here the engine's clock when the
// expression is first evaluated (a replay's first record arrival), then
// the same for every row. A restored engine starts again.
func (s *scope) compileQueryTime(e *syntax.Call, args []cexpr) (cexpr, error) {
	if len(args) != 0 {
		return cexpr{}, e.P.Errorf("%s takes no arguments", e.Name)
	}
	clock := s.queryClock()
	switch e.Name {
	case "CURRENT_DATE":
		return cexpr{typ: value.KindDate, fn: func(*env) (value.Value, error) {
			return value.Value{K: value.KindDate, I: floorDiv(clock(), value.DayMillis)}, nil
		}}, nil
	case "CURRENT_TIME", "LOCALTIME":
		return cexpr{typ: value.KindTimeOfDay, fn: func(*env) (value.Value, error) {
			ms := clock()
			return value.Value{K: value.KindTimeOfDay, I: ms - floorDiv(ms, value.DayMillis)*value.DayMillis}, nil
		}}, nil
	}
	return cexpr{typ: value.KindTime, fn: func(*env) (value.Value, error) {
		return value.Value{K: value.KindTime, I: clock()}, nil
	}}, nil
}

// queryClock returns the query's time in Unix milliseconds: the engine's
// clock when first asked, then the same.
func (s *scope) queryClock() func() int64 {
	now := s.now
	var first *int64
	return func() int64 {
		if first == nil {
			ms := now().UnixMilli()
			first = &ms
		}
		return *first
	}
}

// varianceAggs are the variance and standard deviation aggregates.
var varianceAggs = map[string]bool{"STDDEV_POP": true, "STDDEV_SAMP": true, "VAR_POP": true, "VAR_SAMP": true}

// welford adds x to the running mean and sum of squared deviations; n
// already counts it.
func (acc *aggAcc) welford(x float64) {
	d := x - acc.mean
	acc.mean += d / float64(acc.n)
	acc.m2 += d * (x - acc.mean)
}

// variance is name's value over the group: NULL without values, or for a
// sample of one.
func (acc *aggAcc) variance(name string) value.Value { return varianceValue(name, acc.n, acc.m2) }

// unsupportedCallForm refuses DISTINCT in a call that is not an
// aggregate.
func unsupportedCallForm(e *syntax.Call) error {
	if e.Distinct && !aggNames[e.Name] {
		return e.P.Errorf("DISTINCT in %s(…): only the aggregates (COUNT, SUM, AVG, MIN, MAX, STDDEV_*, VAR_*, ANY, EVERY) take DISTINCT", e.Name)
	}
	return nil
}
