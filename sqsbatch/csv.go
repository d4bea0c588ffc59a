package sqsbatch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/s3"
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

// JSON returns the row as a JSON object, columns in header order, all
// values strings: the seed's json.dumps(row). Invalid UTF-8 in a value
// becomes U+FFFD; control characters are escaped, so the body is always
// accepted by SQS.
func (r Record) JSON() []byte {
	var b bytes.Buffer
	b.Grow(16 * len(r.Fields))
	b.WriteByte('{')
	for i, f := range r.Fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, r.header[i])
		b.WriteByte(':')
		writeJSONString(&b, f)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// Message returns the row as a message: Key from the key column, Body its
// JSON.
func (r Record) Message() Message { return Message{Key: r.Key, Body: string(r.JSON())} }

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s) // never fails for a string; invalid UTF-8 becomes U+FFFD
	b.Write(q)
}

// CSVSource streams records from a CSV with a header row. It handles a
// UTF-8 byte order mark, CRLF line ends and quoted fields holding commas,
// quotes and newlines, and never holds more than one record (plus a read
// buffer) in memory.
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
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = DefaultMaxRecordBytes
	}
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
		h = strings.TrimSpace(h)
		if h == "" {
			return nil, &HeaderError{Reason: fmt.Sprintf("column %d has no name", i+1)}
		}
		if !utf8.ValidString(h) {
			return nil, &HeaderError{Reason: fmt.Sprintf("column %d name is not valid UTF-8", i+1)}
		}
		if seen[h] {
			return nil, &HeaderError{Reason: fmt.Sprintf("column %q appears twice", h)}
		}
		seen[h] = true
		header[i] = h
		if h == o.KeyColumn {
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
