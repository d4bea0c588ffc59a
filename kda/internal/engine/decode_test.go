package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/value"
)

var seedColumns = []value.Column{
	{Name: "sensor_id", Type: value.Integer, Mapping: "$.sensor_id"},
	{Name: "current_temperature", Type: value.Integer, Mapping: "$.current_temperature"},
	{Name: "location", Type: value.Varchar(16), Mapping: "$.location"},
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add([]byte(`{"sensor_id": 12, "current_temperature": 101, "location": "AUS"}`))
	f.Add([]byte(`{"sensor_id": -1e3, "location": "\u00e9\"", "x": {"y": [1, 2, {"z": null}]}}`))
	f.Add([]byte(`{"a":`))
	dec, err := newDecoder(append([]value.Column(nil), seedColumns...))
	if err != nil {
		f.Fatal(err)
	}
	out := make([]value.Value, 3)
	f.Fuzz(func(t *testing.T, data []byte) {
		err := dec.decode(data, out)
		if err == nil && !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		var ie *InputError
		if err != nil && !errors.As(err, &ie) {
			t.Fatalf("error type %T", err)
		}
	})
}

// FuzzLikeMatch checks likeMatch against the regexp LIKE used to compile
// to, on valid UTF-8.
func FuzzLikeMatch(f *testing.F) {
	f.Add("hello", "h%l_o")
	f.Add("aaa", "%a%a%a%a")
	f.Add("", "%")
	f.Add("é.x", "_._")
	f.Add("a\nb", "a_b")
	f.Fuzz(func(t *testing.T, s, p string) {
		if !utf8.ValidString(s) || !utf8.ValidString(p) || len(p) > 64 {
			return
		}
		var re strings.Builder
		re.WriteString("(?s)^")
		for _, r := range p {
			switch r {
			case '%':
				re.WriteString(".*")
			case '_':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString("$")
		if want := regexp.MustCompile(re.String()).MatchString(s); likeMatch(s, p) != want {
			t.Fatalf("likeMatch(%q, %q) = %v, want %v", s, p, !want, want)
		}
	})
}

// FuzzDecodeCSV: the CSV decoder never panics, and every row it accepts
// has one value per column of that column's kind (or NULL).
func FuzzDecodeCSV(f *testing.F) {
	f.Add([]byte("12,101,AUS\n13,,x\n"))
	f.Add([]byte("1,2\n,,,\n\xff"))
	cols := append([]value.Column(nil), seedColumns...)
	dec, err := newCSVDecoder(Format{Type: FormatCSV}, cols)
	if err != nil {
		f.Fatal(err)
	}
	out := make([]value.Value, len(cols))
	f.Fuzz(func(t *testing.T, data []byte) {
		dec.rows(data, out, func(row []value.Value, raw string, err error) {
			if err != nil {
				var ie *InputError
				if !errors.As(err, &ie) {
					t.Fatalf("error type %T", err)
				}
				return
			}
			for i, v := range row {
				if v.K != value.KindNull && v.K != cols[i].Type.Kind {
					t.Fatalf("column %d: %v for %s", i, v, cols[i].Type)
				}
			}
		})
	})
}

// FuzzValidNumber checks validNumber against encoding/json.
func FuzzValidNumber(f *testing.F) {
	for _, s := range []string{"0", "-0", "01", "1.", ".5", "1e5", "1E+5", "-1.5e-3", "+1", "1e", "--1", "", "-"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := json.Valid(b) && len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') && !strings.ContainsAny(string(b), " \t\r\n")
		if got := validNumber(b); got != want {
			t.Fatalf("validNumber(%q) = %v, want %v", b, got, want)
		}
	})
}

// diffColumns cover every kind and a nested path for FuzzDecodeDifferential.
var diffColumns = []value.Column{
	{Name: "id", Type: value.Integer, Mapping: "$.id"},
	{Name: "loc", Type: value.Varchar(4), Mapping: "$.loc"},
	{Name: "price", Type: value.Double, Mapping: "$.price"},
	{Name: "ok", Type: value.Boolean, Mapping: "$.ok"},
	{Name: "ts", Type: value.Timestamp, Mapping: "$.ts"},
	{Name: "fw", Type: value.Varchar(8), Mapping: "$.meta.fw"},
	{Name: "big", Type: value.Bigint, Mapping: "$.meta.n.big"},
}

// FuzzDecodeDifferential checks the decoder against encoding/json on valid
// UTF-8 without repeated keys: the same row, or an error of the same class
// (a record that is not a JSON object; a value that does not fit its
// column, naming the column).
func FuzzDecodeDifferential(f *testing.F) {
	for _, s := range []string{
		`{"id": 12, "loc": "AUS", "price": 1.5e2, "ok": true, "ts": "2024-01-02 03:04:05", "meta": {"fw": [1, {"a": "b"}], "n": {"big": -9223372036854775808}}}`,
		`{"id": 1e3, "loc": "\u00e9\"x", "price": -0, "ok": null, "ts": 1700000000000, "meta": 5}`,
		`{"id": 2147483648}`, `{"id": 1.5}`, `{"loc": "toolong"}`, `{"price": 1e400}`, `{"ok": "yes"}`, `{"fw": true, "meta": {"fw": false}}`,
		`[1]`, `{"a":`, `{"id": 01}`, `{"loc": "a\u0000"}`, ` {"meta":{"n":{"big":1.0}}} `, `{"id":1,"id":2}`,
	} {
		f.Add([]byte(s))
	}
	dec, err := newDecoder(append([]value.Column(nil), diffColumns...))
	if err != nil {
		f.Fatal(err)
	}
	out := make([]value.Value, len(diffColumns))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !utf8.Valid(data) || repeatsKey(data) {
			return
		}
		want, wantClass := referenceDecode(data, diffColumns)
		err := dec.decode(data, out)
		class := ""
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("%q: error type %T", data, err)
			}
			class = "record"
			if ie.Column != "" {
				class = "column"
			}
		}
		switch {
		case wantClass == "" && err != nil:
			t.Fatalf("%q: %v, want %v", data, err, want)
		case wantClass == "" && !reflect.DeepEqual(out, want):
			t.Fatalf("%q: got %v, want %v", data, out, want)
		case wantClass == "record" && err == nil:
			t.Fatalf("%q: accepted, encoding/json refuses it", data)
		case wantClass == "column" && class != "column":
			t.Fatalf("%q: error %v, want a column's error", data, err)
		}
	})
}

// repeatsKey reports whether an object in data repeats a key (or data is
// not valid JSON): decoders differ on which one wins.
func repeatsKey(data []byte) bool {
	d := json.NewDecoder(bytes.NewReader(data))
	var stack []map[string]bool // nil entries: arrays
	expectKey := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return false
		}
		if err != nil {
			return true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, map[string]bool{})
			expectKey = true
			continue
		case json.Delim('['):
			stack = append(stack, nil)
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1] != nil {
			if s, ok := tok.(string); ok && expectKey {
				if stack[len(stack)-1][s] {
					return true
				}
				stack[len(stack)-1][s] = true
				expectKey = false
				continue
			}
			expectKey = true
		}
	}
}

// referenceDecode maps data onto cols with encoding/json: the row, or
// the class of the error ("record" or "column").
func referenceDecode(data []byte, cols []value.Column) ([]value.Value, string) {
	if !json.Valid(data) {
		return nil, "record"
	}
	var root map[string]json.RawMessage
	if json.Unmarshal(data, &root) != nil {
		return nil, "record" // not an object
	}
	row := make([]value.Value, len(cols))
	for i, c := range cols {
		path, _ := parseMapping(c)
		obj, raw := root, json.RawMessage(nil)
		for k, seg := range path {
			r, ok := obj[seg]
			if !ok {
				break
			}
			if k == len(path)-1 {
				raw = r
				break
			}
			obj = nil
			if json.Unmarshal(r, &obj) != nil || obj == nil {
				break // not an object: the column stays NULL
			}
		}
		if raw == nil {
			continue
		}
		v, ok := referenceValue(raw, c.Type)
		if !ok {
			return nil, "column"
		}
		row[i] = v
	}
	return row, ""
}

// referenceValue converts one raw JSON value to t, as the reference sees
// the column rules: numbers into integers when integral, text and raw
// objects into VARCHARs that fit.
func referenceValue(raw json.RawMessage, t value.Type) (value.Value, bool) {
	fits := func(s string) bool { return utf8.RuneCountInString(s) <= t.Len }
	switch raw[0] {
	case 'n':
		return value.Value{}, true
	case 't', 'f':
		switch t.Kind {
		case value.KindBool:
			return value.BoolValue(raw[0] == 't'), true
		case value.KindString:
			return value.StringValue(string(raw)), fits(string(raw))
		}
		return value.Value{}, false
	case '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return value.Value{}, false
		}
		switch t.Kind {
		case value.KindString:
			return value.StringValue(s), fits(s)
		case value.KindTime:
			ms, ok := parseTimestamp(s)
			return value.Value{K: value.KindTime, I: ms}, ok
		}
		return value.Value{}, false
	case '{', '[':
		return value.StringValue(string(raw)), t.Kind == value.KindString && fits(string(raw))
	}
	num := string(raw)
	switch t.Kind {
	case value.KindString:
		return value.StringValue(num), fits(num)
	case value.KindFloat:
		f, err := strconv.ParseFloat(num, 64)
		return value.FloatValue(f), err == nil
	case value.KindInt, value.KindTime:
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			f, ferr := strconv.ParseFloat(num, 64)
			if ferr != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
				return value.Value{}, false
			}
			n = int64(f)
		}
		if t.Kind == value.KindInt && t.Bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
			return value.Value{}, false
		}
		return value.Value{K: t.Kind, I: n}, true
	}
	return value.Value{}, false
}

// TestDecodeRepeatedKeyLastWins: a repeated key's last value is the
// column's, a null included; a string's UTF-8 is checked with or without
// escapes; a DOUBLE out of range and a boolean too long for its VARCHAR
// are the column's errors.
func TestDecodeRepeatedKeyLastWins(t *testing.T) {
	dec, err := newDecoder(append([]value.Column(nil), diffColumns...))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]value.Value, len(diffColumns))
	if err := dec.decode([]byte(`{"id":1,"id":null,"loc":"a","loc":"b"}`), out); err != nil || out[0].K != value.KindNull || out[1].S != "b" {
		t.Fatalf("%v %v", out, err)
	}
	for rec, want := range map[string]string{
		"{\"loc\":\"\\n\xff\"}":              `column "loc": string is not valid UTF-8`,
		"{\"loc\":\"\xff\"}":                 `column "loc": string is not valid UTF-8`,
		`{"price":1e400}`:                    `column "price": 1e400 is out of range for DOUBLE`,
		`{"meta":{"fw":true},"loc":false}`:   `column "loc": value of 5 characters is too long for VARCHAR(4)`,
		`{"id":"1"}`:                         `column "id": string value for INTEGER column`,
		`{"loc":"abcdefghijklmnopqrstuvwx"}`: `column "loc": value of 24 characters is too long for VARCHAR(4)`,
	} {
		if err := dec.decode([]byte(rec), out); err == nil || err.Error() != want {
			t.Errorf("%q: %v, want %s", rec, err, want)
		}
	}
}

// BenchmarkDecode decodes records shaped as the seed's generator writes
// them (indented, three columns) and as the demo stream's (four columns,
// two of them DOUBLE) into rows: the decoding part of the kda package's
// from-JSON benchmarks.
func BenchmarkDecode(b *testing.B) {
	locs := []string{"AUS", "USA", "UK"}
	tickers := []string{"AMZN", "XOM", "IBM", "AAPL", "MSFT", "NFLX", "TSLA", "GOOG", "META", "ORCL"}
	demoColumns := []value.Column{
		{Name: "TICKER_SYMBOL", Type: value.Varchar(4)}, {Name: "SECTOR", Type: value.Varchar(16)},
		{Name: "CHANGE", Type: value.Double}, {Name: "PRICE", Type: value.Double},
	}
	for _, bc := range []struct {
		name string
		cols []value.Column
		rec  func(i int) []byte
	}{
		{"seed", seedColumns, func(i int) []byte {
			return fmt.Appendf(nil, "{\n    \"sensor_id\": %d,\n    \"current_temperature\": %d,\n    \"location\": \"%s\"\n}", i%50, i*7%150, locs[i%3])
		}},
		{"demo", demoColumns, func(i int) []byte {
			return fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"TECHNOLOGY","CHANGE":%.2f,"PRICE":%.2f}`, tickers[i*7%10], float64(i%200)/100-1, 50+float64(i*37%10000)/100)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dec, err := newDecoder(append([]value.Column(nil), bc.cols...))
			if err != nil {
				b.Fatal(err)
			}
			recs := make([][]byte, 4096)
			size := 0
			for i := range recs {
				recs[i] = bc.rec(i)
				size += len(recs[i])
			}
			out := make([]value.Value, len(bc.cols))
			b.SetBytes(int64(size / len(recs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := dec.decode(recs[i&4095], out); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// FuzzParseDecimal: parseDecimal agrees with strconv.ParseFloat on every
// number it accepts, and accepts only JSON numbers.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"0", "-0", "0.5", "01", "1.", ".5", "123.45", "-999999999999999", "9999999999999999", "0.000000000000001", "1e5", "-", "1.2.3", "00.1"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseDecimal(b)
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(string(b), 64)
		if err != nil || !validNumber(b) || got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("parseDecimal(%q) = %v, ParseFloat %v %v, validNumber %v", b, got, want, err, validNumber(b))
		}
	})
}

// TestDecodeStringEveryOffset: a quote, an escape, a non-ASCII rune, an
// invalid byte or a control character is found wherever it falls in the
// 8-byte words scanString reads.
func TestDecodeStringEveryOffset(t *testing.T) {
	dec, err := newDecoder([]value.Column{{Name: "s", Type: value.Varchar(64)}})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]value.Value, 1)
	base := "abcdefghijklmnopqrstuvwxyz"
	for i := 0; i <= len(base); i++ {
		for ins, want := range map[string]string{
			`\"`: base[:i] + `"` + base[i:], `\\`: base[:i] + `\` + base[i:], "é": base[:i] + "é" + base[i:], "": base,
			"\xff": "error", "\x01": "error",
		} {
			rec := `{"s":"` + base[:i] + ins + base[i:] + `"}`
			err := dec.decode([]byte(rec), out)
			if want == "error" && err == nil || want != "error" && (err != nil || out[0].S != want) {
				t.Fatalf("%q: %v %q, want %q", rec, err, out[0].S, want)
			}
		}
		rec := []byte(`{"s":"` + base[:i]) // unterminated
		if err := dec.decode(rec, out); err == nil {
			t.Fatalf("%q accepted", rec)
		}
	}
}
