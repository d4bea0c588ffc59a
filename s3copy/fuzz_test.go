package s3copy_test

import (
	"strings"
	"testing"

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
	for _, s := range [][2]string{{"out/", "out/a"}, {"out/", "out/../a"}, {"", "./a"}, {"o", "o/./x"}, {"out/", "other"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, prefix, key string) {
		if s3copy.CheckKey(prefix, key) != nil {
			return
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
