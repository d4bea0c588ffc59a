package kda

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/lakekit/lakekit/internal/awstest"
)

// runBounded runs cons; the 60 s bound only detects a hang (the old Run
// retried these failures for ever).
func runBounded(t *testing.T, cons *Consumer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := cons.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("Run did not stop by itself (returned %v); stats %+v", err, cons.Stats())
	}
	return err
}

// TestConsumerStopsWhenStreamDeleted: a stream deleted under a running
// consumer ends Run with a permanent *ConsumerError
// (ResourceNotFoundException).
func TestConsumerStopsWhenStreamDeleted(t *testing.T) {
	c := awstest.Kinesis(t)
	arn := newStream(t, c, 1)
	putAll(t, c, arn, []Record{{Data: []byte(`{"i":1}`)}, {Data: []byte(`{"i":2}`)}})
	var seen atomic.Int64
	deleted := make(chan struct{})
	cons, err := NewConsumer(c, arn, func(ctx context.Context, _ string, rs []KinesisRecord) error {
		if seen.Add(int64(len(rs))) >= 2 {
			select {
			case <-deleted:
			default:
				close(deleted)
				if _, err := c.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamARN: &arn, EnforceConsumerDeletion: new(true)}); err != nil {
					return err
				}
			}
		}
		return nil
	}, func(o *ConsumerOptions) {
		o.PollInterval, o.RetryDelay, o.ShardSyncInterval = 20*time.Millisecond, 20*time.Millisecond, 100*time.Millisecond
	})
	if err != nil {
		t.Fatal(err)
	}
	err = runBounded(t, cons)
	var ce *ConsumerError
	var rnf *kintypes.ResourceNotFoundException
	if !errors.As(err, &ce) || !ce.Permanent || !errors.As(err, &rnf) {
		t.Fatalf("Run = %v, want a permanent *ConsumerError unwrapping to ResourceNotFoundException", err)
	}
	t.Logf("error: %v", err)
}

// TestConsumerGivesUp: ListShards against a closed port is retried, and
// MaxFailures in a row end Run; a handler that keeps failing ends it too.
func TestConsumerGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	kc := awstest.Shared(t, awstest.KinesisLocal).Kinesis(func(o *kinesis.Options) { o.BaseEndpoint = &closed; o.RetryMaxAttempts = 1 })
	cons, err := NewConsumer(kc, "s", func(context.Context, string, []KinesisRecord) error { return nil }, func(o *ConsumerOptions) {
		o.RetryDelay, o.MaxFailures = 10*time.Millisecond, 3
	})
	if err != nil {
		t.Fatal(err)
	}
	err = runBounded(t, cons)
	var ce *ConsumerError
	var op *net.OpError
	if !errors.As(err, &ce) || ce.Permanent || ce.Op != "ListShards" || ce.Failures != 3 || !errors.As(err, &op) {
		t.Fatalf("closed port: Run = %v, want a transient *ConsumerError after 3 ListShards failures", err)
	}
	t.Logf("closed port: %v", err)

	c := awstest.Kinesis(t)
	arn := newStream(t, c, 1)
	putAll(t, c, arn, []Record{{Data: []byte(`{"i":1}`)}})
	boom := errors.New("downstream refused the batch")
	var calls atomic.Int64
	cons, err = NewConsumer(c, arn, func(context.Context, string, []KinesisRecord) error { calls.Add(1); return boom }, func(o *ConsumerOptions) {
		o.PollInterval, o.RetryDelay, o.MaxFailures = 20*time.Millisecond, 10*time.Millisecond, 4
	})
	if err != nil {
		t.Fatal(err)
	}
	err = runBounded(t, cons)
	if !errors.As(err, &ce) || ce.Op != "handler" || ce.Failures != 4 || !errors.Is(err, boom) || calls.Load() != 4 {
		t.Fatalf("failing handler: Run = %v after %d calls, want a *ConsumerError after 4", err, calls.Load())
	}
	t.Logf("failing handler: %v", fmt.Sprint(err))
}
