package engine

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

func (s *scope) compileCall(e *syntax.Call) (cexpr, error) {
	if err := unsupportedCallForm(e); err != nil {
		return cexpr{}, err
	}
	if e.Over != nil || e.OverName != "" {
		return s.compileOver(e)
	}
	if !aggNames[e.Name] && slideFunctions[e.Name] {
		return cexpr{}, e.P.Errorf("%s needs OVER (a sliding window)", e.Name)
	}
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
	case "SIMILAR TO":
		return compileSimilar(e, args)
	case "SUBSTRING":
		return compileSubstring(e, args)
	case "SUBSTRING SIMILAR":
		return compileSubstringSimilar(e, args)
	case "OVERLAY":
		return compileOverlay(e, args)
	case "POSITION":
		return compilePosition(e, args)
	case "TRIM":
		return compileTrim(e, args)
	case "INITCAP":
		return compileInitcap(e, args)
	case "REGEX_REPLACE":
		return compileRegexReplace(e, args)
	}
	if c, ok, err := s.compileMoreCall(e, args); ok {
		return c, err
	}
	if syntax.RowFunctions[e.Name] {
		return cexpr{}, e.P.Errorf("%s returns a row: select its columns, as in %s(…).COLUMN1", e.Name, e.Name)
	}
	if c, ok, err := s.compileTimeCall(e, args); ok {
		return c, err
	}
	if syntax.IsUnsupportedFunction(e.Name) {
		return cexpr{}, e.P.Unsupported(e.Name)
	}
	return s.compileUDF(e, args) // udf.go: a user-defined function, or unknown
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
	spec := aggSpec{name: e.Name, typ: value.KindInt, distinct: e.Distinct}
	var qual value.Qualifier // MIN and MAX of an interval keep its qualifier
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
		case "SUM", "AVG", "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP":
			if x.typ != value.KindInt && x.typ != value.KindFloat {
				return cexpr{}, e.P.Errorf("%s needs a number, got %s", e.Name, x.typ)
			}
			spec.typ = x.typ
			if e.Name != "SUM" {
				spec.typ = value.KindFloat
			}
		case "ANY", "EVERY":
			if x.typ != value.KindBool && x.typ != value.KindNull {
				return cexpr{}, e.P.Errorf("%s needs a BOOLEAN, got %s", e.Name, x.typ)
			}
			spec.typ = value.KindBool
		default:
			spec.typ, qual = x.typ, x.qual
		}
	}
	k := len(*s.aggs)
	*s.aggs = append(*s.aggs, spec)
	return cexpr{typ: spec.typ, qual: qual, fn: func(v *env) (value.Value, error) { return v.aggs[k], nil }}, nil
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
	if !castable(x.typ, t.Kind) {
		return cexpr{}, e.P.Errorf("CAST from %s to %s is not a conversion the KDA reference allows", x.typ, t)
	}
	from, clock := x.qual, s.queryClock()
	today := func() int64 { return floorDiv(clock(), value.DayMillis) }
	var qual value.Qualifier
	if isInterval(t.Kind) {
		qual = t.Qualifier()
	}
	return cexpr{typ: t.Kind, qual: qual, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil {
			return a, err
		}
		return castFrom(a, from, t, today)
	}}, nil
}

// castable reports whether the KDA reference's CAST table lists a value
// of kind from to type kind to: numbers to numbers and strings; strings
// to anything but a year-month interval and BINARY; DATE to TIMESTAMP,
// TIME to TIMESTAMP, TIMESTAMP to DATE and TIME; a day-time interval to
// BIGINT and DECIMAL; every kind to itself and (but a year-month interval
// and BINARY) to strings.
func castable(from, to value.Kind) bool {
	switch from {
	case value.KindNull:
		return true
	case value.KindString:
		return to != value.KindMonths && to != value.KindBinary
	case value.KindInt, value.KindFloat:
		return to == value.KindInt || to == value.KindFloat || to == value.KindString
	case value.KindDate, value.KindTimeOfDay:
		return to == from || to == value.KindString || to == value.KindTime
	case value.KindTime:
		return to == from || to == value.KindString || to == value.KindDate || to == value.KindTimeOfDay
	case value.KindInterval:
		return to == from || to == value.KindString || to == value.KindInt || to == value.KindFloat
	case value.KindMonths, value.KindBinary:
		return to == from
	}
	return to == from || to == value.KindString
}

// castValue converts v to t as CAST does.
func castValue(v value.Value, t value.Type) (value.Value, error) {
	return castFrom(v, value.Qualifier{}, t, nil)
}

// castFrom converts v, an interval of qualifier from, to t as CAST does;
// today gives the date of a TIME cast to TIMESTAMP.
func castFrom(v value.Value, from value.Qualifier, t value.Type, today func() int64) (value.Value, error) {
	if v.K == value.KindNull {
		return v, nil
	}
	if r, ok, err := castTemporal(v, from, t, today); ok {
		return r, err
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
	case value.KindBinary: // from BINARY or VARBINARY, cut to the length
		if len(v.S) > t.Len {
			v.S = v.S[:t.Len]
		}
		return v, nil
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
	case value.KindBool:
		s = "FALSE"
		if v.I != 0 {
			s = "TRUE"
		}
	case value.KindFloat:
		s = javaDouble(v.F)
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

// javaDouble formats f as Java's Double.toString does: the shortest digits
// that read back as f, in plain notation from 10^-3 to 10^7 (with at least
// one decimal: 100.0) and as d.dddE±n outside it.
func javaDouble(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.5E+20
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
