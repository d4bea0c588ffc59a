package sqsbatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/lakekit/lakekit/internal/opt"
	"golang.org/x/sync/semaphore"
)

// Service limits and writer defaults.
const (
	// MaxBatchEntries is the most entries one SendMessageBatch (or
	// DeleteMessageBatch, ChangeMessageVisibilityBatch) call may carry.
	MaxBatchEntries = 10
	// DefaultMaxBatchBytes is the most payload (bodies plus attribute names,
	// types and values) one SendMessageBatch may carry: 1 MiB since AWS raised
	// the limit in 2025.
	DefaultMaxBatchBytes = 1 << 20
	// LegacyMaxBatchBytes is the former 256 KiB limit, for queues or
	// consumers that still expect it.
	LegacyMaxBatchBytes = 256 << 10
	// DefaultMaxMessageBytes is the default and largest MaximumMessageSize of
	// a queue.
	DefaultMaxMessageBytes = 1 << 20
	// MaxEntryIDLength is the longest batch entry Id SQS accepts; Ids may
	// only hold [A-Za-z0-9_-]. The writer makes its own Ids ("0".."9").
	MaxEntryIDLength = 80
	// DefaultMaxInFlight is how many batches a Writer keeps in flight.
	DefaultMaxInFlight = 32
	// DefaultMaxInFlightBytes bounds the payload bytes of the batches in
	// flight, which bounds the Writer's memory with large messages.
	DefaultMaxInFlightBytes = 4 << 20
	// DefaultMaxAttempts bounds the sends of one entry that fails with
	// SenderFault=false.
	DefaultMaxAttempts = 5
	// DefaultBaseBackoff and DefaultMaxBackoff bound the full-jitter backoff
	// between attempts.
	DefaultBaseBackoff = 50 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
)

// Message is one message to send.
type Message struct {
	// Key is the caller's name for the message (a CSV row's unique column,
	// for example). It is echoed in the message's Result and errors and is
	// never sent, so it may hold any characters.
	Key string
	// Body is the message body.
	Body string
	// Attributes are the message attributes; they count toward the size
	// limits as SQS counts them (name + data type + value).
	Attributes map[string]types.MessageAttributeValue
	// GroupID and DeduplicationID are MessageGroupId and
	// MessageDeduplicationId, for FIFO queues (GroupID also on fair
	// standard queues).
	GroupID, DeduplicationID string
	// DelaySeconds delays delivery (standard queues only).
	DelaySeconds int32
}

// Size returns the message's size as SQS counts it against
// MaximumMessageSize: body plus each attribute's name, data type and value.
func (m *Message) Size() int {
	n := len(m.Body)
	for name, a := range m.Attributes {
		n += len(name) + len(aws.ToString(a.DataType)) + len(aws.ToString(a.StringValue)) + len(a.BinaryValue)
	}
	return n
}

// Result is the outcome of one message: one per message accepted by Send.
type Result struct {
	// Index is the message's position in the order the Writer accepted
	// messages, from 0.
	Index int64
	// Key is Message.Key.
	Key string
	// MessageID is the SQS message id when the message was sent.
	MessageID string
	// SequenceNumber is set on FIFO queues.
	SequenceNumber string
	// Offloaded says the body was stored in S3 and a pointer sent instead.
	Offloaded bool
	// Attempts is how many SendMessageBatch calls carried the message.
	Attempts int
	// Err is nil on success, or an *EntryError, *TooLargeError,
	// *RequestError, *OffloadError or a context error.
	Err error
}

// WriterOptions configure a Writer. Zero fields take the documented defaults.
type WriterOptions struct {
	// MaxBatchBytes caps the payload of one SendMessageBatch. Default
	// DefaultMaxBatchBytes (1 MiB); set LegacyMaxBatchBytes for 256 KiB.
	MaxBatchBytes int
	// MaxMessageBytes is the largest message the queue takes. Default
	// DefaultMaxMessageBytes; [Writer.ReadQueueLimits] sets it from the
	// queue's MaximumMessageSize.
	MaxMessageBytes int
	// MaxInFlight bounds the batches being sent at once; Send blocks when
	// they are all busy. Default DefaultMaxInFlight. Forced to 1 on FIFO
	// queues to keep order. The batches are sent by about MaxInFlight
	// goroutines, kept from batch to batch; they exit on Close, or one
	// second after their last batch.
	MaxInFlight int
	// MaxInFlightBytes bounds the payload of the batches in flight (a batch
	// larger than it is sent alone). Default DefaultMaxInFlightBytes. Peak
	// memory is a small multiple of it (bodies, request encoding, GC).
	MaxInFlightBytes int
	// MaxAttempts bounds the sends of an entry failing with
	// SenderFault=false. Default DefaultMaxAttempts.
	MaxAttempts int
	// BaseBackoff and MaxBackoff bound the full-jitter backoff between
	// attempts. Defaults DefaultBaseBackoff and DefaultMaxBackoff.
	BaseBackoff, MaxBackoff time.Duration
	// Linger sends a partial batch this long after its first message. Zero
	// (the default) holds it until it is full or Flush, SendAll or Close.
	Linger time.Duration
	// OnResult, if set, is called with every message's Result, from the
	// goroutine that finished the batch: it must be safe for concurrent use
	// and quick.
	OnResult func(Result)
	// KeyAttribute, if set, sends each Message.Key as a String message
	// attribute of this name (counted in the message's size), for
	// KeyFromAttribute on the consuming side. Default: keys are not sent.
	KeyAttribute string
	// Offload, if set, sends bodies that do not fit through S3 in the format
	// of AWS's SQS Extended Client instead of failing them.
	Offload *Offload
	// Logger receives debug and warning records (never message bodies).
	// Nil: silent.
	Logger *slog.Logger
}

// WriterStats is a snapshot of a Writer's counters.
type WriterStats struct {
	Accepted  int64 // messages accepted by Send
	Sent      int64 // messages SQS took
	Failed    int64 // messages with an error Result
	Retried   int64 // entry re-sends after SenderFault=false failures
	Requests  int64 // SendMessageBatch calls
	Offloaded int64 // bodies stored in S3
	Bytes     int64 // payload bytes SQS took
}

// Writer sends messages to one queue in batches. See the package doc.
type Writer struct {
	client   SendMessageBatchAPI
	callOpts []func(*sqs.Options) // SafeRequestBody, when client is not an *sqs.Client
	queueURL string
	fifo     bool
	opts     WriterOptions
	log      *slog.Logger

	sem    chan struct{}       // in-flight batch slots
	work   chan *batch         // unbuffered: to an idle sender goroutine
	bytesm *semaphore.Weighted // in-flight payload bytes
	// dmu is the dispatch token: whoever cuts a batch and waits for
	// capacity holds it, so batches leave in the order they were cut (FIFO
	// queues). It is a channel so that waiting for it honours a context;
	// mu, by contrast, is never held while blocking.
	dmu  chan struct{}
	kick atomic.Bool // a finished batch asked for a dispatch while dmu was held
	dead atomic.Pointer[QueueError]

	ctx    context.Context // in-flight requests; cancelled by an expired Close
	cancel context.CancelFunc

	mu        sync.Mutex
	cur       []*pending
	curBytes  int
	ready     *batch // cut, waiting for capacity: leaves before cur
	next      int64
	closed    bool
	linger    *time.Timer
	lingerGen uint64

	inflight tracker // launched batches

	failMu      sync.Mutex
	lifeSamples []Result // first failures over the Writer's life
	winSamples  []Result // first failures since the previous Flush
	flushMark   [3]int64 // accepted, sent, failed at the previous Flush

	accepted, sent, failed, retried, requests, offloaded, bytes atomic.Int64
}

type pending struct {
	idx      int64
	msg      Message
	size     int
	attempts int
	offload  bool
	done     func(Result)
}

type batch struct {
	msgs   []*pending
	weight int64
}

// entryIDs are the writer-made batch entry Ids, shared by every request.
var entryIDs = func() (ids [MaxBatchEntries]string) {
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return ids
}()

// NewWriter returns a Writer for the queue at queueURL. It returns an
// *OptionError for an option it cannot honour: a negative field, a batch or
// message size above the service limit, MaxBackoff below BaseBackoff, or
// MaxInFlight above 1 on a FIFO queue (whose order one batch in flight
// keeps; zero gives 1 there).
func NewWriter(client SendMessageBatchAPI, queueURL string, optFns ...func(*WriterOptions)) (*Writer, error) {
	var o WriterOptions
	for _, f := range optFns {
		f(&o)
	}
	fifo := strings.HasSuffix(queueURL, ".fifo")
	if err := o.setDefaults(fifo); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	client, callOpts := applySafeBody(client)
	return &Writer{
		client: client, callOpts: callOpts, queueURL: queueURL, fifo: fifo, opts: o, log: opt.Logger(o.Logger),
		sem: make(chan struct{}, o.MaxInFlight), work: make(chan *batch), bytesm: semaphore.NewWeighted(int64(o.MaxInFlightBytes)), dmu: make(chan struct{}, 1),
		ctx: ctx, cancel: cancel,
	}, nil
}

const writerOptions = "sqsbatch.WriterOptions"

// setDefaults checks o and fills its zero fields with the defaults.
func (o *WriterOptions) setDefaults(fifo bool) error {
	if err := errors.Join(
		opt.Range(writerOptions, "MaxBatchBytes", o.MaxBatchBytes, 0, DefaultMaxBatchBytes),
		opt.Range(writerOptions, "MaxMessageBytes", o.MaxMessageBytes, 0, DefaultMaxMessageBytes),
		opt.Min(writerOptions, "MaxInFlight", o.MaxInFlight, 0),
		opt.Min(writerOptions, "MaxInFlightBytes", o.MaxInFlightBytes, 0),
		opt.Min(writerOptions, "MaxAttempts", o.MaxAttempts, 0),
		opt.Min(writerOptions, "BaseBackoff", o.BaseBackoff, 0),
		opt.Min(writerOptions, "MaxBackoff", o.MaxBackoff, 0),
		opt.Min(writerOptions, "Linger", o.Linger, 0),
	); err != nil {
		return err
	}
	if fifo && o.MaxInFlight > 1 {
		return &OptionError{Type: writerOptions, Field: "MaxInFlight", Value: o.MaxInFlight, Want: "0 or 1 on a FIFO queue (one batch in flight keeps the order)"}
	}
	o.MaxBatchBytes = opt.Default(o.MaxBatchBytes, DefaultMaxBatchBytes)
	o.MaxMessageBytes = opt.Default(o.MaxMessageBytes, DefaultMaxMessageBytes)
	o.MaxInFlight = opt.Default(o.MaxInFlight, DefaultMaxInFlight)
	if fifo {
		o.MaxInFlight = 1
	}
	o.MaxInFlightBytes = opt.Default(o.MaxInFlightBytes, DefaultMaxInFlightBytes)
	o.MaxAttempts = opt.Default(o.MaxAttempts, DefaultMaxAttempts)
	o.BaseBackoff = opt.Default(o.BaseBackoff, DefaultBaseBackoff)
	o.MaxBackoff = opt.Default(o.MaxBackoff, DefaultMaxBackoff)
	if o.MaxBackoff < o.BaseBackoff {
		return &OptionError{Type: writerOptions, Field: "MaxBackoff", Value: o.MaxBackoff, Want: fmt.Sprintf("at least BaseBackoff (%v)", o.BaseBackoff)}
	}
	return nil
}

// ReadQueueLimits sets MaxMessageBytes from the queue's MaximumMessageSize.
// client is usually the same *sqs.Client as the Writer's.
func (w *Writer) ReadQueueLimits(ctx context.Context, client GetQueueAttributesAPI) error {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       &w.queueURL,
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameMaximumMessageSize},
	}, SafeRequestBody)
	if err != nil {
		return fmt.Errorf("sqsbatch: read queue limits: %w", err)
	}
	n, err := strconv.Atoi(out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)])
	if err != nil || n <= 0 {
		return fmt.Errorf("sqsbatch: queue MaximumMessageSize %q", out.Attributes[string(types.QueueAttributeNameMaximumMessageSize)])
	}
	w.mu.Lock()
	w.opts.MaxMessageBytes = n
	w.mu.Unlock()
	return nil
}

// Send accepts one message and returns its index. It blocks while
// MaxInFlight batches (or MaxInFlightBytes) are in flight and the current
// batch is full (backpressure), until ctx ends: it then returns ctx's error
// and the message is not sent (its Result carries the same error). Its
// outcome arrives in WriterOptions.OnResult once its batch is done. A message
// that can never fit and cannot be offloaded is refused at once: Send
// returns (and reports) a *TooLargeError; a failed offload returns an
// *OffloadError. A nil error means the message will get a Result.
func (w *Writer) Send(ctx context.Context, m Message) (int64, error) {
	return w.send(ctx, m, nil)
}

func (w *Writer) send(ctx context.Context, m Message, done func(Result)) (int64, error) {
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return -1, ErrClosed
	}
	idx := w.next
	w.next++
	limit := min(w.opts.MaxMessageBytes, w.opts.MaxBatchBytes)
	w.mu.Unlock()
	w.accepted.Add(1)

	if w.opts.KeyAttribute != "" && m.Key != "" {
		m.Attributes = withAttribute(m.Attributes, w.opts.KeyAttribute, "String", m.Key)
	}
	p := &pending{idx: idx, msg: m, size: m.Size(), done: done}
	if p.size > limit {
		if err := w.offload(ctx, p, limit); err != nil {
			w.report(p, Result{Err: err})
			return idx, err
		}
	}
	if qe := w.dead.Load(); qe != nil {
		err := &RequestError{Index: idx, Key: m.Key, Err: qe}
		w.report(p, Result{Err: err})
		return idx, err
	}
	if err := w.enqueue(ctx, p); err != nil {
		w.report(p, Result{Err: err})
		return idx, err
	}
	return idx, nil
}

// offload moves the body of p, too large for limit, to S3, or returns
// the *TooLargeError of a message that can't be offloaded or is still too
// large without its body, or the *OffloadError of a failed offload.
func (w *Writer) offload(ctx context.Context, p *pending, limit int) error {
	if w.opts.Offload == nil {
		return &TooLargeError{Index: p.idx, Key: p.msg.Key, Size: p.size, Limit: limit}
	}
	ptr, err := w.opts.Offload.store(ctx, &p.msg, p.idx)
	if err != nil {
		return err
	}
	p.offload = true
	p.size = p.msg.Size()
	w.offloaded.Add(1)
	w.log.Debug("sqsbatch: body offloaded to S3", "index", p.idx, "key", ptr.Key)
	if p.size > limit { // attributes alone too large
		return &TooLargeError{Index: p.idx, Key: p.msg.Key, Size: p.size, Limit: limit}
	}
	return nil
}

// enqueue adds p to the current batch, first sending the batch if p
// doesn't fit (waiting for capacity until ctx ends: p is not in any batch
// yet, so it then fails alone).
func (w *Writer) enqueue(ctx context.Context, p *pending) error {
	noRoom := func() bool { return len(w.cur) == MaxBatchEntries || w.curBytes+p.size > w.opts.MaxBatchBytes }
	for {
		w.mu.Lock()
		if w.closed {
			w.mu.Unlock()
			return ErrClosed
		}
		if len(w.cur) == 0 || !noRoom() {
			if w.cur == nil {
				w.cur = make([]*pending, 0, MaxBatchEntries)
			}
			w.cur = append(w.cur, p)
			w.curBytes += p.size
			full := len(w.cur) == MaxBatchEntries
			if len(w.cur) == 1 && w.opts.Linger > 0 {
				gen := w.lingerGen
				w.linger = time.AfterFunc(w.opts.Linger, func() { w.lingerFired(gen) })
			}
			w.mu.Unlock()
			if full {
				// Send it now if capacity is free; otherwise it leaves
				// when a batch finishes or the next Send needs room.
				w.tryDispatch(nil)
			}
			return nil
		}
		w.mu.Unlock()
		// The current batch is full: make room, waiting for capacity.
		if err := w.dispatch(ctx, noRoom); err != nil {
			return err
		}
	}
}

// Flush sends the partial batch and waits until every accepted message has
// its Result, or ctx ends (the batches then carry on). Its error is nil or
// a *SendError: some message accepted since the previous Flush failed, or
// ctx ended first (the SendError then unwraps to ctx's error).
func (w *Writer) Flush(ctx context.Context) error {
	return w.flushError(w.flush(ctx))
}

func (w *Writer) flush(ctx context.Context) error {
	if err := w.dispatch(ctx, always); err != nil {
		return err
	}
	return w.inflight.wait(ctx)
}

// flushError reports the failures since the previous Flush.
func (w *Writer) flushError(cause error) error {
	w.failMu.Lock()
	now := [3]int64{w.accepted.Load(), w.sent.Load(), w.failed.Load()}
	prev := w.flushMark
	w.flushMark = now
	samples := w.winSamples
	w.winSamples = nil
	w.failMu.Unlock()
	if cause == nil && now[2] == prev[2] {
		return nil
	}
	return &SendError{Messages: now[0] - prev[0], Sent: now[1] - prev[1], Failed: now[2] - prev[2], First: samples, Err: cause}
}

// Close flushes and refuses further messages. If ctx ends first, in-flight
// requests are cancelled, messages not yet sent fail with a context error,
// and Close returns once they have reported. Its error is nil when every
// message the Writer accepted was sent; otherwise a *SendError over the
// Writer's whole life (failures already seen through SendAll, Flush or
// OnResult included), unwrapping to ctx's error if ctx ended first.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	err := w.flush(ctx)
	w.cancel()
	if err != nil {
		// Every wait inside the Writer ends with w.ctx, so this is prompt.
		w.dmu <- struct{}{}
		w.mu.Lock()
		var left []*pending
		if w.ready != nil {
			left = w.ready.msgs
			w.ready = nil
		}
		if len(w.cur) > 0 {
			left = append(left, w.cur...)
			w.cutLocked()
		}
		w.mu.Unlock()
		<-w.dmu
		for _, p := range left {
			w.report(p, Result{Err: err})
		}
		_ = w.inflight.wait(context.Background()) // the cancelled requests report their messages
	}
	if err == nil && w.failed.Load() == 0 {
		return nil
	}
	w.failMu.Lock()
	samples := slices.Clone(w.lifeSamples)
	w.failMu.Unlock()
	return &SendError{Messages: w.accepted.Load(), Sent: w.sent.Load(), Failed: w.failed.Load(), First: samples, Err: err}
}

// SendAll sends msgs and waits for all of them: one Result per message, in
// order. Its error is nil when every message was sent, else a *SendError
// (counts and first failures; it unwraps to ctx's error or ErrClosed when
// the call ended early). Messages not accepted (ctx ended or the Writer
// closed first) get Index -1 and that error; messages accepted but still
// in flight when ctx ended get ErrNoResult.
func (w *Writer) SendAll(ctx context.Context, msgs []Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	idxs := make([]int64, len(msgs))
	got := make([]bool, len(msgs))
	var (
		mu        sync.Mutex // slots may still be written after an early return
		remaining atomic.Int64
		cause     error
	)
	allDone := make(chan struct{})
	remaining.Store(int64(len(msgs)) + 1) // +1: the sending loop itself
	finish := func(n int64) {
		if remaining.Add(-n) == 0 {
			close(allDone)
		}
	}
	for i := range msgs {
		idx, err := w.send(ctx, msgs[i], func(r Result) { mu.Lock(); results[i], got[i] = r, true; mu.Unlock(); finish(1) })
		idxs[i] = idx
		if idx < 0 { // not accepted, so never reported
			mu.Lock()
			for j := i; j < len(msgs); j++ {
				results[j], got[j] = Result{Index: -1, Key: msgs[j].Key, Err: err}, true
			}
			mu.Unlock()
			finish(int64(len(msgs) - i))
			cause = err
			break
		}
	}
	finish(1)
	_ = w.dispatch(ctx, always) // on ctx's end the batch stays queued; the wait below tells
	select {
	case <-allDone:
	case <-ctx.Done():
		select {
		case <-allDone:
		default:
			if cause == nil {
				cause = ctx.Err()
			}
		}
	}
	mu.Lock()
	out := results
	if cause != nil {
		out = slices.Clone(results)
		for j := range out {
			if !got[j] {
				out[j] = Result{Index: idxs[j], Key: msgs[j].Key, Err: ErrNoResult}
			}
		}
	}
	mu.Unlock()
	return out, resultsError(out, cause)
}

// resultsError builds the *SendError of a set of results, or nil when all
// were sent and cause is nil.
func resultsError(results []Result, cause error) error {
	e := &SendError{Messages: int64(len(results)), Err: cause}
	for _, r := range results {
		switch {
		case r.Err == nil:
			e.Sent++
		case errors.Is(r.Err, ErrNoResult):
		default:
			e.Failed++
			if len(e.First) < MaxSendErrorSamples {
				e.First = append(e.First, r)
			}
		}
	}
	if cause == nil && e.Sent == e.Messages {
		return nil
	}
	return e
}

// Stats returns a snapshot of the Writer's counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Accepted: w.accepted.Load(), Sent: w.sent.Load(), Failed: w.failed.Load(), Retried: w.retried.Load(),
		Requests: w.requests.Load(), Offloaded: w.offloaded.Load(), Bytes: w.bytes.Load(),
	}
}
