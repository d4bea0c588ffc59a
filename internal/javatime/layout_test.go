package javatime

import (
	"errors"
	"testing"
	"time"
)

func parseGo(layout, s string) (int64, error) {
	t, err := time.Parse(layout, s)
	if err != nil {
		return 0, err
	}
	return t.Unix() / 86400, nil
}

func TestCompileLayoutGoLayout(t *testing.T) {
	tests := []struct {
		layout, in string
		want       string // RFC 3339 in UTC, or "" for no match
		goLayout   string
	}{
		{"dd/MM/yyyy", "05/03/2021", "2021-03-05T00:00:00Z", "02/01/2006"},
		{"dd/MM/yyyy", "5/3/2021", "", "02/01/2006"},
		{"d/M/yyyy", "5/3/2021", "2021-03-05T00:00:00Z", "2/1/2006"},
		{"dd/MM/yyyy", "29/02/2021", "", "02/01/2006"},
		{"yyyy-MM-dd'T'HH:mm:ss", "2021-03-05T10:11:12", "2021-03-05T10:11:12Z", "2006-01-02T15:04:05"},
		{"yyyy-MM-dd HH:mm:ss.SSS", "2021-03-05 10:11:12.5", "2021-03-05T10:11:12.5Z", "2006-01-02 15:04:05.000"},
		{"dd-MMM-yy", "05-Mar-21", "2021-03-05T00:00:00Z", "02-Jan-06"},
		{"yyyy-MM-dd'T'HH:mm:ssXXX", "2021-03-05T10:11:12+02:00", "2021-03-05T08:11:12Z", "2006-01-02T15:04:05Z07:00"},
		{"MM/dd/yyyy hh:mm a", "03/05/2021 01:02 PM", "2021-03-05T13:02:00Z", "01/02/2006 03:04 PM"},
		{"02/01/2006", "05/03/2021", "2021-03-05T00:00:00Z", "02/01/2006"}, // Go layout as is
	}
	for _, tt := range tests {
		cl, err := CompileLayout(tt.layout)
		if err != nil {
			t.Fatalf("%s: %v", tt.layout, err)
		}
		if cl.GoLayout() != tt.goLayout {
			t.Errorf("%s: Go layout %q, want %q", tt.layout, cl.GoLayout(), tt.goLayout)
		}
		v, ok := cl.Parse([]byte(tt.in))
		got := ""
		if ok {
			got = time.UnixMicro(v.Micros()).UTC().Format(time.RFC3339Nano)
		}
		if got != tt.want {
			t.Errorf("%s %q = %q, want %q", tt.layout, tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "dd/QQ/yyyy", "yyyy-MM-dd[ HH]", "'unterminated", "HHmmss SSS", "yyyy1MM"} {
		_, err := CompileLayout(bad)
		var pe *PatternError
		if !errors.As(err, &pe) || pe.Pattern != bad {
			t.Errorf("CompileLayout(%q) = %v, want a *PatternError", bad, err)
		}
	}
}

func TestDaysFromCivil(t *testing.T) {
	for _, d := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(-44, 3, 15, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
	} {
		if got, want := DaysFromCivil(d.Year(), int(d.Month()), d.Day()), d.Unix()/86400; got != want && d.Unix() >= 0 {
			t.Errorf("%v: %d, want %d", d, got, want)
		} else if d.Unix() < 0 && got != (d.Unix()-86399)/86400 {
			t.Errorf("%v: %d, want %d", d, got, (d.Unix()-86399)/86400)
		}
	}
}
