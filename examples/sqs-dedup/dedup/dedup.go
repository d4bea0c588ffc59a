// Package dedup is the glue of the sqs-dedup example (seed system 1): the
// Writer Lambda's handler (S3 event → CSV → queue), the Processor Lambda's
// handler (SQS event → idempotent effect → partial batch response), a local
// stand-in for Lambda's SQS event source mapping, and a runner that plays
// the whole system against local servers.
package dedup

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awserr"
	"github.com/lakekit/lakekit/internal/backoff"
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
			w := sqsbatch.New(sqsc, cfg.QueueURL, func(o *sqsbatch.Options) {
				o.Logger = cfg.Logger
				if cfg.OffloadBucket != "" {
					o.Offload = &sqsbatch.Offload{S3: s3c, Bucket: cfg.OffloadBucket, Prefix: "offload/", ExpectedBucketOwner: cfg.BucketOwner}
				}
			})
			rep, err := sqsbatch.WriteCSV(ctx, src, w, false)
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
	return sqsbatch.LambdaHandler(h, func(o *sqsbatch.LambdaOptions) {
		o.Resolver = resolver
		o.Logger = log
	})
}

// EventSourceMapping is a local stand-in for Lambda's SQS event source
// mapping with ReportBatchItemFailures: pollers receive batches, invoke the
// handler with them, and delete every message not reported as failed.
type EventSourceMapping struct {
	Client   EventSourceAPI
	QueueURL string
	QueueARN string
	Handler  func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	Pollers  int   // concurrent invocations; default 4
	Timeout  int32 // visibility timeout in seconds; default 30
	// MaxFailures is how many SQS calls in a row a poller retries after
	// transient errors (full-jitter backoff) before Run ends with a
	// *PollError; errors retrying cannot fix end it at once. Default 10;
	// negative: for ever.
	MaxFailures int

	Invokes, Messages, Failures atomic.Int64
}

// EventSourceAPI is what an EventSourceMapping needs from SQS.
type EventSourceAPI interface {
	sqsbatch.ReceiveMessageAPI
	sqsbatch.DeleteMessageBatchAPI
}

// PollError ends EventSourceMapping.Run: an SQS call failed with an error
// retrying cannot fix (Permanent), or MaxFailures calls in a row failed.
type PollError struct {
	QueueURL, Op, Code string
	Permanent          bool
	Failures           int
	Err                error
}

func (e *PollError) Error() string {
	if e.Permanent {
		return fmt.Sprintf("dedup: event source mapping on %s stopped: %s failed with an error retrying cannot fix: %v", e.QueueURL, e.Op, e.Err)
	}
	return fmt.Sprintf("dedup: event source mapping on %s stopped after %d failed calls in a row; last, %s: %v", e.QueueURL, e.Failures, e.Op, e.Err)
}

func (e *PollError) Unwrap() error { return e.Err }

// Run polls until ctx ends (nil) or a poller cannot go on (*PollError); the
// first poller to stop with an error stops the others.
func (e *EventSourceMapping) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pollers := e.Pollers
	if pollers <= 0 {
		pollers = 4
	}
	timeout := e.Timeout
	if timeout <= 0 {
		timeout = 30
	}
	errc := make(chan error, pollers)
	for range pollers {
		go func() { errc <- e.poll(ctx, timeout) }()
	}
	var first error
	for range pollers {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

func (e *EventSourceMapping) poll(ctx context.Context, timeout int32) error {
	limit := e.MaxFailures
	if limit == 0 {
		limit = 10
	}
	failures := 0
	fail := func(op string, err error) error {
		failures++
		pe := &PollError{QueueURL: e.QueueURL, Op: op, Code: awserr.Code(err), Permanent: awserr.Permanent(err), Failures: failures, Err: err}
		if pe.Permanent || (limit > 0 && failures >= limit) {
			return pe
		}
		_ = backoff.Sleep(ctx, backoff.FullJitter(failures, 100*time.Millisecond, 10*time.Second))
		return nil
	}
	for ctx.Err() == nil {
		out, err := e.Client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &e.QueueURL, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: timeout,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		}, sqsbatch.SafeRequestBody)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if perr := fail("ReceiveMessage", err); perr != nil {
				return perr
			}
			continue
		}
		failures = 0
		if len(out.Messages) == 0 {
			continue
		}
		ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
		for i, m := range out.Messages {
			rec := events.SQSMessage{
				MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
				Md5OfBody: aws.ToString(m.MD5OfBody), Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: e.QueueARN,
			}
			if len(m.MessageAttributes) > 0 {
				rec.MessageAttributes = map[string]events.SQSMessageAttribute{}
				for k, a := range m.MessageAttributes {
					rec.MessageAttributes[k] = events.SQSMessageAttribute{DataType: aws.ToString(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue}
				}
			}
			ev.Records[i] = rec
		}
		e.Invokes.Add(1)
		e.Messages.Add(int64(len(ev.Records)))
		resp, err := e.Handler(ctx, ev)
		if err != nil {
			e.Failures.Add(int64(len(ev.Records))) // the whole batch comes back
			continue
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		e.Failures.Add(int64(len(failed)))
		var del []types.DeleteMessageBatchRequestEntry
		for _, m := range out.Messages {
			if !failed[aws.ToString(m.MessageId)] {
				del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(del))), ReceiptHandle: m.ReceiptHandle})
			}
		}
		if len(del) > 0 {
			// A failed delete leaves the messages to come back (the
			// idempotency layer suppresses the second effect).
			if _, err := e.Client.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: &e.QueueURL, Entries: del}, sqsbatch.SafeRequestBody); err != nil {
				if perr := fail("DeleteMessageBatch", err); perr != nil {
					return perr
				}
			}
		}
	}
	return nil
}
