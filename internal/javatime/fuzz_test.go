package javatime

import (
	"errors"
	"testing"
	"time"
)

// FuzzCompile feeds patterns from outside (user config) to Compile and
// CompileLayout: neither may panic, a rejection is a *PatternError, and an
// accepted pattern formats and parses without panicking.
func FuzzCompile(f *testing.F) {
	for _, c := range formatCases {
		f.Add(c.pattern)
	}
	for _, c := range parseCases {
		f.Add(c.layout)
	}
	for _, s := range []string{"", "'", "''", "'it''s'", "[yyyy", "yyyy]", "#", "{}", "VVV", "OO", "SSSSSSSSSS", "yyyy-MM-dd[ HH]", "\xff'\x00"} {
		f.Add(s)
	}
	at := time.Date(2024, 12, 30, 13, 7, 9, 123456789, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Compile(s)
		var pe *PatternError
		if err != nil {
			if !errors.As(err, &pe) || pe.Pattern != s || pe.Pos >= len(s) {
				t.Fatalf("Compile(%q) = %v, want a *PatternError inside the pattern", s, err)
			}
		} else {
			for _, wf := range []WeekFields{WeekFieldsUS, WeekFieldsISO} {
				p.Append(nil, at, wf)
			}
		}
		l, err := CompileLayout(s)
		if err != nil {
			if !errors.As(err, &pe) {
				t.Fatalf("CompileLayout(%q) = %v, want a *PatternError", s, err)
			}
			return
		}
		l.Parse([]byte(s))
		l.Parse([]byte("2024-12-30 13:07:09.123"))
	})
}

// FuzzLayout checks the fast numeric layout parser against time.Parse.
func FuzzLayout(f *testing.F) {
	for _, s := range []string{"05/03/2021", "29/02/2020", "31/04/2021", "1/1/2021", "00/01/2000", "05/03/21"} {
		f.Add(s)
	}
	cl, _ := CompileLayout("dd/MM/yyyy")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := cl.Parse([]byte(s))
		want, err := parseGo("02/01/2006", s)
		if ok != (err == nil) {
			t.Fatalf("%q: fast ok=%v, time.Parse err=%v", s, ok, err)
		}
		if ok && got.Days() != want {
			t.Fatalf("%q: days %d, want %d", s, got.Days(), want)
		}
	})
}
