package sqsbatch

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/lakekit/lakekit/internal/backoff"
)

func always() bool { return true }

// dispatch sends the batch waiting for capacity, if any, then the current
// batch if cutCur (called with mu held) says so, waiting for capacity until
// ctx ends or the Writer is abandoned by an expired Close. A batch whose
// wait ends stays queued for the next dispatch: it does not fail with this
// caller's context.
func (w *Writer) dispatch(ctx context.Context, cutCur func() bool) error {
	if err := w.lockDispatch(ctx); err != nil {
		return err
	}
	defer w.unlockDispatch()
	for range 2 {
		w.mu.Lock()
		b := w.ready
		if b == nil {
			if len(w.cur) == 0 || !cutCur() {
				w.mu.Unlock()
				return nil
			}
			b = w.cutLocked()
			w.ready = b
		}
		w.mu.Unlock()
		if err := w.acquire(ctx, b.weight); err != nil {
			return err
		}
		w.mu.Lock()
		w.ready = nil
		w.mu.Unlock()
		w.launch(b, nil)
	}
	return nil
}

// tryDispatch sends, without waiting, the batch waiting for capacity and a
// full current batch, if capacity is free. next is launch's: nil, or where
// a finishing sender takes its next batch.
func (w *Writer) tryDispatch(next **batch) {
	for {
		w.kick.Store(true)
		select {
		case w.dmu <- struct{}{}:
		default:
			return // the holder sees kick when it lets go
		}
		w.kick.Store(false)
		for range 2 {
			w.mu.Lock()
			b := w.ready
			if b == nil {
				if len(w.cur) < MaxBatchEntries {
					w.mu.Unlock()
					break
				}
				b = w.cutLocked()
				w.ready = b
			}
			w.mu.Unlock()
			if !w.tryAcquire(b.weight) {
				break
			}
			w.mu.Lock()
			w.ready = nil
			w.mu.Unlock()
			w.launch(b, next)
		}
		<-w.dmu
		if !w.kick.Load() {
			return
		}
	}
}

func (w *Writer) lockDispatch(ctx context.Context) error {
	select {
	case w.dmu <- struct{}{}:
		return nil
	default:
	}
	select {
	case w.dmu <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.ctx.Done():
		return ErrClosed
	}
}

func (w *Writer) unlockDispatch() {
	<-w.dmu
	if w.kick.Load() {
		w.tryDispatch(nil)
	}
}

// cutLocked takes the current batch; mu is held.
func (w *Writer) cutLocked() *batch {
	b := &batch{msgs: w.cur, weight: int64(min(w.curBytes, w.opts.MaxInFlightBytes))}
	w.cur, w.curBytes = nil, 0
	if w.linger != nil {
		w.linger.Stop()
		w.linger = nil
	}
	w.lingerGen++
	return b
}

// acquire takes an in-flight slot and weight bytes of budget.
func (w *Writer) acquire(ctx context.Context, weight int64) error {
	select {
	case w.sem <- struct{}{}:
	default:
		select {
		case w.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		case <-w.ctx.Done():
			return ErrClosed
		}
	}
	if w.bytesm.TryAcquire(weight) {
		return nil
	}
	actx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(w.ctx, cancel)
	err := w.bytesm.Acquire(actx, weight)
	stop()
	cancel()
	if err == nil {
		return nil
	}
	<-w.sem
	if err := ctx.Err(); err != nil {
		return err
	}
	return ErrClosed
}

func (w *Writer) tryAcquire(weight int64) bool {
	select {
	case w.sem <- struct{}{}:
	default:
		return false
	}
	if w.bytesm.TryAcquire(weight) {
		return true
	}
	<-w.sem
	return false
}

// senderIdle is how long a sender goroutine waits for another batch
// before it exits.
const senderIdle = time.Second

// launch sends b, which holds a slot and its byte budget. When next is
// non-nil and empty (a sender that just finished a batch, dispatching for
// the capacity it freed), b goes there for that sender to run itself; else
// an idle sender takes it, or a new one starts. Senders outlive their
// batches because a fresh goroutine's stack has to grow through the SDK's
// deep call chain on every request (runtime.newstack/copystack cost about
// 7% of the client's CPU with a goroutine per batch); a kept sender has
// grown it once, as the raw SendMessageBatch loops' goroutines have.
func (w *Writer) launch(b *batch, next **batch) {
	w.inflight.add()
	if next != nil && *next == nil {
		*next = b
		return
	}
	select {
	case w.work <- b:
	default:
		go w.sender(b)
	}
}

// sender runs b, then each batch handed to it, until it has been idle for
// senderIdle or the Writer is closed.
func (w *Writer) sender(b *batch) {
	var idle *time.Timer
	for {
		w.sendBatch(b.msgs)
		w.bytesm.Release(b.weight)
		<-w.sem
		w.inflight.done()
		var next *batch
		w.tryDispatch(&next) // a batch may be waiting for this capacity
		if next != nil {
			b = next
			continue
		}
		if idle == nil {
			idle = time.NewTimer(senderIdle)
		} else {
			idle.Reset(senderIdle)
		}
		select {
		case b = <-w.work:
		case <-idle.C:
			return
		case <-w.ctx.Done():
			idle.Stop()
			return
		}
	}
}

func (w *Writer) sendBatch(batch []*pending) {
	entries := make([]types.SendMessageBatchRequestEntry, 0, MaxBatchEntries)
	for attempt := 1; len(batch) > 0; attempt++ {
		entries = entries[:0]
		for i, p := range batch {
			p.attempts++
			entries = append(entries, p.entry(i))
		}
		if qe := w.dead.Load(); qe != nil {
			for _, p := range batch {
				p.attempts--
				w.report(p, Result{Err: &RequestError{Index: p.idx, Key: p.msg.Key, Err: qe}})
			}
			return
		}
		w.requests.Add(1)
		out, err := w.client.SendMessageBatch(w.ctx, &sqs.SendMessageBatchInput{QueueUrl: &w.queueURL, Entries: entries}, w.callOpts...)
		if err != nil {
			w.requestFailed(batch, err)
			return
		}
		retry := w.answered(batch, out)
		if len(retry) == 0 {
			return
		}
		w.retried.Add(int64(len(retry)))
		w.log.Debug("sqsbatch: retrying entries", "entries", len(retry), "attempt", attempt+1)
		if err := backoff.Sleep(w.ctx, backoff.FullJitter(attempt, w.opts.BaseBackoff, w.opts.MaxBackoff)); err != nil {
			for _, p := range retry {
				w.report(p, Result{Err: err})
			}
			return
		}
		batch = retry
	}
}

// entry is p as the i-th entry of a SendMessageBatch request.
func (p *pending) entry(i int) types.SendMessageBatchRequestEntry {
	e := types.SendMessageBatchRequestEntry{
		Id:                &entryIDs[i],
		MessageBody:       &p.msg.Body,
		MessageAttributes: p.msg.Attributes,
		DelaySeconds:      p.msg.DelaySeconds,
	}
	if p.msg.GroupID != "" {
		e.MessageGroupId = &p.msg.GroupID
	}
	if p.msg.DeduplicationID != "" {
		e.MessageDeduplicationId = &p.msg.DeduplicationID
	}
	return e
}

// requestFailed reports every entry of a batch whose SendMessageBatch
// failed; an error that says the queue cannot be written stops the Writer.
func (w *Writer) requestFailed(batch []*pending, err error) {
	w.log.Warn("sqsbatch: SendMessageBatch failed", "entries", len(batch), "err", err)
	if qe := w.queueError(err); qe != nil {
		if w.dead.CompareAndSwap(nil, qe) {
			w.log.Error("sqsbatch: queue cannot be written; failing the remaining messages without sending", "queue", w.queueURL, "code", qe.Code)
		}
		err = qe
	}
	for _, p := range batch {
		w.report(p, Result{Err: &RequestError{Index: p.idx, Key: p.msg.Key, Err: err}})
	}
}

// answered reports the entries SQS took or refused for good and returns
// those to retry.
func (w *Writer) answered(batch []*pending, out *sqs.SendMessageBatchOutput) []*pending {
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
	return retry
}

// entryID returns the writer-made Id of the i-th entry of a batch.
func entryID(i int) string {
	if i >= 0 && i < len(entryIDs) {
		return entryIDs[i]
	}
	return strconv.Itoa(i)
}

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

func (w *Writer) lingerFired(gen uint64) {
	w.mu.Lock()
	stale := gen != w.lingerGen
	w.mu.Unlock()
	if !stale {
		_ = w.dispatch(w.ctx, always)
	}
}

func (w *Writer) report(p *pending, r Result) {
	r.Index, r.Key, r.Attempts, r.Offloaded = p.idx, p.msg.Key, p.attempts, p.offload
	if r.Err != nil {
		w.failMu.Lock()
		w.failed.Add(1) // under failMu, so that Flush's window counts match its samples
		if len(w.lifeSamples) < MaxSendErrorSamples {
			w.lifeSamples = append(w.lifeSamples, r)
		}
		if len(w.winSamples) < MaxSendErrorSamples {
			w.winSamples = append(w.winSamples, r)
		}
		w.failMu.Unlock()
	}
	if p.done != nil {
		p.done(r)
	}
	if w.opts.OnResult != nil {
		w.opts.OnResult(r)
	}
}

// tracker counts launched batches; unlike a sync.WaitGroup it may be
// waited on while batches are added, and the wait honours a context.
type tracker struct {
	mu   sync.Mutex
	n    int
	idle chan struct{}
}

func (t *tracker) add() {
	t.mu.Lock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
	t.mu.Unlock()
}

func (t *tracker) done() {
	t.mu.Lock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
	t.mu.Unlock()
}

func (t *tracker) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
