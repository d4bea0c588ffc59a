package convert

import (
	"fmt"
	"strings"
)

// RecordTooLongError reports a record over MaxRecordBytes (often a quote
// that never closes).
type RecordTooLongError struct {
	Line  int64 // line where the record starts
	Limit int
}

func (e *RecordTooLongError) Error() string {
	return fmt.Sprintf("convert: record at line %d is longer than %d bytes", e.Line, e.Limit)
}

// SchemaError reports a mapping, partition or header that does not fit the
// input.
type SchemaError struct {
	Msg string
	// Missing is the mapping source column not found in the input, and
	// Columns the input's columns (its header names, or col0, col1, …
	// without a header), when that is the error.
	Missing string
	Columns []string
}

func (e *SchemaError) Error() string { return "convert: " + e.Msg }

// QuarantineError reports a run that quarantined every data record, or
// more than MaxQuarantineRatio of them (any, without a Quarantine writer).
// Nothing was published: the partitions keep their earlier files.
type QuarantineError struct {
	Rows        int64   // records that fit the schema (not written)
	Quarantined int64   // records that did not
	MaxRatio    float64 // the share that was tolerated
	First       []RowError
	// Stopped: no bad record was tolerated, so the run stopped at the row
	// group of the first one, and Rows and Quarantined count the input up
	// to there.
	Stopped bool

	noWriter bool
}

// RowError says why one record was quarantined. It never holds the
// record's values, so that it can be logged.
type RowError struct {
	Line   int64  // line where the record starts
	Column string // output column of a bad value; "" for a framing fault
	Reason string // e.g. "bad value: not a date (layout yyyy-MM-dd)"
}

func (e RowError) String() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Reason)
	}
	return fmt.Sprintf("line %d, column %s: %s", e.Line, e.Column, e.Reason)
}

func (e *QuarantineError) Error() string {
	var b strings.Builder
	total := e.Rows + e.Quarantined
	switch {
	case e.Stopped && e.noWriter:
		fmt.Fprintf(&b, "convert: %d of the first %d records were quarantined and there is no Quarantine writer to keep them (set one, or MaxQuarantineRatio); the run stopped there and wrote nothing", e.Quarantined, total)
	case e.Stopped:
		fmt.Fprintf(&b, "convert: %d of the first %d records were quarantined and MaxQuarantineRatio tolerates none; the run stopped there and wrote nothing", e.Quarantined, total)
	case e.Rows == 0:
		fmt.Fprintf(&b, "convert: all %d records were quarantined, nothing was written", total)
	case e.MaxRatio == 0 && e.noWriter:
		fmt.Fprintf(&b, "convert: %d of %d records were quarantined and there is no Quarantine writer to keep them (set one, or MaxQuarantineRatio); nothing was written", e.Quarantined, total)
	case e.MaxRatio == 0:
		fmt.Fprintf(&b, "convert: %d of %d records were quarantined and MaxQuarantineRatio tolerates none; nothing was written", e.Quarantined, total)
	default:
		fmt.Fprintf(&b, "convert: %d of %d records were quarantined, more than MaxQuarantineRatio %v; nothing was written", e.Quarantined, total, e.MaxRatio)
	}
	for i, r := range e.First {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(r.String())
	}
	if n := e.Quarantined - int64(len(e.First)); n > 0 {
		fmt.Fprintf(&b, "; and %d more", n)
	}
	return b.String()
}
