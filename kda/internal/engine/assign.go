package engine

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/value"
)

func dataRow(data []byte) string {
	if utf8.Valid(data) {
		return string(data)
	}
	return fmt.Sprintf("%x", data)
}

func valuesRow(vals []value.Value) string {
	b := []byte{'['}
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = v.AppendJSON(b)
	}
	return string(append(b, ']'))
}

// assign converts v for storage in a column of type t: numbers convert
// (DOUBLE to INTEGER truncates; out-of-range fails), strings longer than the
// column fail rather than being cut silently.
func assign(v value.Value, t value.Type) (value.Value, error) {
	if v.K == value.KindNull {
		return v, nil
	}
	switch t.Kind {
	case value.KindInt:
		if v.K == value.KindInt && (t.Bits != 32 || v.I >= math.MinInt32 && v.I <= math.MaxInt32) {
			return v, nil
		}
		if v.K == value.KindInt || v.K == value.KindFloat {
			return castValue(v, t)
		}
	case value.KindFloat:
		if v.K == value.KindFloat {
			return v, nil
		}
		if v.K == value.KindInt {
			return value.FloatValue(float64(v.I)), nil
		}
	case value.KindString:
		if v.K == value.KindString {
			if len(v.S) > t.Len && utf8.RuneCountInString(v.S) > t.Len {
				return v, &EvalError{fmt.Sprintf("value of %d characters is too long for %s", utf8.RuneCountInString(v.S), t)}
			}
			return v, nil
		}
	case value.KindBinary:
		if v.K == value.KindBinary {
			if len(v.S) > t.Len {
				return v, &EvalError{fmt.Sprintf("value of %d bytes is too long for %s", len(v.S), t)}
			}
			return v, nil
		}
	default:
		if v.K == t.Kind {
			return v, nil
		}
	}
	return v, &EvalError{fmt.Sprintf("%s value %s does not fit %s", v.K, v.SQL(), t)}
}
