package value

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// appendJSONStringBytewise is appendJSONString one byte a step: the
// reference FuzzAppendJSONString compares it with.
func appendJSONStringBytewise(dst []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case !jsonEscape[c]:
			dst = append(dst, c)
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c == '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		}
	}
	return append(dst, '"')
}

// FuzzAppendJSONString: appendJSONString writes what escaping one byte a
// step writes, and for valid UTF-8 encoding/json reads s back.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "sensor_id", "current_temperature", `a"b\c<d>e&f`, "0123456789abcdef\x00\x1f\x7f\x80é", "tab\there\nand\rthere<<>>&&\"\"", "TICKER_SYMBOL&Company number T123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := appendJSONString(nil, s)
		if want := appendJSONStringBytewise(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		var back string
		if utf8.ValidString(s) && (json.Unmarshal(got, &back) != nil || back != s) {
			t.Fatalf("%q: %s reads back as %q", s, got, back)
		}
	})
}

// TestAppendJSONStringEveryOffset: each escaped byte is found at every
// offset of the 8-byte words appendJSONString reads.
func TestAppendJSONStringEveryOffset(t *testing.T) {
	base := "abcdefghijklmnopqrstu"
	for i := 0; i <= len(base); i++ {
		for _, c := range []string{`"`, `\`, "<", ">", "&", "\n", "\x01", "\x1f", "é", "\x7f"} {
			s := base[:i] + c + base[i:]
			if got, want := appendJSONString(nil, s), appendJSONStringBytewise(nil, s); string(got) != string(want) {
				t.Fatalf("%q: got %s, want %s", s, got, want)
			}
		}
	}
}
