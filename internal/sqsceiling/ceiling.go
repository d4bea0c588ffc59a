// Package sqsceiling holds the raw SQS loops that lakekit's benchmarks use
// as the server's ceiling: concurrent SendMessageBatch calls of 10, and
// concurrent ReceiveMessage(10) + DeleteMessageBatch pollers, with nothing
// else. sqsbatch's benchmarks and the npm-peer harness in
// examples/sqs-dedup/bench measure against the same loops.
package sqsceiling

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/sqsbatch"
)

// Bodies returns n JSON message bodies of exactly size bytes (size ≥ 40).
func Bodies(n, size int) []string {
	out := make([]string, n)
	pad := strings.Repeat("x", size)
	for i := range out {
		s := fmt.Sprintf(`{"id":"row-%08d","p":"`, i)
		out[i] = s + pad[:size-len(s)-2] + `"}`
	}
	return out
}

// Send sends bodies to the queue with concurrency goroutines each doing
// SendMessageBatch calls of 10, and returns the messages/s. A refused entry
// or a failed call is an error.
//
// Every call carries sqsbatch.SafeRequestBody, as Receive's do and as every
// call of sqsbatch's Writer does: the closed-connection workaround is needed
// for correct results on this SDK (see sqsbatch.SafeRequestBody), so a
// ceiling without it would measure a client no user of the package gets.
func Send(ctx context.Context, c *sqs.Client, url string, bodies []string, concurrency int) (float64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			entries := make([]types.SendMessageBatchRequestEntry, 0, 10)
			for ctx.Err() == nil {
				lo := int(next.Add(10)) - 10
				if lo >= len(bodies) {
					return
				}
				entries = entries[:0]
				for i := lo; i < min(lo+10, len(bodies)); i++ {
					entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i - lo)), MessageBody: &bodies[i]})
				}
				out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries}, sqsbatch.SafeRequestBody)
				if err != nil {
					cancel(fmt.Errorf("raw send: %w", err))
					return
				}
				if len(out.Failed) > 0 {
					cancel(fmt.Errorf("raw send: %d entries refused, first %s", len(out.Failed), aws.ToString(out.Failed[0].Code)))
					return
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return 0, err
	}
	return float64(len(bodies)) / time.Since(start).Seconds(), nil
}

// Receive drains total messages from the queue with pollers goroutines each
// doing ReceiveMessage(10) + DeleteMessageBatch, and returns the
// messages/s. A failed call is an error.
func Receive(ctx context.Context, c *sqs.Client, url string, pollers, total int) (float64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var done atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range pollers {
		wg.Go(func() {
			entries := make([]types.DeleteMessageBatchRequestEntry, 0, 10)
			for ctx.Err() == nil {
				out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, WaitTimeSeconds: 20}, sqsbatch.SafeRequestBody)
				if err != nil {
					if ctx.Err() == nil {
						cancel(fmt.Errorf("raw receive: %w", err))
					}
					return
				}
				if len(out.Messages) == 0 {
					continue
				}
				entries = entries[:0]
				for i, m := range out.Messages {
					entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: entries}, sqsbatch.SafeRequestBody); err != nil {
					cancel(fmt.Errorf("raw delete: %w", err))
					return
				}
				if done.Add(int64(len(entries))) >= int64(total) {
					cancel(nil)
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && err != context.Canceled {
		return 0, err
	}
	return float64(total) / time.Since(start).Seconds(), nil
}

// Median returns the median of xs, 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}
