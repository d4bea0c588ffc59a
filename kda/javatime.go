package kda

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WeekFields defines weeks for the week-based pattern letters Y, w and e,
// as java.time.temporal.WeekFields does.
type WeekFields struct {
	FirstDay    time.Weekday
	MinimalDays int // days a week needs in the new year to be its week 1
}

var (
	// WeekFieldsUS is WeekFields.of(Locale.US): weeks start on Sunday and
	// week 1 is the week of January 1. It is what a JVM with the default
	// en-US locale (Firehose's, as far as its output shows) uses for Y.
	WeekFieldsUS = WeekFields{FirstDay: time.Sunday, MinimalDays: 1}
	// WeekFieldsISO is ISO-8601: Monday start, week 1 has January 4.
	WeekFieldsISO = WeekFields{FirstDay: time.Monday, MinimalDays: 4}
)

// week1Start returns the first day of week 1 of year y.
func (wf WeekFields) week1Start(y int, loc *time.Location) time.Time {
	jan1 := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	back := (int(jan1.Weekday()) - int(wf.FirstDay) + 7) % 7
	start := jan1.AddDate(0, 0, -back)
	if 7-back < wf.MinimalDays {
		start = start.AddDate(0, 0, 7)
	}
	return start
}

// weekBased returns the week-based year and week of t.
func (wf WeekFields) weekBased(t time.Time) (year, week int) {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	y := d.Year()
	if next := wf.week1Start(y+1, time.UTC); !d.Before(next) {
		y++
	} else if d.Before(wf.week1Start(y, time.UTC)) {
		y--
	}
	days := int(d.Sub(wf.week1Start(y, time.UTC)).Hours()+0.5) / 24
	return y, days/7 + 1
}

// JavaPattern is a compiled java.time.format.DateTimeFormatter pattern, the
// syntax of Firehose's !{timestamp:…} expressions.
type JavaPattern struct {
	items []jItem
	// WeekBased is true when the pattern uses Y (week-based year), w or e/c:
	// usually a mistake for y in a partition path.
	WeekBased bool
}

type jItem struct {
	letter byte // 0 for a literal
	count  int
	lit    string
}

// ParseJavaPattern compiles a DateTimeFormatter pattern. It supports the
// letters G u y Y Q q M L w W d D E e c a h K k H m s S A n N V z Z X x O,
// 'quoted text' with ” for a quote, and rejects what Java rejects: unknown
// letters, too many letters, the reserved # { }, and unbalanced [ ]
// optional sections (whose content is always printed, as Java prints an
// optional section when the value is available).
func ParseJavaPattern(p string) (*JavaPattern, error) {
	jp := &JavaPattern{}
	depth := 0
	lit := func(s string) {
		if n := len(jp.items); n > 0 && jp.items[n-1].letter == 0 {
			jp.items[n-1].lit += s
			return
		}
		jp.items = append(jp.items, jItem{lit: s})
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			j := i
			for j < len(p) && p[j] == c {
				j++
			}
			n := j - i
			if max, ok := javaLetterMax[c]; !ok {
				return nil, fmt.Errorf("unknown pattern letter %q at %d", c, i)
			} else if n > max {
				return nil, fmt.Errorf("too many pattern letters %q at %d", p[i:j], i)
			}
			if c == 'V' && n != 2 {
				return nil, fmt.Errorf("pattern letter V must be VV at %d", i)
			}
			if c == 'O' && n != 1 && n != 4 {
				return nil, fmt.Errorf("pattern letter O must be O or OOOO at %d", i)
			}
			if c == 'Y' || c == 'w' || c == 'e' || c == 'c' {
				jp.WeekBased = true
			}
			jp.items = append(jp.items, jItem{letter: c, count: n})
			i = j
		case c == '\'':
			j := i + 1
			var b strings.Builder
			for {
				if j >= len(p) {
					return nil, fmt.Errorf("pattern ends inside a quoted literal started at %d", i)
				}
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(p[j])
				j++
			}
			if j == i+1 {
				lit("'") // '' outside quotes is a quote
			} else {
				lit(b.String())
			}
			i = j + 1
		case c == '[':
			depth++
			i++
		case c == ']':
			if depth == 0 {
				return nil, fmt.Errorf("pattern has ] without [ at %d", i)
			}
			depth--
			i++
		case c == '#' || c == '{' || c == '}':
			return nil, fmt.Errorf("pattern character %q at %d is reserved", c, i)
		default:
			lit(p[i : i+1])
			i++
		}
	}
	return jp, nil
}

var javaLetterMax = map[byte]int{
	'G': 5, 'u': 19, 'y': 19, 'Y': 19, 'Q': 5, 'q': 5, 'M': 5, 'L': 5, 'w': 2, 'W': 1, 'd': 2, 'D': 3,
	'E': 5, 'e': 5, 'c': 5, 'a': 1, 'h': 2, 'K': 2, 'k': 2, 'H': 2, 'm': 2, 's': 2, 'S': 9, 'A': 19,
	'n': 19, 'N': 19, 'V': 2, 'z': 4, 'Z': 5, 'X': 5, 'x': 5, 'O': 4,
}

// jpad appends v in decimal, zero-padded to width digits after any sign,
// without allocating (prefixes are rendered per delivered object).
func jpad(dst []byte, v int64, width int) []byte {
	if v < 0 {
		dst = append(dst, '-')
		v = -v
	}
	digits := 1
	for x := v; x >= 10; x /= 10 {
		digits++
	}
	for ; digits < width; digits++ {
		dst = append(dst, '0')
	}
	return strconv.AppendInt(dst, v, 10)
}

// yearItem formats a year as Java does: yy is the last two digits, other
// counts pad to their width.
func yearItem(dst []byte, y int, n int) []byte {
	if n == 2 {
		return jpad(dst, int64((y%100+100)%100), 2)
	}
	return jpad(dst, int64(y), n)
}

func textItem(dst []byte, full string, n int) []byte {
	switch {
	case n == 4:
		return append(dst, full...)
	case n == 5:
		return append(dst, full[:1]...)
	}
	return append(dst, full[:3]...)
}

func offsetItem(dst []byte, off int, withColon, withMinutesAlways, zForZero bool) []byte {
	if off == 0 && zForZero {
		return append(dst, 'Z')
	}
	sign := byte('+')
	if off < 0 {
		sign, off = '-', -off
	}
	dst = jpad(append(dst, sign), int64(off/3600), 2)
	if withMinutesAlways || off%3600 != 0 {
		if withColon {
			dst = append(dst, ':')
		}
		dst = jpad(dst, int64(off%3600/60), 2)
	}
	return dst
}

// Append formats t (already in the wanted zone) with wf for week fields.
func (jp *JavaPattern) Append(dst []byte, t time.Time, wf WeekFields) []byte {
	for _, it := range jp.items {
		n := it.count
		switch it.letter {
		case 0:
			dst = append(dst, it.lit...)
		case 'G':
			era := "AD"
			if t.Year() <= 0 {
				era = "BC"
			}
			switch n {
			case 4:
				dst = append(dst, map[string]string{"AD": "Anno Domini", "BC": "Before Christ"}[era]...)
			case 5:
				dst = append(dst, era[0])
			default:
				dst = append(dst, era...)
			}
		case 'u':
			dst = yearItem(dst, t.Year(), n)
		case 'y':
			y := t.Year()
			if y <= 0 {
				y = 1 - y
			}
			dst = yearItem(dst, y, n)
		case 'Y':
			y, _ := wf.weekBased(t)
			dst = yearItem(dst, y, n)
		case 'w':
			_, w := wf.weekBased(t)
			dst = jpad(dst, int64(w), n)
		case 'W':
			first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
			w1 := first.AddDate(0, 0, -((int(first.Weekday()) - int(wf.FirstDay) + 7) % 7))
			if 7-int(first.Sub(w1).Hours()/24) < wf.MinimalDays {
				w1 = w1.AddDate(0, 0, 7)
			}
			d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
			dst = jpad(dst, int64(floorDiv(int64(d.Sub(w1).Hours()+0.5)/24, 7)+1), 1)
		case 'Q', 'q':
			q := (int(t.Month())-1)/3 + 1
			switch n {
			case 1, 2:
				dst = jpad(dst, int64(q), n)
			case 3:
				dst = append(append(dst, 'Q'), byte('0'+q))
			case 4:
				dst = append(dst, []string{"1st", "2nd", "3rd", "4th"}[q-1]+" quarter"...)
			default:
				dst = append(dst, byte('0'+q))
			}
		case 'M', 'L':
			if n <= 2 {
				dst = jpad(dst, int64(t.Month()), n)
			} else {
				dst = textItem(dst, t.Month().String(), n)
			}
		case 'd':
			dst = jpad(dst, int64(t.Day()), n)
		case 'D':
			dst = jpad(dst, int64(t.YearDay()), n)
		case 'E':
			dst = textItem(dst, t.Weekday().String(), n)
		case 'e', 'c':
			if n <= 2 {
				dst = jpad(dst, int64((int(t.Weekday())-int(wf.FirstDay)+7)%7+1), n)
			} else {
				dst = textItem(dst, t.Weekday().String(), n)
			}
		case 'a':
			if t.Hour() < 12 {
				dst = append(dst, "AM"...)
			} else {
				dst = append(dst, "PM"...)
			}
		case 'h':
			h := t.Hour() % 12
			if h == 0 {
				h = 12
			}
			dst = jpad(dst, int64(h), n)
		case 'K':
			dst = jpad(dst, int64(t.Hour()%12), n)
		case 'k':
			h := t.Hour()
			if h == 0 {
				h = 24
			}
			dst = jpad(dst, int64(h), n)
		case 'H':
			dst = jpad(dst, int64(t.Hour()), n)
		case 'm':
			dst = jpad(dst, int64(t.Minute()), n)
		case 's':
			dst = jpad(dst, int64(t.Second()), n)
		case 'S':
			frac := jpad(nil, int64(t.Nanosecond()), 9)
			dst = append(dst, frac[:n]...)
		case 'A':
			ms := int64(t.Hour()*3600+t.Minute()*60+t.Second())*1000 + int64(t.Nanosecond()/1e6)
			dst = jpad(dst, ms, n)
		case 'n':
			dst = jpad(dst, int64(t.Nanosecond()), n)
		case 'N':
			dst = jpad(dst, int64(t.Hour()*3600+t.Minute()*60+t.Second())*1e9+int64(t.Nanosecond()), n)
		case 'V':
			dst = append(dst, t.Location().String()...)
		case 'z':
			name, _ := t.Zone()
			dst = append(dst, name...)
		case 'Z':
			_, off := t.Zone()
			switch {
			case n <= 3:
				dst = offsetItem(dst, off, false, true, false)
			case n == 4:
				dst = append(dst, "GMT"...)
				if off != 0 {
					dst = offsetItem(dst, off, true, true, false)
				}
			default:
				dst = offsetItem(dst, off, true, true, true)
			}
		case 'X', 'x':
			_, off := t.Zone()
			z := it.letter == 'X'
			switch n {
			case 1:
				dst = offsetItem(dst, off, false, false, z)
			case 2, 4:
				dst = offsetItem(dst, off, false, true, z)
			default:
				dst = offsetItem(dst, off, true, true, z)
			}
		case 'O':
			_, off := t.Zone()
			dst = append(dst, "GMT"...)
			if off != 0 {
				if n == 4 {
					dst = offsetItem(dst, off, true, true, false)
				} else {
					sign := byte('+')
					if off < 0 {
						sign, off = '-', -off
					}
					dst = strconv.AppendInt(append(dst, sign), int64(off/3600), 10)
					if off%3600 != 0 {
						dst = jpad(append(dst, ':'), int64(off%3600/60), 2)
					}
				}
			}
		}
	}
	return dst
}
