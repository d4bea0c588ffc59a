package kda

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lakekit/lakekit/internal/javatime"
)

// momentFormat is a compiled moment.js format string, as KDG's date helpers
// take: YYYY YY M MM MMM MMMM D DD Do DDD DDDD d ddd dddd H HH h hh k kk m mm
// s ss S… (fraction digits) A a Z ZZ X x, and [escaped text].
type momentFormat struct {
	toks []momentTok
}

type momentTok struct {
	tok string // "" for a literal
	lit string
}

var momentTokens = []string{
	"YYYY", "MMMM", "DDDD", "dddd", "SSSSSSSSS", "SSSSSS", "SSS", "MMM", "DDD", "ddd",
	"YY", "MM", "DD", "Do", "HH", "hh", "kk", "mm", "ss", "SS", "ZZ",
	"M", "D", "d", "H", "h", "k", "m", "s", "S", "A", "a", "Z", "X", "x",
}

func parseMomentFormat(f string) (*momentFormat, error) {
	m := &momentFormat{}
	lit := func(s string) {
		if n := len(m.toks); n > 0 && m.toks[n-1].tok == "" {
			m.toks[n-1].lit += s
			return
		}
		m.toks = append(m.toks, momentTok{lit: s})
	}
outer:
	for i := 0; i < len(f); {
		if f[i] == '[' {
			j := i + 1
			for j < len(f) && f[j] != ']' {
				j++
			}
			if j == len(f) {
				return nil, fmt.Errorf("date format %q: unterminated [", f)
			}
			lit(f[i+1 : j])
			i = j + 1
			continue
		}
		for _, t := range momentTokens {
			if len(f)-i >= len(t) && f[i:i+len(t)] == t {
				m.toks = append(m.toks, momentTok{tok: t})
				i += len(t)
				continue outer
			}
		}
		lit(f[i : i+1])
		i++
	}
	return m, nil
}

// pad appends v zero-padded to width digits.
func pad(dst []byte, v, width int) []byte { return javatime.AppendPadded(dst, int64(v), width) }

func ordinal(n int) string {
	if n%100 >= 11 && n%100 <= 13 {
		return "th"
	}
	switch n % 10 {
	case 1:
		return "st"
	case 2:
		return "nd"
	case 3:
		return "rd"
	}
	return "th"
}

func (m *momentFormat) append(dst []byte, t time.Time) []byte {
	for _, k := range m.toks {
		switch k.tok {
		case "":
			dst = append(dst, k.lit...)
		case "YYYY":
			dst = pad(dst, t.Year(), 4)
		case "YY":
			dst = pad(dst, t.Year()%100, 2)
		case "M":
			dst = strconv.AppendInt(dst, int64(t.Month()), 10)
		case "MM":
			dst = pad(dst, int(t.Month()), 2)
		case "MMM":
			dst = append(dst, t.Month().String()[:3]...)
		case "MMMM":
			dst = append(dst, t.Month().String()...)
		case "D":
			dst = strconv.AppendInt(dst, int64(t.Day()), 10)
		case "DD":
			dst = pad(dst, t.Day(), 2)
		case "Do":
			dst = append(strconv.AppendInt(dst, int64(t.Day()), 10), ordinal(t.Day())...)
		case "DDD":
			dst = strconv.AppendInt(dst, int64(t.YearDay()), 10)
		case "DDDD":
			dst = pad(dst, t.YearDay(), 3)
		case "d":
			dst = strconv.AppendInt(dst, int64(t.Weekday()), 10)
		case "ddd":
			dst = append(dst, t.Weekday().String()[:3]...)
		case "dddd":
			dst = append(dst, t.Weekday().String()...)
		case "X":
			dst = strconv.AppendInt(dst, t.Unix(), 10)
		case "x":
			dst = strconv.AppendInt(dst, t.UnixMilli(), 10)
		default:
			dst = appendClock(dst, k.tok, t)
		}
	}
	return dst
}

// appendClock appends the time-of-day and zone tokens of a moment.js
// format (H, h, k, m, s, S…, A, a, Z, ZZ).
func appendClock(dst []byte, tok string, t time.Time) []byte {
	switch tok {
	case "H":
		return strconv.AppendInt(dst, int64(t.Hour()), 10)
	case "HH":
		return pad(dst, t.Hour(), 2)
	case "h", "hh":
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return pad(dst, h, len(tok))
	case "k", "kk":
		h := t.Hour()
		if h == 0 {
			h = 24
		}
		return pad(dst, h, len(tok))
	case "m":
		return strconv.AppendInt(dst, int64(t.Minute()), 10)
	case "mm":
		return pad(dst, t.Minute(), 2)
	case "s":
		return strconv.AppendInt(dst, int64(t.Second()), 10)
	case "ss":
		return pad(dst, t.Second(), 2)
	case "S", "SS", "SSS", "SSSSSS", "SSSSSSSSS":
		frac := pad(nil, t.Nanosecond(), 9)
		return append(dst, frac[:len(tok)]...)
	case "A", "a":
		ampm := "AM"
		if t.Hour() >= 12 {
			ampm = "PM"
		}
		if tok == "a" {
			ampm = strings.ToLower(ampm)
		}
		return append(dst, ampm...)
	case "Z", "ZZ":
		_, off := t.Zone()
		sign := byte('+')
		if off < 0 {
			sign, off = '-', -off
		}
		dst = pad(append(dst, sign), off/3600, 2)
		if tok == "Z" {
			dst = append(dst, ':')
		}
		return pad(dst, off%3600/60, 2)
	}
	return dst
}
