package convert

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/lakekit/lakekit/internal/javatime"
	"github.com/lakekit/lakekit/internal/opt"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// Converter defaults and limits.
const (
	DefaultSampleRows     = 1000
	DefaultSampleBytes    = 1 << 20
	DefaultRowGroupRows   = 122_880 // DuckDB's and a common Spark size
	DefaultRowGroupBytes  = 64 << 20
	DefaultMaxRecordBytes = 16 << 20
	DefaultDelimiter      = ','
	// DefaultMaxQuarantineRatio is the share of quarantined records a run
	// with a Quarantine writer tolerates. A wrong layout, type, delimiter or
	// column order quarantines most or all records; a feed with a few stray
	// bad lines stays well below a tenth.
	DefaultMaxQuarantineRatio = 0.1
	// maxQuarantineReasons is how many bad records a QuarantineError
	// describes.
	maxQuarantineReasons = 5
	// HiveDefaultPartition is the partition value of a NULL, as Hive, Glue
	// and Athena spell it.
	HiveDefaultPartition = "__HIVE_DEFAULT_PARTITION__"
)

// Compression is the Parquet page codec.
type Compression int

// Codecs.
const (
	Snappy Compression = iota // the default, as Glue writes
	Zstd
	Gzip
	Uncompressed
)

// snappyCodec writes Snappy blocks with s2's fast encoder: parquet-go's
// Snappy codec uses the "better" one, which costs about twice the CPU for
// a few percent of size.
type snappyCodec struct{ snappy.Codec }

func (snappyCodec) Encode(dst, src []byte) ([]byte, error) { return s2.EncodeSnappy(dst[:0], src), nil }

var fastSnappy = &snappyCodec{}

func (c Compression) codec() compress.Codec {
	switch c {
	case Zstd:
		return &parquet.Zstd
	case Gzip:
		return &parquet.Gzip
	case Uncompressed:
		return &parquet.Uncompressed
	}
	return fastSnappy
}

// ConverterOptions configure a Converter. Every zero field means its
// documented default.
type ConverterOptions struct {
	// Mapping selects, renames and types source columns, as Glue's
	// ApplyMapping. Nil: every column, with inferred types.
	Mapping []Mapping
	// Header says whether the first record is a header: HeaderPresent,
	// HeaderAbsent or HeaderDetect. Default HeaderDetect: Glue's CSV
	// classifier rule without a Mapping (Result.HeaderAmbiguous
	// reports an all-text sample, which that rule cannot decide); with a
	// Mapping, the first record is a header when it names a mapped source
	// column or passes Glue's rule.
	Header HeaderMode
	// Delimiter separates fields. Default ','.
	Delimiter byte
	// SampleRows and SampleBytes bound the sample that inference and header
	// detection read. Defaults DefaultSampleRows, DefaultSampleBytes.
	SampleRows  int
	SampleBytes int
	// RowGroupRows is the number of CSV records per Parquet row group, the
	// unit of parallel work; memory is bounded by (Workers+2) row groups.
	// Default DefaultRowGroupRows.
	RowGroupRows int
	// RowGroupBytes also cuts a row group after this many CSV bytes, so that
	// wide records cannot make a chunk huge. Memory is about
	// (Workers+2) × 2.5 × the CSV size of a row group. Default
	// DefaultRowGroupBytes.
	RowGroupBytes int
	// Compression of the Parquet pages. Default Snappy.
	Compression Compression
	// Workers parse and encode row groups in parallel. Default GOMAXPROCS.
	Workers int
	// Partitions are the Hive partition keys, in path order: from the
	// processing date ([ProcessingDatePartitions]) or from output columns
	// ([DatePartitions], or a PartitionKey with Column). Default none.
	Partitions []PartitionKey
	// DropNullFields drops the output columns that are NULL in every row of
	// the run, as Glue's DropNullFields does (a column, never a row).
	DropNullFields bool
	// EmptyStringsAsNull reads an empty unquoted field of a string column as
	// NULL. Default false: it is "", as Athena reads CSV. An empty field of
	// any other type is always NULL; a quoted "" is always "".
	EmptyStringsAsNull bool
	// NullValues are unquoted texts read as NULL in every column, for
	// example `\N` or `NULL`. Default none.
	NullValues []string
	// Quarantine receives the records that do not fit the schema, as CSV
	// with the columns line,column,reason,record, in input order. Nil: bad
	// records are only counted, and (unless MaxQuarantineRatio says
	// otherwise) any bad record fails the run.
	Quarantine io.Writer
	// MaxQuarantineRatio is the largest share of data records,
	// quarantined / (written + quarantined), that a run may quarantine and
	// still succeed. Past it, and whenever every data record is
	// quarantined, Convert fails with *QuarantineError and publishes
	// nothing: the partitions keep their earlier files. Default: with a
	// Quarantine writer DefaultMaxQuarantineRatio; without one no bad
	// record at all, since nobody could learn why it was dropped. A
	// negative value tolerates no bad record; 1 tolerates any share short
	// of all. Above 1 (or NaN) is invalid. When none is tolerated, the run
	// stops at the row group of the first bad record.
	MaxQuarantineRatio float64
	// MaxRecordBytes bounds one record; a longer one fails the conversion
	// with *RecordTooLongError. Default DefaultMaxRecordBytes.
	MaxRecordBytes int
	// RunID names this run's files (part-<RunID>-<n>.parquet). Default: 8
	// random bytes in hex.
	RunID string
	// KeepOtherRuns limits replacement to the files of earlier runs with
	// the same RunID: give each input its own RunID (its file name) and
	// rerunning an input replaces its rows while other inputs' files in
	// the same partition stay. Default false: a run replaces every file of
	// the partitions it writes.
	KeepOtherRuns bool
	// Logger receives debug and info lines (never record contents). Nil:
	// silent.
	Logger *slog.Logger
}

// Converter turns CSV into Hive-partitioned Parquet files in a Sink.
type Converter struct {
	sink Sink
	opts ConverterOptions

	stats struct {
		runs, bytesIn, rows, quarantined, files atomic.Int64
	}
}

// ConverterStats is a snapshot of a Converter's counters, summed over its
// Convert calls and updated while they run.
type ConverterStats struct {
	Runs        int64 // Convert calls finished successfully
	BytesIn     int64 // CSV bytes read
	Rows        int64 // rows committed to files
	Quarantined int64 // records quarantined
	Files       int64 // files completed
}

// Stats returns a snapshot of the counters.
func (c *Converter) Stats() ConverterStats {
	return ConverterStats{
		Runs: c.stats.runs.Load(), BytesIn: c.stats.bytesIn.Load(), Rows: c.stats.rows.Load(),
		Quarantined: c.stats.quarantined.Load(), Files: c.stats.files.Load(),
	}
}

// NewConverter returns a Converter writing into sink. An options field it
// cannot honour (a negative size, an unknown HeaderMode, a delimiter that
// is a quote or a line break, a MaxQuarantineRatio above 1) is an
// *OptionError.
func NewConverter(sink Sink, optFns ...func(*ConverterOptions)) (*Converter, error) {
	c := &Converter{sink: sink}
	for _, fn := range optFns {
		fn(&c.opts)
	}
	if err := c.opts.validate(); err != nil {
		return nil, err
	}
	o := &c.opts
	o.Delimiter = opt.Default(o.Delimiter, DefaultDelimiter)
	o.SampleRows = opt.Default(o.SampleRows, DefaultSampleRows)
	o.SampleBytes = opt.Default(o.SampleBytes, DefaultSampleBytes)
	o.RowGroupRows = opt.Default(o.RowGroupRows, DefaultRowGroupRows)
	o.RowGroupBytes = opt.Default(o.RowGroupBytes, DefaultRowGroupBytes)
	o.Workers = opt.Default(o.Workers, runtime.GOMAXPROCS(0))
	o.MaxRecordBytes = opt.Default(o.MaxRecordBytes, DefaultMaxRecordBytes)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	switch r := o.MaxQuarantineRatio; {
	case r < 0:
		o.MaxQuarantineRatio = 0 // documented: none tolerated
	case r == 0 && o.Quarantine != nil:
		o.MaxQuarantineRatio = DefaultMaxQuarantineRatio
	}
	return c, nil
}

const optionsType = "convert.ConverterOptions"

func (o *ConverterOptions) validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"SampleRows", o.SampleRows}, {"SampleBytes", o.SampleBytes}, {"RowGroupRows", o.RowGroupRows},
		{"RowGroupBytes", o.RowGroupBytes}, {"Workers", o.Workers}, {"MaxRecordBytes", o.MaxRecordBytes},
	} {
		if err := opt.Min(optionsType, f.name, f.v, 0); err != nil {
			return err
		}
	}
	if r := o.MaxQuarantineRatio; math.IsNaN(r) || r > 1 {
		return &OptionError{Type: optionsType, Field: "MaxQuarantineRatio", Value: r, Want: "a share of at most 1 (negative: none)"}
	}
	switch o.Header {
	case HeaderDetect, HeaderPresent, HeaderAbsent:
	default:
		return &OptionError{Type: optionsType, Field: "Header", Value: o.Header, Want: "HeaderDetect, HeaderPresent or HeaderAbsent"}
	}
	switch o.Delimiter {
	case '"', '\n', '\r':
		return &OptionError{Type: optionsType, Field: "Delimiter", Value: fmt.Sprintf("%q", o.Delimiter), Want: "a byte other than a quote or a line break"}
	}
	return nil
}

// OptionError reports an options field whose value a constructor of this
// package refuses: NewConverter, NewCatalog, NewS3Sink. It is the one
// option error of every lakekit package ([opt.Error]), so errors.As works
// the same on all of them.
type OptionError = opt.Error

// Result describes one conversion.
type Result struct {
	// Schema holds the columns written in the files: partition-only columns
	// and dropped null columns are not in it.
	Schema Schema
	// PartitionKeys are the Hive partition keys, in path order.
	PartitionKeys []string
	// Inference is set when the schema was inferred, and says what the
	// header and types were decided to be.
	Inference *Inference
	// Header reports whether the first record was a header.
	Header bool
	// HeaderAmbiguous is set when HeaderDetect could not decide: every
	// field of the first record and every sampled column below it is text
	// (or the first record is the only one), so Glue's rule cannot tell a
	// header from data. The first record was then taken as data, as Glue
	// does; set HeaderPresent or HeaderAbsent to decide.
	HeaderAmbiguous bool
	Rows            int64    // rows written
	Quarantined     int64    // records sent to quarantine
	BytesIn         int64    // CSV bytes read
	Dropped         []string // columns DropNullFields removed
	Files           []OutputFile
	// Removed are the files of earlier runs that this run replaced.
	Removed []string
	// AbortedUploads are files whose incomplete uploads (an S3 multipart
	// upload of a run that was killed) this run aborted: those of the
	// partitions it wrote that it would have replaced had they completed,
	// started before this run.
	AbortedUploads []string
}

// OutputFile is one Parquet file written.
type OutputFile struct {
	Name      string   // path in the sink: k=v/…/part-<run>-<n>.parquet
	Partition []string // partition values, in PartitionKeys order
	Rows      int64
	Bytes     int64
}

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

// colCodec decodes one output column.
type colCodec struct {
	Column
	src    int // source field index
	leaf   int // Parquet leaf index; -1 when only a partition value
	layout *javatime.Layout
	bad    string // quarantine reason of a value that does not fit
}

// conversion is the state of one Convert call.
type conversion struct {
	c        *Converter
	ctx      context.Context
	width    int // fields per record
	codecs   []colCodec
	leaves   []int // codec index of each Parquet leaf
	schema   *parquet.Schema
	parts    []partSpec
	constKey string // partition path when every key is constant
	nulls    map[string]bool
	runID    string
	started  time.Time

	mu      sync.Mutex
	writers map[string]*partFile
	order   []*partFile
	nonNull []int64 // per codec, guarded by the committer goroutine only

	firstBad  []RowError // the first bad records, for a QuarantineError
	published []string   // files this run made visible

	bytesIn   atomic.Int64
	avgRecord int  // bytes per record in the sample: sizes the first chunk buffer
	direct    bool // no partition value comes from the data
}

// Convert reads CSV from r to the end and writes Parquet files into the
// sink. An input without any record (empty, or blank lines) converts to
// zero rows and no file. Bad records are quarantined and counted; past
// MaxQuarantineRatio, or when every record is bad, the run fails with
// *QuarantineError. Other errors are failures of the whole run (input,
// sink, context). A failed run publishes no file and removes none. On
// success, the files of earlier runs in the partitions this run wrote are
// removed, so a rerun replaces a partition instead of duplicating it, and
// so are the incomplete uploads a killed run left (AbortedUploads).
func (c *Converter) Convert(ctx context.Context, r io.Reader) (*Result, error) {
	run := &conversion{c: c, ctx: ctx, writers: map[string]*partFile{}, runID: c.opts.RunID, started: time.Now()}
	if run.runID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		run.runID = hex.EncodeToString(b[:])
	}
	if len(c.opts.NullValues) > 0 {
		run.nulls = map[string]bool{}
		for _, v := range c.opts.NullValues {
			run.nulls[v] = true
		}
	}
	res := &Result{}
	rest, line, err := run.prepare(r, res)
	if errors.Is(err, errEmptyInput) {
		res.BytesIn = run.bytesIn.Load()
		c.stats.runs.Add(1)
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	if err := run.pipeline(rest, line, res); err != nil {
		run.abort()
		return nil, err
	}
	if err := run.checkQuarantine(res); err != nil {
		run.abort()
		c.opts.Logger.Info("convert: conversion failed", "rows", res.Rows, "quarantined", res.Quarantined, "err", err)
		return nil, err
	}
	if err := run.finish(res); err != nil {
		return nil, err
	}
	c.stats.runs.Add(1)
	c.stats.files.Add(int64(len(res.Files)))
	c.opts.Logger.Info("convert: converted", "rows", res.Rows, "quarantined", res.Quarantined,
		"files", len(res.Files), "bytes_in", res.BytesIn)
	return res, nil
}

// checkQuarantine fails a run that quarantined every data record or more
// than MaxQuarantineRatio of them.
func (run *conversion) checkQuarantine(res *Result) error {
	q := res.Quarantined
	if q == 0 {
		return nil
	}
	limit := run.c.opts.MaxQuarantineRatio
	if res.Rows > 0 && float64(q) <= limit*float64(res.Rows+q) {
		return nil
	}
	return &QuarantineError{Rows: res.Rows, Quarantined: q, MaxRatio: limit, First: run.firstBad,
		noWriter: run.c.opts.Quarantine == nil}
}

// prepare reads the sample, decides header and schema, and returns the
// reader of the remaining data records and the line number of the first.
func (run *conversion) prepare(r io.Reader, res *Result) (io.Reader, int64, error) {
	o := &run.c.opts
	// Read SampleBytes, and more if the first record is not complete yet:
	// the header (or the first record) fixes the column count.
	var sample []byte
	eof := false
	bomDone := false
	// Blank lines before the first record are dropped as they arrive (they
	// are skipped anyway), so that any number of them costs no memory.
	skipped := 0
	for want := o.SampleBytes; ; want = max(len(sample), o.SampleBytes) {
		sample = slices.Grow(sample, want)
		n, err := io.ReadFull(r, sample[len(sample):len(sample)+want])
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			eof = true
		case err != nil:
			return nil, 0, fmt.Errorf("convert: reading input: %w", err)
		}
		sample = sample[:len(sample)+n]
		run.bytesIn.Add(int64(n))
		run.c.stats.bytesIn.Add(int64(n))
		if !bomDone && (len(sample) >= 3 || eof) {
			sample = bytes.TrimPrefix(sample, []byte("\xef\xbb\xbf"))
			bomDone = true
		}
		if bomDone {
			k, lines := leadingBlankLines(sample)
			skipped += lines
			sample = append(sample[:0], sample[k:]...)
		}
		if eof || firstRecordComplete(sample, o.Delimiter) {
			break
		}
		if len(sample) > o.MaxRecordBytes {
			return nil, 0, &RecordTooLongError{Line: 1 + int64(skipped), Limit: o.MaxRecordBytes}
		}
	}

	// Parse up to SampleRows+1 complete records.
	var records [][]string
	var firstEnd, firstLines int
	var firstLine int64    // line where the first record starts
	var firstReason string // why the first record is malformed
	pos := 0
	var fields []csvField
	var arena []byte
	for len(records) <= o.SampleRows && pos < len(sample) {
		end, lines, complete, _ := recordEnd(sample, pos, o.Delimiter)
		if !complete && !eof {
			break
		}
		rec := trimEOL(sample[pos:end])
		if len(records) == 0 {
			// Lines up to the end of the first record (a header's data
			// starts after them): blank ones and the record's own.
			firstLine = 1 + int64(skipped+firstLines)
			firstEnd, firstLines = end, firstLines+lines
		}
		pos = end
		if blankRecord(rec) {
			continue
		}
		var reason string
		fields, arena, reason = splitRecord(rec, o.Delimiter, fields, arena[:0])
		if reason != "" {
			if len(records) == 0 {
				firstReason = reason
				records = append(records, nil) // keeps the first-record slot
			}
			continue
		}
		row := make([]string, len(fields))
		for i, f := range fields {
			row[i] = string(f.data)
		}
		records = append(records, row)
	}

	if len(records) == 0 && eof {
		return nil, 0, errEmptyInput
	}
	header := false
	var sourceNames []string
	switch {
	case o.Mapping == nil:
		inf := infer(records, o.Header)
		if len(records) > 0 && records[0] == nil && inf.Header {
			return nil, 0, &SchemaError{Msg: fmt.Sprintf("the header record (line %d) is malformed: %s", firstLine, firstReason)}
		}
		header = inf.Header
		res.HeaderAmbiguous = inf.Ambiguous
		res.Inference = &inf
		sourceNames = inf.Source
		for i, col := range inf.Columns {
			run.codecs = append(run.codecs, colCodec{Column: col, src: i})
		}
		run.width = len(inf.Source)
	default:
		if len(records) > 0 && records[0] == nil && o.Header == HeaderPresent {
			return nil, 0, &SchemaError{Msg: fmt.Sprintf("the header record (line %d) is malformed: %s", firstLine, firstReason)}
		}
		var why string // why the first record is no header, for errors
		if len(records) > 0 && records[0] != nil {
			switch o.Header {
			case HeaderPresent:
				header = true
			case HeaderAbsent:
				why = "Header is HeaderAbsent"
			case HeaderDetect:
				glue, ambiguous := detectHeader(records[0], guessColumns(records[1:], 0))
				// A mapping of col0, col1, … says the file has no header.
				header = namesAny(records[0], o.Mapping) || glue && !onlyColN(o.Mapping)
				res.HeaderAmbiguous = !header && ambiguous
				why = "it names no mapped column and Glue's header rule did not find a header; set Header: HeaderPresent if it is one"
			}
			run.width = len(records[0])
			if header {
				sourceNames = records[0]
			}
		}
		if !header {
			for _, rec := range records {
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
				return nil, 0, &SchemaError{Msg: msg, Missing: m.Source, Columns: slices.Clone(sourceNames)}
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
	}
	res.Header = header
	if err := run.buildSchema(res); err != nil {
		return nil, 0, err
	}
	line := 1 + int64(skipped)
	data := sample
	if header {
		data = sample[firstEnd:]
		line += int64(firstLines)
	}
	var rest io.Reader = bytes.NewReader(data)
	if !eof {
		rest = io.MultiReader(rest, &countingReader{r: r, n: &run.bytesIn, total: &run.c.stats.bytesIn})
	}
	if len(records) > 0 && pos > 0 {
		run.avgRecord = pos / len(records)
	}
	return rest, line, nil
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

// buildSchema validates the codecs and partitions and builds the Parquet
// schema.
func (run *conversion) buildSchema(res *Result) error {
	seen := map[string]bool{}
	for i := range run.codecs {
		cd := &run.codecs[i]
		if err := cd.validate(); err != nil {
			return &SchemaError{Msg: strings.TrimPrefix(err.Error(), "convert: ")}
		}
		if seen[cd.Name] {
			return &SchemaError{Msg: fmt.Sprintf("column %q appears twice", cd.Name)}
		}
		seen[cd.Name] = true
		cd.bad = fmt.Sprintf("%s: not a %s", ReasonBadValue, cd.CatalogType())
		if cd.Type == TypeDate || cd.Type == TypeTimestamp {
			cd.layout, _ = javatime.CompileLayout(cd.layoutOrDefault())
			cd.bad += " (layout " + cd.layoutOrDefault() + ")"
		}
	}
	parts, err := run.resolvePartitions()
	if err != nil {
		return err
	}
	run.parts = parts
	run.direct = len(parts) == 0 || run.constKey != ""
	for _, p := range parts {
		res.PartitionKeys = append(res.PartitionKeys, p.key.Name)
	}
	leafCols := []Column{}
	for i := range run.codecs {
		cd := &run.codecs[i]
		cd.leaf = -1
		if run.partitionOnly(i) {
			continue
		}
		cd.leaf = len(run.leaves)
		run.leaves = append(run.leaves, i)
		leafCols = append(leafCols, cd.Column)
	}
	if len(leafCols) == 0 {
		return &SchemaError{Msg: "no data columns to write"}
	}
	run.schema = parquetSchema(leafCols)
	res.Schema = Schema{Columns: leafCols}
	run.nonNull = make([]int64, len(run.codecs))
	return nil
}

// parquetSchema builds the file schema: every column optional, in order.
func parquetSchema(cols []Column) *parquet.Schema {
	g := parquet.Group{}
	order := make([]string, len(cols))
	for i, c := range cols {
		g[c.Name] = parquet.Optional(parquetNode(c))
		order[i] = c.Name
	}
	return parquet.NewSchema("schema", orderedGroup{Group: g, order: order})
}

func parquetNode(c Column) parquet.Node {
	switch c.Type {
	case TypeInt64:
		return parquet.Int(64)
	case TypeFloat64:
		return parquet.Leaf(parquet.DoubleType)
	case TypeBool:
		return parquet.Leaf(parquet.BooleanType)
	case TypeDate:
		return parquet.Date()
	case TypeTimestamp:
		return parquet.TimestampAdjusted(parquet.Microsecond, false)
	case TypeDecimal:
		return parquet.Decimal(c.Scale, c.Precision, parquet.Int64Type)
	}
	return parquet.String()
}

// orderedGroup is a parquet.Group that keeps the CSV column order
// (parquet.Group sorts fields by name).
type orderedGroup struct {
	parquet.Group
	order []string
}

func (g orderedGroup) Fields() []parquet.Field {
	byName := map[string]parquet.Field{}
	for _, f := range g.Group.Fields() {
		byName[f.Name()] = f
	}
	out := make([]parquet.Field, len(g.order))
	for i, n := range g.order {
		out[i] = byName[n]
	}
	return out
}

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

// errEmptyInput: the input holds no record at all (empty or blank lines).
var errEmptyInput = errors.New("convert: empty input")

// countingReader counts the bytes read.
type countingReader struct {
	r     io.Reader
	n     *atomic.Int64
	total *atomic.Int64 // the Converter's, or nil
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if c.total != nil {
		c.total.Add(int64(n))
	}
	return n, err
}

// quarantineWriter writes bad records as CSV.
type quarantineWriter struct {
	w      *csv.Writer
	header bool
}

func (q *quarantineWriter) write(b badRecord) error {
	if q.w == nil {
		return nil
	}
	if !q.header {
		q.header = true
		if err := q.w.Write([]string{"line", "column", "reason", "record"}); err != nil {
			return err
		}
	}
	return q.w.Write([]string{strconv.FormatInt(b.line, 10), b.column, b.reason, b.record})
}
