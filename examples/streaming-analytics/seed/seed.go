// Package seed holds seed system 3 as lakekit runs it: the post's Kinesis
// Data Generator template, its KDA SQL application verbatim, and its two
// Firehose deliveries, wired with package kda. The Lambda main and the local
// runner in the parent folder, and the tour, all use it.
//
// Corrections to the seed, shown rather than hidden:
//   - The post's S3 prefixes use !{timestamp:YYYY}: Firehose reads YYYY as
//     the week-based year, so records of 2019-12-30 land under year=2020.
//     AnomalyPrefix and OutputPrefix use yyyy; SeedAnomalyPrefix keeps the
//     post's text so its behaviour can be shown.
//   - The two pumps test > 100 and < 100: a reading of exactly 100 reaches
//     neither stream. The SQL is kept as written; Report counts those rows.
//   - Firehose concatenates KDA's JSON rows with no delimiter; the
//     deliveries here write one row per line so Athena can read them.
package seed

import (
	"context"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/lakekit/lakekit/kda"
)

// Template is the post's KDG record template.
const Template = `{
    "sensor_id": {{random.number(50)}},
    "current_temperature": {{random.number(
        {
            "min":0,
            "max":150
        }
    )}},
    "location": "{{random.arrayElement(
        ["AUS","USA","UK"]
    )}}"
}`

// SQL is the post's KDA application code, verbatim.
const SQL = `CREATE OR REPLACE STREAM "anomaly_data_stream" (
	"sensor_id" INTEGER,
	"current_temperature" INTEGER, 
	"location" VARCHAR(16));

CREATE OR REPLACE  PUMP "STREAM_PUMP_ANOMALY" AS INSERT INTO "anomaly_data_stream"
SELECT STREAM "sensor_id",
				"current_temperature",
				"location"
FROM "SOURCE_SQL_STREAM_001" WHERE "current_temperature" > 100;

CREATE OR REPLACE STREAM "output_data_stream" (
	"sensor_id" INTEGER,
	"current_temperature" INTEGER, 
	"location" VARCHAR(16));

CREATE OR REPLACE  PUMP "STREAM_PUMP_OUTPUT" AS INSERT INTO "output_data_stream"
SELECT STREAM "sensor_id",
				"current_temperature",
				"location"
FROM "SOURCE_SQL_STREAM_001" WHERE "current_temperature" < 100;
`

// Input is the schema the console's "Discover schema" gives for Template.
var Input = kda.Input{Name: kda.DefaultInputStream, Columns: []kda.Column{
	{Name: "sensor_id", Type: kda.Integer, Mapping: "$.sensor_id"},
	{Name: "current_temperature", Type: kda.Integer, Mapping: "$.current_temperature"},
	{Name: "location", Type: kda.Varchar(16), Mapping: "$.location"},
}}

// Delivery streams and prefixes.
const (
	AnomalyDeliveryStream = "anomaly-delivery-stream"
	OutputDeliveryStream  = "output-delivery-stream"
	SeedAnomalyPrefix     = "data/anomaly/year=!{timestamp:YYYY}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
	AnomalyPrefix         = "data/anomaly/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
	OutputPrefix          = "data/output/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
	ErrorPrefix           = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"
)

// Pipeline is the seed's application with its deliveries.
type Pipeline struct {
	App                     *kda.App
	Anomaly, Output, Errors *kda.Delivery
}

// NewPipeline builds the engine from SQL and connects anomaly_data_stream
// and output_data_stream to their deliveries and the error_stream to the
// error prefix of the anomaly bucket. deliveryOpts apply to all three.
func NewPipeline(s3 kda.PutObjectAPI, bucket string, now func() time.Time, deliveryOpts ...func(*kda.DeliveryOptions)) (*Pipeline, error) {
	engine, err := kda.NewEngine(SQL, []kda.Input{Input}, func(o *kda.EngineOptions) {
		if now != nil {
			o.Now = now
		}
	})
	if err != nil {
		return nil, err
	}
	mk := func(stream, prefix string) (*kda.Delivery, error) {
		return kda.NewDelivery(s3, bucket, stream, append([]func(*kda.DeliveryOptions){func(o *kda.DeliveryOptions) {
			o.Prefix, o.ErrorOutputPrefix = prefix, ErrorPrefix
			if now != nil {
				o.Now = now
			}
		}}, deliveryOpts...)...)
	}
	p := &Pipeline{}
	if p.Anomaly, err = mk(AnomalyDeliveryStream, AnomalyPrefix); err != nil {
		return nil, err
	}
	if p.Output, err = mk(OutputDeliveryStream, OutputPrefix); err != nil {
		return nil, err
	}
	if p.Errors, err = mk("error-delivery-stream", "errors/"); err != nil {
		return nil, err
	}
	p.App, err = kda.NewApp(engine, "",
		kda.Output{Stream: "anomaly_data_stream", Sink: p.Anomaly},
		kda.Output{Stream: "output_data_stream", Sink: p.Output},
		kda.Output{Stream: kda.ErrorStream, Sink: errorSink{p.Errors}})
	return p, err
}

// errorSink writes error_stream rows under the error prefix, as
// processing-failed records.
type errorSink struct{ d *kda.Delivery }

func (s errorSink) Put(ctx context.Context, rec []byte, at time.Time) error {
	return s.d.PutError(ctx, rec, kda.ErrorOutputProcessingFailed, at)
}
func (s errorSink) Flush(ctx context.Context) error { return s.d.Flush(ctx) }

// Report is what RunLocal saw.
type Report struct {
	Generated, Anomaly, Output, Exactly100, Errors int
	Keys                                           []string
	ProduceTime, ConsumeTime                       time.Duration
	Retried                                        int64
}

// LocalClients are the clients RunLocal needs.
type LocalClients struct {
	Kinesis interface {
		kda.PutRecordsAPI
		kda.ConsumerAPI
		CreateStream(context.Context, *kinesis.CreateStreamInput, ...func(*kinesis.Options)) (*kinesis.CreateStreamOutput, error)
		DescribeStreamSummary(context.Context, *kinesis.DescribeStreamSummaryInput, ...func(*kinesis.Options)) (*kinesis.DescribeStreamSummaryOutput, error)
	}
	S3     kda.PutObjectAPI
	Bucket string
}

// RunLocal runs the whole system: n generated records are put into a new
// two-shard stream, consumed with checkpoints, run through the SQL
// application, and delivered to S3. Objects are buffered up to 8 KiB so a
// short run still shows the Firehose naming over several objects.
func RunLocal(ctx context.Context, c LocalClients, streamName string, n int, seed uint64) (*Report, error) {
	arn, err := createStream(ctx, c, streamName)
	if err != nil {
		return nil, err
	}
	rep := &Report{}
	if err := produce(ctx, c, arn, n, seed, rep); err != nil {
		return nil, err
	}
	if err := consume(ctx, c, arn, rep); err != nil {
		return nil, err
	}
	sort.Strings(rep.Keys)
	return rep, nil
}

// createStream creates a two-shard stream and returns its ARN once it is
// active.
func createStream(ctx context.Context, c LocalClients, streamName string) (string, error) {
	if _, err := c.Kinesis.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &streamName, ShardCount: aws.Int32(2)}); err != nil {
		return "", err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		sum, err := c.Kinesis.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &streamName})
		if err == nil && sum.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			return aws.ToString(sum.StreamDescriptionSummary.StreamARN), nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("stream %s not active: %v", streamName, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// produce generates n records from the seed's template, plus one
// malformed record that shows the error_stream, and puts them into the
// stream.
func produce(ctx context.Context, c LocalClients, arn string, n int, seed uint64, rep *Report) error {
	gen, err := kda.NewGenerator(kda.MustParseTemplate(Template), func(o *kda.GeneratorOptions) { o.Seed, o.Count = seed, n })
	if err != nil {
		return err
	}
	var recs []kda.Record
	if err := gen.Run(ctx, func(b []byte) error {
		recs = append(recs, kda.Record{Data: append([]byte(nil), b...)})
		return nil
	}); err != nil {
		return err
	}
	recs = append(recs, kda.Record{Data: []byte(`{"sensor_id": "x", "current_temperature": 1, "location": "UK"}`)})
	rep.Generated = len(recs)
	start := time.Now()
	prod, err := kda.NewProducer(c.Kinesis, arn, func(o *kda.ProducerOptions) { o.PartitionKey = kda.FieldPartitionKey("sensor_id") })
	if err != nil {
		return err
	}
	res, err := prod.Put(ctx, recs)
	if err != nil {
		return err
	}
	for i, r := range res {
		if r.Err != nil {
			return fmt.Errorf("record %d: %w", i, r.Err)
		}
	}
	rep.ProduceTime, rep.Retried = time.Since(start), prod.Stats().Retried
	return nil
}

// consume reads the stream to its end through the seed's pipeline,
// counting each stream's rows into rep.
func consume(ctx context.Context, c LocalClients, arn string, rep *Report) error {
	start := time.Now()
	pl, err := NewPipeline(c.S3, c.Bucket, nil, func(o *kda.DeliveryOptions) {
		o.BufferSize, o.AllowSmallBuffers = 8<<10, true
		o.OnObject = func(key string, _ int) { rep.Keys = append(rep.Keys, key) }
	})
	if err != nil {
		return err
	}
	counters := map[string]*int{"anomaly_data_stream": &rep.Anomaly, "output_data_stream": &rep.Output, kda.ErrorStream: &rep.Errors}
	for name, n := range counters {
		_ = pl.App.Engine().Subscribe(name, func(kda.Row) { *n++ })
	}
	_ = pl.App.Engine().Subscribe(kda.DefaultInputStream, func(r kda.Row) {
		if v := r.Values[1]; v.K == kda.KindInt && v.I == 100 {
			rep.Exactly100++
		}
	})
	cons, err := kda.NewConsumer(c.Kinesis, arn, func(ctx context.Context, _ string, rs []kda.KinesisRecord) error {
		for _, r := range rs {
			if err := pl.App.HandleRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}, func(o *kda.ConsumerOptions) {
		o.StopAtEnd = true
		o.PollInterval, o.RetryDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err != nil {
		return err
	}
	if err := cons.Run(ctx); err != nil {
		return err
	}
	if err := pl.App.Flush(ctx); err != nil {
		return err
	}
	rep.ConsumeTime = time.Since(start)
	return nil
}

// Print writes the report.
func (r *Report) Print(w io.Writer) {
	fmt.Fprintf(w, "generated %d records (1 malformed) → Kinesis in %v (%d entries retried)\n", r.Generated, r.ProduceTime.Round(time.Millisecond), r.Retried)
	fmt.Fprintf(w, "SQL pumps: anomaly_data_stream %d, output_data_stream %d, exactly 100 (no pump) %d, error_stream %d; consumed in %v\n",
		r.Anomaly, r.Output, r.Exactly100, r.Errors, r.ConsumeTime.Round(time.Millisecond))
	fmt.Fprintf(w, "S3 objects written: %d\n", len(r.Keys))
	for i, k := range r.Keys {
		if i == 4 && len(r.Keys) > 5 {
			fmt.Fprintf(w, "  … %d more\n", len(r.Keys)-5)
			k = r.Keys[len(r.Keys)-1]
		} else if i > 4 {
			break
		}
		fmt.Fprintf(w, "  s3://…/%s\n", k)
	}
}

// PrefixDemo shows the seed's YYYY prefix against the corrected yyyy one on
// 2019-12-30, with the warning lakekit gives.
func PrefixDemo(w io.Writer) error {
	at := time.Date(2019, 12, 30, 10, 0, 0, 0, time.UTC)
	for _, s := range []string{SeedAnomalyPrefix, AnomalyPrefix} {
		p, err := kda.ParsePrefix(s)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s at 2019-12-30 → %s\n", s, p.Render(kda.PrefixValues{Time: at}))
		for _, warn := range p.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", warn)
		}
	}
	return nil
}
