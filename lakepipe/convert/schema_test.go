package convert

import (
	"strings"
	"testing"
)

// TestParseType: the type names of a Glue ApplyMapping, Hive DDL and Go
// map to the converter's types, the Glue names round-trip through String,
// and an unknown name is an error that quotes it.
func TestParseType(t *testing.T) {
	for name, want := range map[string]Type{
		"string": TypeString, "varchar": TypeString, "long": TypeInt64, "bigint": TypeInt64, "int": TypeInt64,
		" Integer ": TypeInt64, "double": TypeFloat64, "float64": TypeFloat64, "boolean": TypeBool, "BOOL": TypeBool,
		"date": TypeDate, "timestamp": TypeTimestamp, "decimal": TypeDecimal,
	} {
		if got, err := ParseType(name); err != nil || got != want {
			t.Errorf("ParseType(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	for typ := TypeString; typ <= TypeDecimal; typ++ {
		if got, err := ParseType(typ.String()); err != nil || got != typ {
			t.Errorf("ParseType(%v.String()) = %v, %v", typ, got, err)
		}
	}
	if _, err := ParseType("map<string,int>"); err == nil || !strings.Contains(err.Error(), `"map<string,int>"`) {
		t.Fatalf("unknown type: %v", err)
	}
}

// FuzzParseType: any name parses to a valid type whose String parses back
// to it, or fails.
func FuzzParseType(f *testing.F) {
	for _, s := range []string{"string", "BIGINT", " date ", "decimal(10,2)", "", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		typ, err := ParseType(name)
		if err != nil {
			return
		}
		if typ < TypeString || typ > TypeDecimal {
			t.Fatalf("ParseType(%q) = invalid %d", name, typ)
		}
		if back, err := ParseType(typ.String()); err != nil || back != typ {
			t.Fatalf("%q → %v → %v, %v", name, typ, back, err)
		}
	})
}
