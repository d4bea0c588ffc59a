package javatime

import (
	"strings"
	"time"
)

// A Layout is compiled once per column. Layouts made only of numeric fields
// (yyyy, MM, dd, HH, mm, ss, SSS and separators) are parsed by a small
// allocation-free parser; anything else (month names, AM/PM, zones) goes
// through time.Parse with the equivalent Go layout.

type layoutKind uint8

const (
	lkLiteral layoutKind = iota
	lkYear4
	lkYear2
	lkMonth
	lkDay
	lkHour
	lkMinute
	lkSecond
	lkFrac
)

type layoutOp struct {
	kind  layoutKind
	width int // digits: fixed width, or 0 for one or two digits
	lit   string
}

// Layout parses date and timestamp text. It is safe for concurrent use.
type Layout struct {
	ops []layoutOp // nil when goLayout must be used
	// goLayout is the Go layout equivalent of the source.
	goLayout string
	year2    bool // the pattern has a two-digit year (yy or uu)
}

// GoLayout returns the equivalent Go reference-time layout.
func (l *Layout) GoLayout() string { return l.goLayout }

// CompileLayout compiles a Java-style (DateTimeFormatter, as Spark and Glue
// take) or Go-style layout for parsing. A layout is Go-style when it holds
// "2006", or "06" and none of the letters y M d H m s. Java layouts may use
// the letters y u (4 or 2 digits), M L, d, H, h, m, s, S (after '.' or ','),
// a, E, X, x, Z and z; optional sections, digits outside quotes, and quoted
// literals holding digits or Go layout tokens (Jan, Mon, MST, PM, Z07) are
// rejected, as are the other pattern letters.
func CompileLayout(layout string) (*Layout, error) {
	fail := func(pos int, reason string) (*Layout, error) {
		return nil, &PatternError{Pattern: layout, Pos: pos, Reason: reason}
	}
	if layout == "" {
		return fail(-1, "empty layout")
	}
	if isGoLayout(layout) {
		return &Layout{goLayout: layout}, nil
	}
	p, err := Compile(layout)
	if err != nil {
		return nil, err
	}
	if p.optional {
		return fail(strings.IndexByte(layout, '['), "optional sections are not supported for parsing")
	}
	l := &Layout{}
	numeric := true
	var goL strings.Builder
	for _, it := range p.items {
		if it.letter == 0 {
			if i := strings.IndexAny(it.lit, "0123456789"); i >= 0 {
				return fail(it.pos, "digits in literal text "+quote(it.lit)+" are not supported for parsing")
			}
			if containsGoToken(it.lit) {
				return fail(it.pos, "literal "+quote(it.lit)+" cannot be expressed as a Go layout")
			}
			l.ops = append(l.ops, layoutOp{kind: lkLiteral, lit: it.lit})
			goL.WriteString(it.lit)
			continue
		}
		op, goTok, num, reason := parseOp(it.letter, it.count, goL.String())
		if reason != "" {
			return fail(it.pos, reason)
		}
		numeric = numeric && num
		l.year2 = l.year2 || op.kind == lkYear2
		if num {
			l.ops = append(l.ops, op)
		}
		goL.WriteString(goTok)
	}
	l.goLayout = goL.String()
	if !numeric {
		l.ops = nil
	}
	return l, nil
}

func quote(s string) string { return "\"" + s + "\"" }

// numericFields are the one- or two-digit fields: their op kind and Go
// tokens for one and two pattern letters (Go has no one-digit 24-hour
// token; the fast path takes H as one or two digits).
var numericFields = map[byte]struct {
	kind     layoutKind
	one, two string
}{
	'd': {lkDay, "2", "02"}, 'H': {lkHour, "15", "15"}, 'm': {lkMinute, "4", "04"}, 's': {lkSecond, "5", "05"},
}

// parseOp maps a pattern letter repeated n times to a fast-path op (when
// numeric) and a Go layout token; reason is non-empty for letters the
// parser does not take. prev is the Go layout so far.
func parseOp(c byte, n int, prev string) (op layoutOp, goTok string, numeric bool, reason string) {
	switch c {
	case 'y', 'u':
		if n == 2 {
			return layoutOp{kind: lkYear2, width: 2}, "06", true, ""
		}
		return layoutOp{kind: lkYear4, width: 4}, "2006", true, ""
	case 'M', 'L':
		switch n {
		case 1:
			return layoutOp{kind: lkMonth}, "1", true, ""
		case 2:
			return layoutOp{kind: lkMonth, width: 2}, "01", true, ""
		case 3:
			return op, "Jan", false, ""
		}
		return op, "January", false, ""
	case 'd', 'H', 'm', 's':
		f := numericFields[c]
		if n == 1 {
			return layoutOp{kind: f.kind}, f.one, true, ""
		}
		return layoutOp{kind: f.kind, width: 2}, f.two, true, ""
	case 'h':
		if n == 1 {
			return op, "3", false, ""
		}
		return op, "03", false, ""
	case 'S':
		if !strings.HasSuffix(prev, ".") && !strings.HasSuffix(prev, ",") {
			return op, "", false, "fraction S must follow '.' or ','"
		}
		return layoutOp{kind: lkFrac, width: n}, strings.Repeat("0", n), true, ""
	case 'a':
		return op, "PM", false, ""
	case 'E':
		if n >= 4 {
			return op, "Monday", false, ""
		}
		return op, "Mon", false, ""
	case 'X':
		switch n {
		case 1:
			return op, "Z07", false, ""
		case 2:
			return op, "Z0700", false, ""
		}
		return op, "Z07:00", false, ""
	case 'x', 'Z':
		if n >= 3 && c == 'x' || n == 5 {
			return op, "-07:00", false, ""
		}
		return op, "-0700", false, ""
	case 'z':
		return op, "MST", false, ""
	}
	return op, "", false, "pattern letter " + quote(string(c)) + " is not supported for parsing"
}

// isGoLayout reports whether the layout is written with Go's reference time.
func isGoLayout(layout string) bool {
	return strings.Contains(layout, "2006") || strings.Contains(layout, "06") && !strings.ContainsAny(layout, "yMdHms")
}

func containsGoToken(s string) bool {
	for _, tok := range []string{"Jan", "Mon", "MST", "PM", "pm", "Z07"} {
		if strings.Contains(s, tok) {
			return true
		}
	}
	return false
}

// Civil holds the fields a layout yields, read as a wall clock in UTC.
type Civil struct {
	Year, Month, Day, Hour, Min, Sec, Nsec int
}

// Parse parses b. ok is false when b does not match the layout or names an
// impossible date.
func (l *Layout) Parse(b []byte) (Civil, bool) {
	if l.ops == nil {
		t, err := time.Parse(l.goLayout, string(b))
		if err != nil {
			return Civil{}, false
		}
		if l.year2 && t.Year() < 2000 { // Go reads 69–99 as 19xx
			t = t.AddDate(100, 0, 0)
		}
		t = t.UTC()
		return Civil{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()}, true
	}
	v := Civil{Year: 1970, Month: 1, Day: 1}
	i := 0
	for _, op := range l.ops {
		if op.kind == lkLiteral {
			if len(b)-i < len(op.lit) || string(b[i:i+len(op.lit)]) != op.lit {
				return Civil{}, false
			}
			i += len(op.lit)
			continue
		}
		n, digits := 0, 0
		maxDigits := op.width
		if maxDigits == 0 {
			maxDigits = 2
		}
		if op.kind == lkFrac {
			maxDigits = 9 // lenient, as Spark parses fractions
		}
		for digits < maxDigits && i < len(b) && b[i] >= '0' && b[i] <= '9' {
			n = n*10 + int(b[i]-'0')
			i++
			digits++
		}
		if digits == 0 || op.width != 0 && op.kind != lkFrac && digits != op.width {
			return Civil{}, false
		}
		switch op.kind {
		case lkYear4:
			v.Year = n
		case lkYear2: // java.time's (and Spark's) rule: 2000–2099
			v.Year = 2000 + n
		case lkMonth:
			v.Month = n
		case lkDay:
			v.Day = n
		case lkHour:
			v.Hour = n
		case lkMinute:
			v.Min = n
		case lkSecond:
			v.Sec = n
		case lkFrac:
			for d := digits; d < 9; d++ {
				n *= 10
			}
			v.Nsec = n
		}
	}
	if i != len(b) {
		return Civil{}, false
	}
	if v.Month < 1 || v.Month > 12 || v.Day < 1 || v.Day > daysInMonth(v.Month, v.Year) ||
		v.Hour > 23 || v.Min > 59 || v.Sec > 59 {
		return Civil{}, false
	}
	return v, true
}

func isLeapYear(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

func daysInMonth(m, y int) int {
	switch m {
	case 2:
		if isLeapYear(y) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// DaysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func DaysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y
	if era < 0 {
		era -= 399
	}
	era /= 400
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// Days returns the date as days since the Unix epoch.
func (v Civil) Days() int64 { return DaysFromCivil(v.Year, v.Month, v.Day) }

// Micros returns the date and time as microseconds since the Unix
// epoch, reading the wall clock as UTC.
func (v Civil) Micros() int64 {
	return v.Days()*86_400_000_000 + int64(v.Hour)*3_600_000_000 + int64(v.Min)*60_000_000 +
		int64(v.Sec)*1_000_000 + int64(v.Nsec/1000)
}
