package kda

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// PutRecordsAPI is the Kinesis call a Producer makes.
type PutRecordsAPI interface {
	PutRecords(ctx context.Context, in *kinesis.PutRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.PutRecordsOutput, error)
}

// Kinesis Data Streams limits for PutRecords.
const (
	MaxPutRecordsEntries  = 500
	MaxPutRecordsBytes    = 5 << 20 // per request: data and partition keys
	DefaultMaxRecordBytes = 1 << 20 // per record: data and partition key
	MaxRecordBytesLimit   = 10 << 20
	MaxPartitionKeyLength = 256
)

// Producer defaults.
const (
	DefaultMaxInFlight = 4
	DefaultMaxAttempts = 10
	DefaultBackoffBase = 100 * time.Millisecond
	DefaultBackoffMax  = 3 * time.Second
)

// ErrRecordTooLarge is the error of a record over MaxRecordBytes; it is
// never sent.
var ErrRecordTooLarge = errors.New("kda: record larger than the stream's maximum record size")

// RecordError is a record Kinesis rejected: its ErrorCode and ErrorMessage
// from the last attempt, and how many attempts were made.
type RecordError struct {
	Code, Message string
	Attempts      int
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("kinesis rejected the record after %d attempt(s): %s: %s", e.Attempts, e.Code, e.Message)
}

// Retryable reports whether Kinesis marks the failure as transient.
func (e *RecordError) Retryable() bool { return retryableCode(e.Code) }

func retryableCode(code string) bool {
	switch code {
	case "ProvisionedThroughputExceededException", "InternalFailure", "KMSThrottlingException",
		"LimitExceededException", "ServiceUnavailable", "ThrottlingException":
		return true
	}
	return false
}

// Record is one record to put.
type Record struct {
	Data []byte
	// PartitionKey chooses the shard. Empty: ProducerOptions.PartitionKey(Data).
	PartitionKey    string
	ExplicitHashKey string
}

// PutResult is the outcome of one record, in the order of the input.
type PutResult struct {
	ShardID, SequenceNumber string
	Attempts                int
	Err                     error // nil, ErrRecordTooLarge, *RecordError, or the request's error
}

// PartitionKeyFunc derives a partition key from a record's data.
type PartitionKeyFunc func(data []byte) string

// RandomPartitionKey spreads records evenly over shards, as KDG does.
func RandomPartitionKey(_ []byte) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// FieldPartitionKey keys records by a top-level JSON field (for example
// "sensor_id": one sensor's readings stay in order on one shard). Records
// without the field, or not JSON, get a random key.
func FieldPartitionKey(field string) PartitionKeyFunc {
	return func(data []byte) string {
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) == nil {
			if raw, ok := m[field]; ok {
				var s string
				if json.Unmarshal(raw, &s) == nil {
					if s != "" && len(s) <= MaxPartitionKeyLength {
						return s
					}
				} else if len(raw) <= MaxPartitionKeyLength {
					return string(raw)
				}
			}
		}
		return RandomPartitionKey(data)
	}
}

// ConstantPartitionKey sends every record to one shard (strict order, one
// shard's throughput).
func ConstantPartitionKey(key string) PartitionKeyFunc { return func([]byte) string { return key } }

// ProducerOptions configures a Producer.
type ProducerOptions struct {
	// PartitionKey keys records that have none. Default RandomPartitionKey.
	PartitionKey PartitionKeyFunc
	// MaxRecordBytes is the stream's maximum record size (data plus
	// partition key). Default DefaultMaxRecordBytes (1 MiB); streams can be
	// configured up to MaxRecordBytesLimit.
	MaxRecordBytes int
	// MaxInFlight bounds concurrent PutRecords requests. Default
	// DefaultMaxInFlight.
	MaxInFlight int
	// MaxAttempts bounds attempts per record, counting the first. Default
	// DefaultMaxAttempts.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the full-jitter exponential backoff
	// between attempts. Defaults DefaultBackoffBase, DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// Sleep waits between attempts. Default: a real timer that ends early
	// with ctx.Err().
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger gets a debug line per retried batch. Default: discarded.
	Logger *slog.Logger
}

// ProducerStats is a snapshot of a Producer's counters.
type ProducerStats struct {
	Records   int64 // records accepted by Kinesis
	Failed    int64 // records that ended in an error
	Retried   int64 // record attempts retried after a retryable failure
	Requests  int64 // PutRecords requests sent
	BytesSent int64 // data and partition key bytes of accepted records
}

// Producer puts records into a Kinesis data stream with PutRecords,
// batching by count and bytes, and retrying only the entries that failed.
type Producer struct {
	client PutRecordsAPI
	stream string // name or ARN
	opts   ProducerOptions
	sem    chan struct{}

	records, failed, retried, requests, bytes atomic.Int64
}

// NewProducer returns a Producer putting records into stream (a name, or
// an ARN starting with "arn:"). Options it cannot honour are an
// *OptionError.
func NewProducer(client PutRecordsAPI, stream string, optFns ...func(*ProducerOptions)) (*Producer, error) {
	if stream == "" {
		return nil, errors.New("kda: NewProducer needs a stream name or ARN")
	}
	var o ProducerOptions
	for _, f := range optFns {
		f(&o)
	}
	const typ = "kda.ProducerOptions"
	o.MaxRecordBytes = opt.Default(o.MaxRecordBytes, DefaultMaxRecordBytes)
	o.MaxInFlight = opt.Default(o.MaxInFlight, DefaultMaxInFlight)
	o.MaxAttempts = opt.Default(o.MaxAttempts, DefaultMaxAttempts)
	o.BackoffBase = opt.Default(o.BackoffBase, DefaultBackoffBase)
	o.BackoffMax = opt.Default(o.BackoffMax, DefaultBackoffMax)
	if err := errors.Join(
		opt.Range(typ, "MaxRecordBytes", o.MaxRecordBytes, 1, MaxRecordBytesLimit),
		opt.Min(typ, "MaxInFlight", o.MaxInFlight, 1),
		opt.Min(typ, "MaxAttempts", o.MaxAttempts, 1),
		opt.Min(typ, "BackoffBase", o.BackoffBase, 0),
		opt.Min(typ, "BackoffMax", o.BackoffMax, o.BackoffBase),
	); err != nil {
		return nil, err
	}
	if o.PartitionKey == nil {
		o.PartitionKey = RandomPartitionKey
	}
	o.Sleep = orSleep(o.Sleep)
	o.Logger = opt.Logger(o.Logger)
	return &Producer{client: client, stream: stream, opts: o, sem: make(chan struct{}, o.MaxInFlight)}, nil
}

// Stats returns a snapshot of the counters.
func (p *Producer) Stats() ProducerStats {
	return ProducerStats{Records: p.records.Load(), Failed: p.failed.Load(), Retried: p.retried.Load(),
		Requests: p.requests.Load(), BytesSent: p.bytes.Load()}
}

// Put sends recs and returns one result per record, in order. Records are
// cut into requests of at most MaxPutRecordsEntries entries and
// MaxPutRecordsBytes; up to MaxInFlight requests run at once (Put blocks
// while they are all busy). Entries that fail with a retryable code are
// resent alone, with backoff, up to MaxAttempts. The error is non-nil only
// when ctx ends; per-record failures are in the results.
func (p *Producer) Put(ctx context.Context, recs []Record) ([]PutResult, error) {
	res := make([]PutResult, len(recs))
	keys := make([]string, len(recs))
	var batch []int
	size := 0
	var wg sync.WaitGroup
	send := func(idx []int) error {
		select {
		case p.sem <- struct{}{}:
		case <-ctx.Done():
			for _, i := range idx {
				res[i].Err = ctx.Err()
			}
			p.failed.Add(int64(len(idx)))
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-p.sem }()
			p.sendBatch(ctx, recs, keys, idx, res)
		}()
		return nil
	}
	var sendErr error
	for i, r := range recs {
		k := r.PartitionKey
		if k == "" {
			k = p.opts.PartitionKey(r.Data)
		}
		keys[i] = k
		n := len(r.Data) + len(k)
		if n > p.opts.MaxRecordBytes || len(k) == 0 || len(k) > MaxPartitionKeyLength {
			res[i].Err = ErrRecordTooLarge
			if len(k) == 0 || len(k) > MaxPartitionKeyLength {
				res[i].Err = fmt.Errorf("kda: partition key of %d bytes, want 1 to %d", len(k), MaxPartitionKeyLength)
			}
			p.failed.Add(1)
			continue
		}
		if len(batch) == MaxPutRecordsEntries || size+n > MaxPutRecordsBytes {
			if sendErr = send(batch); sendErr != nil {
				break
			}
			batch, size = nil, 0
		}
		batch = append(batch, i)
		size += n
	}
	if sendErr == nil && len(batch) > 0 {
		sendErr = send(batch)
	}
	wg.Wait()
	if sendErr == nil {
		sendErr = ctx.Err()
	}
	if sendErr != nil {
		for i := range res {
			if res[i].Err == nil && res[i].SequenceNumber == "" {
				res[i].Err = sendErr
			}
		}
	}
	return res, sendErr
}

func (p *Producer) sendBatch(ctx context.Context, recs []Record, keys []string, pending []int, res []PutResult) {
	for attempt := 1; len(pending) > 0; attempt++ {
		if attempt > 1 {
			if err := p.opts.Sleep(ctx, backoff.FullJitter(attempt, p.opts.BackoffBase, p.opts.BackoffMax)); err != nil {
				for _, i := range pending {
					res[i].Err = err
				}
				p.failed.Add(int64(len(pending)))
				return
			}
		}
		in := &kinesis.PutRecordsInput{Records: make([]kintypes.PutRecordsRequestEntry, len(pending))}
		if isARN(p.stream) {
			in.StreamARN = aws.String(p.stream)
		} else {
			in.StreamName = aws.String(p.stream)
		}
		for j, i := range pending {
			e := kintypes.PutRecordsRequestEntry{Data: recs[i].Data, PartitionKey: aws.String(keys[i])}
			if recs[i].ExplicitHashKey != "" {
				e.ExplicitHashKey = aws.String(recs[i].ExplicitHashKey)
			}
			in.Records[j] = e
			res[i].Attempts = attempt
		}
		p.requests.Add(1)
		out, err := p.client.PutRecords(ctx, in)
		if err == nil && len(out.Records) != len(pending) {
			err = fmt.Errorf("kda: PutRecords answered %d entries for %d", len(out.Records), len(pending))
		}
		if err != nil {
			var ae smithy.APIError
			transient := !errors.As(err, &ae) || retryableCode(ae.ErrorCode())
			if ctx.Err() != nil || !transient || attempt >= p.opts.MaxAttempts {
				for _, i := range pending {
					res[i].Err = err
				}
				p.failed.Add(int64(len(pending)))
				return
			}
			p.retried.Add(int64(len(pending)))
			continue
		}
		var retry []int
		for j, i := range pending {
			e := out.Records[j]
			code := aws.ToString(e.ErrorCode)
			if code == "" {
				res[i].ShardID, res[i].SequenceNumber, res[i].Err = aws.ToString(e.ShardId), aws.ToString(e.SequenceNumber), nil
				p.records.Add(1)
				p.bytes.Add(int64(len(recs[i].Data) + len(keys[i])))
				continue
			}
			rerr := &RecordError{Code: code, Message: aws.ToString(e.ErrorMessage), Attempts: attempt}
			if retryableCode(code) && attempt < p.opts.MaxAttempts {
				retry = append(retry, i)
				continue
			}
			res[i].Err = rerr
			p.failed.Add(1)
		}
		if len(retry) > 0 {
			p.retried.Add(int64(len(retry)))
			p.opts.Logger.Debug("kda: retrying failed PutRecords entries", "entries", len(retry), "of", len(pending), "attempt", attempt)
		}
		pending = retry
	}
}
