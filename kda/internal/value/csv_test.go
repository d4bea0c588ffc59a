package value

import (
	"bytes"
	"encoding/csv"
	"math"
	"slices"
	"strings"
	"testing"
)

// csvWant is the field encoding/csv should read back for v: a string as
// it is (but for the reader's one rewrite: CRLF inside a quoted field
// becomes LF), NULL and non-finite doubles as "", every other value as the
// text of its JSON value without JSON's quotes.
func csvWant(v Value) string {
	switch {
	case v.K == KindString:
		return strings.ReplaceAll(v.S, "\r\n", "\n")
	case v.K == KindNull, v.K == KindFloat && (math.IsNaN(v.F) || math.IsInf(v.F, 0)):
		return ""
	}
	return strings.Trim(string(v.AppendJSON(nil)), `"`)
}

// TestAppendRowCSV: every type, quoting, and an empty string apart from
// NULL, against text written by hand.
func TestAppendRowCSV(t *testing.T) {
	row := []Value{
		{}, StringValue(""), StringValue("plain text"), StringValue(`a,b`), StringValue(`say "hi"`),
		StringValue("two\nlines"), StringValue("cr\r"), StringValue(" lead"),
		IntValue(-42), FloatValue(2), FloatValue(0.1), FloatValue(1e300), FloatValue(math.NaN()), BoolValue(true), BoolValue(false),
		{K: KindTime, I: 1_700_000_000_987}, {K: KindDate, I: -1}, {K: KindTimeOfDay, I: 3_723_004},
		{K: KindBinary, S: "\x00\xff,"}, {K: KindInterval, I: -90_061_001}, {K: KindMonths, I: 14},
	}
	want := `,"",plain text,"a,b","say ""hi""","two` + "\n" + `lines","cr` + "\r" + `", lead,` +
		`-42,2.0,0.1,1e+300,,true,false,` +
		`2023-11-14 22:13:20.987,1969-12-31,01:02:03.004,` +
		`AP8s,-1 01:01:01.001,+1-02` + "\n"
	if got := string(AppendRowCSV(nil, row)); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	rec, err := csv.NewReader(strings.NewReader(want)).Read()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range row {
		if rec[i] != csvWant(v) {
			t.Errorf("field %d: read %q, want %q", i, rec[i], csvWant(v))
		}
	}
}

// FuzzAppendRowCSV: whatever the strings, the record is one line to
// encoding/csv with the values' fields, and ends in "\n".
func FuzzAppendRowCSV(f *testing.F) {
	f.Add("a", `b,"c"`, int64(1), 1.5, int64(1_700_000_000_000), "\x00\xff")
	f.Add("", "\r\n", int64(-1), math.Inf(1), int64(-1), "")
	f.Add(" x", "\"", int64(0), math.Copysign(0, -1), int64(0), ",")
	f.Fuzz(func(t *testing.T, s1, s2 string, i int64, fl float64, ms int64, bin string) {
		ms %= 1e14 // years 0001–9999 (and then some): the layout's range
		row := []Value{StringValue(s1), {}, StringValue(s2), IntValue(i), FloatValue(fl), {K: KindTime, I: ms},
			{K: KindDate, I: ms % 2_900_000}, {K: KindTimeOfDay, I: (ms%86_400_000 + 86_400_000) % 86_400_000},
			{K: KindBinary, S: bin}, BoolValue(i%2 == 0), {K: KindInterval, I: ms}}
		line := AppendRowCSV(nil, row)
		if !bytes.HasSuffix(line, []byte("\n")) {
			t.Fatalf("%q does not end in a newline", line)
		}
		r := csv.NewReader(bytes.NewReader(line))
		r.FieldsPerRecord = len(row)
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		want := make([]string, len(row))
		for k, v := range row {
			want[k] = csvWant(v)
		}
		if len(recs) != 1 || !slices.Equal(recs[0], want) {
			t.Fatalf("%q read back as %q, want %q", line, recs, want)
		}
	})
}
