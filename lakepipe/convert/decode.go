package convert

import (
	"bytes"

	"github.com/parquet-go/parquet-go"
)

// decode converts one field to the column's Parquet value (levels not yet
// set). null reports a NULL; ok false means the text does not fit the type.
func (run *conversion) decode(cd *colCodec, f csvField) (v parquet.Value, null, ok bool) {
	b := f.data
	if !f.quoted && run.nulls != nil && run.nulls[string(b)] {
		return parquet.Value{}, true, true
	}
	if cd.Type == TypeString {
		if len(b) == 0 && !f.quoted && run.c.opts.EmptyStringsAsNull {
			return parquet.Value{}, true, true
		}
		return parquet.ByteArrayValue(b), false, true
	}
	if len(b) == 0 {
		return parquet.Value{}, true, true
	}
	switch cd.Type {
	case TypeInt64:
		n, ok := parseIntLenient(b)
		return parquet.Int64Value(n), false, ok
	case TypeFloat64:
		x, ok := parseFloatText(b)
		return parquet.DoubleValue(x), false, ok
	case TypeBool:
		x, ok := parseBoolText(b)
		return parquet.BooleanValue(x), false, ok
	case TypeDate:
		t, ok := cd.layout.Parse(b)
		if !ok {
			return parquet.Value{}, false, false
		}
		d := t.Days()
		if d < -1<<31 || d > 1<<31-1 {
			return parquet.Value{}, false, false
		}
		return parquet.Int32Value(int32(d)), false, true
	case TypeTimestamp:
		t, ok := cd.layout.Parse(b)
		if !ok {
			return parquet.Value{}, false, false
		}
		return parquet.Int64Value(t.Micros()), false, true
	case TypeDecimal:
		n, ok := parseDecimal(b, cd.Precision, cd.Scale)
		return parquet.Int64Value(n), false, ok
	}
	return parquet.Value{}, false, false
}

// parseIntLenient parses an explicitly mapped integer: leading zeros and a
// '+' sign are accepted there (inference is the strict one).
func parseIntLenient(b []byte) (int64, bool) {
	if len(b) > 0 && b[0] == '+' {
		b = b[1:]
	}
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	for len(digits) > 1 && digits[0] == '0' {
		digits = digits[1:]
	}
	if neg {
		return parseIntText(append([]byte{'-'}, digits...))
	}
	return parseIntText(digits)
}

// parseDecimal parses [-+]digits[.digits] into an unscaled int64 with the
// given scale, rounding half away from zero, and checks the precision.
func parseDecimal(b []byte, precision, scale int) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '-' || b[0] == '+') {
		neg = b[0] == '-'
		b = b[1:]
	}
	intPart, fracPart := b, []byte(nil)
	if i := bytes.IndexByte(b, '.'); i >= 0 {
		intPart, fracPart = b[:i], b[i+1:]
	}
	if len(intPart)+len(fracPart) == 0 || !allDigits(intPart) || !allDigits(fracPart) {
		return 0, false
	}
	limit := uint64(1)
	for range precision {
		limit *= 10
	}
	var n uint64
	for _, c := range intPart {
		if n = n*10 + uint64(c-'0'); n >= limit {
			return 0, false
		}
	}
	for i := range scale {
		d := uint64(0)
		if i < len(fracPart) {
			d = uint64(fracPart[i] - '0')
		}
		if n = n*10 + d; n >= limit {
			return 0, false
		}
	}
	if len(fracPart) > scale && fracPart[scale] >= '5' {
		if n++; n >= limit {
			return 0, false
		}
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
