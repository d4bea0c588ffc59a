package sqsbatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awserr"
	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// Consumer defaults and limits.
const (
	// MaxWaitTime is the longest ReceiveMessage long poll, and the default.
	MaxWaitTime = 20 * time.Second
	// MaxVisibilityTimeout is the longest visibility timeout SQS accepts.
	MaxVisibilityTimeout = 12 * time.Hour
	// DefaultPollers is how many ReceiveMessage calls a Consumer keeps open.
	DefaultPollers = 4
	// DefaultWorkers is how many handlers a Consumer runs at once.
	DefaultWorkers = 40
	// DefaultVisibilityTimeout is asked for on every receive.
	DefaultVisibilityTimeout = 30 * time.Second
	// DefaultShutdownGrace is how long in-flight handlers may run on after
	// Run's context ends before their own context is cancelled.
	DefaultShutdownGrace = 30 * time.Second
	// DefaultMaxReceiveFailures is how many ReceiveMessage calls in a row
	// may fail with transient errors before Run gives up.
	DefaultMaxReceiveFailures = 10
	// receiveRetryBase and receiveRetryMax bound the full-jitter backoff
	// after a failed receive: the n-th failure in a row waits a random time
	// up to min(receiveRetryBase·2^(n-1), receiveRetryMax).
	receiveRetryBase = 100 * time.Millisecond
	receiveRetryMax  = 10 * time.Second
	// deleteLinger is how long a partial delete batch waits for more.
	deleteLinger = 2 * time.Millisecond
	// ackTimeout bounds a delete or visibility call, which outlive Run's
	// context so that finished work is acknowledged during shutdown.
	ackTimeout = 30 * time.Second
)

// Handler processes one message. A nil error deletes the message; an error
// leaves it to come back after its visibility timeout (or RetryDelay).
// The context is cancelled only ShutdownGrace after the Consumer's.
type Handler func(ctx context.Context, m types.Message) error

// ConsumerOptions configure a Consumer. Zero fields take the documented
// defaults.
type ConsumerOptions struct {
	// Pollers is how many ReceiveMessage long polls run at once. Default
	// DefaultPollers.
	Pollers int
	// Workers is how many handlers run at once. It also bounds the messages
	// a Consumer holds: pollers ask only for as many messages as there are
	// idle workers, so no received message waits long, unheartbeated, for a
	// worker while its visibility timeout runs. Give at least
	// Pollers×MaxMessages workers for full-size receives. Default
	// DefaultWorkers.
	Workers int
	// MaxMessages per receive, 1..MaxBatchEntries. Default MaxBatchEntries.
	MaxMessages int32
	// WaitTime is the long-poll wait. Default MaxWaitTime (20 s).
	WaitTime time.Duration
	// VisibilityTimeout is asked for on every receive (whole seconds, at
	// least 1 s, at most MaxVisibilityTimeout). Default
	// DefaultVisibilityTimeout.
	VisibilityTimeout time.Duration
	// Heartbeat is how often a message still being handled has its
	// visibility extended by VisibilityTimeout. Default VisibilityTimeout/2;
	// negative disables heartbeats.
	Heartbeat time.Duration
	// RetryDelay, if positive, sets a failed message's visibility to this
	// (whole seconds) so it comes back sooner or later than
	// VisibilityTimeout. Zero leaves it as received.
	RetryDelay time.Duration
	// ShutdownGrace is how long in-flight handlers may go on after Run's
	// context ends. Default DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// MessageAttributeNames are the message attributes to receive. Default
	// ["All"]; set []string{} for none (smaller answers, faster), but keep
	// the extended client's size attributes when a Resolver is set.
	MessageAttributeNames []string
	// SystemAttributeNames are the system attributes to receive. Default
	// ApproximateReceiveCount and SentTimestamp.
	SystemAttributeNames []types.MessageSystemAttributeName
	// Resolver, if set, replaces extended-client pointer bodies with the
	// S3 objects they name before the handler runs.
	Resolver *Resolver
	// MaxReceiveFailures is how many ReceiveMessage calls in a row (over
	// all pollers) may fail with transient errors (throttling, 5xx,
	// connection faults, timeouts), each followed by a full-jitter backoff,
	// before Run gives up with a *ReceiveError. Errors that retrying cannot
	// fix end Run at the first. Default DefaultMaxReceiveFailures; negative:
	// retry transient errors for ever.
	MaxReceiveFailures int
	// Logger receives warnings (never message bodies). Nil: silent.
	Logger *slog.Logger
}

// ErrInvalidQueueURL is wrapped by the *ReceiveError Run returns for a
// queue URL that is not an absolute http(s) URL naming a queue.
var ErrInvalidQueueURL = errors.New("sqsbatch: invalid queue URL")

// ReceiveError ends [Consumer.Run] when ReceiveMessage fails with an error
// that retrying cannot fix (Permanent: a missing queue, denied access,
// invalid credentials or signature, a disabled or inaccessible KMS key, an
// invalid queue URL), or when MaxReceiveFailures calls in a row failed with
// transient errors. It unwraps to the last SDK error, so errors.As finds
// the SDK's own types (*types.QueueDoesNotExist, smithy.APIError).
type ReceiveError struct {
	QueueURL  string
	Code      string // the AWS error code, "" when there is none (a connection fault)
	Permanent bool   // retrying cannot fix it; Run stopped at the first
	Failures  int    // failed calls in a row, including the last
	Err       error
}

func (e *ReceiveError) Error() string {
	if e.Permanent {
		return fmt.Sprintf("sqsbatch: consumer of %s stopped: ReceiveMessage failed with an error retrying cannot fix (check the queue URL, region, credentials and permissions): %v", e.QueueURL, e.Err)
	}
	return fmt.Sprintf("sqsbatch: consumer of %s stopped: ReceiveMessage failed %d times in a row; last error: %v", e.QueueURL, e.Failures, e.Err)
}

func (e *ReceiveError) Unwrap() error { return e.Err }

// DeleteError ends [Consumer.Run] when DeleteMessageBatch fails with an
// error retrying cannot fix (say the role may receive but not delete):
// every processed message would otherwise come back and be handled again,
// for ever. Entries is how many acknowledgements that call carried.
type DeleteError struct {
	QueueURL string
	Code     string
	Entries  int
	Err      error
}

func (e *DeleteError) Error() string {
	return fmt.Sprintf("sqsbatch: consumer of %s stopped: DeleteMessageBatch of %d processed messages failed with an error retrying cannot fix (they will be delivered again): %v", e.QueueURL, e.Entries, e.Err)
}

func (e *DeleteError) Unwrap() error { return e.Err }

// ConsumerStats is a snapshot of a Consumer's counters.
type ConsumerStats struct {
	Received      int64 // messages received
	Processed     int64 // handler returned nil
	Failed        int64 // handler returned an error
	Deleted       int64 // messages deleted
	DeleteErrors  int64 // messages whose delete failed (they will come back)
	Released      int64 // messages given back unprocessed at shutdown
	Heartbeats    int64 // visibility extensions
	ReceiveErrors int64 // ReceiveMessage calls that failed
	InFlight      int64 // messages received and not yet acknowledged
	ReceiveCalls  int64 // ReceiveMessage calls
	DeleteCalls   int64 // DeleteMessageBatch calls
}

// Consumer long-polls one queue and runs a Handler for every message. See
// the package doc.
type Consumer struct {
	client   ConsumerAPI
	callOpts []func(*sqs.Options) // SafeRequestBody, when client is not an *sqs.Client
	queueURL string
	fifo     bool
	handler  Handler
	batch    BatchHandler // set by NewEventSourceMapping: whole receives go to it
	arn      string       // the queue ARN its events carry
	opts     ConsumerOptions
	log      *slog.Logger

	received, processed, failed, deleted, deleteErrors, released, heartbeats, receiveErrors, inflight atomic.Int64
	takeMu                                                                                            sync.Mutex // one poller at a time takes worker slots

	receiveCalls, deleteCalls atomic.Int64
	// receiveFailures counts failed receives in a row, over all pollers.
	receiveFailures atomic.Int64

	// stopRun ends Run with the first fatal error.
	stopRun  context.CancelCauseFunc
	fatalMu  sync.Mutex
	fatalErr error
}

// NewConsumer returns a Consumer of queueURL that runs h. It returns an
// *OptionError for an option it cannot honour (a negative count or
// duration, MaxMessages above MaxBatchEntries, WaitTime above MaxWaitTime,
// a VisibilityTimeout or RetryDelay outside what SQS accepts).
func NewConsumer(client ConsumerAPI, queueURL string, h Handler, optFns ...func(*ConsumerOptions)) (*Consumer, error) {
	var o ConsumerOptions
	for _, f := range optFns {
		f(&o)
	}
	fifo := strings.HasSuffix(queueURL, ".fifo")
	if err := o.setDefaults(fifo); err != nil {
		return nil, err
	}
	client, callOpts := applySafeBody(client)
	return &Consumer{client: client, callOpts: callOpts, fifo: fifo, queueURL: queueURL, handler: h, opts: o, log: opt.Logger(o.Logger)}, nil
}

const consumerOptions = "sqsbatch.ConsumerOptions"

// setDefaults checks o and fills its zero fields with the defaults.
func (o *ConsumerOptions) setDefaults(fifo bool) error {
	if err := errors.Join(
		opt.Min(consumerOptions, "Pollers", o.Pollers, 0),
		opt.Min(consumerOptions, "Workers", o.Workers, 0),
		opt.Range(consumerOptions, "MaxMessages", o.MaxMessages, 0, MaxBatchEntries),
		opt.Range(consumerOptions, "WaitTime", o.WaitTime, 0, MaxWaitTime),
		opt.Range(consumerOptions, "VisibilityTimeout", o.VisibilityTimeout, 0, MaxVisibilityTimeout),
		opt.Range(consumerOptions, "RetryDelay", o.RetryDelay, 0, MaxVisibilityTimeout),
		opt.Min(consumerOptions, "ShutdownGrace", o.ShutdownGrace, 0),
	); err != nil {
		return err
	}
	if o.VisibilityTimeout > 0 && o.VisibilityTimeout < time.Second {
		return &OptionError{Type: consumerOptions, Field: "VisibilityTimeout", Value: o.VisibilityTimeout, Want: "0 or at least 1s (SQS counts whole seconds)"}
	}
	o.Pollers = opt.Default(o.Pollers, DefaultPollers)
	o.Workers = opt.Default(o.Workers, DefaultWorkers)
	o.MaxMessages = opt.Default(o.MaxMessages, MaxBatchEntries)
	o.WaitTime = opt.Default(o.WaitTime, MaxWaitTime)
	o.VisibilityTimeout = opt.Default(o.VisibilityTimeout, DefaultVisibilityTimeout)
	o.Heartbeat = opt.Default(o.Heartbeat, o.VisibilityTimeout/2)
	o.ShutdownGrace = opt.Default(o.ShutdownGrace, DefaultShutdownGrace)
	o.MaxReceiveFailures = opt.Default(o.MaxReceiveFailures, DefaultMaxReceiveFailures)
	if o.MessageAttributeNames == nil {
		o.MessageAttributeNames = []string{"All"}
	}
	if o.SystemAttributeNames == nil {
		o.SystemAttributeNames = []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount, types.MessageSystemAttributeNameSentTimestamp,
		}
	}
	if fifo && !slices.Contains(o.SystemAttributeNames, types.MessageSystemAttributeNameMessageGroupId) &&
		!slices.Contains(o.SystemAttributeNames, types.MessageSystemAttributeNameAll) {
		o.SystemAttributeNames = append(slices.Clone(o.SystemAttributeNames), types.MessageSystemAttributeNameMessageGroupId)
	}
	return nil
}

// Stats returns a snapshot of the Consumer's counters.
func (c *Consumer) Stats() ConsumerStats {
	return ConsumerStats{
		Received: c.received.Load(), Processed: c.processed.Load(), Failed: c.failed.Load(),
		Deleted: c.deleted.Load(), DeleteErrors: c.deleteErrors.Load(), Released: c.released.Load(),
		Heartbeats: c.heartbeats.Load(), ReceiveErrors: c.receiveErrors.Load(), InFlight: c.inflight.Load(),
		ReceiveCalls: c.receiveCalls.Load(), DeleteCalls: c.deleteCalls.Load(),
	}
}

// Run receives and handles messages until ctx ends, then shuts down: it
// stops receiving, gives back (visibility 0) the messages no handler has
// started, lets running handlers finish (for up to ShutdownGrace), deletes
// what they processed and returns nil. Run may be called once.
//
// Run also ends, shutting down the same way, when receiving cannot go on:
// at once with a *ReceiveError (Permanent) for an invalid queue URL or an
// error that retrying cannot fix (the queue does not exist, access denied,
// bad credentials or signature, KMS key denied or disabled), or a
// *DeleteError for such a failure of DeleteMessageBatch; after
// MaxReceiveFailures transient failures in a row with a *ReceiveError.
// Transient failures are retried with full-jitter backoff and counted in
// Stats().ReceiveErrors; each is logged as a warning.
//
// A long poll open when ctx ends is abandoned; should SQS have picked
// messages for it in that instant, they stay invisible until their
// visibility timeout and are then delivered again (no loss).
func (c *Consumer) Run(ctx context.Context) error {
	if err := checkQueueURL(c.queueURL); err != nil {
		return &ReceiveError{QueueURL: c.queueURL, Permanent: true, Failures: 1, Err: err}
	}
	// Work started before shutdown finishes with this context, which ends
	// ShutdownGrace after ctx.
	ackCtx := context.WithoutCancel(ctx)
	// runCtx ends with ctx or at the first fatal error.
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	c.stopRun = stopRun
	ctx = runCtx
	hardCtx, hardCancel := context.WithCancel(ackCtx)
	defer hardCancel()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.NewTimer(c.opts.ShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			hardCancel()
		case <-hardCtx.Done():
		}
	})
	defer stopGrace()

	msgs := make(chan []types.Message, c.opts.Workers)
	// One token per idle worker: a poller takes tokens before it receives
	// and a worker gives one back when it is done with a message.
	slots := make(chan struct{}, c.opts.Workers)
	for range c.opts.Workers {
		slots <- struct{}{}
	}
	acks := make(chan *string, 4*MaxBatchEntries*c.opts.Pollers)

	var pollers, workers, deleters sync.WaitGroup
	for range c.opts.Pollers {
		pollers.Add(1)
		go func() { defer pollers.Done(); c.poll(ctx, ackCtx, slots, msgs) }()
	}
	for range c.opts.Workers {
		workers.Add(1)
		go func() { defer workers.Done(); c.work(ctx, hardCtx, ackCtx, slots, msgs, acks) }()
	}
	for range c.opts.Pollers {
		deleters.Add(1)
		go func() { defer deleters.Done(); c.deleteLoop(ackCtx, acks) }()
	}
	pollers.Wait()
	close(msgs)
	workers.Wait()
	close(acks)
	deleters.Wait()
	c.fatalMu.Lock()
	defer c.fatalMu.Unlock()
	return c.fatalErr
}

// abort ends Run with err, unless an earlier error did.
func (c *Consumer) abort(err error) {
	c.fatalMu.Lock()
	if c.fatalErr == nil {
		c.fatalErr = err
		c.log.Error("sqsbatch: consumer stopping", "err", err)
	}
	c.fatalMu.Unlock()
	c.stopRun(err)
}

// checkQueueURL refuses what cannot name a queue, so that Run fails at
// once instead of sending every receive to nowhere.
func checkQueueURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%w %q: %v", ErrInvalidQueueURL, s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%w %q: want an http(s) URL such as https://sqs.us-east-1.amazonaws.com/123456789012/my-queue", ErrInvalidQueueURL, s)
	case u.Host == "":
		return fmt.Errorf("%w %q: no host", ErrInvalidQueueURL, s)
	case strings.Trim(u.Path, "/") == "":
		return fmt.Errorf("%w %q: no queue name in the path", ErrInvalidQueueURL, s)
	}
	return nil
}

// receiveFailed counts a failed receive and reports whether the poller may
// retry (after backing off); if not, Run is being ended.
func (c *Consumer) receiveFailed(ctx context.Context, err error) bool {
	c.receiveErrors.Add(1)
	n := int(c.receiveFailures.Add(1))
	code := awserr.Code(err)
	if awserr.Permanent(err) {
		c.abort(&ReceiveError{QueueURL: c.queueURL, Code: code, Permanent: true, Failures: n, Err: err})
		return false
	}
	if limit := c.opts.MaxReceiveFailures; limit > 0 && n >= limit {
		c.abort(&ReceiveError{QueueURL: c.queueURL, Code: code, Failures: n, Err: err})
		return false
	}
	c.log.Warn("sqsbatch: ReceiveMessage failed; retrying", "err", err, "code", code, "consecutive", n)
	return backoff.Sleep(ctx, backoff.FullJitter(n, receiveRetryBase, receiveRetryMax)) == nil
}

func (c *Consumer) poll(ctx, ackCtx context.Context, slots chan struct{}, msgs chan<- []types.Message) {
	in := sqs.ReceiveMessageInput{
		QueueUrl:                    &c.queueURL,
		MaxNumberOfMessages:         c.opts.MaxMessages,
		WaitTimeSeconds:             int32(c.opts.WaitTime / time.Second),
		VisibilityTimeout:           int32(c.opts.VisibilityTimeout / time.Second),
		MessageAttributeNames:       c.opts.MessageAttributeNames,
		MessageSystemAttributeNames: c.opts.SystemAttributeNames,
	}
	for ctx.Err() == nil {
		n, ok := c.takeSlots(ctx, slots)
		if !ok {
			return
		}
		call := in
		call.MaxNumberOfMessages = n
		c.receiveCalls.Add(1)
		out, err := c.client.ReceiveMessage(ctx, &call, c.callOpts...)
		got := int32(0)
		if err == nil {
			got = int32(len(out.Messages))
		}
		for range n - got {
			slots <- struct{}{}
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if !c.receiveFailed(ctx, err) {
				return
			}
			continue
		}
		c.receiveFailures.Store(0)
		c.received.Add(int64(len(out.Messages)))
		c.inflight.Add(int64(len(out.Messages)))
		units := c.units(out.Messages)
		for i, u := range units {
			select {
			case msgs <- u:
			case <-ctx.Done():
				for _, rest := range units[i:] {
					c.release(ackCtx, rest)
				}
				return
			}
		}
	}
}

// takeSlots waits for enough idle workers for a full receive (MaxMessages,
// or Workers if smaller). One poller takes at a time, so pollers holding
// part of what they need cannot starve each other.
func (c *Consumer) takeSlots(ctx context.Context, slots chan struct{}) (int32, bool) {
	want := min(c.opts.MaxMessages, int32(c.opts.Workers))
	c.takeMu.Lock()
	defer c.takeMu.Unlock()
	for n := int32(0); n < want; n++ {
		select {
		case <-slots:
		case <-ctx.Done():
			for range n {
				slots <- struct{}{}
			}
			return 0, false
		}
	}
	return want, true
}

// units splits a receive into what workers take whole: one message each on
// a standard queue; on a FIFO queue, the messages of one group in order, so
// that a group is never handled by two workers at once.
func (c *Consumer) units(ms []types.Message) [][]types.Message {
	if c.batch != nil {
		return [][]types.Message{ms} // one invocation per receive, as Lambda's
	}
	if !c.fifo {
		units := make([][]types.Message, len(ms))
		for i := range ms {
			units[i] = ms[i : i+1 : i+1]
		}
		return units
	}
	var units [][]types.Message
	index := map[string]int{}
	for _, m := range ms {
		g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]
		i, ok := index[g]
		if !ok {
			i = len(units)
			index[g] = i
			units = append(units, nil)
		}
		units[i] = append(units[i], m)
	}
	return units
}

func (c *Consumer) work(ctx, hardCtx, ackCtx context.Context, slots chan<- struct{}, msgs <-chan []types.Message, acks chan<- *string) {
	for unit := range msgs {
		if c.batch != nil {
			c.workBatch(ctx, hardCtx, ackCtx, unit, acks)
			for range unit {
				slots <- struct{}{}
			}
			continue
		}
		for i, m := range unit {
			if !c.workOne(ctx, hardCtx, ackCtx, m, acks) && i+1 < len(unit) {
				// FIFO: the rest of the group must not overtake the failed
				// message; give it back to come after it.
				c.release(ackCtx, unit[i+1:])
				break
			}
		}
		for range unit {
			slots <- struct{}{}
		}
	}
}

// workOne handles one message and reports whether it succeeded.
func (c *Consumer) workOne(ctx, hardCtx, ackCtx context.Context, m types.Message, acks chan<- *string) bool {
	if ctx.Err() != nil {
		c.release(ackCtx, []types.Message{m})
		return false
	}
	var hb *heartbeat
	if c.opts.Heartbeat > 0 {
		hb = c.startHeartbeat(ackCtx, []types.Message{m})
	}
	err := handle(hardCtx, c.opts.Resolver, c.handler, m)
	if hb != nil {
		hb.stop()
	}
	if err != nil {
		c.failed.Add(1)
		c.log.Debug("sqsbatch: handler failed", "message_id", aws.ToString(m.MessageId), "err", err)
		c.inflight.Add(-1)
		if c.opts.RetryDelay > 0 {
			c.changeVisibility(ackCtx, []types.Message{m}, c.opts.RetryDelay)
		}
		return false
	}
	c.processed.Add(1)
	acks <- m.ReceiptHandle
	return true
}

// handle runs h on m, its extended-client pointer body first resolved when
// r is set; the Consumer and NewLambdaHandler share it.
func handle(ctx context.Context, r *Resolver, h Handler, m types.Message) error {
	if r != nil {
		var err error
		if m, err = r.Resolve(ctx, m); err != nil {
			return err
		}
	}
	return h(ctx, m)
}
