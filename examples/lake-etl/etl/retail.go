// Package etl is seed system 7, the LakeFormation data lake ETL, built on
// lakepipe: retail CSV in the raw zone becomes Parquet in the refined zone
// with purchase_date converted from dd/MM/yyyy to a date, partitioned by
// the processing date (year=/month=/day=), and registered in the Glue Data
// Catalog without a crawler or MSCK REPAIR TABLE. The Lambda main is
// ../lambda/etl; the DuckDB query of the refined zone, its round-trip tests
// and the benchmark against DuckDB are in the nested module ../duckdb, so
// that DuckDB's cgo bindings never enter the library's go.mod or the
// Lambda.
package etl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/lakepipe/convert"
)

// GenerateRetail writes the seed's retail sales CSV: email_id,
// retailer_name, units_purchased, purchase_date (dd/MM/yyyy), sale_id.
func GenerateRetail(w io.Writer, rows int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 7))
	retailers := []string{"Walmart", "Target", "Costco", "Kroger", "Home Depot", "Walgreens", "Lowe's, Inc.", "Aldi Süd"}
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "email_id,retailer_name,units_purchased,purchase_date,sale_id")
	for i := range rows {
		d := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(365))
		name := retailers[r.IntN(len(retailers))]
		if name == "Lowe's, Inc." {
			name = `"` + name + `"`
		}
		fmt.Fprintf(bw, "customer%03d@example.com,%s,%d,%s,S%05d\n", r.IntN(1000), name, 1+r.IntN(20), d.Format("02/01/2006"), int(seed)*1000+i)
	}
	return bw.Flush()
}

// Mapping is the seed's ApplyMapping with its Spark step folded in:
// purchase_date goes from a dd/MM/yyyy string to a date.
func Mapping() []convert.Mapping {
	return []convert.Mapping{
		{Source: "email_id", Column: convert.Column{Type: convert.TypeString}},
		{Source: "retailer_name", Column: convert.Column{Type: convert.TypeString}},
		{Source: "units_purchased", Column: convert.Column{Type: convert.TypeInt64}},
		{Source: "purchase_date", Column: convert.Column{Type: convert.TypeDate, Layout: "dd/MM/yyyy"}},
		{Source: "sale_id", Column: convert.Column{Type: convert.TypeString}},
	}
}

// S3API is what the job needs from S3: reading the raw object and writing
// the refined files.
type S3API interface {
	convert.S3SinkAPI
}

// Job converts one raw object into the refined zone and catalogs it.
type Job struct {
	S3            S3API
	Catalog       *convert.Catalog // nil: no catalog step
	Bucket        string
	RefinedPrefix string // e.g. "refined/retail_sales"
	Database      string // e.g. "merchandise"
	Table         string // e.g. "refined_retail_sales"
	// QuarantinePrefix, when set, receives the records of a raw object that
	// do not fit the mapping, as CSV (line,column,reason,record) under
	// QuarantinePrefix/<object name>.csv, written only when there are any.
	// Without it any bad record fails the run (lakepipe's default: nobody
	// could see why a row was dropped).
	QuarantinePrefix string
	// MaxQuarantineRatio is passed to the converter: the share of bad
	// records a run tolerates. Zero: lakepipe's default.
	MaxQuarantineRatio float64
	// ExpectedBucketOwner, when set, is sent with the read of the raw
	// object and every write of the refined files.
	ExpectedBucketOwner string
	Logger              *slog.Logger
}

// Run converts s3://Bucket/rawKey into the refined zone under the
// processing date's partition, replacing that partition's earlier files,
// and registers the table and partition.
func (j *Job) Run(ctx context.Context, rawKey string, processed time.Time) (*convert.Result, error) {
	in := &s3.GetObjectInput{Bucket: &j.Bucket, Key: &rawKey}
	if j.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = &j.ExpectedBucketOwner
	}
	obj, err := j.S3.GetObject(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("reading s3://%s/%s: %w", j.Bucket, rawKey, err)
	}
	defer obj.Body.Close()
	sink, err := convert.NewS3Sink(j.S3, j.Bucket, j.RefinedPrefix, func(o *convert.S3SinkOptions) {
		o.ExpectedBucketOwner = j.ExpectedBucketOwner
	})
	if err != nil {
		return nil, err
	}
	var quarantine *quarantineFile
	if j.QuarantinePrefix != "" {
		qs, err := convert.NewS3Sink(j.S3, j.Bucket, j.QuarantinePrefix, func(o *convert.S3SinkOptions) {
			o.ExpectedBucketOwner = j.ExpectedBucketOwner
		})
		if err != nil {
			return nil, err
		}
		w, err := qs.Create(ctx, sanitize(path.Base(rawKey))+".csv")
		if err != nil {
			return nil, err
		}
		quarantine = &quarantineFile{w: w}
		defer quarantine.discard()
	}
	conv, err := convert.NewConverter(sink, func(o *convert.ConverterOptions) {
		o.Mapping = Mapping()
		o.Partitions = convert.ProcessingDatePartitions(processed)
		o.DropNullFields = true
		o.Logger = j.Logger
		// One run id per raw object: two raw files processed the same day
		// land side by side instead of replacing each other.
		o.RunID = sanitize(path.Base(rawKey))
		o.KeepOtherRuns = true
		o.MaxQuarantineRatio = j.MaxQuarantineRatio
		if quarantine != nil {
			o.Quarantine = quarantine
		}
	})
	if err != nil {
		return nil, err
	}
	res, err := conv.Convert(ctx, obj.Body)
	if quarantine != nil && quarantine.n > 0 {
		// Kept when the run failed too: it says why.
		if cerr := quarantine.w.Close(); cerr != nil && err == nil {
			err = cerr
		}
		quarantine.w = nil
	}
	if err != nil {
		return nil, err
	}
	if j.Catalog != nil {
		spec := convert.TableSpecFor(res, j.Database, j.Table, "s3://"+j.Bucket+"/"+j.RefinedPrefix+"/", convert.Snappy)
		if _, _, err := j.Catalog.Register(ctx, spec, res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// quarantineFile counts what the converter writes to the quarantine file,
// which is published only when something was written.
type quarantineFile struct {
	w io.WriteCloser
	n int
}

func (q *quarantineFile) Write(p []byte) (int, error) {
	n, err := q.w.Write(p)
	q.n += n
	return n, err
}

func (q *quarantineFile) discard() {
	if a, ok := q.w.(interface{ Abort() error }); ok {
		_ = a.Abort()
	}
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
