package kda

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPrefixRendering(t *testing.T) {
	d := func(y int, m time.Month, day, h int) time.Time {
		return time.Date(y, m, day, h, 7, 9, 123_000_000, time.UTC)
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		prefix string
		at     time.Time
		loc    *time.Location
		wf     WeekFields
		want   string
		warn   bool
	}{
		// The seed's prefix, as written (YYYY) and corrected (yyyy).
		{"data/anomaly/year=!{timestamp:YYYY}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/", d(2019, 12, 30, 5), nil, WeekFieldsUS,
			"data/anomaly/year=2020/month=12/day=30/hour=05/", true},
		{"data/anomaly/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/", d(2019, 12, 30, 5), nil, WeekFieldsUS,
			"data/anomaly/year=2019/month=12/day=30/hour=05/", false},
		// US and ISO weeks disagree on 2022-01-01 (a Saturday) and 2023-12-31 (a Sunday).
		{"!{timestamp:YYYY-'W'ww}/", d(2022, 1, 1, 0), nil, WeekFieldsUS, "2022-W01/", true},
		{"!{timestamp:YYYY-'W'ww}/", d(2022, 1, 1, 0), nil, WeekFieldsISO, "2021-W52/", true},
		{"!{timestamp:YYYY-'W'ww}/", d(2023, 12, 31, 0), nil, WeekFieldsUS, "2024-W01/", true},
		{"!{timestamp:YYYY-'W'ww}/", d(2023, 12, 31, 0), nil, WeekFieldsISO, "2023-W52/", true},
		{"!{timestamp:YYYY}", d(2021, 1, 1, 0), nil, WeekFieldsISO, "2020", true},
		// Quoted literals, '' escapes and text fields.
		{"!{timestamp:'year='yyyy'/it''s/'MMM'/'EEEE}/", d(2024, 2, 29, 0), nil, WeekFieldsUS, "year=2024/it's/Feb/Thursday/", false},
		{"!{timestamp:uuuu-MM-dd'T'HH:mm:ss.SSSXXX}", d(2024, 2, 29, 13), nil, WeekFieldsUS, "2024-02-29T13:07:09.123Z", false},
		{"!{timestamp:yy/M/d/h a/DDD/Q/Z/xx}", d(2024, 2, 9, 13), nil, WeekFieldsUS, "24/2/9/1 PM/040/1/+0000/+0000", false},
		// A zone: Firehose's custom time zone option.
		{"!{timestamp:yyyy-MM-dd HH XXX VV}", d(2019, 12, 31, 23), paris, WeekFieldsUS, "2020-01-01 00 +01:00 Europe/Paris", false},
		// No timestamp expression: Firehose appends yyyy/MM/dd/HH/.
		{"raw/", d(2019, 12, 30, 5), nil, WeekFieldsUS, "raw/2019/12/30/05/", false},
		{"", d(2019, 12, 30, 5), nil, WeekFieldsUS, "2019/12/30/05/", false},
		{"x/!{firehose:random-string}/", d(2019, 12, 30, 5), nil, WeekFieldsUS, "x/RANDOMSTRIN/2019/12/30/05/", false},
	}
	for _, tc := range tests {
		p, err := ParsePrefix(tc.prefix)
		if err != nil {
			t.Fatalf("%s: %v", tc.prefix, err)
		}
		got := p.Render(PrefixValues{Time: tc.at, Location: tc.loc, WeekFields: tc.wf, RandomString: "RANDOMSTRIN"})
		if got != tc.want {
			t.Errorf("%s at %v:\n got %s\nwant %s", tc.prefix, tc.at, got, tc.want)
		}
		if (len(p.Warnings) > 0) != tc.warn {
			t.Errorf("%s: warnings %v, want warning %v", tc.prefix, p.Warnings, tc.warn)
		}
	}
	ep, err := parsePrefix("errors/!{firehose:error-output-type}/!{timestamp:yyyy}/", errorPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if got := ep.Render(PrefixValues{Time: d(2019, 12, 30, 5), ErrorOutputType: ErrorOutputProcessingFailed}); got != "errors/processing-failed/2019/" {
		t.Errorf("error prefix: %s", got)
	}
}

func TestPrefixErrors(t *testing.T) {
	tests := []struct {
		prefix  string
		isError bool
		off     int
		msg     string
	}{
		{"a/!{timestamp:yyyy", false, 2, "unterminated"},
		{"a/!{timestamp:ddd}/", false, 2, "too many pattern letters"},
		{"a/!{timestamp:yyyy-bb}/", false, 2, "unknown pattern letter"},
		{"a/!{timestamp:'open}/", false, 2, "quoted literal"},
		{"a/!{timestamp:yyyy#}/", false, 2, "reserved"},
		{"a/!{timestamp:}/", false, 2, "empty"},
		{"!{firehose:error-output-type}/", false, 0, "only allowed in the error output prefix"},
		{"!{firehose:bogus}/", false, 0, "unknown firehose expression"},
		{"!{partitionKeyFromQuery:id}/", false, 0, "dynamic partitioning"},
		{"!{env:HOME}/", false, 0, "unknown namespace"},
		{"!{timestamp}/", false, 0, "namespace:value"},
		{"a/!{timestamp:!{timestamp:yyyy}}/", false, 2, "nested"},
		{"/abs/", false, 0, "must not start with /"},
		{"data/../other/", false, 0, "segment .."},
		{"data/!{timestamp:'..'}/", false, 0, "renders a .. path segment"},
		{"data/a!{timestamp:'/.'}/x", false, 0, "renders a . path segment"},
		{strings.Repeat("a", 1025), false, 1024, "longer than"},
	}
	for _, tc := range tests {
		_, err := parsePrefix(tc.prefix, kindOf(tc.isError))
		var pe *PrefixError
		if !errors.As(err, &pe) || pe.Offset != tc.off || !strings.Contains(pe.Msg, tc.msg) {
			t.Errorf("%s: got %v, want offset %d %q", tc.prefix, err, tc.off, tc.msg)
		}
	}
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"data/anomaly/year=!{timestamp:YYYY}/month=!{timestamp:MM}/", "!{firehose:random-string}",
		"!{timestamp:'a''b'[yyyy]}", "!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSSXXXXX}", "!{", "a/../b"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, isError bool) {
		p, err := parsePrefix(s, kindOf(isError))
		if err != nil {
			var pe *PrefixError
			if !errors.As(err, &pe) {
				t.Fatalf("error type %T", err)
			}
			return
		}
		out := p.Render(PrefixValues{Time: time.Date(2019, 12, 30, 23, 59, 59, 0, time.UTC), RandomString: "r", ErrorOutputType: "processing-failed"})
		if strings.HasPrefix(out, "/") {
			t.Fatalf("rendered %q starts with /", out)
		}
		for _, seg := range strings.Split(out, "/") {
			if seg == ".." || seg == "." {
				t.Fatalf("rendered %q has a .. segment", out)
			}
		}
	})
}

func kindOf(isError bool) prefixKind {
	if isError {
		return errorPrefix
	}
	return dataPrefix
}
