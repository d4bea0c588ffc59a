package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/lakepipe/convert"
	"github.com/lakekit/lakekit/s3copy"
)

func newParquet(a *app) *cobra.Command {
	c := group(&cobra.Command{Use: "parquet", Short: "Convert CSV to Parquet; show the schema inference would choose"})
	c.AddCommand(newParquetConvert(a), newParquetSchema(a))
	return c
}

// csvFlags are the CSV reading flags convert and schema share.
type csvFlags struct {
	header, delimiter string
}

func (f *csvFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&f.header, "header", "detect", "whether the first record is a header: detect (Glue's rule), present or absent")
	c.Flags().StringVar(&f.delimiter, "delimiter", ",", "the field delimiter (one byte; \\t for tab)")
}

// apply sets the sampling options from the flags.
func (f *csvFlags) apply() (func(*convert.ConverterOptions), error) {
	var mode convert.HeaderMode
	switch f.header {
	case "detect":
		mode = convert.HeaderDetect
	case "present":
		mode = convert.HeaderPresent
	case "absent":
		mode = convert.HeaderAbsent
	default:
		return nil, usageError{fmt.Errorf("--header %q: want detect, present or absent", f.header)}
	}
	d, err := parseDelimiter(f.delimiter)
	if err != nil {
		return nil, err
	}
	if d > 127 {
		return nil, usageError{fmt.Errorf("--delimiter %q: want a single-byte character", f.delimiter)}
	}
	return func(o *convert.ConverterOptions) { o.Header, o.Delimiter = mode, byte(d) }, nil
}

// convertSummary is the --json summary of parquet convert.
type convertSummary struct {
	Source          string          `json:"source"`
	Destination     string          `json:"destination"`
	Header          bool            `json:"header"`
	HeaderAmbiguous bool            `json:"header_ambiguous,omitempty"`
	Rows            int64           `json:"rows"`
	Quarantined     int64           `json:"quarantined"`
	BytesIn         int64           `json:"bytes_in"`
	Columns         []mappingColumn `json:"columns"`
	PartitionKeys   []string        `json:"partition_keys,omitempty"`
	Files           []outputFile    `json:"files"`
	Removed         []string        `json:"removed,omitempty"`
	Quarantine      string          `json:"quarantine,omitempty"`
}

func newParquetConvert(a *app) *cobra.Command {
	var cf csvFlags
	var mappingFile, quarantine, compression, runID string
	var partitionBy, partitionByDate, nullValues []string
	var maxRatio float64
	c := &cobra.Command{
		Use:   "convert SRC DST",
		Short: "Convert a CSV (file or s3://) into Hive-partitioned Parquet files (directory or s3:// prefix)",
		Long: `Convert a CSV into Parquet files with lakepipe/convert: the schema is inferred
from a sample as Glue's CSV classifier does (bigint, double, boolean, string;
header detection), or given with --mapping, a JSON file of the columns to write:

  [{"source": "purchase_date", "type": "date", "layout": "dd/MM/yyyy"},
   {"source": "Units", "name": "units", "type": "bigint"},
   {"source": "price", "type": "decimal(10,2)"}]

(the "columns" of 'lakekit --json parquet schema' are such a list, to edit).
--partition-by COL writes COL=value/ directories; --partition-by-date COL
writes year=/month=/day= from a date or timestamp column. Records that do not
fit go to --quarantine (a CSV of line, column, reason, record); without it any
bad record fails the run. A rerun replaces the files of the partitions it
writes. A failed run publishes nothing.

Exit status 1 when the run failed or quarantined records (the files are then
still written).`,
		Example: `  lakekit parquet convert sales.csv out/
  lakekit parquet convert s3://raw/sales.csv s3://lake/refined/sales/ --mapping mapping.json --partition-by-date purchase_date --quarantine s3://lake/quarantine/sales.csv`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			sampling, err := cf.apply()
			if err != nil {
				return err
			}
			comp, err := parseCompression(compression)
			if err != nil {
				return err
			}
			var mapping []convert.Mapping
			if mappingFile != "" {
				data, err := os.ReadFile(mappingFile)
				if err != nil {
					return err
				}
				if mapping, err = parseMapping(data); err != nil {
					return fmt.Errorf("%s: %w", mappingFile, err)
				}
			}
			var parts []convert.PartitionKey
			for _, col := range partitionBy {
				parts = append(parts, convert.PartitionKey{Name: col, Column: col})
			}
			for _, col := range partitionByDate {
				parts = append(parts, convert.DatePartitions(col)...)
			}
			return a.parquetConvert(cmd.Context(), args[0], args[1], quarantine, func(o *convert.ConverterOptions) {
				sampling(o)
				o.Mapping, o.Partitions, o.Compression, o.NullValues, o.RunID = mapping, parts, comp, nullValues, runID
				if cmd.Flags().Changed("max-quarantine-ratio") {
					o.MaxQuarantineRatio = maxRatio
				}
			})
		},
	}
	cf.add(c)
	f := c.Flags()
	f.StringVar(&mappingFile, "mapping", "", "a JSON `FILE` of the columns to write (default: every column, inferred types)")
	f.StringSliceVar(&partitionBy, "partition-by", nil, "partition by the value of `COLUMN` (repeat or comma-separate for nested partitions)")
	f.StringSliceVar(&partitionByDate, "partition-by-date", nil, "partition by year=/month=/day= of a date or timestamp `COLUMN`")
	f.StringVar(&quarantine, "quarantine", "", "write the records that do not fit to `DEST` (a file or s3://bucket/key)")
	f.Float64Var(&maxRatio, "max-quarantine-ratio", 0, "the share of records that may be quarantined before the run fails (default 0.1 with --quarantine)")
	f.StringSliceVar(&nullValues, "null", nil, "read unquoted `TEXT` as NULL in every column (e.g. \\N, NULL)")
	f.StringVar(&runID, "run-id", "", "name the files part-`ID`-N.parquet (default: random)")
	f.StringVar(&compression, "compression", "snappy", "page codec: snappy, zstd, gzip or none")
	return c
}

func parseCompression(s string) (convert.Compression, error) {
	switch s {
	case "snappy":
		return convert.Snappy, nil
	case "zstd":
		return convert.Zstd, nil
	case "gzip":
		return convert.Gzip, nil
	case "none":
		return convert.Uncompressed, nil
	}
	return 0, usageError{fmt.Errorf("--compression %q: want snappy, zstd, gzip or none", s)}
}

// outputFile is one file parquet convert wrote.
type outputFile struct {
	Name      string   `json:"name"`
	Partition []string `json:"partition,omitempty"`
	Rows      int64    `json:"rows"`
	Bytes     int64    `json:"bytes"`
}

// mappingColumn is one column of a mapping file, and of the schema
// command's JSON.
type mappingColumn struct {
	Source string `json:"source,omitempty"`
	Name   string `json:"name,omitempty"`
	Type   string `json:"type"`
	Layout string `json:"layout,omitempty"`
}

var decimalType = regexp.MustCompile(`^decimal\((\d+),\s*(\d+)\)$`)

// parseMapping reads a mapping file: a list of columns, or an object
// holding one as "columns" (the schema command's JSON).
func parseMapping(data []byte) ([]convert.Mapping, error) {
	data = bytes.TrimSpace(data)
	var cols []mappingColumn
	if len(data) > 0 && data[0] == '{' {
		var doc struct {
			Columns []mappingColumn `json:"columns"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, err
		}
		cols = doc.Columns
	} else {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cols); err != nil {
			return nil, err
		}
	}
	if len(cols) == 0 {
		return nil, errors.New("no columns")
	}
	out := make([]convert.Mapping, len(cols))
	for i, c := range cols {
		if c.Source == "" {
			return nil, fmt.Errorf("column %d: no source", i+1)
		}
		m := convert.Mapping{Source: c.Source, Column: convert.Column{Name: c.Name, Layout: c.Layout}}
		if d := decimalType.FindStringSubmatch(c.Type); d != nil {
			m.Type = convert.TypeDecimal
			m.Precision, _ = strconv.Atoi(d[1])
			m.Scale, _ = strconv.Atoi(d[2])
		} else {
			t, err := convert.ParseType(c.Type)
			if err != nil {
				return nil, fmt.Errorf("column %q: %w", c.Source, err)
			}
			m.Type = t
		}
		out[i] = m
	}
	return out, nil
}

// openSource opens a CSV to read: a local file or an S3 object.
func (a *app) openSource(ctx context.Context, src string, s3c func() (*s3.Client, error)) (io.ReadCloser, error) {
	if !isS3URL(src) {
		return os.Open(src)
	}
	bucket, key, err := parseS3Object(src)
	if err != nil {
		return nil, err
	}
	client, err := s3c()
	if err != nil {
		return nil, err
	}
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	return out.Body, nil
}

// lazyS3 loads the AWS config the first time a command needs S3, so that
// local-only runs need none.
func (a *app) lazyS3(ctx context.Context) func() (*s3.Client, error) {
	var c *s3.Client
	return func() (*s3.Client, error) {
		if c == nil {
			cfg, err := a.awsConfig(ctx)
			if err != nil {
				return nil, err
			}
			c = a.s3Client(cfg)
		}
		return c, nil
	}
}

func (a *app) parquetConvert(ctx context.Context, src, dst, quarantine string, opts func(*convert.ConverterOptions)) error {
	s3c := a.lazyS3(ctx)
	if isS3URL(dst) || isS3URL(quarantine) {
		if _, err := s3c(); err != nil { // before reading anything
			return err
		}
	}
	sink, err := a.convertSink(dst, s3c)
	if err != nil {
		return err
	}
	in, err := a.openSource(ctx, src, s3c)
	if err != nil {
		return err
	}
	defer in.Close()
	var qbuf *os.File
	if quarantine != "" {
		if qbuf, err = os.CreateTemp("", "lakekit-quarantine-*.csv"); err != nil {
			return err
		}
		defer os.Remove(qbuf.Name())
		defer qbuf.Close()
	}
	conv, err := convert.NewConverter(sink, func(o *convert.ConverterOptions) {
		opts(o)
		if qbuf != nil {
			o.Quarantine = qbuf
		}
	})
	if err != nil {
		return usageError{err}
	}
	res, err := conv.Convert(ctx, in)
	if err != nil {
		if st, serr := qbuf.Stat(); qbuf != nil && serr == nil && st.Size() > 0 {
			if qerr := a.saveQuarantine(ctx, qbuf, quarantine, s3c); qerr != nil {
				fmt.Fprintln(a.stderr, "lakekit:", qerr)
			}
		}
		return convertError(src, err)
	}
	sum := convertSummary{Source: src, Destination: dst, Header: res.Header, HeaderAmbiguous: res.HeaderAmbiguous,
		Rows: res.Rows, Quarantined: res.Quarantined, BytesIn: res.BytesIn, PartitionKeys: res.PartitionKeys,
		Files: []outputFile{}, Removed: res.Removed, Columns: mappingColumns(res.Schema.Columns, nil)}
	for _, f := range res.Files {
		sum.Files = append(sum.Files, outputFile{Name: f.Name, Partition: f.Partition, Rows: f.Rows, Bytes: f.Bytes})
	}
	if res.Quarantined > 0 {
		if err := a.saveQuarantine(ctx, qbuf, quarantine, s3c); err != nil {
			return err
		}
		sum.Quarantine = quarantine
	}
	if err := a.summary(sum, sum.text); err != nil {
		return err
	}
	if res.Quarantined > 0 {
		return fmt.Errorf("%d records quarantined to %s", res.Quarantined, quarantine)
	}
	return nil
}

// convertSink is the sink of a convert destination: a directory, or an
// s3:// prefix (a slash is added to a prefix that has none).
func (a *app) convertSink(dst string, s3c func() (*s3.Client, error)) (convert.Sink, error) {
	if !isS3URL(dst) {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return nil, err
		}
		return convert.DirSink(dst), nil
	}
	loc, err := s3copy.ParseLocation(dst)
	if err != nil {
		return nil, usageError{err}
	}
	client, err := s3c()
	if err != nil {
		return nil, err
	}
	prefix := loc.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return convert.NewS3Sink(client, loc.Bucket, prefix)
}

// convertError names what a failed conversion is about.
func convertError(src string, err error) error {
	var qe *convert.QuarantineError
	if errors.As(err, &qe) {
		var b strings.Builder
		if qe.Stopped {
			fmt.Fprintf(&b, "%s: a record does not fit and none may be quarantined (pass --quarantine); nothing written", src)
		} else {
			fmt.Fprintf(&b, "%s: %d of %d records do not fit, more than the tolerated share %g; nothing written", src, qe.Quarantined, qe.Rows+qe.Quarantined, qe.MaxRatio)
		}
		for _, r := range qe.First {
			fmt.Fprintf(&b, "\n%s:%d: %s", src, r.Line, r.Reason)
			if r.Column != "" {
				fmt.Fprintf(&b, " (column %s)", r.Column)
			}
		}
		return errors.New(b.String())
	}
	return fmt.Errorf("%s: %w", src, err)
}

// saveQuarantine moves the quarantined records to dest.
func (a *app) saveQuarantine(ctx context.Context, tmp *os.File, dest string, s3c func() (*s3.Client, error)) error {
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if !isS3URL(dest) {
		out, err := os.Create(dest)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, tmp); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
	bucket, key, err := parseS3Object(dest)
	if err != nil {
		return err
	}
	client, err := s3c()
	if err != nil {
		return err
	}
	st, err := tmp.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: tmp, ContentLength: &size, ContentType: strPtr("text/csv")})
	if err != nil {
		return fmt.Errorf("writing the quarantine to %s: %w", dest, err)
	}
	return nil
}

func strPtr(s string) *string { return &s }

func (s convertSummary) text(w io.Writer) {
	for _, f := range s.Files {
		fmt.Fprintf(w, "%s  %d rows  %d bytes\n", f.Name, f.Rows, f.Bytes)
	}
	fmt.Fprintf(w, "rows %d, quarantined %d, files %d, replaced %d\n", s.Rows, s.Quarantined, len(s.Files), len(s.Removed))
	if s.HeaderAmbiguous {
		fmt.Fprintln(w, "note: every sampled field is text, so the first record was taken as data (pass --header present if it is a header)")
	}
}

// mappingColumns writes columns as a mapping file's, with the source
// names of an inference.
func mappingColumns(cols []convert.Column, source []string) []mappingColumn {
	out := make([]mappingColumn, len(cols))
	for i, c := range cols {
		out[i] = mappingColumn{Name: c.Name, Type: c.CatalogType(), Layout: c.Layout}
		if i < len(source) {
			out[i].Source = source[i]
		}
	}
	return out
}
