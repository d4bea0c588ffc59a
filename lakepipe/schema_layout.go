package lakepipe

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// A layout is compiled once per column. Layouts made only of numeric fields
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

// compiledLayout parses date and timestamp text.
type compiledLayout struct {
	source string
	ops    []layoutOp // nil when goLayout must be used
	hasDay bool
	// goLayout is the Go layout equivalent of the source.
	goLayout string
}

var errLayout = errors.New("invalid layout")

// compileLayout compiles a Java-style (SimpleDateFormat / DateTimeFormatter,
// as Spark and Glue take) or Go-style layout.
func compileLayout(layout string) (*compiledLayout, error) {
	if layout == "" {
		return nil, fmt.Errorf("%w: empty", errLayout)
	}
	if isGoLayout(layout) {
		return &compiledLayout{source: layout, goLayout: layout}, nil
	}
	cl := &compiledLayout{source: layout}
	numeric := true
	var goL strings.Builder
	for i := 0; i < len(layout); {
		c := layout[i]
		if c == '\'' { // quoted literal; '' is a quote
			j := i + 1
			var lit strings.Builder
			for {
				if j >= len(layout) {
					return nil, fmt.Errorf("%w: unterminated quote in %q", errLayout, layout)
				}
				if layout[j] == '\'' {
					if j+1 < len(layout) && layout[j+1] == '\'' {
						lit.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				lit.WriteByte(layout[j])
				j++
			}
			if i+1 == j { // '' outside a literal
				lit.WriteByte('\'')
			}
			s := lit.String()
			if strings.ContainsAny(s, "0123456789") || containsGoToken(s) {
				return nil, fmt.Errorf("%w: literal %q cannot be expressed", errLayout, s)
			}
			cl.ops = append(cl.ops, layoutOp{kind: lkLiteral, lit: s})
			goL.WriteString(s)
			i = j + 1
			continue
		}
		if !isASCIILetter(c) {
			if strings.IndexByte("[]{}#", c) >= 0 {
				return nil, fmt.Errorf("%w: optional sections and reserved character %q are not supported in %q", errLayout, c, layout)
			}
			if c >= '0' && c <= '9' {
				return nil, fmt.Errorf("%w: digit %q in %q", errLayout, c, layout)
			}
			cl.ops = append(cl.ops, layoutOp{kind: lkLiteral, lit: string(c)})
			goL.WriteByte(c)
			i++
			continue
		}
		j := i
		for j < len(layout) && layout[j] == c {
			j++
		}
		n := j - i
		var op layoutOp
		var goTok string
		switch c {
		case 'y', 'u':
			if n == 2 {
				op, goTok = layoutOp{kind: lkYear2, width: 2}, "06"
			} else {
				op, goTok = layoutOp{kind: lkYear4, width: 4}, "2006"
			}
		case 'M', 'L':
			switch {
			case n == 1:
				op, goTok = layoutOp{kind: lkMonth}, "1"
			case n == 2:
				op, goTok = layoutOp{kind: lkMonth, width: 2}, "01"
			case n == 3:
				numeric, goTok = false, "Jan"
			default:
				numeric, goTok = false, "January"
			}
		case 'd':
			if n == 1 {
				op, goTok = layoutOp{kind: lkDay}, "2"
			} else {
				op, goTok = layoutOp{kind: lkDay, width: 2}, "02"
			}
		case 'H':
			if n == 1 {
				op, goTok = layoutOp{kind: lkHour}, "15"
			} else {
				op, goTok = layoutOp{kind: lkHour, width: 2}, "15"
			}
		case 'h':
			numeric = false
			if n == 1 {
				goTok = "3"
			} else {
				goTok = "03"
			}
		case 'm':
			if n == 1 {
				op, goTok = layoutOp{kind: lkMinute}, "4"
			} else {
				op, goTok = layoutOp{kind: lkMinute, width: 2}, "04"
			}
		case 's':
			if n == 1 {
				op, goTok = layoutOp{kind: lkSecond}, "5"
			} else {
				op, goTok = layoutOp{kind: lkSecond, width: 2}, "05"
			}
		case 'S':
			if n > 9 {
				return nil, fmt.Errorf("%w: more than 9 fraction digits in %q", errLayout, layout)
			}
			prev := goL.String()
			if !strings.HasSuffix(prev, ".") && !strings.HasSuffix(prev, ",") {
				return nil, fmt.Errorf("%w: fraction S must follow '.' or ',' in %q", errLayout, layout)
			}
			op, goTok = layoutOp{kind: lkFrac, width: n}, strings.Repeat("0", n)
		case 'a':
			numeric, goTok = false, "PM"
		case 'E':
			numeric = false
			if n >= 4 {
				goTok = "Monday"
			} else {
				goTok = "Mon"
			}
		case 'X':
			numeric = false
			switch n {
			case 1:
				goTok = "Z07"
			case 2:
				goTok = "Z0700"
			default:
				goTok = "Z07:00"
			}
		case 'x', 'Z':
			numeric = false
			if n >= 3 && c == 'x' || n == 5 {
				goTok = "-07:00"
			} else {
				goTok = "-0700"
			}
		case 'z':
			numeric, goTok = false, "MST"
		default:
			return nil, fmt.Errorf("%w: unsupported pattern letter %q in %q", errLayout, c, layout)
		}
		if op.kind == lkDay {
			cl.hasDay = true
		}
		if op.kind != lkLiteral || op.lit != "" {
			cl.ops = append(cl.ops, op)
		}
		goL.WriteString(goTok)
		i = j
	}
	cl.goLayout = goL.String()
	if !numeric {
		cl.ops = nil
	}
	return cl, nil
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

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// civilTime holds the fields a layout yields.
type civilTime struct {
	year, month, day, hour, min, sec, nsec int
}

// parse parses b. ok is false when b does not match the layout or names an
// impossible date.
func (cl *compiledLayout) parse(b []byte) (civilTime, bool) {
	if cl.ops == nil {
		t, err := time.Parse(cl.goLayout, string(b))
		if err != nil {
			return civilTime{}, false
		}
		t = t.UTC()
		return civilTime{t.Year(), int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond()}, true
	}
	v := civilTime{year: 1970, month: 1, day: 1}
	i := 0
	for _, op := range cl.ops {
		if op.kind == lkLiteral {
			if len(b)-i < len(op.lit) || string(b[i:i+len(op.lit)]) != op.lit {
				return civilTime{}, false
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
			return civilTime{}, false
		}
		switch op.kind {
		case lkYear4:
			v.year = n
		case lkYear2: // Go's rule: 69–99 → 19xx, 00–68 → 20xx
			if n >= 69 {
				v.year = 1900 + n
			} else {
				v.year = 2000 + n
			}
		case lkMonth:
			v.month = n
		case lkDay:
			v.day = n
		case lkHour:
			v.hour = n
		case lkMinute:
			v.min = n
		case lkSecond:
			v.sec = n
		case lkFrac:
			for d := digits; d < 9; d++ {
				n *= 10
			}
			v.nsec = n
		}
	}
	if i != len(b) {
		return civilTime{}, false
	}
	if v.month < 1 || v.month > 12 || v.day < 1 || v.day > daysInMonth(v.month, v.year) ||
		v.hour > 23 || v.min > 59 || v.sec > 59 {
		return civilTime{}, false
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

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
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

// days returns the civilTime date as days since the Unix epoch.
func (v civilTime) days() int64 { return daysFromCivil(v.year, v.month, v.day) }

// micros returns the civilTime date and time as microseconds since the Unix
// epoch, reading the wall clock as UTC.
func (v civilTime) micros() int64 {
	return v.days()*86_400_000_000 + int64(v.hour)*3_600_000_000 + int64(v.min)*60_000_000 +
		int64(v.sec)*1_000_000 + int64(v.nsec/1000)
}
