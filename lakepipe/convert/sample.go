package convert

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// prepare reads the sample, decides header and schema, and returns the
// reader of the remaining data records and the line number of the first.
func (run *conversion) prepare(r io.Reader, res *Result) (io.Reader, int64, error) {
	o := &run.c.opts
	smp, err := run.readSample(r)
	if err != nil {
		return nil, 0, err
	}
	smp.parseRecords(o.SampleRows, o.Delimiter)
	if len(smp.records) == 0 && smp.eof {
		return nil, 0, errEmptyInput
	}
	var header bool
	if o.Mapping == nil {
		header, err = run.inferSchema(smp, res)
	} else {
		header, err = run.mapSchema(smp, res)
	}
	if err != nil {
		return nil, 0, err
	}
	res.Header = header
	if err := run.buildSchema(res); err != nil {
		return nil, 0, err
	}
	line := 1 + int64(smp.skipped)
	data := smp.data
	if header {
		data = smp.data[smp.firstEnd:]
		line += int64(smp.firstLines)
	}
	var rest io.Reader = bytes.NewReader(data)
	if !smp.eof {
		rest = io.MultiReader(rest, &countingReader{r: r, n: &run.bytesIn, total: &run.c.stats.bytesIn})
	}
	if len(smp.records) > 0 && smp.pos > 0 {
		run.avgRecord = smp.pos / len(smp.records)
	}
	return rest, line, nil
}

// sample is the start of the input, read to decide header and schema.
type sample struct {
	data    []byte
	eof     bool // data is the whole input
	skipped int  // blank lines dropped before the first record

	// Filled by parseRecords.
	records     [][]string // the parsed records; a malformed first one is nil
	pos         int        // the end of the parsed records in data
	firstEnd    int        // the end of the first record in data
	firstLines  int        // lines up to firstEnd (blank ones and the record's)
	firstLine   int64      // the line where the first record starts
	firstReason string     // why the first record is malformed
}

// readSample reads SampleBytes, and more if the first record is not
// complete yet: the header (or the first record) fixes the column count.
// A leading byte-order mark is dropped, and so are blank lines before the
// first record as they arrive (they are skipped anyway), so that any
// number of them costs no memory.
func (run *conversion) readSample(r io.Reader) (*sample, error) {
	o := &run.c.opts
	s := &sample{}
	bomDone := false
	for want := o.SampleBytes; ; want = max(len(s.data), o.SampleBytes) {
		s.data = slices.Grow(s.data, want)
		n, err := io.ReadFull(r, s.data[len(s.data):len(s.data)+want])
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			s.eof = true
		case err != nil:
			return nil, fmt.Errorf("convert: reading input: %w", err)
		}
		s.data = s.data[:len(s.data)+n]
		run.bytesIn.Add(int64(n))
		run.c.stats.bytesIn.Add(int64(n))
		if !bomDone && (len(s.data) >= 3 || s.eof) {
			s.data = bytes.TrimPrefix(s.data, []byte("\xef\xbb\xbf"))
			bomDone = true
		}
		if bomDone {
			k, lines := leadingBlankLines(s.data)
			s.skipped += lines
			s.data = append(s.data[:0], s.data[k:]...)
		}
		if s.eof || firstRecordComplete(s.data, o.Delimiter) {
			return s, nil
		}
		if len(s.data) > o.MaxRecordBytes {
			return nil, &RecordTooLongError{Line: 1 + int64(s.skipped), Limit: o.MaxRecordBytes}
		}
	}
}

// parseRecords parses up to rows+1 complete records of the sample.
func (s *sample) parseRecords(rows int, delim byte) {
	var fields []csvField
	var arena []byte
	for len(s.records) <= rows && s.pos < len(s.data) {
		end, lines, complete, _ := recordEnd(s.data, s.pos, delim)
		if !complete && !s.eof {
			break
		}
		rec := trimEOL(s.data[s.pos:end])
		if len(s.records) == 0 {
			// Lines up to the end of the first record (a header's data
			// starts after them): blank ones and the record's own.
			s.firstLine = 1 + int64(s.skipped+s.firstLines)
			s.firstEnd, s.firstLines = end, s.firstLines+lines
		}
		s.pos = end
		if blankRecord(rec) {
			continue
		}
		var reason string
		fields, arena, reason = splitRecord(rec, delim, fields, arena[:0])
		if reason != "" {
			if len(s.records) == 0 {
				s.firstReason = reason
				s.records = append(s.records, nil) // keeps the first-record slot
			}
			continue
		}
		row := make([]string, len(fields))
		for i, f := range fields {
			row[i] = string(f.data)
		}
		s.records = append(s.records, row)
	}
}

// malformedHeader is the error of a header record that does not parse.
func (s *sample) malformedHeader() error {
	return &SchemaError{Msg: fmt.Sprintf("the header record (line %d) is malformed: %s", s.firstLine, s.firstReason)}
}

// inferSchema infers header and columns from the sample as Glue's CSV
// classifier does.
func (run *conversion) inferSchema(s *sample, res *Result) (header bool, err error) {
	inf := infer(s.records, run.c.opts.Header)
	if len(s.records) > 0 && s.records[0] == nil && inf.Header {
		return false, s.malformedHeader()
	}
	res.HeaderAmbiguous = inf.Ambiguous
	res.Inference = &inf
	for i, col := range inf.Columns {
		run.codecs = append(run.codecs, colCodec{Column: col, src: i})
	}
	run.width = len(inf.Source)
	return inf.Header, nil
}

// mapSchema decides the header by the Header option and the Mapping's
// source names, and finds each mapped column in the input.
func (run *conversion) mapSchema(s *sample, res *Result) (header bool, err error) {
	o := &run.c.opts
	if len(s.records) > 0 && s.records[0] == nil && o.Header == HeaderPresent {
		return false, s.malformedHeader()
	}
	var sourceNames []string
	var why string // why the first record is no header, for errors
	if len(s.records) > 0 && s.records[0] != nil {
		switch o.Header {
		case HeaderPresent:
			header = true
		case HeaderAbsent:
			why = "Header is HeaderAbsent"
		case HeaderDetect:
			glue, ambiguous := detectHeader(s.records[0], guessColumns(s.records[1:], 0))
			// A mapping of col0, col1, … says the file has no header.
			header = namesAny(s.records[0], o.Mapping) || glue && !onlyColN(o.Mapping)
			res.HeaderAmbiguous = !header && ambiguous
			why = "it names no mapped column and Glue's header rule did not find a header; set Header: HeaderPresent if it is one"
		}
		run.width = len(s.records[0])
		if header {
			sourceNames = s.records[0]
		}
	}
	if !header {
		for _, rec := range s.records {
			run.width = max(run.width, len(rec))
		}
	}
	for i := len(sourceNames); i < run.width; i++ {
		sourceNames = append(sourceNames, "col"+strconv.Itoa(i))
	}
	for _, m := range o.Mapping {
		src := sourceIndex(sourceNames, m.Source)
		if src < 0 {
			msg := fmt.Sprintf("mapping source column %q is not in the header (columns %s)", m.Source, quoteList(sourceNames))
			if !header {
				msg = fmt.Sprintf("mapping source column %q is not in the input: the first record is not a header (%s), so the columns are %s", m.Source, why, quoteList(sourceNames))
			}
			return false, &SchemaError{Msg: msg, Missing: m.Source, Columns: slices.Clone(sourceNames)}
		}
		col := m.Column
		if col.Name == "" {
			col.Name = normalizeName(m.Source)
		}
		if col.Type == 0 {
			col.Type = TypeString
		}
		run.codecs = append(run.codecs, colCodec{Column: col, src: src})
	}
	return header, nil
}

// leadingBlankLines returns the length of the blank lines ("\n" or
// "\r\n") at the start of data, and their number.
func leadingBlankLines(data []byte) (n, lines int) {
	for {
		switch {
		case n < len(data) && data[n] == '\n':
			n++
		case n+1 < len(data) && data[n] == '\r' && data[n+1] == '\n':
			n += 2
		default:
			return n, lines
		}
		lines++
	}
}

// firstRecordComplete reports whether data holds a whole non-blank record.
func firstRecordComplete(data []byte, delim byte) bool {
	for pos := 0; pos < len(data); {
		end, _, complete, _ := recordEnd(data, pos, delim)
		if !complete {
			return false
		}
		if !blankRecord(trimEOL(data[pos:end])) {
			return true
		}
		pos = end
	}
	return false
}

// namesAny reports whether the first record names a mapped source column
// (other than the colN names of a file without a header).
func namesAny(first []string, ms []Mapping) bool {
	for _, m := range ms {
		if sourceIndex(first, m.Source) >= 0 {
			return true
		}
	}
	return false
}

// quoteList quotes names for an error message, eliding the middle of a
// very wide header.
func quoteList(names []string) string {
	const half = 20
	q := make([]string, 0, min(len(names), 2*half+1))
	for i, n := range names {
		switch {
		case len(names) <= 2*half || i < half || i >= len(names)-half:
			q = append(q, strconv.Quote(n))
		case i == half:
			q = append(q, fmt.Sprintf("… %d more …", len(names)-2*half))
		}
	}
	return strings.Join(q, ", ")
}

// onlyColN reports whether every mapped source is a colN name, as columns
// are named in a file without a header.
func onlyColN(ms []Mapping) bool {
	for _, m := range ms {
		n, ok := strings.CutPrefix(m.Source, "col")
		if _, err := strconv.Atoi(n); !ok || err != nil {
			return false
		}
	}
	return true
}

func sourceIndex(names []string, src string) int {
	for i, n := range names {
		if n == src {
			return i
		}
	}
	for i, n := range names {
		if strings.EqualFold(strings.TrimSpace(n), src) || normalizeName(n) == normalizeName(src) {
			return i
		}
	}
	return -1
}
