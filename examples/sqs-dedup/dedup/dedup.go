// Package dedup is the glue of the sqs-dedup example (seed system 1): the
// Writer Lambda's handler (S3 event → CSV → queue), the Processor Lambda's
// handler (SQS event → idempotent effect → partial batch response), and a
// runner that plays the whole system against local servers, the processor
// under sqsbatch.NewEventSourceMapping (Lambda's SQS event source mapping,
// on a machine).
package dedup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/sqsbatch"
)

// WriterConfig configures the Writer handler.
type WriterConfig struct {
	QueueURL      string
	KeyColumn     string // the CSV's unique column
	OffloadBucket string // optional: bodies over the limit go through S3
	BucketOwner   string // optional: ExpectedBucketOwner for every S3 call
	Logger        *slog.Logger
}

// S3API is what the Writer handler needs from S3.
type S3API interface {
	sqsbatch.GetObjectAPI
	sqsbatch.PutObjectAPI
}

// WriterSummary adds up the CSV reports of one S3 event.
type WriterSummary struct {
	Objects, Rows, Sent, Offloaded, Malformed, Failed int
}

// WriterHandler returns the Writer Lambda's handler. Unlike the seed it
// handles every record of the event (not only the first), decodes the
// URL-encoded object key, streams each object, and fails the invocation
// (so S3's retry or the async DLQ sees it) when any row could not be sent.
// Malformed rows are skipped and logged with their line.
func WriterHandler(s3c S3API, sqsc sqsbatch.SendMessageBatchAPI, cfg WriterConfig) func(context.Context, events.S3Event) (WriterSummary, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return func(ctx context.Context, ev events.S3Event) (WriterSummary, error) {
		var sum WriterSummary
		for _, rec := range ev.Records {
			bucket := rec.S3.Bucket.Name
			// Event keys are form-encoded: '+' is a space, "%2B" a '+'.
			key, err := url.QueryUnescape(rec.S3.Object.Key)
			if err != nil {
				return sum, fmt.Errorf("object key %q: %w", rec.S3.Object.Key, err)
			}
			src, err := sqsbatch.OpenS3CSV(ctx, s3c, bucket, key, cfg.BucketOwner, func(o *sqsbatch.CSVOptions) { o.KeyColumn = cfg.KeyColumn })
			if err != nil {
				return sum, err
			}
			w, err := sqsbatch.NewWriter(sqsc, cfg.QueueURL, func(o *sqsbatch.WriterOptions) {
				o.Logger = cfg.Logger
				if cfg.OffloadBucket != "" {
					o.Offload = &sqsbatch.Offload{S3: s3c, Bucket: cfg.OffloadBucket, Prefix: "offload/", ExpectedBucketOwner: cfg.BucketOwner}
				}
			})
			if err != nil {
				src.Close()
				return sum, err
			}
			rep, err := sqsbatch.WriteCSV(ctx, src, w, sqsbatch.SkipMalformed)
			src.Close()
			if cerr := w.Close(ctx); err == nil {
				err = cerr
			}
			sum.Objects++
			sum.Rows += rep.Rows
			sum.Sent += rep.Sent
			sum.Offloaded += rep.Offloaded
			sum.Malformed += rep.MalformedCount
			sum.Failed += rep.FailedCount
			for _, m := range rep.Malformed {
				log.Warn("malformed row skipped", "bucket", bucket, "key", key, "line", m.Line, "err", m.Err)
			}
			for _, f := range rep.Failed {
				log.Error("row not sent", "bucket", bucket, "key", key, "row_key", f.Key, "err", f.Err)
			}
			log.Info("object written", "bucket", bucket, "key", key, "rows", rep.Rows, "sent", rep.Sent, "malformed", rep.MalformedCount, "failed", rep.FailedCount)
			if err != nil {
				return sum, err
			}
		}
		if sum.Failed > 0 {
			return sum, fmt.Errorf("%d of %d rows were not sent", sum.Failed, sum.Rows)
		}
		return sum, nil
	}
}

// Effect applies one row; it must honour ctx.
type Effect func(ctx context.Context, key string, row map[string]string) error

// ProcessorHandler returns the Processor Lambda's handler: each message's
// row is applied once per key (idem), failures are reported per message.
func ProcessorHandler(idem *sqsbatch.Idempotency, keyField string, apply Effect, resolver *sqsbatch.Resolver, log *slog.Logger) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	h := idem.Wrap(func(ctx context.Context, m types.Message) error {
		var row map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &row); err != nil {
			return fmt.Errorf("message %s: body is not a row: %w", aws.ToString(m.MessageId), err)
		}
		return apply(ctx, row[keyField], row)
	})
	return sqsbatch.NewLambdaHandler(h, func(o *sqsbatch.LambdaOptions) {
		o.Resolver = resolver
		o.Logger = log
	})
}
