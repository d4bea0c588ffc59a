package convert

import (
	"testing"
)

// csvRecordEndRef is the byte-at-a-time RFC 4180 framing that recordEnd
// must agree with: a state machine that looks at one byte at a time, with
// none of recordEnd's jumps (IndexByte from quote to quote, the quote-free
// line shortcut), so the fuzz target compares two independent readings.
func csvRecordEndRef(data []byte, start int, delim byte) (end, lines int, complete, quoteOpen bool) {
	fieldStart, inQuote := true, false
	for i := start; i < len(data); i++ {
		c := data[i]
		if inQuote {
			switch {
			case c == '\n':
				lines++
			case c == '"' && i+1 < len(data) && data[i+1] == '"':
				i++ // escaped quote
			case c == '"':
				inQuote = false
			}
			continue
		}
		switch c {
		case '"':
			// Only at a field's start does a quote open a quoted field; a
			// bare quote is literal here, an error for splitRecord.
			inQuote = fieldStart
			fieldStart = false
		case delim:
			fieldStart = true
		case '\n':
			return i + 1, lines + 1, true, false
		default:
			fieldStart = false
		}
	}
	return len(data), lines, false, inQuote
}

func FuzzRecordEnd(f *testing.F) {
	for _, s := range []string{"a,b\n", "\"a\nb\",c\nd", "x\"y,\"z\"\"\n\"\n", "\"", "a,\"b\"c\",d\ne", ",\"\",\"\n\",\n", "\"\"\"\n"} {
		f.Add([]byte(s), 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, start int) {
		if start < 0 || start > len(data) {
			return
		}
		e1, l1, c1, o1 := recordEnd(data, start, ',')
		e2, l2, c2, o2 := csvRecordEndRef(data, start, ',')
		if e1 != e2 || l1 != l2 || c1 != c2 || o1 != o2 {
			t.Fatalf("%q@%d: got (%d %d %v %v), reference (%d %d %v %v)", data, start, e1, l1, c1, o1, e2, l2, c2, o2)
		}
	})
}
