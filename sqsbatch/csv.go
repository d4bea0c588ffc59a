package sqsbatch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/opt"
)

// DefaultMaxRecordBytes bounds one CSV record, so that a file with an
// unterminated quote cannot pull the rest of an object into memory.
const DefaultMaxRecordBytes = 8 << 20

// CSVOptions configure a CSV source.
type CSVOptions struct {
	// KeyColumn names the column whose values are unique (the seed's
	// ANY_COLUMN_WITH_ALL_VALUES_UNIQUE). Its value becomes Record.Key and
	// Message.Key, the idempotency key downstream. A row whose key is empty
	// is malformed. Empty: no key.
	KeyColumn string
	// Comma is the field delimiter. Default ','.
	Comma rune
	// MaxRecordBytes bounds one record. Default DefaultMaxRecordBytes. A
	// longer record stops the source with a *RowError wrapping
	// ErrRecordTooLarge.
	MaxRecordBytes int
}

// ErrRecordTooLarge is wrapped by the *RowError of a record over
// MaxRecordBytes.
var ErrRecordTooLarge = errors.New("sqsbatch: CSV record too large")

// HeaderError is a header row that cannot be used: missing, with an empty or
// duplicate column name, or without the key column.
type HeaderError struct{ Reason string }

func (e *HeaderError) Error() string { return "sqsbatch: CSV header: " + e.Reason }

// RowError is a malformed row. Next may be called again to skip it and go on
// (except when Fatal), or the caller may stop.
type RowError struct {
	Line  int  // line (1-based) where the row starts
	Fatal bool // the source cannot go on past this error
	Err   error
}

func (e *RowError) Error() string { return fmt.Sprintf("sqsbatch: CSV line %d: %v", e.Line, e.Err) }

func (e *RowError) Unwrap() error { return e.Err }

// Record is one CSV row.
type Record struct {
	Line   int      // line (1-based) where the row starts
	Key    string   // the KeyColumn value
	Fields []string // in header order
	header []string
}

// JSON returns the row as a JSON object, byte for byte what the seed's
// Python writer sent: json.dumps(row) of the csv.DictReader row, with its
// defaults. Members come in header order, named by the header cells as
// written (spaces kept), all values strings, separated by ", " and ": ";
// every character outside printable ASCII is escaped (ensure_ascii): \n \r
// \t \b \f and \" \\ by name, any other as \u00XX, and characters above
// U+FFFF as a surrogate pair of lowercase \uXXXX escapes; "/" and &<> are
// not escaped. The body is therefore printable ASCII, so SQS never refuses
// its characters; escaping does make it larger than the row (up to 6× for
// control characters, 3× for emoji), so a large row may still need Offload.
//
// Records from a CSVSource hold valid UTF-8 only (Next refuses other rows
// with an *EncodingError). The encoder writes any invalid byte it is given
// as \ufffd.
func (r Record) JSON() []byte {
	n := 2
	for i, f := range r.Fields {
		n += len(r.header[i]) + len(f) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, f := range r.Fields {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = appendPyJSONString(b, r.header[i])
		b = append(b, ": "...)
		b = appendPyJSONString(b, f)
	}
	return append(b, '}')
}

// Message returns the row as a message: Key from the key column, Body its
// JSON.
func (r Record) Message() Message { return Message{Key: r.Key, Body: string(r.JSON())} }

const lowerHex = "0123456789abcdef"

// appendPyJSONString appends s as Python's json.dumps writes a str with
// ensure_ascii=True.
func appendPyJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0 // s[start:i] is printable ASCII not yet written
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < utf8.RuneSelf {
				b = appendU(b, rune(c))
				i++
				start = i
				continue
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r > 0xFFFF {
				r1, r2 := utf16.EncodeRune(r)
				b = appendU(appendU(b, r1), r2)
			} else {
				b = appendU(b, r) // U+FFFD for an invalid byte
			}
			i += size
			start = i
			continue
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendU(b []byte, r rune) []byte {
	return append(b, '\\', 'u', lowerHex[r>>12&0xF], lowerHex[r>>8&0xF], lowerHex[r>>4&0xF], lowerHex[r&0xF])
}

// EncodingError is a field that is not valid UTF-8. Python's csv module,
// which the seed used, decodes the whole object as UTF-8 and fails on it;
// here only the row fails (a *RowError wrapping this), and the run may go
// on past it.
type EncodingError struct {
	Column string // the header name
	Field  int    // 1-based field number
	Line   int    // line (1-based) where the field starts
	Col    int    // 1-based byte column where the field starts
	Offset int    // byte offset of the first invalid byte within the value
}

func (e *EncodingError) Error() string {
	return fmt.Sprintf("column %q (field %d, line %d, column %d): invalid UTF-8 at byte %d of the value", e.Column, e.Field, e.Line, e.Col, e.Offset)
}

// CSVSource streams records from a CSV with a header row. It handles a
// UTF-8 byte order mark, CRLF line ends and quoted fields holding commas,
// quotes and newlines, and never holds more than one record (plus a read
// buffer) in memory.
//
// Where it differs from the seed's csv.DictReader over the decoded object:
// a byte order mark is dropped (the seed kept it in the first column's
// name); a CRLF inside a quoted field becomes LF (encoding/csv's rule;
// Python keeps CRLF); a row with the wrong number of fields, a bare quote,
// or bytes that are not UTF-8 is a *RowError for that row (Python pads or
// folds short and long rows, and fails the whole object on invalid UTF-8).
type CSVSource struct {
	r       *csv.Reader
	lim     *limitReader
	closer  io.Closer
	header  []string
	keyCol  int
	fatal   error
	skipped int
	line    int // start line of the last row read
}

// NewCSV reads the header row of r and returns the source of its records.
func NewCSV(r io.Reader, optFns ...func(*CSVOptions)) (*CSVSource, error) {
	var o CSVOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.Comma == 0 {
		o.Comma = ','
	}
	if err := opt.Min("sqsbatch.CSVOptions", "MaxRecordBytes", o.MaxRecordBytes, 0); err != nil {
		return nil, err
	}
	o.MaxRecordBytes = opt.Default(o.MaxRecordBytes, DefaultMaxRecordBytes)
	br := bufio.NewReaderSize(r, 64<<10)
	if bom, err := br.Peek(3); err == nil && bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	lim := &limitReader{r: br, max: int64(o.MaxRecordBytes) + 64<<10}
	cr := csv.NewReader(lim)
	cr.Comma = o.Comma
	s := &CSVSource{r: cr, lim: lim, keyCol: -1}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &HeaderError{Reason: "empty input, no header row"}
	}
	if err != nil {
		return nil, &HeaderError{Reason: err.Error()}
	}
	seen := map[string]bool{}
	for i, h := range header {
		// Names stay as written, spaces included: they are the JSON member
		// names, as in the seed's csv.DictReader rows. KeyColumn may name a
		// column with or without its surrounding spaces.
		if strings.TrimSpace(h) == "" {
			return nil, &HeaderError{Reason: fmt.Sprintf("column %d has no name", i+1)}
		}
		if !utf8.ValidString(h) {
			return nil, &HeaderError{Reason: fmt.Sprintf("column %d name is not valid UTF-8", i+1)}
		}
		if seen[h] {
			return nil, &HeaderError{Reason: fmt.Sprintf("column %q appears twice", h)}
		}
		seen[h] = true
		if o.KeyColumn != "" && s.keyCol < 0 && (h == o.KeyColumn || strings.TrimSpace(h) == strings.TrimSpace(o.KeyColumn)) {
			s.keyCol = i
		}
	}
	if o.KeyColumn != "" && s.keyCol < 0 {
		return nil, &HeaderError{Reason: fmt.Sprintf("no key column %q", o.KeyColumn)}
	}
	s.header = header
	cr.FieldsPerRecord = len(header)
	return s, nil
}

// OpenS3CSV streams the CSV object bucket/key: the GetObject body is read as
// records are asked for, never whole. Close the source when done.
// expectedOwner, if not empty, is passed as ExpectedBucketOwner.
func OpenS3CSV(ctx context.Context, client GetObjectAPI, bucket, key, expectedOwner string, optFns ...func(*CSVOptions)) (*CSVSource, error) {
	in := &s3.GetObjectInput{Bucket: &bucket, Key: &key}
	if expectedOwner != "" {
		in.ExpectedBucketOwner = &expectedOwner
	}
	out, err := client.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("sqsbatch: get s3://%s/%s: %w", bucket, key, err)
	}
	s, err := NewCSV(out.Body, optFns...)
	if err != nil {
		out.Body.Close()
		return nil, err
	}
	s.closer = out.Body
	return s, nil
}

// Header returns the column names.
func (s *CSVSource) Header() []string { return s.header }

// Skipped returns how many malformed rows Next has reported.
func (s *CSVSource) Skipped() int { return s.skipped }

// Next returns the next record, io.EOF at the end, or a *RowError for a
// malformed row: call Next again to skip it, or stop.
func (s *CSVSource) Next() (Record, error) {
	if s.fatal != nil {
		return Record{}, s.fatal
	}
	s.lim.n = 0
	fields, err := s.r.Read()
	line := s.line + 1 // best guess when the reader gives no position
	if len(fields) > 0 {
		line, _ = s.r.FieldPos(0)
	}
	if line > s.line {
		s.line = line
	}
	if err != nil {
		if err == io.EOF {
			return Record{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.StartLine
		}
		re := &RowError{Line: line, Err: err}
		if errors.Is(err, ErrRecordTooLarge) || !errors.As(err, &pe) {
			re.Fatal = true
			s.fatal = re
		}
		s.skipped++
		return Record{}, re
	}
	for i, f := range fields {
		if !utf8.ValidString(f) {
			fl, fc := s.r.FieldPos(i)
			s.skipped++
			return Record{}, &RowError{Line: line, Err: &EncodingError{Column: s.header[i], Field: i + 1, Line: fl, Col: fc, Offset: invalidAt(f)}}
		}
	}
	rec := Record{Line: line, Fields: fields, header: s.header}
	if s.keyCol >= 0 {
		rec.Key = fields[s.keyCol]
		if rec.Key == "" {
			s.skipped++
			return Record{}, &RowError{Line: line, Err: fmt.Errorf("empty key column %q", s.header[s.keyCol])}
		}
	}
	return rec, nil
}

// Close closes the S3 body of a source from OpenS3CSV.
func (s *CSVSource) Close() error {
	if s.closer == nil {
		return nil
	}
	return s.closer.Close()
}

// limitReader fails once more than max bytes were read since n was reset.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n > l.max {
		return 0, ErrRecordTooLarge
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}

// invalidAt returns the offset of the first invalid UTF-8 byte of s.
func invalidAt(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return i
			}
		}
	}
	return len(s)
}
