package engine

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// Record formats of an input stream, as a KDA input schema's
// RecordFormatType names them.
const (
	FormatJSON = "JSON"
	FormatCSV  = "CSV"
)

// Format is how an input stream's records are laid out: JSON (one row per
// record, columns found by their mappings) or CSV (rows split by
// RowDelimiter, columns by ColumnDelimiter, in column order).
type Format struct {
	Type            string // FormatJSON (default) or FormatCSV
	RowDelimiter    string // CSV; default "\n"
	ColumnDelimiter string // CSV; default ","
}

// csvDecoder splits a CSV record into rows and fields and converts each
// field to its column's type. KDA's CSV mapping has no quoting: a
// delimiter always delimits.
type csvDecoder struct {
	rowDelim, colDelim string
	types              []value.Type
	names              []string
}

func newCSVDecoder(f Format, cols []value.Column) (*csvDecoder, error) {
	d := &csvDecoder{rowDelim: f.RowDelimiter, colDelim: f.ColumnDelimiter}
	if d.rowDelim == "" {
		d.rowDelim = "\n"
	}
	if d.colDelim == "" {
		d.colDelim = ","
	}
	if d.rowDelim == d.colDelim {
		return nil, fmt.Errorf("row and column delimiters are both %q", d.rowDelim)
	}
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	for i, c := range cols {
		d.types = append(d.types, cols[i].Type)
		d.names = append(d.names, c.Name)
	}
	return d, nil
}

// rows calls fn for each row of the record data, or for the first row that
// fails with its error. Empty rows (a trailing delimiter) are skipped.
func (d *csvDecoder) rows(data []byte, out []value.Value, fn func(row []value.Value, raw string, err error)) {
	if !utf8.Valid(data) {
		fn(nil, dataRow(data), &InputError{Msg: "record is not valid UTF-8"})
		return
	}
	for line := range strings.SplitSeq(string(data), d.rowDelim) {
		if strings.TrimSpace(line) == "" {
			continue
		}
		err := d.decode(line, out)
		fn(out, line, err)
	}
}

// decode converts one row's fields into out.
func (d *csvDecoder) decode(line string, out []value.Value) error {
	clear(out)
	fields := strings.Split(line, d.colDelim)
	if len(fields) != len(d.types) {
		return &InputError{Msg: fmt.Sprintf("%d fields for %d columns", len(fields), len(d.types))}
	}
	for i, f := range fields {
		v, err := parseField(f, d.types[i])
		if err != nil {
			return &InputError{Column: d.names[i], Msg: err.Error()}
		}
		out[i] = v
	}
	return nil
}

// parseField converts a text field to a value of type t; an empty field is
// NULL (except for VARCHAR, where it is the empty string).
func parseField(f string, t value.Type) (value.Value, error) {
	if t.Kind == value.KindString {
		if len(f) > t.Len && utf8.RuneCountInString(f) > t.Len {
			return value.Value{}, fmt.Errorf("value of %d characters is too long for %s", utf8.RuneCountInString(f), t)
		}
		return value.StringValue(f), nil
	}
	s := strings.TrimSpace(f)
	if s == "" {
		return value.Value{}, nil
	}
	switch t.Kind {
	case value.KindInt:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return value.Value{}, fmt.Errorf("%q is not an integer", truncateRunes(s, 32))
		}
		if t.Bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
			return value.Value{}, fmt.Errorf("%d is out of range for INTEGER", n)
		}
		return value.IntValue(n), nil
	case value.KindFloat:
		x, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return value.Value{}, fmt.Errorf("%q is not a number", truncateRunes(s, 32))
		}
		return value.FloatValue(x), nil
	case value.KindBool:
		switch strings.ToUpper(s) {
		case "TRUE":
			return value.BoolValue(true), nil
		case "FALSE":
			return value.BoolValue(false), nil
		}
		return value.Value{}, fmt.Errorf("%q is not a boolean", truncateRunes(s, 32))
	case value.KindTime:
		if ms, ok := parseTimestamp(s); ok {
			return value.Value{K: value.KindTime, I: ms}, nil
		}
		return value.Value{}, fmt.Errorf("%q is not a timestamp", truncateRunes(s, 64))
	case value.KindDate, value.KindTimeOfDay, value.KindBinary:
		return parseTextValue(s, t)
	}
	return value.Value{}, fmt.Errorf("cannot read %s from text", t)
}
