package engine

import (
	"time"

	"github.com/lakekit/lakekit/internal/javatime"
	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The date and time functions of the KDA SQL reference. TIMESTAMPs are UTC
// milliseconds; format strings are Java patterns (internal/javatime).

// compileTimeCall compiles the time functions; ok is false for another name.
func (s *scope) compileTimeCall(e *syntax.Call, args []cexpr) (c cexpr, ok bool, err error) {
	switch e.Name {
	case "TO_TIMESTAMP":
		// TO_TIMESTAMP(ms): Unix milliseconds to a TIMESTAMP.
		if err := argKinds(e, args, 1, value.KindInt); err != nil {
			return c, true, err
		}
		return strictCall(value.KindTime, args, func(a []value.Value) (value.Value, error) {
			return value.Value{K: value.KindTime, I: intArg(a[0])}, nil
		}), true, nil
	case "UNIX_TIMESTAMP":
		// UNIX_TIMESTAMP(ts): a TIMESTAMP to Unix milliseconds.
		if err := argKinds(e, args, 1, value.KindTime); err != nil {
			return c, true, err
		}
		return strictCall(value.KindInt, args, func(a []value.Value) (value.Value, error) { return value.IntValue(a[0].I), nil }), true, nil
	case "TSDIFF":
		// TSDIFF(a, b): a - b in milliseconds, of TIMESTAMPs or of Unix
		// milliseconds.
		if len(args) != 2 {
			return c, true, e.P.Errorf("TSDIFF takes 2 arguments, got %d", len(args))
		}
		for i, a := range args {
			if a.typ != value.KindTime && a.typ != value.KindInt && a.typ != value.KindNull {
				return c, true, e.Args[i].ExprPos().Errorf("argument %d of TSDIFF must be TIMESTAMP or BIGINT, got %s", i+1, a.typ)
			}
		}
		return strictCall(value.KindInt, args, func(a []value.Value) (value.Value, error) {
			d := a[0].I - a[1].I
			if (d > a[0].I) != (a[1].I < 0) {
				return value.Value{}, &EvalError{"TSDIFF overflow"}
			}
			return value.IntValue(d), nil
		}), true, nil
	case "CURRENT_ROW_TIMESTAMP":
		// The time the row is processed: the engine's clock (a replay's
		// record arrival), not ROWTIME.
		if len(args) != 0 {
			return c, true, e.P.Errorf("CURRENT_ROW_TIMESTAMP takes no arguments")
		}
		now := s.now
		return cexpr{typ: value.KindTime, fn: func(*env) (value.Value, error) {
			return value.Value{K: value.KindTime, I: now().UnixMilli()}, nil
		}}, true, nil
	case "CHAR_TO_TIMESTAMP", "CHAR_TO_DATE", "CHAR_TO_TIME":
		c, err := compileCharTo(e, args, charToKinds[e.Name])
		return c, true, err
	case "TIMESTAMP_TO_CHAR", "DATE_TO_CHAR", "TIME_TO_CHAR":
		c, err := compileToChar(e, args, toCharKinds[e.Name])
		return c, true, err
	}
	return c, false, nil
}

var (
	charToKinds = map[string]value.Kind{"CHAR_TO_TIMESTAMP": value.KindTime, "CHAR_TO_DATE": value.KindDate, "CHAR_TO_TIME": value.KindTimeOfDay}
	toCharKinds = map[string]value.Kind{"TIMESTAMP_TO_CHAR": value.KindTime, "DATE_TO_CHAR": value.KindDate, "TIME_TO_CHAR": value.KindTimeOfDay}
)

// compileCharTo compiles CHAR_TO_TIMESTAMP(format, s), CHAR_TO_DATE and
// CHAR_TO_TIME (kind the result's): fields the format leaves out default
// to 1970-01-01 00:00:00; CHAR_TO_DATE drops the time of day and
// CHAR_TO_TIME the date. A string that does not match is an error naming
// the function, the string and the format.
func compileCharTo(e *syntax.Call, args []cexpr, kind value.Kind) (cexpr, error) {
	if err := argKinds(e, args, 2, value.KindString, value.KindString); err != nil {
		return cexpr{}, err
	}
	var last struct {
		format string
		l      *javatime.Layout
	}
	layout := func(f string) (*javatime.Layout, error) {
		if last.l != nil && last.format == f {
			return last.l, nil
		}
		l, err := javatime.CompileLayout(f)
		if err != nil {
			return nil, &EvalError{err.Error()}
		}
		last.format, last.l = f, l
		return l, nil
	}
	if lit := args[0].lit; lit != nil && lit.K == value.KindString {
		if _, err := layout(lit.S); err != nil {
			return cexpr{}, e.Args[0].ExprPos().Errorf("%s: %s", e.Name, err.Error())
		}
	}
	name := e.Name
	return strictCall(kind, args, func(a []value.Value) (value.Value, error) {
		l, err := layout(a[0].S)
		if err != nil {
			return value.Value{}, err
		}
		civ, ok := l.Parse([]byte(a[1].S))
		if !ok {
			return value.Value{}, &EvalError{name + ": " + value.StringValue(a[1].S).SQL() + " does not match " + value.StringValue(a[0].S).SQL()}
		}
		ms := floorDiv(civ.Micros(), 1000)
		switch kind {
		case value.KindDate:
			return checkDate(value.Value{K: kind, I: civ.Days()})
		case value.KindTimeOfDay:
			ms -= civ.Days() * value.DayMillis
		}
		return value.Value{K: kind, I: ms}, nil
	}), nil
}

// compileToChar compiles TIMESTAMP_TO_CHAR(format, ts), DATE_TO_CHAR and
// TIME_TO_CHAR (kind the argument's), formatting in UTC (a DATE at
// midnight, a TIME on 1970-01-01); a NULL timestamp gives the string
// 'null', as the reference says of TIMESTAMP_TO_CHAR (the others give
// NULL). Week-based letters use WeekFieldsUS, as TIMESTAMP_TO_CHAR does.
func compileToChar(e *syntax.Call, args []cexpr, kind value.Kind) (cexpr, error) {
	if err := argKinds(e, args, 2, value.KindString, kind); err != nil {
		return cexpr{}, err
	}
	var last struct {
		format string
		p      *javatime.Pattern
	}
	pattern := func(f string) (*javatime.Pattern, error) {
		if last.p != nil && last.format == f {
			return last.p, nil
		}
		p, err := javatime.Compile(f)
		if err != nil {
			return nil, &EvalError{err.Error()}
		}
		last.format, last.p = f, p
		return p, nil
	}
	if lit := args[0].lit; lit != nil && lit.K == value.KindString {
		if _, err := pattern(lit.S); err != nil {
			return cexpr{}, e.Args[0].ExprPos().Errorf("%s: %s", e.Name, err.Error())
		}
	}
	f, ts := args[0], args[1]
	return cexpr{typ: value.KindString, fn: func(v *env) (value.Value, error) {
		fv, err := f.fn(v)
		if err != nil || fv.K == value.KindNull {
			return value.Value{}, err
		}
		t, err := ts.fn(v)
		if err != nil {
			return value.Value{}, err
		}
		if t.K == value.KindNull {
			if kind != value.KindTime {
				return t, nil
			}
			return value.StringValue("null"), nil
		}
		p, err := pattern(fv.S)
		if err != nil {
			return value.Value{}, err
		}
		ms := t.I
		if kind == value.KindDate {
			ms *= value.DayMillis
		}
		return value.StringValue(string(p.Append(nil, time.UnixMilli(ms).UTC(), javatime.WeekFieldsUS))), nil
	}}, nil
}
