package convert

import (
	"bytes"
	"testing"
)

// csvRecordEndRef is the byte-at-a-time RFC 4180 framing that recordEnd
// must agree with.
func csvRecordEndRef(data []byte, start int, delim byte) (end, lines int, complete, quoteOpen bool) {
	nl := bytes.IndexByte(data[start:], '\n')
	line := data[start:]
	if nl >= 0 {
		line = data[start : start+nl]
	}
	if bytes.IndexByte(line, '"') < 0 {
		if nl < 0 {
			return len(data), 0, false, false
		}
		return start + nl + 1, 1, true, false
	}
	fieldStart := true
	for i := start; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			if !fieldStart {
				continue // a bare quote: literal here, an error for splitRecord
			}
			fieldStart = false
			// Inside a quoted field: jump from quote to quote.
			for {
				k := bytes.IndexByte(data[i+1:], '"')
				if k < 0 {
					lines += bytes.Count(data[i+1:], []byte{'\n'})
					return len(data), lines, false, true
				}
				lines += bytes.Count(data[i+1:i+1+k], []byte{'\n'})
				i += 1 + k
				if i+1 < len(data) && data[i+1] == '"' {
					i++ // escaped quote
					continue
				}
				break
			}
		case delim:
			fieldStart = true
		case '\n':
			return i + 1, lines + 1, true, false
		default:
			fieldStart = false
		}
	}
	return len(data), lines, false, false
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
