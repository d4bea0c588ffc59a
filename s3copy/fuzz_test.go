package s3copy_test

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/lakekit/lakekit/s3copy"
)

func FuzzParseLocation(f *testing.F) {
	for _, s := range []string{"s3://bucket/prefix/", "s3://b", "s3://b/", "s3:///x", "http://b/x", "s3://b/a/../c", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, err := s3copy.ParseLocation(s)
		if err != nil {
			return
		}
		if loc.Bucket == "" || strings.Contains(loc.Bucket, "/") {
			t.Fatalf("%q → bucket %q", s, loc.Bucket)
		}
		if loc.String() != s && loc.String() != s+"/" {
			t.Fatalf("%q → %q", s, loc.String())
		}
	})
}

func FuzzCheckKey(f *testing.F) {
	for _, s := range [][2]string{{"out/", "out/a"}, {"out/", "out/../a"}, {"", "./a"}, {"o", "o/./x"}, {"out/", "other"},
		{"out/", "out/a\x00"}, {"out/", "out/\t"}, {"", "a\x7f"}, {"", "\u0085"}, {"", "x\uffff"}, {"", "\xff"}, {"é/", "é/\xc3"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, key string) {
		err := s3copy.CheckKey(prefix, key)
		var ke *s3copy.KeyCharError
		if errors.As(err, &ke) {
			// The offset points at the character refused, and nothing
			// before it is refused.
			if ke.Key != key || ke.Offset < 0 || ke.Offset >= len(key) || !errors.Is(err, s3copy.ErrKeyChar) {
				t.Fatalf("%q: %+v", key, ke)
			}
			r, size := utf8.DecodeRuneInString(key[ke.Offset:])
			if ke.Invalid != (r == utf8.RuneError && size <= 1) || !ke.Invalid && r != ke.Rune {
				t.Fatalf("%q: %+v, at the offset %U", key, ke, r)
			}
			if !utf8.ValidString(key[:ke.Offset]) || strings.IndexFunc(key[:ke.Offset], badKeyRune) >= 0 {
				t.Fatalf("%q: an earlier character is bad too (%+v)", key, ke)
			}
		}
		if err != nil {
			return
		}
		if !utf8.ValidString(key) {
			t.Fatalf("accepted invalid UTF-8 %q", key)
		}
		if i := strings.IndexFunc(key, badKeyRune); i >= 0 {
			t.Fatalf("accepted %q with %U at %d", key, []rune(key[i:])[0], i)
		}
		if !strings.HasPrefix(key, prefix) || len(key) > s3copy.MaxKeyLength || key == prefix {
			t.Fatalf("accepted %q under %q", key, prefix)
		}
		// No "." or ".." segment may appear anywhere below the prefix's
		// last "/".
		rest := key[strings.LastIndex(prefix, "/")+1:]
		for _, seg := range strings.Split(rest, "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("accepted %q under %q", key, prefix)
			}
		}
		if strings.HasPrefix(key[len(prefix):], "/") {
			t.Fatalf("accepted %q under %q", key, prefix)
		}
	})
}

// badKeyRune is the fuzz target's own statement of the rule: Unicode
// control characters (C0, DEL, C1) and XML 1.0's excluded U+FFFE, U+FFFF.
func badKeyRune(r rune) bool {
	return unicode.IsControl(r) || r == 0xFFFE || r == 0xFFFF
}
