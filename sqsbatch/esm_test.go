package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

func sendBodies(t *testing.T, c *sqs.Client, url string, n int) {
	t.Helper()
	for i := 0; i < n; i += 10 {
		var entries []types.SendMessageBatchRequestEntry
		for j := i; j < min(i+10, n); j++ {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(j - i)), MessageBody: aws.String(strconv.Itoa(j))})
		}
		if _, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: &url, Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
}

// runESM runs an event source mapping until stop reports true (checked
// every 20 ms), then shuts it down and returns Run's error; the 30 s bound
// only detects a hang.
func runESM(t *testing.T, esm *sqsbatch.Consumer, stop func() bool) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	runCtx, end := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() { errc <- esm.Run(runCtx) }()
	for {
		select {
		case err := <-errc:
			end()
			return err
		case <-time.After(20 * time.Millisecond):
		}
		if stop() {
			end()
			return <-errc
		}
		if ctx.Err() != nil {
			t.Fatalf("event source mapping: no end within the hang bound; stats %+v", esm.Stats())
		}
	}
}

// TestEventSourceMappingPartialBatches: the handler gets whole batches
// with the attributes a Lambda event carries, messages it reports failed
// (and a whole batch whose handler errs) come back, the rest is deleted,
// and every message ends handled.
func TestEventSourceMappingPartialBatches(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "esm", nil)
	const n = 60
	sendBodies(t, c, url, n)
	var (
		mu       sync.Mutex
		done     = map[string]int{}
		tries    = map[string]int{}
		maxBatch int
		badARN   string
		invokes  int
	)
	h := func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		maxBatch = max(maxBatch, len(ev.Records))
		invokes++
		var resp events.SQSEventResponse
		for _, r := range ev.Records {
			if r.Attributes["ApproximateReceiveCount"] == "" || r.EventSource != "aws:sqs" || !strings.HasSuffix(r.EventSourceARN, ":"+url[strings.LastIndex(url, "/")+1:]) {
				badARN = fmt.Sprintf("%+v", r)
			}
			tries[r.Body]++
		}
		if invokes == 1 {
			for _, r := range ev.Records {
				tries[r.Body]-- // not counted: the whole batch comes back
			}
			return resp, errors.New("the first batch fails as a whole")
		}
		for _, r := range ev.Records {
			if b, _ := strconv.Atoi(r.Body); b%3 == 0 && tries[r.Body] == 1 {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
			}
		}
		for _, r := range ev.Records {
			if b, _ := strconv.Atoi(r.Body); b%3 != 0 || tries[r.Body] > 1 {
				done[r.Body]++
			}
		}
		return resp, nil
	}
	esm := must(sqsbatch.NewEventSourceMapping(c, url, h, func(o *sqsbatch.ConsumerOptions) {
		o.Pollers, o.WaitTime, o.VisibilityTimeout, o.RetryDelay = 2, time.Second, 5*time.Second, time.Second
	}))
	err := runESM(t, esm, func() bool { mu.Lock(); defer mu.Unlock(); return len(done) == n && queueDepth(t, c, url) == 0 })
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(done) != n || badARN != "" || maxBatch < 2 {
		t.Fatalf("%d of %d handled, largest batch %d, bad record %s", len(done), n, maxBatch, badARN)
	}
	st := esm.Stats()
	if st.Failed < n/3+1 || st.Deleted < n {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("stats %+v, largest batch %d", st, maxBatch)
}

// TestEventSourceMappingSlowBatch: a batch handled for longer than the
// visibility timeout is handled once, its visibility extended while the
// handler runs. (The fan-out's old poller and the dedup example's, which
// did not extend it, handled such a message 4 times in 5 s with two
// pollers and a 1 s visibility timeout.)
func TestEventSourceMappingSlowBatch(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "esm-slow", map[string]string{"VisibilityTimeout": "1"})
	sendBodies(t, c, url, 1)
	var calls, finished atomic.Int64
	h := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		calls.Add(int64(len(ev.Records)))
		time.Sleep(2500 * time.Millisecond)
		finished.Add(1)
		return events.SQSEventResponse{}, nil
	}
	esm := must(sqsbatch.NewEventSourceMapping(c, url, h, func(o *sqsbatch.ConsumerOptions) {
		o.Pollers, o.WaitTime, o.VisibilityTimeout = 2, time.Second, time.Second
	}))
	var deadline time.Time
	err := runESM(t, esm, func() bool {
		if finished.Load() > 0 && deadline.IsZero() {
			deadline = time.Now().Add(1500 * time.Millisecond) // time for a redelivery to show
		}
		return !deadline.IsZero() && time.Now().After(deadline)
	})
	if err != nil {
		t.Fatalf("Run = %v", err)
	}
	if calls.Load() != 1 || queueDepth(t, c, url) != 0 {
		t.Fatalf("handled %d times, %d left in the queue; want once, none", calls.Load(), queueDepth(t, c, url))
	}
}

// TestEventSourceMappingStops: the mapping ends with the Consumer's typed
// errors: a permanent *ReceiveError for a missing queue.
func TestEventSourceMappingStops(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "esm-missing", nil) + "-typo"
	h := func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{}, nil
	}
	err := runUntilError(t, must(sqsbatch.NewEventSourceMapping(c, url, h, func(o *sqsbatch.ConsumerOptions) { o.WaitTime = time.Second })))
	var re *sqsbatch.ReceiveError
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &re) || !re.Permanent || !errors.As(err, &qdne) {
		t.Fatalf("Run = %v, want a permanent *ReceiveError", err)
	}
}
