package sqsbatch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awserr"
)

// heartbeat extends the visibility of messages being handled.
type heartbeat struct {
	mu      sync.Mutex
	t       *time.Timer
	stopped bool
}

func (h *heartbeat) stop() {
	h.mu.Lock()
	h.stopped = true
	h.t.Stop()
	h.mu.Unlock()
}

// startHeartbeat extends the visibility of ms every Heartbeat until stopped.
func (c *Consumer) startHeartbeat(ctx context.Context, ms []types.Message) *heartbeat {
	h := &heartbeat{}
	var beat func()
	beat = func() {
		c.heartbeats.Add(int64(len(ms)))
		c.changeVisibility(ctx, ms, c.opts.VisibilityTimeout)
		h.mu.Lock()
		if !h.stopped {
			h.t = time.AfterFunc(c.opts.Heartbeat, beat)
		}
		h.mu.Unlock()
	}
	h.mu.Lock()
	h.t = time.AfterFunc(c.opts.Heartbeat, beat)
	h.mu.Unlock()
	return h
}

// release gives messages back for immediate redelivery.
func (c *Consumer) release(ctx context.Context, ms []types.Message) {
	c.released.Add(int64(len(ms)))
	c.inflight.Add(-int64(len(ms)))
	c.changeVisibility(ctx, ms, 0)
}

func (c *Consumer) changeVisibility(ctx context.Context, ms []types.Message, d time.Duration) {
	changeVisibility(ctx, c.client, c.queueURL, ms, d, c.log, c.callOpts...)
}

// changeVisibility sets the visibility timeout of ms to d, MaxBatchEntries
// at a time, each call bounded by ackTimeout. Failures are only logged: the
// messages then keep the visibility they had.
func changeVisibility(ctx context.Context, client ChangeMessageVisibilityBatchAPI, queueURL string, ms []types.Message, d time.Duration, log *slog.Logger, callOpts ...func(*sqs.Options)) {
	for len(ms) > 0 {
		n := min(len(ms), MaxBatchEntries)
		entries := make([]types.ChangeMessageVisibilityBatchRequestEntry, n)
		for i := range n {
			entries[i] = types.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(entryID(i)), ReceiptHandle: ms[i].ReceiptHandle, VisibilityTimeout: int32(d / time.Second)}
		}
		cctx, cancel := context.WithTimeout(ctx, ackTimeout)
		out, err := client.ChangeMessageVisibilityBatch(cctx, &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: &queueURL, Entries: entries}, callOpts...)
		cancel()
		if err != nil {
			log.Warn("sqsbatch: ChangeMessageVisibilityBatch failed", "entries", n, "err", err)
		} else if len(out.Failed) > 0 {
			log.Warn("sqsbatch: ChangeMessageVisibilityBatch entries failed", "failed", len(out.Failed), "code", aws.ToString(out.Failed[0].Code))
		}
		ms = ms[n:]
	}
}

func (c *Consumer) deleteLoop(ctx context.Context, acks <-chan *string) {
	batch := make([]*string, 0, MaxBatchEntries)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		first, ok := <-acks
		if !ok {
			return
		}
		batch = append(batch[:0], first)
		open := true
		timer.Reset(deleteLinger)
	gather:
		for len(batch) < MaxBatchEntries {
			select {
			case r, more := <-acks:
				if !more {
					open = false
					break gather
				}
				batch = append(batch, r)
			case <-timer.C:
				break gather
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		c.deleteBatch(ctx, batch)
		if !open {
			return
		}
	}
}

// deleteBatch deletes by receipt handle; entry Ids are indexes, so two
// receipts of one message (a redelivered duplicate) cannot collide.
func (c *Consumer) deleteBatch(ctx context.Context, receipts []*string) {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(receipts))
	for i, r := range receipts {
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(entryID(i)), ReceiptHandle: r}
	}
	c.inflight.Add(-int64(len(receipts)))
	dctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	c.deleteCalls.Add(1)
	out, err := c.client.DeleteMessageBatch(dctx, &sqs.DeleteMessageBatchInput{QueueUrl: &c.queueURL, Entries: entries}, c.callOpts...)
	if err != nil {
		c.deleteErrors.Add(int64(len(receipts)))
		if awserr.Permanent(err) {
			c.abort(&DeleteError{QueueURL: c.queueURL, Code: awserr.Code(err), Entries: len(receipts), Err: err})
			return
		}
		c.log.Warn("sqsbatch: DeleteMessageBatch failed; the messages will be delivered again", "entries", len(receipts), "err", err)
		return
	}
	c.deleted.Add(int64(len(out.Successful)))
	if len(out.Failed) > 0 {
		c.deleteErrors.Add(int64(len(out.Failed)))
		c.log.Warn("sqsbatch: DeleteMessageBatch entries failed; they will be delivered again", "failed", len(out.Failed), "code", aws.ToString(out.Failed[0].Code))
	}
}
