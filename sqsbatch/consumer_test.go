package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

func sendN(t testing.TB, c *sqs.Client, url string, n int, body func(i int) string) {
	t.Helper()
	msgs := make([]sqsbatch.Message, n)
	for i := range msgs {
		msgs[i] = sqsbatch.Message{Key: strconv.Itoa(i), Body: body(i)}
	}
	results, err := must(sqsbatch.NewWriter(c, url)).SendAll(context.Background(), msgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// runConsumer runs a consumer until cond holds (or 20 s), then stops it and
// waits for Run to return.
func runConsumer(t testing.TB, cons *sqsbatch.Consumer, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	ok := waitFor(t, 20*time.Second, cond)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("condition not reached; stats %+v", cons.Stats())
	}
}

// TestConsumerProcessesAndDeletes handles 500 messages once each and leaves
// the queue empty.
func TestConsumerProcessesAndDeletes(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "consume", nil)
	sendN(t, c, url, 500, func(i int) string { return "m" + strconv.Itoa(i) })
	var mu sync.Mutex
	seen := map[string]int{}
	cons := must(sqsbatch.NewConsumer(c, url, func(ctx context.Context, m types.Message) error {
		mu.Lock()
		seen[aws.ToString(m.Body)]++
		mu.Unlock()
		return nil
	}, func(o *sqsbatch.ConsumerOptions) { o.WaitTime = time.Second }))
	runConsumer(t, cons, func() bool { return cons.Stats().Deleted == 500 })
	if len(seen) != 500 {
		t.Fatalf("%d distinct bodies", len(seen))
	}
	for b, n := range seen {
		if n != 1 {
			t.Errorf("%s handled %d times", b, n)
		}
	}
	st := cons.Stats()
	if st.Received != 500 || st.Processed != 500 || st.InFlight != 0 || st.DeleteErrors != 0 {
		t.Errorf("stats %+v", st)
	}
	if d := queueDepth(t, c, url); d != 0 {
		t.Fatalf("%d messages left", d)
	}
}

// TestConsumerRedeliveryAfterVisibilityExpiry fails a message once: it is
// not deleted, comes back after the 1 s visibility timeout with a higher
// receive count, and is then processed.
func TestConsumerRedeliveryAfterVisibilityExpiry(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "redeliver", nil)
	sendN(t, c, url, 3, func(i int) string { return "m" + strconv.Itoa(i) })
	var mu sync.Mutex
	counts := map[string][]string{}
	cons := must(sqsbatch.NewConsumer(c, url, func(ctx context.Context, m types.Message) error {
		mu.Lock()
		defer mu.Unlock()
		b := aws.ToString(m.Body)
		counts[b] = append(counts[b], m.Attributes["ApproximateReceiveCount"])
		if b == "m1" && len(counts[b]) == 1 {
			return errors.New("first attempt fails")
		}
		return nil
	}, func(o *sqsbatch.ConsumerOptions) { o.WaitTime = time.Second; o.VisibilityTimeout = time.Second }))
	runConsumer(t, cons, func() bool { return cons.Stats().Deleted == 3 })
	if fmt.Sprint(counts["m1"]) != "[1 2]" || fmt.Sprint(counts["m0"]) != "[1]" {
		t.Fatalf("receive counts %v", counts)
	}
	if st := cons.Stats(); st.Failed != 1 || st.Processed != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConsumerHeartbeat keeps a slow message invisible: with a 1 s
// visibility timeout, a 3 s handler is not redelivered.
func TestConsumerHeartbeat(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "heartbeat", nil)
	sendN(t, c, url, 1, func(int) string { return "slow" })
	var calls atomic.Int32
	cons := must(sqsbatch.NewConsumer(c, url, func(ctx context.Context, m types.Message) error {
		calls.Add(1)
		time.Sleep(3 * time.Second)
		return nil
	}, func(o *sqsbatch.ConsumerOptions) {
		o.WaitTime = time.Second
		o.VisibilityTimeout = time.Second
		o.Heartbeat = 300 * time.Millisecond
		o.Pollers = 2
	}))
	runConsumer(t, cons, func() bool { return cons.Stats().Deleted == 1 })
	if calls.Load() != 1 {
		t.Fatalf("handled %d times", calls.Load())
	}
	if st := cons.Stats(); st.Heartbeats < 5 || st.Received != 1 {
		t.Fatalf("stats %+v", st)
	}
}

// TestConsumerGracefulShutdown cancels Run while handlers are busy: running
// handlers finish and are deleted, and the consumer holds no other message
// (it receives only for idle workers; any it held would be released), so a
// second consumer gets all the rest at once rather than after the 30 s
// visibility timeout.
func TestConsumerGracefulShutdown(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "shutdown", nil)
	sendN(t, c, url, 40, func(i int) string { return "m" + strconv.Itoa(i) })
	started := make(chan struct{}, 100)
	var finished atomic.Int32
	var handled sync.Map
	h := func(ctx context.Context, m types.Message) error {
		started <- struct{}{}
		time.Sleep(300 * time.Millisecond)
		handled.Store(aws.ToString(m.Body), true)
		finished.Add(1)
		return nil
	}
	cons := must(sqsbatch.NewConsumer(c, url, h, func(o *sqsbatch.ConsumerOptions) {
		o.WaitTime = time.Second
		o.Workers = 2
		o.Pollers = 1
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cons.Run(ctx) }()
	<-started
	<-started
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	st := cons.Stats()
	if st.Processed != int64(finished.Load()) || st.Deleted != st.Processed || st.InFlight != 0 || st.Received != st.Processed+st.Released {
		t.Fatalf("after shutdown: stats %+v, finished %d", st, finished.Load())
	}
	// The released messages are visible again now, well before 30 s.
	cons2 := must(sqsbatch.NewConsumer(c, url, func(ctx context.Context, m types.Message) error {
		handled.Store(aws.ToString(m.Body), true)
		return nil
	}, func(o *sqsbatch.ConsumerOptions) { o.WaitTime = time.Second }))
	runConsumer(t, cons2, func() bool { return st.Deleted+cons2.Stats().Deleted == 40 })
	n := 0
	handled.Range(func(any, any) bool { n++; return true })
	if n != 40 {
		t.Fatalf("%d of 40 handled", n)
	}
}

// TestConsumerDeletesDuplicateReceiptsInOneBatch: one message received
// twice (visibility expired in between) is acknowledged through both
// receipts in one DeleteMessageBatch; Ids by index keep the call valid.
func TestConsumerDeletesDuplicateReceiptsInOneBatch(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "dupdelete", nil)
	sendN(t, c, url, 1, func(int) string { return "once" })
	var calls atomic.Int32
	release := make(chan struct{})
	cons := must(sqsbatch.NewConsumer(c, url, func(ctx context.Context, m types.Message) error {
		if calls.Add(1) == 1 {
			<-release // hold the first receipt until the second arrives
		} else {
			close(release)
		}
		return nil
	}, func(o *sqsbatch.ConsumerOptions) {
		o.WaitTime = time.Second
		o.VisibilityTimeout = time.Second
		o.Heartbeat = -1
		o.Pollers = 1
	}))
	runConsumer(t, cons, func() bool { return cons.Stats().Deleted+cons.Stats().DeleteErrors == 2 })
	if st := cons.Stats(); st.Received != 2 || st.Deleted < 1 {
		t.Fatalf("stats %+v", st)
	}
	if d := queueDepth(t, c, url); d != 0 {
		t.Fatalf("%d left", d)
	}
}

// TestConsumerFIFOKeepsGroupOrder: on a FIFO queue on fauxqs the messages of
// a group are handled in order, one at a time, even with many workers and a
// failure in the middle of a group. (fauxqs hands out one message per group
// per receive; TestConsumerFIFOGroupsInOneReceive covers several.)
func TestConsumerFIFOKeepsGroupOrder(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "fifo-consume", map[string]string{"FifoQueue": "true", "VisibilityTimeout": "1"})
	var msgs []sqsbatch.Message
	for i := range 30 {
		msgs = append(msgs, sqsbatch.Message{Body: strconv.Itoa(i), GroupID: "g" + strconv.Itoa(i%3), DeduplicationID: "d" + strconv.Itoa(i)})
	}
	if res, err := must(sqsbatch.NewWriter(c, url)).SendAll(ctx, msgs); err != nil || res[29].Err != nil {
		t.Fatal(err, res[29].Err)
	}
	var mu sync.Mutex
	done := map[string][]int{}
	active := map[string]bool{}
	failedOnce := false
	cons := must(sqsbatch.NewConsumer(c, url, func(ctx context.Context, m types.Message) error {
		v, _ := strconv.Atoi(aws.ToString(m.Body))
		g := m.Attributes["MessageGroupId"]
		mu.Lock()
		if active[g] {
			mu.Unlock()
			return fmt.Errorf("group %s handled by two workers at once", g)
		}
		active[g] = true
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		active[g] = false
		if v == 13 && !failedOnce {
			failedOnce = true
			return errors.New("fails once")
		}
		done[g] = append(done[g], v)
		return nil
	}, func(o *sqsbatch.ConsumerOptions) {
		o.WaitTime = time.Second
		o.VisibilityTimeout = time.Second
		o.Workers = 30
	}))
	runConsumer(t, cons, func() bool { return cons.Stats().Deleted == 30 })
	mu.Lock()
	defer mu.Unlock()
	for g, vs := range done {
		for i := 1; i < len(vs); i++ {
			if vs[i] <= vs[i-1] {
				t.Fatalf("group %s out of order: %v", g, vs)
			}
		}
		if len(vs) != 10 {
			t.Fatalf("group %s: %v", g, vs)
		}
	}
	if !failedOnce || cons.Stats().Failed != 1 {
		t.Fatalf("stats %+v", cons.Stats())
	}
}

// fifoBatches serves a FIFO queue the way SQS may: several messages of one
// group in one receive (fauxqs returns one per group per receive, so it
// cannot show this). Messages not deleted come back on a later receive, in
// order, after the group's in-flight messages are gone.
type fifoBatches struct {
	mu       sync.Mutex
	pending  []types.Message // in send order
	inflight map[string]types.Message
	seq      int
}

func (f *fifoBatches) ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, _ ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error) {
	f.mu.Lock()
	locked := map[string]bool{}
	for _, m := range f.inflight {
		locked[m.Attributes["MessageGroupId"]] = true
	}
	var out []types.Message
	var rest []types.Message
	for _, m := range f.pending {
		if len(out) < int(in.MaxNumberOfMessages) && !locked[m.Attributes["MessageGroupId"]] {
			f.seq++
			m.ReceiptHandle = aws.String("rh-" + strconv.Itoa(f.seq))
			f.inflight[*m.ReceiptHandle] = m
			out = append(out, m)
			continue
		}
		rest = append(rest, m)
	}
	f.pending = rest
	f.mu.Unlock()
	if len(out) == 0 {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return &sqs.ReceiveMessageOutput{Messages: out}, nil
}

func (f *fifoBatches) DeleteMessageBatch(_ context.Context, in *sqs.DeleteMessageBatchInput, _ ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &sqs.DeleteMessageBatchOutput{}
	for _, e := range in.Entries {
		delete(f.inflight, *e.ReceiptHandle)
		out.Successful = append(out.Successful, types.DeleteMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// ChangeMessageVisibilityBatch with 0 puts messages back at the front of
// their group, in order; other values are heartbeats or retry delays, which
// this fake treats as "back now".
func (f *fifoBatches) ChangeMessageVisibilityBatch(_ context.Context, in *sqs.ChangeMessageVisibilityBatchInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var back []types.Message
	for _, e := range in.Entries {
		if m, ok := f.inflight[*e.ReceiptHandle]; ok && e.VisibilityTimeout <= 1 {
			delete(f.inflight, *e.ReceiptHandle)
			back = append(back, m)
		}
	}
	f.pending = append(back, f.pending...)
	slices.SortStableFunc(f.pending, func(a, b types.Message) int {
		x, _ := strconv.Atoi(aws.ToString(a.Body))
		y, _ := strconv.Atoi(aws.ToString(b.Body))
		return x - y
	})
	return &sqs.ChangeMessageVisibilityBatchOutput{}, nil
}

// TestConsumerFIFOGroupsInOneReceive: with several messages of a group in
// one receive and 30 workers, a group is still handled by one worker at a
// time, in order, and a failure holds back the rest of its group.
func TestConsumerFIFOGroupsInOneReceive(t *testing.T) {
	f := &fifoBatches{inflight: map[string]types.Message{}}
	for i := range 30 {
		f.pending = append(f.pending, types.Message{
			MessageId: aws.String("m" + strconv.Itoa(i)), Body: aws.String(strconv.Itoa(i)),
			Attributes: map[string]string{"MessageGroupId": "g" + strconv.Itoa(i/10)},
		})
	}
	var mu sync.Mutex
	done := map[string][]int{}
	active := map[string]bool{}
	var overlap, failedOnce bool
	cons := must(sqsbatch.NewConsumer(f, "https://sqs.us-east-1.amazonaws.com/000000000000/q.fifo", func(ctx context.Context, m types.Message) error {
		v, _ := strconv.Atoi(aws.ToString(m.Body))
		g := m.Attributes["MessageGroupId"]
		mu.Lock()
		overlap = overlap || active[g]
		active[g] = true
		mu.Unlock()
		time.Sleep(time.Millisecond)
		mu.Lock()
		defer mu.Unlock()
		active[g] = false
		if v == 13 && !failedOnce {
			failedOnce = true
			return errors.New("fails once")
		}
		done[g] = append(done[g], v)
		return nil
	}, func(o *sqsbatch.ConsumerOptions) { o.Workers = 30; o.RetryDelay = time.Second; o.Heartbeat = -1 }))
	runConsumer(t, cons, func() bool { return cons.Stats().Deleted == 30 })
	mu.Lock()
	defer mu.Unlock()
	if overlap {
		t.Fatal("a group was handled by two workers at once")
	}
	for g, vs := range done {
		if !slices.IsSorted(vs) || len(vs) != 10 {
			t.Fatalf("group %s: %v", g, vs)
		}
	}
	if st := cons.Stats(); st.Failed != 1 || st.Released == 0 {
		t.Fatalf("stats %+v", st)
	}
}
