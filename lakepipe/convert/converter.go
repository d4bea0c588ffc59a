package convert

import (
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
	o.Logger = opt.Logger(o.Logger)
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
