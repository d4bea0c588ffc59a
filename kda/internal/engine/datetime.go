package engine

import (
	"math"
	"strconv"
	"time"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// DATE, TIME and INTERVAL arithmetic, as the reference's "Date,
// Timestamp, and Interval Operators" page lists it: datetime ± interval,
// interval ± interval, interval * or / a number, (datetime - datetime)
// qualifier. Values are in value.Value.I (see value/datetime.go).

// isInterval reports whether k is an INTERVAL kind.
func isInterval(k value.Kind) bool { return k == value.KindInterval || k == value.KindMonths }

// isDatetime reports whether k is TIMESTAMP, DATE or TIME.
func isDatetime(k value.Kind) bool {
	return k == value.KindTime || k == value.KindDate || k == value.KindTimeOfDay
}

// temporal reports whether the arithmetic of l and r is datetime or
// interval arithmetic.
func temporal(l, r value.Kind) bool {
	return isInterval(l) || isInterval(r) || isDatetime(l) || isDatetime(r)
}

var errIntervalOverflow = &EvalError{"interval overflow"}

// compileTemporalArith compiles + - * / with a datetime or an interval
// operand.
func compileTemporalArith(e *syntax.Binary, l, r cexpr) (cexpr, error) {
	op := e.Op[0]
	lt, rt := l.typ, r.typ
	bad := func() (cexpr, error) {
		return cexpr{}, e.P.Errorf("%s of %s and %s is not datetime arithmetic the KDA reference allows", e.Op, lt, rt)
	}
	switch {
	case (op == '+' || op == '-') && isInterval(lt) && lt == rt:
		q := l.qual.Union(r.qual)
		return cexpr{typ: lt, qual: q, fn: strict(l, r, func(a, b value.Value) (value.Value, error) {
			y := b.I
			if op == '-' {
				if y == math.MinInt64 {
					return a, errIntervalOverflow
				}
				y = -y
			}
			z := a.I + y
			if (z > a.I) != (y > 0) {
				return a, errIntervalOverflow
			}
			return value.Value{K: lt, I: z}, nil
		})}, nil
	case (op == '+' || op == '-') && isDatetime(lt) && isInterval(rt), op == '+' && isInterval(lt) && isDatetime(rt):
		dt, iv := l, r
		if isInterval(lt) {
			dt, iv = r, l
		}
		if dt.typ == value.KindTimeOfDay && iv.typ == value.KindMonths {
			return bad()
		}
		neg := op == '-'
		k := dt.typ
		return cexpr{typ: k, fn: strict(dt, iv, func(a, b value.Value) (value.Value, error) {
			return addInterval(a, b, neg)
		})}, nil
	case op == '-' && isDatetime(lt) && lt == rt:
		return cexpr{}, e.P.Errorf("%s - %s needs an interval qualifier: (a - b) DAY TO SECOND", lt, rt)
	case (op == '*' || op == '/') && isInterval(lt) && numeric(rt) && rt != value.KindNull, op == '*' && numeric(lt) && lt != value.KindNull && isInterval(rt):
		iv, n := l, r
		if !isInterval(lt) {
			iv, n = r, l
		}
		k := iv.typ
		return cexpr{typ: k, qual: iv.qual, fn: strict(iv, n, func(a, b value.Value) (value.Value, error) {
			return scaleInterval(a, b, op)
		})}, nil
	}
	return bad()
}

// addInterval adds (or with neg subtracts) the interval b to the datetime
// a. Months keep the day of the month, clamped to the month's last day
// (2026-01-31 + 1 month is 2026-02-28); a DATE plus a day-time interval
// is the date of the sum; TIME wraps around midnight.
func addInterval(a, b value.Value, neg bool) (value.Value, error) {
	n := b.I
	if neg {
		if n == math.MinInt64 {
			return a, errIntervalOverflow
		}
		n = -n
	}
	if b.K == value.KindMonths {
		var t time.Time
		if a.K == value.KindDate {
			t = a.Date()
		} else {
			t = a.Time()
		}
		if n > 12*20000 || n < -12*20000 {
			return a, &EvalError{a.K.String() + " out of range"}
		}
		y, m, d := t.Date()
		tm := int(m) - 1 + int(n)
		y += floorDivInt(tm, 12)
		tm -= floorDivInt(tm, 12) * 12
		if last := time.Date(y, time.Month(tm+2), 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
			d = last
		}
		r := time.Date(y, time.Month(tm+1), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		if a.K == value.KindDate {
			return checkDate(value.DateValue(r))
		}
		return value.TimeValue(r), nil
	}
	switch a.K {
	case value.KindTimeOfDay:
		return value.Value{K: a.K, I: ((a.I+n%value.DayMillis)%value.DayMillis + value.DayMillis) % value.DayMillis}, nil
	case value.KindDate:
		ms, ok := mulAdd(a.I, value.DayMillis, n)
		if !ok {
			return a, &EvalError{"DATE out of range"}
		}
		return checkDate(value.Value{K: value.KindDate, I: floorDiv(ms, value.DayMillis)})
	}
	z := a.I + n
	if (z > a.I) != (n > 0) {
		return a, &EvalError{"TIMESTAMP overflow"}
	}
	return value.Value{K: a.K, I: z}, nil
}

// mulAdd returns x*m + y, false on overflow.
func mulAdd(x, m, y int64) (int64, bool) {
	if x > math.MaxInt64/m || x < math.MinInt64/m {
		return 0, false
	}
	p := x * m
	z := p + y
	return z, (z > p) == (y > 0) || y == 0
}

func floorDivInt(a, b int) int { return int(floorDiv(int64(a), int64(b))) }

// checkDate refuses a DATE outside the years 0001 to 9999.
func checkDate(v value.Value) (value.Value, error) {
	if v.I < value.MinDate || v.I > value.MaxDate {
		return v, &EvalError{"DATE out of range"}
	}
	return v, nil
}

// scaleInterval multiplies or divides the interval a by the number b,
// truncating toward zero.
func scaleInterval(a, b value.Value, op byte) (value.Value, error) {
	if b.K == value.KindInt {
		r, err := arith(op, value.IntValue(a.I), b)
		if err != nil {
			if err.Error() == "BIGINT overflow" {
				err = errIntervalOverflow
			}
			return a, err
		}
		return value.Value{K: a.K, I: r.I}, nil
	}
	f := float64(a.I)
	if op == '*' {
		f *= b.F
	} else {
		if b.F == 0 {
			return a, &EvalError{"division by zero"}
		}
		f /= b.F
	}
	f = math.Trunc(f)
	if math.IsNaN(f) || f >= 1<<63 || f < -1<<63 {
		return a, errIntervalOverflow
	}
	return value.Value{K: a.K, I: int64(f)}, nil
}

// compileDiff compiles (a - b) qualifier: two TIMESTAMPs, DATEs or TIMEs
// as a day-time interval truncated to the qualifier's last field, or as
// whole months for a year-month qualifier.
func compileDiff(e *syntax.Binary, l, r cexpr) (cexpr, error) {
	q := e.Qual
	k := l.typ
	if k == value.KindNull {
		k = r.typ
	}
	if !isDatetime(k) || l.typ != r.typ && l.typ != value.KindNull && r.typ != value.KindNull {
		return cexpr{}, e.P.Errorf("(a - b) %s needs two TIMESTAMPs, DATEs or TIMEs, got %s and %s", q, l.typ, r.typ)
	}
	if q.Kind() == value.KindMonths && k == value.KindTimeOfDay {
		return cexpr{}, e.P.Errorf("(a - b) %s of TIMEs: a TIME has no months", q)
	}
	return cexpr{typ: q.Kind(), qual: q, fn: strict(l, r, func(a, b value.Value) (value.Value, error) {
		if q.Kind() == value.KindMonths {
			return value.Value{K: value.KindMonths, I: monthsBetween(a, b)}, nil
		}
		x, y := a.I, b.I
		if a.K == value.KindDate {
			x, y = x*value.DayMillis, y*value.DayMillis
		}
		d := x - y
		if (d > x) != (y < 0) {
			return a, errIntervalOverflow
		}
		return value.Value{K: value.KindInterval, I: truncateTo(d, q.To)}, nil
	})}, nil
}

// truncateTo truncates the milliseconds ms toward zero to whole units u
// (SECOND keeps the milliseconds).
func truncateTo(ms int64, u value.Unit) int64 {
	if u == value.UnitSecond {
		return ms
	}
	return ms / unitLength(u) * unitLength(u)
}

// monthsBetween is the whole months from b to a, toward zero.
func monthsBetween(a, b value.Value) int64 {
	ta, tb := a.Time(), b.Time()
	if a.K == value.KindDate {
		ta, tb = a.Date(), b.Date()
	}
	m := int64(ta.Year()-tb.Year())*12 + int64(ta.Month()-tb.Month())
	// The rest of a - b, the day and time of the month, has the sign of m
	// unless the last month is not complete.
	rest := ta.AddDate(0, -int(m), 0)
	switch {
	case m > 0 && rest.Before(tb):
		m--
	case m < 0 && rest.After(tb):
		m++
	}
	return m
}

// compileExtractTemporal compiles EXTRACT(field FROM x) of a DATE, TIME or
// INTERVAL: BIGINT, or for SECOND a DOUBLE with the milliseconds. An
// interval's fields are those of its text (EXTRACT(HOUR FROM INTERVAL
// '2 3:4:5' DAY TO SECOND) is 3), negative for a negative interval.
func compileExtractTemporal(e *syntax.Call, field string, x cexpr) (cexpr, error) {
	u := value.UnitByName(field)
	switch {
	case x.typ == value.KindDate && u > value.UnitDay,
		x.typ == value.KindTimeOfDay && u < value.UnitHour,
		x.typ == value.KindMonths && u > value.UnitMonth,
		x.typ == value.KindInterval && u < value.UnitDay:
		return cexpr{}, e.P.Errorf("EXTRACT(%s FROM %s): a %s has no %s", field, x.typ, x.typ, field)
	}
	typ := value.KindInt
	if u == value.UnitSecond {
		typ = value.KindFloat
	}
	k := x.typ
	return strictCall(typ, []cexpr{x}, func(a []value.Value) (value.Value, error) {
		n := a[0].I
		switch k {
		case value.KindDate:
			y, m, d := a[0].Date().Date()
			return value.IntValue(int64([]int{0, y, int(m), d}[u])), nil
		case value.KindMonths:
			if u == value.UnitYear {
				return value.IntValue(n / 12), nil
			}
			return value.IntValue(n % 12), nil
		}
		// A TIME or a day-time interval, in milliseconds.
		switch u {
		case value.UnitDay:
			return value.IntValue(n / value.DayMillis), nil
		case value.UnitHour:
			return value.IntValue(n % value.DayMillis / 3_600_000), nil
		case value.UnitMinute:
			return value.IntValue(n % 3_600_000 / 60_000), nil
		}
		return value.FloatValue(float64(n%60_000) / 1000), nil
	}), nil
}

// castTemporal converts the non-NULL v (whose interval qualifier, if it
// is one, is from) to t when v or t is a DATE, TIME or INTERVAL, or t a
// TIMESTAMP; ok is false for the other pairs. today is the date a TIME
// takes in a TIMESTAMP (CURRENT_DATE).
func castTemporal(v value.Value, from value.Qualifier, t value.Type, today func() int64) (r value.Value, ok bool, err error) {
	bad := &EvalError{"cannot cast " + v.SQL() + " to " + t.String()}
	switch t.Kind {
	case value.KindString:
		s, ok := temporalText(v, from)
		if !ok {
			return v, false, nil
		}
		// Unlike other strings, a datetime's text is not cut: the
		// reference selects no row for CAST(DATE '2008-08-23' AS
		// VARCHAR(9)).
		if len(s) > t.Len {
			return v, true, &EvalError{"CAST of " + v.SQL() + " needs " + strconv.Itoa(len(s)) + " characters, more than " + t.String()}
		}
		return value.StringValue(s), true, nil
	case value.KindDate:
		switch v.K {
		case value.KindDate:
			return v, true, nil
		case value.KindTime:
			return value.Value{K: value.KindDate, I: floorDiv(v.I, value.DayMillis)}, true, nil
		case value.KindString:
			if d, ok := value.ParseDate(v.S); ok {
				return value.Value{K: value.KindDate, I: d}, true, nil
			}
			if ms, ok := parseTimestamp(v.S); ok {
				return value.Value{K: value.KindDate, I: floorDiv(ms, value.DayMillis)}, true, nil
			}
			return v, true, bad
		}
	case value.KindTimeOfDay:
		switch v.K {
		case value.KindTimeOfDay:
			return v, true, nil
		case value.KindTime:
			return value.Value{K: value.KindTimeOfDay, I: v.I - floorDiv(v.I, value.DayMillis)*value.DayMillis}, true, nil
		case value.KindString:
			if ms, ok := value.ParseTimeOfDay(v.S); ok {
				return value.Value{K: value.KindTimeOfDay, I: ms}, true, nil
			}
			return v, true, bad
		}
	case value.KindTime:
		switch v.K {
		case value.KindDate:
			return value.Value{K: value.KindTime, I: v.I * value.DayMillis}, true, nil
		case value.KindTimeOfDay:
			return value.Value{K: value.KindTime, I: today()*value.DayMillis + v.I}, true, nil
		}
	case value.KindInterval, value.KindMonths:
		switch v.K {
		case t.Kind:
			if t.Kind == value.KindInterval {
				v.I = truncateTo(v.I, t.Qualifier().To)
			}
			return v, true, nil
		case value.KindString:
			if n, ok := value.ParseInterval(v.S, t.Qualifier()); ok {
				return value.Value{K: t.Kind, I: n}, true, nil
			}
			return v, true, bad
		}
	case value.KindInt, value.KindFloat:
		if v.K == value.KindInterval {
			r, err := intervalNumber(v, from, t)
			return r, true, err
		}
	}
	return v, false, nil
}

// intervalNumber is the day-time interval v (of qualifier from) in units
// of its last field, as a number of type t: INTERVAL '3 4' DAY TO HOUR is
// 76 (hours).
func intervalNumber(v value.Value, from value.Qualifier, t value.Type) (value.Value, error) {
	per := unitLength(from.Resolve(v.K).To)
	if t.Kind == value.KindFloat {
		return value.FloatValue(float64(v.I) / float64(per)), nil
	}
	n := v.I / per
	if t.Bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
		return v, &EvalError{strconv.FormatInt(n, 10) + " is out of range for INTEGER"}
	}
	return value.IntValue(n), nil
}

// unitLength is a day-time unit in milliseconds.
func unitLength(u value.Unit) int64 {
	switch u {
	case value.UnitDay:
		return value.DayMillis
	case value.UnitHour:
		return 3_600_000
	case value.UnitMinute:
		return 60_000
	}
	return 1000
}

// temporalText is the text of a DATE, TIME or interval in a VARCHAR.
func temporalText(v value.Value, from value.Qualifier) (string, bool) {
	switch v.K {
	case value.KindDate:
		return v.Date().Format(value.DateLayout), true
	case value.KindTimeOfDay:
		return time.UnixMilli(v.I).UTC().Format(value.TimeLayout), true
	case value.KindInterval, value.KindMonths:
		return string(value.AppendInterval(nil, v, from)), true
	}
	return "", false
}
