// Package javatime is lakekit's one engine for java.time.format.DateTimeFormatter
// patterns: kda formats Firehose !{timestamp:…} prefixes with it, and
// lakepipe parses Glue/Spark date and timestamp columns with it.
//
// Compile checks a pattern as DateTimeFormatter.ofPattern does and returns
// a *Pattern; Pattern.Append formats an instant with it (Locale.US text,
// WeekFields given by the caller); CompileLayout turns a pattern (or a Go
// reference-time layout) into a *Layout that parses text into civil fields.
//
// Every behaviour is pinned by one conformance table (conformance_test.go)
// that a test also runs through the JDK's DateTimeFormatter when java is on
// PATH.
//
// # Errors
//
// Compile and CompileLayout return a *PatternError naming the pattern, the
// byte offset and the reason (unknown letter, too many letters, unterminated
// quote, reserved character, unbalanced optional section, or for parsing a
// letter or literal the parser cannot handle).
package javatime

import (
	"fmt"
	"strings"
	"time"
)

// PatternError is a pattern Compile or CompileLayout rejects.
type PatternError struct {
	Pattern string
	Pos     int // byte offset of the offending text, -1 for the whole pattern
	Reason  string
}

func (e *PatternError) Error() string {
	if e.Pos < 0 {
		return fmt.Sprintf("invalid date-time pattern %q: %s", e.Pattern, e.Reason)
	}
	return fmt.Sprintf("invalid date-time pattern %q: %s at offset %d", e.Pattern, e.Reason, e.Pos)
}

// WeekFields defines weeks for the week-based pattern letters Y, w, W, e
// and c, as java.time.temporal.WeekFields does.
type WeekFields struct {
	FirstDay    time.Weekday
	MinimalDays int // days a week needs in the new year to be its week 1
}

var (
	// WeekFieldsUS is WeekFields.of(Locale.US): weeks start on Sunday and
	// week 1 is the week of January 1.
	WeekFieldsUS = WeekFields{FirstDay: time.Sunday, MinimalDays: 1}
	// WeekFieldsISO is ISO-8601: Monday start, week 1 has January 4.
	WeekFieldsISO = WeekFields{FirstDay: time.Monday, MinimalDays: 4}
)

// Pattern is a compiled DateTimeFormatter pattern.
type Pattern struct {
	source string
	items  []item
	// WeekBased is true when the pattern uses Y (week-based year), w or e/c:
	// usually a mistake for y in a partition path.
	WeekBased bool
	// optional is true when the pattern has [ ] sections.
	optional bool
}

// String returns the pattern as written.
func (p *Pattern) String() string { return p.source }

type item struct {
	letter byte // 0 for a literal
	count  int
	pos    int // byte offset in the source
	lit    string
}

var letterMax = map[byte]int{
	'G': 5, 'u': 19, 'y': 19, 'Y': 19, 'Q': 5, 'q': 5, 'M': 5, 'L': 5, 'w': 2, 'W': 1, 'd': 2, 'D': 3,
	'E': 5, 'e': 5, 'c': 5, 'a': 1, 'h': 2, 'K': 2, 'k': 2, 'H': 2, 'm': 2, 's': 2, 'S': 9, 'A': 19,
	'n': 19, 'N': 19, 'V': 2, 'z': 4, 'Z': 5, 'X': 5, 'x': 5, 'O': 4,
}

// quoted reads the quoted literal that starts at pattern[i] (a quote): its
// text (two quotes inside it, or two quotes alone, stand for one) and the index
// after its closing quote; false when it does not close.
func quoted(pattern string, i int) (string, int, bool) {
	j := i + 1
	var b strings.Builder
	for {
		if j >= len(pattern) {
			return "", 0, false
		}
		if pattern[j] == '\'' {
			if j+1 < len(pattern) && pattern[j+1] == '\'' {
				b.WriteByte('\'')
				j += 2
				continue
			}
			break
		}
		b.WriteByte(pattern[j])
		j++
	}
	if j == i+1 {
		return "'", j + 1, true // '' outside quotes is a quote
	}
	return b.String(), j + 1, true
}

// Compile checks a DateTimeFormatter pattern. It supports the letters
// G u y Y Q q M L w W d D E e c a h K k H m s S A n N V z Z X x O,
// 'quoted text' with a doubled quote for a quote, and rejects what Java rejects: unknown
// letters, too many letters, the reserved # { }, and a ] without [ (an
// unclosed [ runs to the end, as in Java). Append always prints the content of
// an optional section, as Java does when the value is available.
func Compile(pattern string) (*Pattern, error) {
	p := &Pattern{source: pattern}
	fail := func(pos int, format string, args ...any) (*Pattern, error) {
		return nil, &PatternError{Pattern: pattern, Pos: pos, Reason: fmt.Sprintf(format, args...)}
	}
	lit := func(pos int, s string) {
		if n := len(p.items); n > 0 && p.items[n-1].letter == 0 {
			p.items[n-1].lit += s
			return
		}
		p.items = append(p.items, item{lit: s, pos: pos})
	}
	depth := 0
	for i := 0; i < len(pattern); {
		c := pattern[i]
		switch {
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			j := i
			for j < len(pattern) && pattern[j] == c {
				j++
			}
			n := j - i
			if max, ok := letterMax[c]; !ok {
				return fail(i, "unknown pattern letter %q", c)
			} else if n > max {
				return fail(i, "too many pattern letters %q", pattern[i:j])
			}
			if c == 'V' && n != 2 {
				return fail(i, "pattern letter V must be VV")
			}
			if c == 'O' && n != 1 && n != 4 {
				return fail(i, "pattern letter O must be O or OOOO")
			}
			if c == 'Y' || c == 'w' || c == 'e' || c == 'c' {
				p.WeekBased = true
			}
			p.items = append(p.items, item{letter: c, count: n, pos: i})
			i = j
		case c == '\'':
			text, end, ok := quoted(pattern, i)
			if !ok {
				return fail(i, "unterminated quoted literal")
			}
			lit(i, text)
			i = end
		case c == '[':
			depth++
			p.optional = true
			i++
		case c == ']':
			if depth == 0 {
				return fail(i, "] without [")
			}
			depth--
			i++
		case c == '#' || c == '{' || c == '}':
			return fail(i, "reserved character %q", c)
		default:
			lit(i, pattern[i:i+1])
			i++
		}
	}
	return p, nil
}
