package kda

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lakekit/lakekit/internal/opt"
)

// KinesisSinkOptions configures a KinesisSink.
type KinesisSinkOptions struct {
	// MaxBufferedRecords is how many rows are buffered before Put sends
	// them. Default MaxPutRecordsEntries (one full PutRecords request);
	// more lets the Producer run several requests at once (MaxInFlight).
	MaxBufferedRecords int
	// MaxBufferedBytes bounds the buffered rows' data and partition keys.
	// Default MaxPutRecordsBytes.
	MaxBufferedBytes int
}

// KinesisSink is a Sink writing each row as one record to a Kinesis data
// stream, a KDA application's KINESIS_STREAM destination. Rows are
// buffered and sent through a Producer (PutRecords requests within
// Kinesis' limits, the entries that fail with a retryable code resent
// with backoff) when the buffer is full and at Flush.
//
// A row is never dropped silently: a row the stream still rejects after
// the Producer's last attempt, or too large for it, is a FailedRecord of
// a *DestinationError naming the stream (and is no longer buffered); a
// request that fails as a whole, or ctx ending, leaves its rows buffered
// for the next Flush, reported in the error as Buffered. Retried entries
// may land after later rows: per-shard order holds only for rows sent
// without a retry.
//
// A KinesisSink is safe for concurrent use.
type KinesisSink struct {
	p    *Producer
	opts KinesisSinkOptions

	mu      sync.Mutex
	pending []Record
	size    int
}

// NewKinesisSink returns a sink putting rows into the Producer's stream,
// each keyed by the Producer's PartitionKey. Options it cannot honour are
// an *OptionError.
func NewKinesisSink(p *Producer, optFns ...func(*KinesisSinkOptions)) (*KinesisSink, error) {
	if p == nil {
		return nil, errors.New("kda: NewKinesisSink needs a Producer")
	}
	var o KinesisSinkOptions
	for _, f := range optFns {
		f(&o)
	}
	const typ = "kda.KinesisSinkOptions"
	o.MaxBufferedRecords = opt.Default(o.MaxBufferedRecords, MaxPutRecordsEntries)
	o.MaxBufferedBytes = opt.Default(o.MaxBufferedBytes, MaxPutRecordsBytes)
	if err := errors.Join(
		opt.Min(typ, "MaxBufferedRecords", o.MaxBufferedRecords, 1),
		opt.Min(typ, "MaxBufferedBytes", o.MaxBufferedBytes, 1),
	); err != nil {
		return nil, err
	}
	return &KinesisSink{p: p, opts: o}, nil
}

// Stream returns the stream's name or ARN, as the Producer was given it.
func (s *KinesisSink) Stream() string { return s.p.stream }

// Put buffers a row, first sending the buffer when the row would not fit
// in it. arrival is ignored: Kinesis stamps its own arrival time. A row
// over the stream's record size is refused at once (ErrRecordTooLarge in
// a *DestinationError); when sending the buffer fails, the row is not
// buffered and the error is returned.
func (s *KinesisSink) Put(ctx context.Context, record []byte, _ time.Time) error {
	r := Record{Data: append([]byte(nil), record...)}
	r.PartitionKey = s.p.opts.PartitionKey(r.Data)
	n := len(r.Data) + len(r.PartitionKey)
	if n > s.p.opts.MaxRecordBytes || len(r.PartitionKey) == 0 || len(r.PartitionKey) > MaxPartitionKeyLength {
		err := ErrRecordTooLarge
		if len(r.PartitionKey) == 0 || len(r.PartitionKey) > MaxPartitionKeyLength {
			err = fmt.Errorf("kda: partition key of %d bytes, want 1 to %d", len(r.PartitionKey), MaxPartitionKeyLength)
		}
		return &DestinationError{Kind: DestinationKinesis, Name: s.p.stream, Failed: []FailedRecord{{Data: r.Data, Err: err}}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 && (len(s.pending) >= s.opts.MaxBufferedRecords || s.size+n > s.opts.MaxBufferedBytes) {
		if err := s.sendLocked(ctx); err != nil {
			return err
		}
	}
	s.pending = append(s.pending, r)
	s.size += n
	return nil
}

// Flush sends the buffered rows.
func (s *KinesisSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendLocked(ctx)
}

// sendLocked puts s.pending. Rows the stream took or rejected for good
// leave the buffer; rows of a failed request or an ended ctx stay.
func (s *KinesisSink) sendLocked(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	res, err := s.p.Put(ctx, s.pending)
	var failed []FailedRecord
	keep := s.pending[:0]
	size := 0
	for i, r := range res {
		rec := s.pending[i]
		if r.Err == nil {
			continue
		}
		var re *RecordError
		final := errors.As(r.Err, &re) || errors.Is(r.Err, ErrRecordTooLarge)
		failed = append(failed, FailedRecord{Data: rec.Data, Err: r.Err, Buffered: !final})
		if !final {
			keep = append(keep, rec)
			size += len(rec.Data) + len(rec.PartitionKey)
		}
	}
	clear(s.pending[len(keep):])
	s.pending, s.size = keep, size
	if len(failed) > 0 {
		return &DestinationError{Kind: DestinationKinesis, Name: s.p.stream, Failed: failed}
	}
	return err
}
