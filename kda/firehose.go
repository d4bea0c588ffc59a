package kda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// PutRecordBatchAPI is the Firehose call a FirehoseSink makes.
type PutRecordBatchAPI interface {
	PutRecordBatch(ctx context.Context, in *firehose.PutRecordBatchInput, optFns ...func(*firehose.Options)) (*firehose.PutRecordBatchOutput, error)
}

// Firehose PutRecordBatch limits.
const (
	MaxFirehoseBatchRecords = 500
	MaxFirehoseBatchBytes   = 4 << 20
	MaxFirehoseRecordBytes  = 1000 << 10
)

// FirehoseSinkOptions configures a FirehoseSink.
type FirehoseSinkOptions struct {
	// NoNewline sends rows as they are; by default each gets a trailing
	// newline so the delivered S3 objects are JSON Lines.
	NoNewline bool
	// MaxAttempts bounds attempts per record. Default DefaultMaxAttempts.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the jittered backoff between
	// attempts. Defaults DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// Sleep waits between attempts. Default: a real timer that ends early
	// with ctx.Err().
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger gets a debug line per retried batch. Default: discarded.
	Logger *slog.Logger
}

// FirehoseSinkStats is a snapshot of a FirehoseSink's counters.
type FirehoseSinkStats struct {
	Records, Retried, Requests int64
}

// FirehoseError is a record Firehose still rejected after the last attempt.
type FirehoseError struct {
	Code, Message string
	Attempts      int
}

func (e *FirehoseError) Error() string {
	return fmt.Sprintf("firehose rejected a record after %d attempt(s): %s: %s", e.Attempts, e.Code, e.Message)
}

// FirehoseSink is a Sink that sends rows to a real Firehose delivery
// stream with PutRecordBatch (≤ 500 records, ≤ 4 MiB per call), retrying
// the entries that failed. Records are buffered until a batch is full or
// Flush is called.
type FirehoseSink struct {
	client PutRecordBatchAPI
	stream string
	opts   FirehoseSinkOptions

	mu      sync.Mutex
	pending [][]byte
	size    int
	stats   FirehoseSinkStats
}

// NewFirehoseSink returns a sink for the named delivery stream. Options it
// cannot honour are an *OptionError.
func NewFirehoseSink(client PutRecordBatchAPI, deliveryStream string, optFns ...func(*FirehoseSinkOptions)) (*FirehoseSink, error) {
	if deliveryStream == "" {
		return nil, errors.New("kda: NewFirehoseSink needs a delivery stream name")
	}
	var o FirehoseSinkOptions
	for _, f := range optFns {
		f(&o)
	}
	const typ = "kda.FirehoseSinkOptions"
	o.MaxAttempts = opt.Default(o.MaxAttempts, DefaultMaxAttempts)
	o.BackoffBase = opt.Default(o.BackoffBase, DefaultBackoffBase)
	o.BackoffMax = opt.Default(o.BackoffMax, DefaultBackoffMax)
	if err := errors.Join(
		opt.Min(typ, "MaxAttempts", o.MaxAttempts, 1),
		opt.Min(typ, "BackoffBase", o.BackoffBase, 0),
		opt.Min(typ, "BackoffMax", o.BackoffMax, o.BackoffBase),
	); err != nil {
		return nil, err
	}
	o.Sleep = orSleep(o.Sleep)
	o.Logger = opt.Logger(o.Logger)
	return &FirehoseSink{client: client, stream: deliveryStream, opts: o}, nil
}

// Stats returns a snapshot of the counters.
func (f *FirehoseSink) Stats() FirehoseSinkStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stats
}

// Put buffers a record, sending a batch when it is full. arrival is
// ignored: Firehose stamps its own arrival time.
func (f *FirehoseSink) Put(ctx context.Context, record []byte, _ time.Time) error {
	rec := append(make([]byte, 0, len(record)+1), record...)
	if !f.opts.NoNewline {
		rec = append(rec, '\n')
	}
	if len(rec) > MaxFirehoseRecordBytes {
		return fmt.Errorf("kda: record of %d bytes exceeds Firehose's %d", len(rec), MaxFirehoseRecordBytes)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.pending) == MaxFirehoseBatchRecords || f.size+len(rec) > MaxFirehoseBatchBytes {
		if err := f.sendLocked(ctx); err != nil {
			return err
		}
	}
	f.pending = append(f.pending, rec)
	f.size += len(rec)
	return nil
}

// Flush sends the buffered records.
func (f *FirehoseSink) Flush(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sendLocked(ctx)
}

// sendLocked sends f.pending, retrying failed entries; records still failing
// after MaxAttempts are dropped from the buffer and returned as errors.
func (f *FirehoseSink) sendLocked(ctx context.Context) error {
	batch := f.pending
	var errs []error
	for attempt := 1; len(batch) > 0; attempt++ {
		if attempt > 1 {
			if err := f.opts.Sleep(ctx, backoff.FullJitter(attempt, f.opts.BackoffBase, f.opts.BackoffMax)); err != nil {
				f.pending, f.size = batch, sizeOf(batch)
				return err
			}
		}
		in := &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String(f.stream), Records: make([]fhtypes.Record, len(batch))}
		for i, r := range batch {
			in.Records[i] = fhtypes.Record{Data: r}
		}
		f.stats.Requests++
		out, err := f.client.PutRecordBatch(ctx, in)
		if err == nil && len(out.RequestResponses) != len(batch) {
			err = fmt.Errorf("kda: PutRecordBatch answered %d entries for %d", len(out.RequestResponses), len(batch))
		}
		if err != nil {
			var ae smithy.APIError
			transient := !errors.As(err, &ae) || ae.ErrorCode() == "ServiceUnavailableException" || ae.ErrorCode() == "ThrottlingException"
			if ctx.Err() != nil || !transient || attempt >= f.opts.MaxAttempts {
				f.pending, f.size = batch, sizeOf(batch) // kept for the next Flush
				return err
			}
			f.stats.Retried += int64(len(batch))
			continue
		}
		var retry [][]byte
		for i, r := range out.RequestResponses {
			code := aws.ToString(r.ErrorCode)
			switch {
			case code == "":
				f.stats.Records++
			case attempt < f.opts.MaxAttempts && (code == "ServiceUnavailableException" || code == "InternalFailure"):
				retry = append(retry, batch[i])
			default:
				errs = append(errs, &FirehoseError{Code: code, Message: aws.ToString(r.ErrorMessage), Attempts: attempt})
			}
		}
		if len(retry) > 0 {
			f.stats.Retried += int64(len(retry))
			f.opts.Logger.Debug("kda: retrying failed PutRecordBatch entries", "entries", len(retry), "attempt", attempt)
		}
		batch = retry
	}
	f.pending, f.size = f.pending[:0], 0
	return errors.Join(errs...)
}

func sizeOf(b [][]byte) int {
	n := 0
	for _, r := range b {
		n += len(r)
	}
	return n
}
