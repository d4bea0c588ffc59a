package main

import (
	"testing"

	"github.com/lakekit/lakekit/lakepipe/convert"
)

// FuzzParseMapping checks that a mapping file is refused or gives columns
// that each name a source and a valid type.
func FuzzParseMapping(f *testing.F) {
	for _, s := range []string{
		`[{"source": "a", "type": "bigint"}]`,
		`{"columns": [{"source": "d", "name": "day", "type": "date", "layout": "dd/MM/yyyy"}]}`,
		`[{"source": "p", "type": "decimal(10,2)"}]`,
		`[{"source": "p", "type": "decimal(99,99)"}]`,
		`[]`, `[{"type": "string"}]`, `{"columns": 1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := parseMapping(data)
		if err != nil {
			return
		}
		if len(ms) == 0 {
			t.Fatal("no columns and no error")
		}
		for _, m := range ms {
			if m.Source == "" || m.Type < convert.TypeString || m.Type > convert.TypeDecimal {
				t.Fatalf("bad mapping %+v", m)
			}
		}
	})
}
