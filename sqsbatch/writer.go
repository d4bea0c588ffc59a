package sqsbatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
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

// EntryError is a message SQS refused in a SendMessageBatch answer.
type EntryError struct {
	Index       int64
	Key         string
	Code        string
	Message     string
	SenderFault bool // true: the message itself is at fault and was not retried
	Attempts    int
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("sqsbatch: message %d (key %q) refused after %d attempt(s): %s: %s", e.Index, e.Key, e.Attempts, e.Code, e.Message)
}

// TooLargeError is a message that can never fit the queue's limit and was
// not sent. Configure Options.Offload to send such messages through S3.
type TooLargeError struct {
	Index int64
	Key   string
	Size  int // as SQS counts it
	Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("sqsbatch: message %d (key %q) is %d bytes, over the limit of %d; not sent", e.Index, e.Key, e.Size, e.Limit)
}

// RequestError is a SendMessageBatch call that failed as a whole (after the
// SDK's own retries); every message in it gets one.
type RequestError struct {
	Index int64
	Key   string
	Err   error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("sqsbatch: message %d (key %q): SendMessageBatch: %v", e.Index, e.Key, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("sqsbatch: writer closed")

// Options configure a Writer. Zero fields take the documented defaults.
type Options struct {
	// MaxBatchBytes caps the payload of one SendMessageBatch. Default
	// DefaultMaxBatchBytes (1 MiB); set LegacyMaxBatchBytes for 256 KiB.
	MaxBatchBytes int
	// MaxMessageBytes is the largest message the queue takes. Default
	// DefaultMaxMessageBytes; [Writer.ReadQueueLimits] sets it from the
	// queue's MaximumMessageSize.
	MaxMessageBytes int
	// MaxInFlight bounds the batches being sent at once; Send blocks when
	// they are all busy. Default DefaultMaxInFlight. Forced to 1 on FIFO
	// queues to keep order.
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
	opts     Options
	log      *slog.Logger

	sem    chan struct{}
	bytesm *semaphore.Weighted
	ctx    context.Context // in-flight requests; cancelled by an expired Close
	cancel context.CancelFunc

	mu       sync.Mutex
	cur      []*pending
	curBytes int
	next     int64
	closed   bool
	linger   *time.Timer
	inflight sync.WaitGroup

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

// New returns a Writer for the queue at queueURL.
func New(client SendMessageBatchAPI, queueURL string, optFns ...func(*Options)) *Writer {
	var o Options
	for _, f := range optFns {
		f(&o)
	}
	if o.MaxBatchBytes <= 0 {
		o.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	if o.MaxInFlightBytes <= 0 {
		o.MaxInFlightBytes = DefaultMaxInFlightBytes
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.BaseBackoff <= 0 {
		o.BaseBackoff = DefaultBaseBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = DefaultMaxBackoff
	}
	fifo := strings.HasSuffix(queueURL, ".fifo")
	if fifo {
		o.MaxInFlight = 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	client, callOpts := applySafeBody(client)
	return &Writer{
		client: client, callOpts: callOpts, queueURL: queueURL, fifo: fifo, opts: o, log: loggerOrDiscard(o.Logger),
		sem: make(chan struct{}, o.MaxInFlight), bytesm: semaphore.NewWeighted(int64(o.MaxInFlightBytes)), ctx: ctx, cancel: cancel,
	}
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
// MaxInFlight batches are being sent (backpressure). Its outcome arrives in
// Options.OnResult once its batch is done. A message that can never fit and
// cannot be offloaded is refused at once: Send returns (and reports) a
// *TooLargeError; a failed offload returns an *OffloadError.
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
		if w.opts.Offload == nil {
			err := &TooLargeError{Index: idx, Key: m.Key, Size: p.size, Limit: limit}
			w.report(p, Result{Err: err})
			return idx, err
		}
		ptr, err := w.opts.Offload.store(ctx, &p.msg, idx)
		if err != nil {
			w.report(p, Result{Err: err})
			return idx, err
		}
		p.offload = true
		p.size = p.msg.Size()
		w.offloaded.Add(1)
		w.log.Debug("sqsbatch: body offloaded to S3", "index", idx, "key", ptr.Key)
		if p.size > limit { // attributes alone too large
			err := &TooLargeError{Index: idx, Key: m.Key, Size: p.size, Limit: limit}
			w.report(p, Result{Err: err})
			return idx, err
		}
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		w.report(p, Result{Err: ErrClosed})
		return idx, ErrClosed
	}
	if len(w.cur) == MaxBatchEntries || w.curBytes+p.size > w.opts.MaxBatchBytes {
		if err := w.dispatchLocked(ctx); err != nil {
			w.report(p, Result{Err: err})
			return idx, err
		}
	}
	w.cur = append(w.cur, p)
	w.curBytes += p.size
	if len(w.cur) == MaxBatchEntries {
		// Full: send now rather than on the next Send.
		if err := w.dispatchLocked(ctx); err != nil {
			return idx, err
		}
	} else if len(w.cur) == 1 && w.opts.Linger > 0 {
		w.linger = time.AfterFunc(w.opts.Linger, w.lingerFired)
	}
	return idx, nil
}

func (w *Writer) lingerFired() { _ = w.dispatch(w.ctx) }

// dispatch sends the partial batch (see dispatchLocked).
func (w *Writer) dispatch(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dispatchLocked(ctx)
}

// dispatchLocked hands the current batch to a sender, waiting for a free
// in-flight slot. On ctx expiry the batch's messages fail with ctx's error.
func (w *Writer) dispatchLocked(ctx context.Context) error {
	if w.linger != nil {
		w.linger.Stop()
		w.linger = nil
	}
	if len(w.cur) == 0 {
		return nil
	}
	batch := w.cur
	weight := int64(min(w.curBytes, w.opts.MaxInFlightBytes))
	w.cur, w.curBytes = nil, 0
	fail := func(err error) error {
		for _, p := range batch {
			w.report(p, Result{Err: err})
		}
		return err
	}
	select {
	case w.sem <- struct{}{}:
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	if err := w.bytesm.Acquire(ctx, weight); err != nil {
		<-w.sem
		return fail(err)
	}
	w.inflight.Add(1)
	go func() {
		defer func() { w.bytesm.Release(weight); <-w.sem; w.inflight.Done() }()
		w.sendBatch(batch)
	}()
	return nil
}

func (w *Writer) sendBatch(batch []*pending) {
	entries := make([]types.SendMessageBatchRequestEntry, 0, MaxBatchEntries)
	for attempt := 1; len(batch) > 0; attempt++ {
		entries = entries[:0]
		for i, p := range batch {
			p.attempts++
			e := types.SendMessageBatchRequestEntry{
				Id:                aws.String(entryID(i)),
				MessageBody:       aws.String(p.msg.Body),
				MessageAttributes: p.msg.Attributes,
				DelaySeconds:      p.msg.DelaySeconds,
			}
			if p.msg.GroupID != "" {
				e.MessageGroupId = aws.String(p.msg.GroupID)
			}
			if p.msg.DeduplicationID != "" {
				e.MessageDeduplicationId = aws.String(p.msg.DeduplicationID)
			}
			entries = append(entries, e)
		}
		w.requests.Add(1)
		out, err := w.client.SendMessageBatch(w.ctx, &sqs.SendMessageBatchInput{QueueUrl: &w.queueURL, Entries: entries}, w.callOpts...)
		if err != nil {
			w.log.Warn("sqsbatch: SendMessageBatch failed", "entries", len(batch), "err", err)
			for _, p := range batch {
				w.report(p, Result{Err: &RequestError{Index: p.idx, Key: p.msg.Key, Err: err}})
			}
			return
		}
		for _, s := range out.Successful {
			p := take(batch, s.Id)
			if p == nil {
				continue
			}
			w.sent.Add(1)
			w.bytes.Add(int64(p.size))
			w.report(p, Result{MessageID: aws.ToString(s.MessageId), SequenceNumber: aws.ToString(s.SequenceNumber)})
		}
		var retry []*pending
		for _, f := range out.Failed {
			p := take(batch, f.Id)
			if p == nil {
				continue
			}
			if !f.SenderFault && p.attempts < w.opts.MaxAttempts {
				retry = append(retry, p)
				continue
			}
			w.report(p, Result{Err: &EntryError{Index: p.idx, Key: p.msg.Key, Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault, Attempts: p.attempts}})
		}
		for _, p := range batch {
			if p != nil { // neither successful nor failed: SQS broke its contract
				w.report(p, Result{Err: &EntryError{Index: p.idx, Key: p.msg.Key, Code: "MissingFromResponse", Message: "entry absent from SendMessageBatch answer", Attempts: p.attempts}})
			}
		}
		if len(retry) == 0 {
			return
		}
		w.retried.Add(int64(len(retry)))
		w.log.Debug("sqsbatch: retrying entries", "entries", len(retry), "attempt", attempt+1)
		if err := sleepCtx(w.ctx, backoff(attempt, w.opts.BaseBackoff, w.opts.MaxBackoff)); err != nil {
			for _, p := range retry {
				w.report(p, Result{Err: err})
			}
			return
		}
		batch = retry
	}
}

// entryID returns the writer-made Id of the i-th entry of a batch.
func entryID(i int) string { return strconv.Itoa(i) }

// take returns the entry of batch that id names and clears its slot, so
// that whatever is left afterwards had no answer; nil for an unknown or
// repeated id.
func take(batch []*pending, id *string) *pending {
	n, err := strconv.Atoi(aws.ToString(id))
	if err != nil || n < 0 || n >= len(batch) {
		return nil
	}
	p := batch[n]
	batch[n] = nil
	return p
}

func (w *Writer) report(p *pending, r Result) {
	r.Index, r.Key, r.Attempts, r.Offloaded = p.idx, p.msg.Key, p.attempts, p.offload
	if r.Err != nil {
		w.failed.Add(1)
	}
	if p.done != nil {
		p.done(r)
	}
	if w.opts.OnResult != nil {
		w.opts.OnResult(r)
	}
}

// Flush sends the partial batch and waits until every accepted message has
// its Result, or ctx ends (the batches then carry on).
func (w *Writer) Flush(ctx context.Context) error {
	if err := w.dispatch(ctx); err != nil {
		return err
	}
	return waitCtx(ctx, &w.inflight)
}

// Close flushes and refuses further messages. If ctx ends first, in-flight
// requests are cancelled (their messages fail with a context error) and
// Close returns ctx's error once they have reported.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
	err := w.Flush(ctx)
	w.cancel()
	if err != nil {
		w.inflight.Wait() // the cancelled requests report their messages
	}
	return err
}

// SendAll sends msgs and waits for all of them: one Result per message, in
// order. The error is ctx's, or ErrClosed; per-message failures are in the
// Results. Messages not accepted (ctx ended or the Writer closed first) get
// Index -1 and that error.
func (w *Writer) SendAll(ctx context.Context, msgs []Message) ([]Result, error) {
	results := make([]Result, len(msgs))
	var wg sync.WaitGroup
	wg.Add(len(msgs))
	var (
		sendErr error
		mu      sync.Mutex // slots may still be written after an early return
	)
	for i := range msgs {
		slot := &results[i]
		idx, err := w.send(ctx, msgs[i], func(r Result) { mu.Lock(); *slot = r; mu.Unlock(); wg.Done() })
		if idx < 0 { // not accepted, so never reported
			for j := i; j < len(msgs); j++ {
				results[j] = Result{Index: -1, Key: msgs[j].Key, Err: err}
				wg.Done()
			}
			sendErr = err
			break
		}
	}
	_ = w.dispatch(ctx) // a failure is reported in the slots
	if err := waitCtx(ctx, &wg); err != nil {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(results), err
	}
	return results, sendErr
}

// Stats returns a snapshot of the Writer's counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Accepted: w.accepted.Load(), Sent: w.sent.Load(), Failed: w.failed.Load(), Retried: w.retried.Load(),
		Requests: w.requests.Load(), Offloaded: w.offloaded.Load(), Bytes: w.bytes.Load(),
	}
}

// backoff returns a full-jitter delay for the given attempt (1-based).
func backoff(attempt int, base, maxD time.Duration) time.Duration {
	d := base << min(attempt-1, 30)
	if d <= 0 || d > maxD {
		d = maxD
	}
	return rand.N(d) + 1
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func waitCtx(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
