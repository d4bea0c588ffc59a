package value

import (
	"strconv"
	"strings"
	"time"

	"github.com/lakekit/lakekit/internal/javatime"
)

// DATE, TIME and INTERVAL values, all in Value.I: a DATE is days since
// 1970-01-01, a TIME milliseconds since midnight (0 to 86,399,999), a
// day-time INTERVAL milliseconds and a year-month INTERVAL months. Their
// text forms are the SQL literals' ('2026-01-02', '12:00:00.000',
// '+1 02:03:04.000', '+1-02'); everything is UTC, as in KDA.

// Unit is a field of a date, time or interval.
type Unit uint8

// The fields, coarsest first. UnitNone is the zero Unit.
const (
	UnitNone Unit = iota
	UnitYear
	UnitMonth
	UnitDay
	UnitHour
	UnitMinute
	UnitSecond
)

var unitNames = [...]string{"", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"}

func (u Unit) String() string { return unitNames[u] }

// UnitByName returns the Unit named name ("DAY"), or UnitNone.
func UnitByName(name string) Unit {
	for i, n := range unitNames {
		if i > 0 && n == name {
			return Unit(i)
		}
	}
	return UnitNone
}

// unitMillis is the length of a day-time unit.
var unitMillis = [...]int64{UnitDay: 86_400_000, UnitHour: 3_600_000, UnitMinute: 60_000, UnitSecond: 1000}

// Qualifier is an interval's leading and trailing fields: DAY TO SECOND
// is {UnitDay, UnitSecond}, MINUTE is {UnitMinute, UnitMinute}. The zero
// Qualifier stands for the widest of the interval's kind (DAY TO SECOND,
// YEAR TO MONTH).
type Qualifier struct{ From, To Unit }

// Resolve returns q with the zero Qualifier replaced by the widest one of
// kind k.
func (q Qualifier) Resolve(k Kind) Qualifier {
	if q.From != UnitNone {
		return q
	}
	if k == KindMonths {
		return Qualifier{UnitYear, UnitMonth}
	}
	return Qualifier{UnitDay, UnitSecond}
}

// Kind is the interval kind of q: KindMonths for YEAR and MONTH fields,
// KindInterval for the others.
func (q Qualifier) Kind() Kind {
	if q.From == UnitYear || q.From == UnitMonth {
		return KindMonths
	}
	return KindInterval
}

// Valid reports whether q is a qualifier SQL allows: a single field, or a
// coarser one TO a finer one of the same kind (no YEAR TO DAY).
func (q Qualifier) Valid() bool {
	if q.From == UnitNone || q.To < q.From {
		return false
	}
	return (q.From <= UnitMonth) == (q.To <= UnitMonth)
}

// Union is the qualifier covering both p and q (INTERVAL '1' DAY +
// INTERVAL '3 4' DAY TO HOUR is DAY TO HOUR).
func (q Qualifier) Union(p Qualifier) Qualifier {
	if q.From == UnitNone || p.From == UnitNone {
		return Qualifier{}
	}
	return Qualifier{min(q.From, p.From), max(q.To, p.To)}
}

func (q Qualifier) String() string {
	if q.From == q.To {
		return q.From.String()
	}
	return q.From.String() + " TO " + q.To.String()
}

// Date returns the DATE type; TimeOfDay the TIME type.
var (
	Date      = Type{Kind: KindDate}
	TimeOfDay = Type{Kind: KindTimeOfDay}
)

// DateValue returns the DATE of t's year, month and day.
func DateValue(t time.Time) Value {
	y, m, d := t.Date()
	return Value{K: KindDate, I: javatime.DaysFromCivil(y, int(m), d)}
}

// MinDate and MaxDate bound a DATE: 0001-01-01 and 9999-12-31, the years
// of four digits.
const (
	MinDate = -719162
	MaxDate = 2932896
)

// DayMillis is the length of a day, the bound of a TIME.
const DayMillis = 86_400_000

// Date returns a DATE value as midnight UTC.
func (v Value) Date() time.Time { return time.Unix(v.I*86400, 0).UTC() }

// DateLayout and TimeLayout are how a DATE and a TIME are written in SQL
// literals, JSON and CAST to VARCHAR.
const (
	DateLayout = "2006-01-02"
	TimeLayout = "15:04:05.000"
)

// ParseDate reads yyyy-MM-dd (years 0001 to 9999) as days since
// 1970-01-01.
func ParseDate(s string) (int64, bool) {
	t, err := time.Parse(DateLayout, strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	d := DateValue(t).I
	return d, d >= MinDate && d <= MaxDate
}

var timeLayouts = []string{"15:04:05.999999999", "15:04"}

// ParseTimeOfDay reads HH:mm[:ss[.fff]] as milliseconds since midnight
// (finer digits are truncated).
func ParseTimeOfDay(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			h, m, sec := t.Clock()
			return int64(h)*3_600_000 + int64(m)*60_000 + int64(sec)*1000 + int64(t.Nanosecond()/1e6), true
		}
	}
	return 0, false
}

func appendTimeOfDay(dst []byte, ms int64) []byte {
	return time.UnixMilli(ms).UTC().AppendFormat(dst, TimeLayout)
}

// ParseInterval reads the text of an interval literal with qualifier q
// ('5' MINUTE, '1:30' HOUR TO MINUTE, '2 3:4:5.678' DAY TO SECOND, '3-4'
// YEAR TO MONTH, each optionally signed) as milliseconds, or months for a
// year-month q. Each field has at most 9 digits (which keeps every
// day-time interval within int64 milliseconds); the fields after the
// leading one must be in range (hours below 24, minutes and seconds below
// 60, months below 12).
func ParseInterval(s string, q Qualifier) (int64, bool) {
	if !q.Valid() {
		return 0, false
	}
	s = strings.TrimSpace(s)
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = strings.TrimSpace(s[1:])
	}
	var total int64
	for u := q.From; u <= q.To; u++ {
		if u > q.From {
			sep := byte(':')
			switch u {
			case UnitMonth:
				sep = '-'
			case UnitHour:
				sep = ' '
			}
			if s == "" || s[0] != sep {
				return 0, false
			}
			s = s[1:]
		}
		n := 0
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		if n == 0 || n > 9 {
			return 0, false
		}
		f, _ := strconv.ParseInt(s[:n], 10, 64)
		s = s[n:]
		if u > q.From && (u == UnitMonth && f >= 12 || u == UnitHour && f >= 24 || u >= UnitMinute && f >= 60) {
			return 0, false
		}
		switch u {
		case UnitYear:
			total += f * 12
		case UnitMonth:
			total += f
		default:
			total += f * unitMillis[u]
		}
		if u == UnitSecond && s != "" && s[0] == '.' {
			s = s[1:]
			n := 0
			for n < len(s) && s[n] >= '0' && s[n] <= '9' {
				n++
			}
			if n == 0 {
				return 0, false
			}
			frac := s[:min(n, 3)] + "00"[:3-min(n, 3)]
			ms, _ := strconv.ParseInt(frac, 10, 64)
			total += ms
			s = s[n:]
		}
	}
	if s != "" {
		return 0, false
	}
	if neg {
		total = -total
	}
	return total, true
}

// AppendInterval appends the text of the interval v (KindInterval or
// KindMonths) with qualifier q, as its literal holds it: signed, the
// leading field unpadded, the others two digits, seconds with
// milliseconds ("+4 04" DAY TO HOUR, "-0:30" HOUR TO MINUTE, "+1-02"
// YEAR TO MONTH). Fields finer than q.To are truncated.
func AppendInterval(dst []byte, v Value, q Qualifier) []byte {
	q = q.Resolve(v.K)
	n := v.I
	sign := byte('+')
	if n < 0 {
		sign = '-'
	}
	dst = append(dst, sign)
	abs := uint64(n)
	if n < 0 {
		abs = uint64(-n)
	}
	for u := q.From; u <= q.To; u++ {
		var f uint64
		switch {
		case u == UnitYear:
			f = abs / 12
		case u == UnitMonth && q.From == UnitMonth:
			f = abs
		case u == UnitMonth:
			f = abs % 12
		case u == q.From:
			f = abs / uint64(unitMillis[u])
		default:
			f = abs % uint64(unitMillis[u-1]) / uint64(unitMillis[u])
		}
		if u > q.From {
			switch u {
			case UnitMonth:
				dst = append(dst, '-')
			case UnitHour:
				dst = append(dst, ' ')
			default:
				dst = append(dst, ':')
			}
			if f < 10 {
				dst = append(dst, '0')
			}
		}
		dst = strconv.AppendUint(dst, f, 10)
		if u == UnitSecond {
			ms := abs % 1000
			dst = append(dst, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		}
	}
	return dst
}
