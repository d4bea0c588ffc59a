package javatime

import (
	"strconv"
	"time"
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

// AppendPadded appends v in decimal, zero-padded to width digits after any
// sign, without allocating (prefixes are rendered per delivered object).
func AppendPadded(dst []byte, v int64, width int) []byte { return jpad(dst, v, width) }

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

// Append appends t, in its own location, formatted as Java's
// DateTimeFormatter.ofPattern(pattern, Locale.US) with wf for the week-based
// letters does, and returns the extended buffer. It does not allocate when
// dst has room.
func (p *Pattern) Append(dst []byte, t time.Time, wf WeekFields) []byte {
	for _, it := range p.items {
		if it.letter == 0 {
			dst = append(dst, it.lit...)
			continue
		}
		var ok bool
		if dst, ok = appendDate(dst, it, t, wf); ok {
			continue
		}
		if dst, ok = appendClock(dst, it, t); ok {
			continue
		}
		dst = appendZone(dst, it, t)
	}
	return dst
}

// appendDate formats the era, year, week, quarter, month and day letters; false for any other letter.
func appendDate(dst []byte, it item, t time.Time, wf WeekFields) ([]byte, bool) {
	n := it.count
	switch it.letter {
	case 'G':
		era := "AD"
		if t.Year() <= 0 {
			era = "BC"
		}
		switch n {
		case 4:
			if era == "AD" {
				dst = append(dst, "Anno Domini"...)
			} else {
				dst = append(dst, "Before Christ"...)
			}
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
		days := DaysFromCivil(t.Year(), int(t.Month()), t.Day()) - DaysFromCivil(w1.Year(), int(w1.Month()), w1.Day())
		dst = jpad(dst, floorDiv(days, 7)+1, 1)
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
	default:
		return dst, false
	}
	return dst, true
}

// appendClock formats the half-day, hour, minute, second and fraction letters; false for any other letter.
func appendClock(dst []byte, it item, t time.Time) ([]byte, bool) {
	n := it.count
	switch it.letter {
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
		start := len(dst)
		dst = jpad(dst, int64(t.Nanosecond()), 9)[:start+n]
	case 'A':
		ms := int64(t.Hour()*3600+t.Minute()*60+t.Second())*1000 + int64(t.Nanosecond()/1e6)
		dst = jpad(dst, ms, n)
	case 'n':
		dst = jpad(dst, int64(t.Nanosecond()), n)
	case 'N':
		dst = jpad(dst, int64(t.Hour()*3600+t.Minute()*60+t.Second())*1e9+int64(t.Nanosecond()), n)
	default:
		return dst, false
	}
	return dst, true
}

// appendZone formats the zone and offset letters (V z Z X x O).
func appendZone(dst []byte, it item, t time.Time) []byte {
	n := it.count
	switch it.letter {
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
	return dst
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
