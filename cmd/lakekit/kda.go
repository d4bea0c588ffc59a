package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/kda"
	"github.com/lakekit/lakekit/s3copy"
)

func newKDA(a *app) *cobra.Command {
	c := group(&cobra.Command{Use: "kda", Short: "Run Kinesis Data Analytics SQL applications on recorded or live stream records"})
	c.AddCommand(newKDARun(a), newKDADiscover(a))
	return c
}

// kdaRunFlags are the flags of kda run.
type kdaRunFlags struct {
	sql, application, records, stream, out, delivery string
	owner                                            string
	references                                       []string
	preprocessed                                     bool
}

func newKDARun(a *app) *cobra.Command {
	var f kdaRunFlags
	c := &cobra.Command{
		Use:   "run (--sql app.sql | --application app.json) (--records FILE | --stream NAME) (--out DIR | --delivery s3://bucket/prefix)",
		Short: "Replay stream records through a KDA SQL application and write each output stream's rows",
		Long: `Run a Kinesis Data Analytics for SQL application as KDA would have run it on
the given records (kda.Replay): records in arrival order, each record's
approximate arrival time as its ROWTIME and as the clock, and after the last
record the clock runs on until every open window has closed, so the last
windows are written too. Replaying the same records twice writes the same
bytes: compare lakekit's output with what your KDA application wrote.

The application is either the JSON that
  aws kinesisanalytics describe-application --application-name NAME
prints (its code, input schema, reference data and outputs), or --sql alone:
then the input stream is SOURCE_SQL_STREAM_001, with the columns schema
discovery chooses from the records ('lakekit kda discover').

The records are a file in the format 'aws kinesis get-records' prints
({"Records":[{"SequenceNumber","ApproximateArrivalTimestamp","Data","PartitionKey"}]},
pages may follow one another) or a Lambda Kinesis event
({"Records":[{"kinesis":{...}}]}); or --stream NAME, every record the stream
holds now (each shard read from TRIM_HORIZON to its tip).

Each output stream's rows (and error_stream's) are JSON lines, one object per
row with "ROWTIME" (yyyy-MM-dd HH:mm:ss.SSS, UTC) and the columns by name:
files DIR/<STREAM>.jsonl with --out, objects <prefix>/<STREAM>.jsonl with
--delivery; for a destination whose DestinationSchema is CSV, CSV lines
(ROWTIME, then the columns in order, no header) in <STREAM>.csv. --reference TABLE=FILE loads a reference table from a local file
instead of the S3 object the application names.`,
		Example: `  aws kinesis get-records --shard-iterator "$IT" > records.json
  lakekit kda run --application app.json --records records.json --out out/
  lakekit kda run --sql anomalies.sql --stream readings --delivery s3://lake/replay/
  lakekit kda run --application app.json --records records.json --reference COMPANY=company.csv --out out/`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.kdaRun(cmd.Context(), f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.sql, "sql", "", "the application's SQL `FILE` (input columns discovered from the records)")
	fl.StringVar(&f.application, "application", "", "the application as describe-application JSON `FILE`")
	fl.StringVar(&f.records, "records", "", "records `FILE`: get-records output or a Lambda Kinesis event")
	fl.StringVar(&f.stream, "stream", "", "read every record of the Kinesis stream `NAME` instead of a file")
	fl.StringVar(&f.out, "out", "", "write DIR/<STREAM>.jsonl (.csv for a CSV destination) per output stream into `DIR`")
	fl.StringVar(&f.delivery, "delivery", "", "write <prefix>/<STREAM>.jsonl (.csv) objects under `s3://bucket/prefix`")
	fl.StringVar(&f.owner, "expected-bucket-owner", "", "the account `ID` that must own the --delivery bucket")
	fl.StringArrayVar(&f.references, "reference", nil, "load reference table TABLE from a local file (`TABLE=FILE`, repeatable)")
	fl.BoolVar(&f.preprocessed, "preprocessed", false, "the records were already transformed by the application's input preprocessing Lambda")
	return c
}

// check refuses flag combinations before any work.
func (f kdaRunFlags) check() error {
	switch {
	case (f.sql == "") == (f.application == ""):
		return usageError{errors.New("give one of --sql and --application")}
	case (f.records == "") == (f.stream == ""):
		return usageError{errors.New("give one of --records and --stream")}
	case (f.out == "") == (f.delivery == ""):
		return usageError{errors.New("give one of --out and --delivery")}
	}
	for _, r := range f.references {
		if t, file, ok := strings.Cut(r, "="); !ok || t == "" || file == "" {
			return usageError{fmt.Errorf("--reference %q: want TABLE=FILE", r)}
		}
	}
	return nil
}

// kdaRunSummary is the --json summary of kda run.
type kdaRunSummary struct {
	Application string         `json:"application"`
	Records     int            `json:"records"`
	Rows        map[string]int `json:"rows"`
	Out         string         `json:"out"`
}

func (a *app) kdaRun(ctx context.Context, f kdaRunFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	var dst s3copy.Location
	if f.delivery != "" {
		loc, err := s3copy.ParseLocation(f.delivery)
		if err != nil {
			return usageError{fmt.Errorf("--delivery: %w", err)}
		}
		dst = loc
	}
	refs := map[string]string{}
	for _, r := range f.references {
		t, file, _ := strings.Cut(r, "=")
		refs[t] = file
	}
	// AWS is needed only to read a stream, write S3, or load a reference
	// table no --reference replaces; a replay of files works offline.
	var cfg aws.Config
	needAWS := f.stream != "" || f.delivery != ""
	var app *kda.Application
	if f.application != "" {
		data, err := os.ReadFile(f.application)
		if err != nil {
			return err
		}
		if app, err = kda.ParseApplication(data); err != nil {
			return fmt.Errorf("%s: %w", f.application, err)
		}
		for _, r := range app.References {
			if refs[r.Table] == "" {
				needAWS = true
			}
		}
	}
	if needAWS {
		var err error
		if cfg, err = a.awsConfig(ctx); err != nil {
			return err
		}
	}
	for _, in := range appInputs(app) {
		if in.PreprocessorARN != "" && !f.preprocessed {
			return fmt.Errorf("the application preprocesses its input with the Lambda %s, which a replay does not run: replay records that Lambda already transformed and pass --preprocessed", in.PreprocessorARN)
		}
	}
	records, err := a.kdaRecords(ctx, cfg, f)
	if err != nil {
		return err
	}
	if app == nil {
		if app, err = sqlApplication(f.sql, records); err != nil {
			return err
		}
	}
	opts := func(o *kda.ReplayOptions) {
		o.References, o.Preprocessed = refs, f.preprocessed
		if needAWS {
			o.S3 = a.s3Client(cfg)
		}
	}
	sum := kdaRunSummary{Application: app.Name, Records: len(records)}
	if f.out != "" {
		stats, err := kda.ReplayToDir(ctx, app, records, f.out, opts)
		if err != nil {
			return err
		}
		sum.Rows, sum.Out = stats.Rows, f.out
	} else {
		bufs := map[string]*bytes.Buffer{}
		stats, err := kda.Replay(ctx, app, records, func(stream string) (io.Writer, error) {
			b := new(bytes.Buffer)
			bufs[stream] = b
			return b, nil
		}, opts)
		if err != nil {
			return err
		}
		if err := putStreams(ctx, a.s3Client(cfg), app, dst, owner(f.owner), bufs); err != nil {
			return err
		}
		sum.Rows, sum.Out = stats.Rows, f.delivery
	}
	return a.summary(sum, func(w io.Writer) {
		fmt.Fprintf(w, "%d records replayed into %s\n", sum.Records, sum.Out)
		streams := make([]string, 0, len(sum.Rows))
		for s := range sum.Rows {
			streams = append(streams, s)
		}
		sort.Strings(streams)
		for _, s := range streams {
			fmt.Fprintf(w, "%8d rows  %s\n", sum.Rows[s], kda.StreamFileName(s, app.OutputFormat(s)))
		}
	})
}

// sqlApplication is the application --sql describes: its SQL on one JSON
// input stream, SOURCE_SQL_STREAM_001, with the discovered columns.
func sqlApplication(file string, records []kda.KinesisRecord) (*kda.Application, error) {
	code, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	cols, err := discover(records)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	return &kda.Application{
		Name: name,
		Code: string(code),
		Inputs: []kda.AppInput{{
			NamePrefix: "SOURCE_SQL_STREAM",
			Streams:    []string{"SOURCE_SQL_STREAM_001"},
			Columns:    cols,
		}},
	}, nil
}

// discover runs schema discovery on up to the first 1,000 records, as the
// KDA console samples a stream.
func discover(records []kda.KinesisRecord) ([]kda.Column, error) {
	if len(records) == 0 {
		return nil, errors.New("no records to discover the input schema from")
	}
	n := min(len(records), 1000)
	samples := make([][]byte, n)
	for i := range samples {
		samples[i] = records[i].Data
	}
	cols, err := kda.DiscoverSchema(samples)
	if err != nil {
		return nil, fmt.Errorf("discovering the input schema: %w", err)
	}
	return cols, nil
}

// kdaRecords reads the records of --records or --stream.
func (a *app) kdaRecords(ctx context.Context, cfg aws.Config, f kdaRunFlags) ([]kda.KinesisRecord, error) {
	if f.records != "" {
		return readRecordsFile(f.records)
	}
	return readStream(ctx, kinesis.NewFromConfig(cfg), f.stream)
}

func readRecordsFile(name string) ([]kda.KinesisRecord, error) {
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	recs, err := kda.ReadRecords(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return recs, nil
}

// readStream reads every record stream holds now: each shard from
// TRIM_HORIZON until GetRecords says it is at the tip, KPL aggregates
// de-aggregated.
func readStream(ctx context.Context, client *kinesis.Client, stream string) ([]kda.KinesisRecord, error) {
	var shards []ktypes.Shard
	in := &kinesis.ListShardsInput{StreamName: &stream}
	for {
		page, err := client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("listing the shards of %s: %w", stream, err)
		}
		shards = append(shards, page.Shards...)
		if page.NextToken == nil {
			break
		}
		in = &kinesis.ListShardsInput{NextToken: page.NextToken} // StreamName must go with a token
	}
	var out []kda.KinesisRecord
	for _, sh := range shards {
		it, err := client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{
			StreamName: &stream, ShardId: sh.ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon,
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s shard %s: %w", stream, aws.ToString(sh.ShardId), err)
		}
		iter := it.ShardIterator
		for iter != nil {
			page, err := client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				return nil, fmt.Errorf("reading %s shard %s: %w", stream, aws.ToString(sh.ShardId), err)
			}
			for _, r := range page.Records {
				users, err := kda.Deaggregate(r.Data, aws.ToString(r.PartitionKey))
				if err != nil {
					return nil, fmt.Errorf("%s shard %s record %s: %w", stream, aws.ToString(sh.ShardId), aws.ToString(r.SequenceNumber), err)
				}
				for _, u := range users {
					out = append(out, kda.KinesisRecord{UserRecord: u, ShardID: aws.ToString(sh.ShardId), SequenceNumber: aws.ToString(r.SequenceNumber), ArrivalTime: aws.ToTime(r.ApproximateArrivalTimestamp)})
				}
			}
			if len(page.Records) == 0 && aws.ToInt64(page.MillisBehindLatest) == 0 {
				break // at the tip
			}
			iter = page.NextShardIterator
		}
	}
	return out, nil
}

// putStreams writes each stream's rows as the object <prefix><STREAM>.jsonl
// (.csv for a CSV destination).
func putStreams(ctx context.Context, client *s3.Client, app *kda.Application, dst s3copy.Location, owner *string, bufs map[string]*bytes.Buffer) error {
	prefix := dst.Prefix
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	for stream, b := range bufs {
		format := app.OutputFormat(stream)
		key, ctype := prefix+kda.StreamFileName(stream, format), "application/x-ndjson"
		if format == kda.FormatCSV {
			ctype = "text/csv"
		}
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &dst.Bucket, Key: &key, Body: bytes.NewReader(b.Bytes()),
			ContentType: aws.String(ctype), ExpectedBucketOwner: owner,
		}); err != nil {
			return fmt.Errorf("writing s3://%s/%s: %w", dst.Bucket, key, err)
		}
	}
	return nil
}

func newKDADiscover(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "discover FILE",
		Short: "Print the input schema KDA's schema discovery would choose for recorded stream records",
		Long: `Print the columns schema discovery chooses from the first 1,000 records of
FILE (get-records output or a Lambda Kinesis event): name, SQL type and JSON
mapping. With --json the columns are in the shape of a describe-application
InputSchema's RecordColumns, to paste into an application.`,
		Example: `  lakekit kda discover records.json
  lakekit --json kda discover records.json | jq .RecordColumns`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			recs, err := readRecordsFile(args[0])
			if err != nil {
				return err
			}
			cols, err := discover(recs)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			type recordColumn struct{ Name, SqlType, Mapping string }
			sum := struct{ RecordColumns []recordColumn }{}
			for _, c := range cols {
				m := c.Mapping
				if m == "" {
					m = "$." + c.Name
				}
				sum.RecordColumns = append(sum.RecordColumns, recordColumn{c.Name, c.Type.String(), m})
			}
			return a.summary(sum, func(w io.Writer) {
				for _, c := range sum.RecordColumns {
					fmt.Fprintf(w, "%-24s %-14s %s\n", c.Name, c.SqlType, c.Mapping)
				}
			})
		},
	}
}

// owner is an --expected-bucket-owner value for the SDK: nil when not given.
func owner(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

// appInputs is app's inputs; none for the --sql application, built later.
func appInputs(app *kda.Application) []kda.AppInput {
	if app == nil {
		return nil
	}
	return app.Inputs
}
