package kda

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/lakekit/lakekit/internal/awserr"
	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// ConsumerAPI is the Kinesis calls a Consumer makes.
type ConsumerAPI interface {
	ListShards(ctx context.Context, in *kinesis.ListShardsInput, optFns ...func(*kinesis.Options)) (*kinesis.ListShardsOutput, error)
	GetShardIterator(ctx context.Context, in *kinesis.GetShardIteratorInput, optFns ...func(*kinesis.Options)) (*kinesis.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *kinesis.GetRecordsInput, optFns ...func(*kinesis.Options)) (*kinesis.GetRecordsOutput, error)
}

// ShardEnd is the checkpoint of a shard read to its end (after a reshard).
const ShardEnd = "SHARD_END"

// Consumer limits and defaults.
const (
	MaxGetRecordsLimit        = 10000
	DefaultGetRecordsLimit    = 1000
	DefaultPollInterval       = time.Second // Kinesis allows 5 GetRecords/s per shard
	DefaultShardSyncInterval  = 30 * time.Second
	DefaultConsumerRetryDelay = time.Second
	DefaultConsumerMaxRetry   = 30 * time.Second
	// DefaultConsumerMaxFailures is ConsumerOptions.MaxFailures' default.
	DefaultConsumerMaxFailures = 10
)

// ConsumerError ends [Consumer.Run]: a call failed with an error retrying
// cannot fix (Permanent: the stream does not exist, access or the KMS key
// is denied, credentials are invalid, an argument is refused), or
// MaxFailures attempts in a row failed, on one shard (ShardID set) or
// while listing shards. It unwraps to the last error.
type ConsumerError struct {
	Stream    string // the stream's ARN or name
	ShardID   string // "" while listing shards
	Op        string // "ListShards", "GetShardIterator", "GetRecords", "handler", "checkpoint"
	Code      string // the AWS error code; "" for a handler's or a connection error
	Permanent bool
	Failures  int // failures in a row, including the last
	Err       error
}

func (e *ConsumerError) Error() string {
	where := "stream " + e.Stream
	if e.ShardID != "" {
		where += " shard " + e.ShardID
	}
	if e.Permanent {
		return fmt.Sprintf("kda: consumer of %s stopped: %s failed with an error retrying cannot fix (check the stream, region, credentials and permissions): %v", where, e.Op, e.Err)
	}
	return fmt.Sprintf("kda: consumer of %s stopped after %d failures in a row; last, %s: %v", where, e.Failures, e.Op, e.Err)
}

func (e *ConsumerError) Unwrap() error { return e.Err }

// BatchHandler processes the user records of one GetRecords call, in order.
// On success the batch's last sequence number is checkpointed; on error the
// Consumer waits and reads the shard again from the last checkpoint.
type BatchHandler func(ctx context.Context, shardID string, recs []KinesisRecord) error

// ConsumerOptions configures a Consumer.
type ConsumerOptions struct {
	// Checkpoints stores progress. Default: a new MemoryCheckpoints.
	Checkpoints Checkpointer
	// StartAtLatest starts shards without a checkpoint at LATEST instead of
	// TRIM_HORIZON (the default).
	StartAtLatest bool
	// Limit is GetRecords' Limit. Default DefaultGetRecordsLimit; 1 to
	// MaxGetRecordsLimit.
	Limit int32
	// PollInterval is the pause after a GetRecords that returned nothing.
	// Default DefaultPollInterval.
	PollInterval time.Duration
	// ShardSyncInterval is how often ListShards finds new shards. Default
	// DefaultShardSyncInterval.
	ShardSyncInterval time.Duration
	// RetryDelay is the base of the backoff after a failed call or
	// handler: the n-th failure in a row on a shard waits a random time up
	// to RetryDelay·2^n, capped at MaxRetryDelay (full jitter). Default
	// DefaultConsumerRetryDelay.
	RetryDelay time.Duration
	// MaxRetryDelay caps that backoff. Default DefaultConsumerMaxRetry; not
	// below RetryDelay.
	MaxRetryDelay time.Duration
	// MaxFailures is how many failures in a row on one shard (calls, the
	// handler, checkpoints), or of the shard listing, Run retries before it
	// ends with a *ConsumerError. Errors that retrying cannot fix
	// (ResourceNotFoundException, access or KMS denied, bad credentials)
	// end it at the first. Default DefaultConsumerMaxFailures; negative:
	// retry for ever.
	MaxFailures int
	// StopAtEnd makes Run return once every shard is caught up (an empty
	// GetRecords with MillisBehindLatest 0) or closed: for batch jobs,
	// tests and local runners.
	StopAtEnd bool
	// Sleep waits between polls, shard syncs and retries. Default: a real
	// timer that ends early with ctx.Err().
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger gets warnings for retried failures. Default: discarded.
	Logger *slog.Logger
}

// ConsumerStats is a snapshot of a Consumer's counters.
type ConsumerStats struct {
	Records, Batches, Checkpoints, Retries int64
}

// Consumer reads a Kinesis stream by polling (ListShards,
// GetShardIterator, GetRecords), one goroutine per open shard, handing
// de-aggregated records to a BatchHandler and checkpointing after each
// handled batch. Child shards start after their parents reach ShardEnd.
type Consumer struct {
	client  ConsumerAPI
	stream  string // name or ARN
	handler BatchHandler
	opts    ConsumerOptions

	records, batches, checkpoints, retries atomic.Int64
}

// NewConsumer returns a Consumer of stream (a name, or an ARN starting
// with "arn:") that hands its records to handler. Options it cannot honour
// are an *OptionError.
func NewConsumer(client ConsumerAPI, stream string, handler BatchHandler, optFns ...func(*ConsumerOptions)) (*Consumer, error) {
	if stream == "" {
		return nil, errors.New("kda: NewConsumer needs a stream name or ARN")
	}
	if handler == nil {
		return nil, errors.New("kda: NewConsumer needs a handler")
	}
	var o ConsumerOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	return &Consumer{client: client, stream: stream, handler: handler, opts: o}, nil
}

func (o *ConsumerOptions) setDefaults() error {
	const typ = "kda.ConsumerOptions"
	o.Limit = opt.Default(o.Limit, DefaultGetRecordsLimit)
	o.PollInterval = opt.Default(o.PollInterval, DefaultPollInterval)
	o.ShardSyncInterval = opt.Default(o.ShardSyncInterval, DefaultShardSyncInterval)
	o.RetryDelay = opt.Default(o.RetryDelay, DefaultConsumerRetryDelay)
	o.MaxRetryDelay = opt.Default(o.MaxRetryDelay, DefaultConsumerMaxRetry)
	o.MaxFailures = opt.Default(o.MaxFailures, DefaultConsumerMaxFailures)
	if err := errors.Join(
		opt.Range(typ, "Limit", o.Limit, 1, MaxGetRecordsLimit),
		opt.Min(typ, "PollInterval", o.PollInterval, 0),
		opt.Min(typ, "ShardSyncInterval", o.ShardSyncInterval, time.Millisecond),
		opt.Min(typ, "RetryDelay", o.RetryDelay, 0),
		opt.Min(typ, "MaxRetryDelay", o.MaxRetryDelay, o.RetryDelay),
	); err != nil {
		return err
	}
	if o.Checkpoints == nil {
		o.Checkpoints = &MemoryCheckpoints{}
	}
	o.Sleep = orSleep(o.Sleep)
	o.Logger = opt.Logger(o.Logger)
	return nil
}

// Stats returns a snapshot of the counters.
func (c *Consumer) Stats() ConsumerStats {
	return ConsumerStats{Records: c.records.Load(), Batches: c.batches.Load(), Checkpoints: c.checkpoints.Load(), Retries: c.retries.Load()}
}

// streamRef returns the stream as the name or the ARN field of a request.
func (c *Consumer) streamRef() (name, arn *string) {
	if isARN(c.stream) {
		return nil, aws.String(c.stream)
	}
	return aws.String(c.stream), nil
}

func (c *Consumer) listShards(ctx context.Context) ([]kintypes.Shard, error) {
	var shards []kintypes.Shard
	name, arn := c.streamRef()
	in := &kinesis.ListShardsInput{StreamName: name, StreamARN: arn}
	for {
		out, err := c.client.ListShards(ctx, in)
		if err != nil {
			return nil, err
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards, nil
		}
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// Run consumes until ctx is done (returning nil) or, with StopAtEnd, until
// every shard is caught up (nil). It stops by itself with a
// *ConsumerError when a call fails with an error retrying cannot fix, or
// after MaxFailures failures in a row on a shard or of the shard listing
// (each retried after a full-jitter backoff), and with ErrCheckpointBehind
// when another consumer is further along on a shard.
func (c *Consumer) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := &shardSet{c: c, cancel: cancel, started: map[string]bool{}, done: map[string]bool{}}
	poll := c.opts.ShardSyncInterval
	if c.opts.StopAtEnd && poll > 100*time.Millisecond {
		poll = 100 * time.Millisecond
	}
	failures := 0 // shard syncs failed in a row
	for synced := false; ; {
		running, err := s.sync(ctx)
		if err == nil {
			synced, failures = true, 0
			if c.opts.StopAtEnd && running == 0 {
				return s.wait()
			}
		} else if ctx.Err() == nil {
			failures++
			if cerr := c.giveUp("", "ListShards", err, failures); cerr != nil {
				cancel()
				if fatal := s.wait(); fatal != nil {
					return fatal
				}
				return cerr
			}
			c.retry(ctx, "ListShards", "", err, failures)
			if !synced {
				continue // no shard runs yet: sync again after the backoff
			}
		}
		if c.opts.Sleep(ctx, poll) != nil {
			return s.wait()
		}
	}
}

// shardSet is the shards one Run has started, and the first error that
// ended one of them.
type shardSet struct {
	c      *Consumer
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	started map[string]bool
	done    map[string]bool
	fatal   error
}

// wait waits for every shard's goroutine and returns the error that ended
// the first to fail.
func (s *shardSet) wait() error {
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fatal
}

// sync lists the shards, starts those not started whose parents are done,
// and returns how many are running or waiting for a parent.
func (s *shardSet) sync(ctx context.Context) (int, error) {
	shards, err := s.c.listShards(ctx)
	if err != nil {
		return 0, err
	}
	known := map[string]bool{}
	for _, sh := range shards {
		known[aws.ToString(sh.ShardId)] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	running := 0
	for _, sh := range shards {
		id := aws.ToString(sh.ShardId)
		if s.started[id] {
			if !s.done[id] {
				running++
			}
			continue
		}
		ready, err := s.parentsDone(ctx, sh, known)
		if err != nil {
			return 0, err
		}
		if !ready {
			running++ // waits for its parent
			continue
		}
		cp, err := s.c.opts.Checkpoints.Checkpoint(ctx, id)
		if err != nil {
			return 0, err
		}
		s.started[id] = true
		if cp == ShardEnd {
			s.done[id] = true
			continue
		}
		running++
		s.start(ctx, id, cp)
	}
	return running, nil
}

// parentsDone reports whether every listed parent of sh has been read to
// its end, by this Run or (its checkpoint) an earlier one.
func (s *shardSet) parentsDone(ctx context.Context, sh kintypes.Shard, known map[string]bool) (bool, error) {
	for _, parent := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
		p := aws.ToString(parent)
		if p == "" || !known[p] || s.done[p] {
			continue // no parent, it has expired, or it is done
		}
		cp, err := s.c.opts.Checkpoints.Checkpoint(ctx, p)
		if err != nil {
			return false, err
		}
		if cp != ShardEnd {
			return false, nil
		}
	}
	return true, nil
}

// start reads shard id from checkpoint cp in a goroutine; its error ends
// the Run. s.mu is held.
func (s *shardSet) start(ctx context.Context, id, cp string) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.c.runShard(ctx, id, cp)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.done[id] = true
		if err != nil && s.fatal == nil && ctx.Err() == nil {
			s.fatal = err
			s.cancel()
		}
	}()
}

func (c *Consumer) iterator(ctx context.Context, shardID, after string) (*string, error) {
	name, arn := c.streamRef()
	in := &kinesis.GetShardIteratorInput{StreamName: name, StreamARN: arn, ShardId: aws.String(shardID)}
	switch {
	case after != "":
		in.ShardIteratorType = kintypes.ShardIteratorTypeAfterSequenceNumber
		in.StartingSequenceNumber = aws.String(after)
	case c.opts.StartAtLatest:
		in.ShardIteratorType = kintypes.ShardIteratorTypeLatest
	default:
		in.ShardIteratorType = kintypes.ShardIteratorTypeTrimHorizon
	}
	out, err := c.client.GetShardIterator(ctx, in)
	if err != nil {
		return nil, err
	}
	return out.ShardIterator, nil
}

// runShard reads one shard until it ends, ctx is done, or (StopAtEnd) it is
// caught up. Failures are retried from the checkpoint, with a backoff that
// grows while they come in a row.
func (c *Consumer) runShard(ctx context.Context, shardID, checkpoint string) error {
	r := &shardReader{c: c, id: shardID, checkpoint: checkpoint}
	for ctx.Err() == nil {
		if r.iter == nil {
			iter, err := c.iterator(ctx, shardID, r.checkpoint)
			if err != nil {
				if cerr := r.fail(ctx, "GetShardIterator", err); cerr != nil {
					return cerr
				}
				continue
			}
			if iter == nil {
				return c.setCheckpoint(ctx, shardID, ShardEnd)
			}
			r.iter = iter
		}
		_, arn := c.streamRef()
		out, err := c.client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: r.iter, Limit: aws.Int32(c.opts.Limit), StreamARN: arn})
		if err != nil {
			// An expired iterator, throttling or a network error: start again
			// from the checkpoint.
			r.iter = nil
			if cerr := r.fail(ctx, "GetRecords", err); cerr != nil {
				return cerr
			}
			continue
		}
		if len(out.Records) == 0 {
			r.failures = 0
		} else if handled, err := r.handle(ctx, out.Records); err != nil {
			return err
		} else if !handled {
			continue // read again from the checkpoint
		}
		if out.NextShardIterator == nil {
			return c.setCheckpoint(ctx, shardID, ShardEnd)
		}
		r.iter = out.NextShardIterator
		if len(out.Records) == 0 {
			if c.opts.StopAtEnd && aws.ToInt64(out.MillisBehindLatest) == 0 {
				return nil
			}
			if err := c.opts.Sleep(ctx, c.opts.PollInterval); err != nil {
				return nil
			}
		}
	}
	return nil
}

// shardReader is the state of one runShard.
type shardReader struct {
	c          *Consumer
	id         string
	checkpoint string  // the last sequence number handled
	iter       *string // nil: get one after the checkpoint
	failures   int     // in a row on this shard
}

// fail counts a failed call and backs off, or returns the *ConsumerError
// that ends the shard. A failure because ctx ended is not counted.
func (r *shardReader) fail(ctx context.Context, op string, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	r.failures++
	if cerr := r.c.giveUp(r.id, op, err, r.failures); cerr != nil {
		return cerr
	}
	r.c.retry(ctx, op, r.id, err, r.failures)
	return nil
}

// handle hands the user records of recs to the handler and checkpoints
// the last one. It reports false when the handler failed (the shard is
// read again from the checkpoint) and returns the error that ends the
// shard, if any.
func (r *shardReader) handle(ctx context.Context, recs []kintypes.Record) (bool, error) {
	c := r.c
	var batch []KinesisRecord
	for _, rec := range recs {
		for _, u := range userRecords(rec.Data, aws.ToString(rec.PartitionKey)) {
			batch = append(batch, KinesisRecord{UserRecord: u, ShardID: r.id, SequenceNumber: aws.ToString(rec.SequenceNumber),
				ArrivalTime: aws.ToTime(rec.ApproximateArrivalTimestamp)})
		}
	}
	if err := c.handler(ctx, r.id, batch); err != nil {
		if ctx.Err() != nil {
			return false, nil
		}
		r.iter = nil
		r.failures++
		// A handler's error is the application's: never taken as
		// permanent, but it counts towards MaxFailures.
		if lim := c.opts.MaxFailures; lim > 0 && r.failures >= lim {
			return false, &ConsumerError{Stream: c.stream, ShardID: r.id, Op: "handler", Failures: r.failures, Err: err}
		}
		c.retry(ctx, "handler", r.id, err, r.failures)
		return false, nil
	}
	c.batches.Add(1)
	c.records.Add(int64(len(batch)))
	last := aws.ToString(recs[len(recs)-1].SequenceNumber)
	if err := c.setCheckpoint(ctx, r.id, last); err != nil {
		if errors.Is(err, ErrCheckpointBehind) {
			return false, err // another consumer is ahead on this shard
		}
		if cerr := r.fail(ctx, "checkpoint", err); cerr != nil {
			return false, cerr
		}
	} else {
		r.failures = 0
	}
	r.checkpoint = last
	return true, nil
}

func (c *Consumer) setCheckpoint(ctx context.Context, shardID, seq string) error {
	err := c.opts.Checkpoints.SetCheckpoint(ctx, shardID, seq)
	if err == nil {
		c.checkpoints.Add(1)
	}
	return err
}

// giveUp returns the *ConsumerError that ends Run after err, the
// failures-th in a row, or nil when it is to be retried.
func (c *Consumer) giveUp(shardID, op string, err error, failures int) error {
	permanent := awserr.Permanent(err)
	if !permanent && (c.opts.MaxFailures < 0 || failures < c.opts.MaxFailures) {
		return nil
	}
	cerr := &ConsumerError{Stream: c.stream, ShardID: shardID, Op: op, Code: awserr.Code(err), Permanent: permanent, Failures: failures, Err: err}
	c.opts.Logger.Error("kda: consumer stopping", "error", cerr)
	return cerr
}

// retry counts and logs a failure, then backs off: failures is how many
// calls in a row have failed on the shard.
func (c *Consumer) retry(ctx context.Context, what, shardID string, err error, failures int) {
	c.retries.Add(1)
	c.opts.Logger.Warn("kda: consumer retrying", "call", what, "shard", shardID, "failures", failures, "error", err)
	_ = c.opts.Sleep(ctx, backoff.FullJitter(failures, c.opts.RetryDelay, c.opts.MaxRetryDelay))
}
