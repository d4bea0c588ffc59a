package engine

import (
	"encoding/json"
	"errors"
	"regexp"
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
