package fanoutsim_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lakekit/lakekit/s3copy/fanout/fanoutsim"
	"github.com/lakekit/lakekit/sqsbatch"
)

// fill sends n messages to url through the wire.
func fill(t *testing.T, q *fanoutsim.SQS, url string, n int) {
	t.Helper()
	for i := range n {
		if _, err := q.Client().SendMessage(context.Background(), sendInput(url, fmt.Sprint("m", i))); err != nil {
			t.Fatal(err)
		}
	}
}

// drain runs fleet until url is empty (visible, in flight and delayed).
func drain(t *testing.T, fleet *fanoutsim.Fleet, q *fanoutsim.SQS, urls ...string) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = fleet.Run(ctx) })
	defer func() { stop(); wg.Wait() }()
	for start := time.Now(); ; {
		time.Sleep(100 * time.Millisecond)
		left := 0
		for _, u := range urls {
			v, f, d := q.Depth(u)
			left += v + f + d
		}
		if left == 0 {
			return
		}
		if time.Since(start) > time.Hour {
			t.Fatalf("%d messages left after an hour", left)
		}
	}
}

func newSim(t *testing.T, fleetOpts ...func(*fanoutsim.FleetOptions)) (*fanoutsim.SQS, *fanoutsim.Fleet) {
	t.Helper()
	q, err := fanoutsim.NewSQS()
	if err != nil {
		t.Fatal(err)
	}
	fleet, err := fanoutsim.NewFleet(fleetOpts...)
	if err != nil {
		t.Fatal(err)
	}
	return q, fleet
}

// TestFleetScaling: 1,000 one-second invocations of batch 1 start at five
// at once and gain one every 200 ms, as Lambda's SQS poller does; every
// environment is one cold start.
func TestFleetScaling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, fleet := newSim(t)
		url, _ := q.CreateQueue("work", nil)
		fill(t, q, url, 1000)
		var mu sync.Mutex
		starts := map[int]int{} // second → invocations started
		t0 := time.Now()
		m, err := fleet.Map(q, url, func(context.Context) (sqsbatch.BatchHandler, error) {
			return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				mu.Lock()
				starts[int(time.Since(t0)/time.Second)]++
				mu.Unlock()
				time.Sleep(time.Second)
				return events.SQSEventResponse{}, nil
			}, nil
		}, func(o *fanoutsim.MappingOptions) { o.BatchSize = 1 })
		if err != nil {
			t.Fatal(err)
		}
		drain(t, fleet, q, url)
		st := m.Stats()
		if st.Invocations != 1000 || st.Messages != 1000 || st.FailedMessages != 0 || st.ColdStarts != st.Environments {
			t.Fatalf("stats %+v", st)
		}
		// After s seconds about 5+5s batches run at once, each taking a
		// second: the first second starts 5, the tenth about 50.
		if starts[0] < 5 || starts[0] > 10 || starts[9] < 45 || starts[9] > 60 {
			t.Fatalf("invocations started per second %v", starts)
		}
		if st.MaxConcurrency < 80 || st.MaxConcurrency > 110 || int64(st.MaxConcurrency) > st.ColdStarts {
			t.Fatalf("max concurrency %d, cold starts %d", st.MaxConcurrency, st.ColdStarts)
		}
		t.Logf("%+v; starts per second %v", st, starts)
	})
}

// TestFleetRedelivery: a message the handler reports failed comes back
// after the queue's visibility timeout with ApproximateReceiveCount 2; a
// handler error fails the whole batch; the redrive policy moves a message
// that keeps failing to the dead-letter queue.
func TestFleetRedelivery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, fleet := newSim(t)
		dlq, _ := q.CreateQueue("dlq", nil)
		url, err := q.CreateQueue("work", map[string]string{"VisibilityTimeout": "5",
			"RedrivePolicy": `{"deadLetterTargetArn":"` + q.QueueARN(dlq) + `","maxReceiveCount":"3"}`})
		if err != nil {
			t.Fatal(err)
		}
		fill(t, q, url, 3)
		var mu sync.Mutex
		seen := map[string][]time.Time{}
		_, err = fleet.Map(q, url, func(context.Context) (sqsbatch.BatchHandler, error) {
			return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				var resp events.SQSEventResponse
				mu.Lock()
				defer mu.Unlock()
				for _, r := range ev.Records {
					seen[r.Body] = append(seen[r.Body], time.Now())
					n, _ := strconv.Atoi(r.Attributes["ApproximateReceiveCount"])
					if n != len(seen[r.Body]) {
						t.Errorf("%s: receive count %d on delivery %d", r.Body, n, len(seen[r.Body]))
					}
					switch {
					case r.Body == "m0" && n == 1: // fails once
						resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
					case r.Body == "m1": // fails for good
						resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: r.MessageId})
					}
				}
				return resp, nil
			}, nil
		}, func(o *fanoutsim.MappingOptions) { o.BatchSize = 1 })
		if err != nil {
			t.Fatal(err)
		}
		drainUntil(t, fleet, func() bool { v, _, _ := q.Depth(dlq); return v == 1 })
		if len(seen["m0"]) != 2 || len(seen["m1"]) != 3 || len(seen["m2"]) != 1 {
			t.Fatalf("deliveries %v", seen)
		}
		if gap := seen["m0"][1].Sub(seen["m0"][0]); gap < 4500*time.Millisecond || gap > 5500*time.Millisecond {
			t.Fatalf("redelivered after %v, want the 5 s visibility timeout (less the first delivery's cold start)", gap)
		}
		if v, f, d := q.Depth(url); v+f+d != 0 {
			t.Fatalf("work queue holds %d %d %d", v, f, d)
		}
	})
}

func drainUntil(t *testing.T, fleet *fanoutsim.Fleet, done func() bool) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = fleet.Run(ctx) })
	defer func() { stop(); wg.Wait() }()
	for start := time.Now(); !done(); {
		time.Sleep(100 * time.Millisecond)
		if time.Since(start) > time.Hour {
			t.Fatal("not done after an hour")
		}
	}
}

// TestFleetLimits: the account's concurrency bounds two functions'
// invocations together (the rest are throttled); a handler error, a panic
// and a timeout fail the whole batch, and a failing Init leaves the
// messages for another environment.
func TestFleetLimits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, fleet := newSim(t, func(o *fanoutsim.FleetOptions) { o.Concurrency = 4; o.ColdStartSigma = 0 })
		a, _ := q.CreateQueue("a", map[string]string{"VisibilityTimeout": "2"})
		b, _ := q.CreateQueue("b", map[string]string{"VisibilityTimeout": "2"})
		fill(t, q, a, 40)
		fill(t, q, b, 40)
		var mu sync.Mutex
		calls := map[string]int{}
		inits := 0
		handler := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			mu.Lock()
			body := ev.Records[0].Body
			calls[ev.Records[0].EventSourceARN+body]++
			n := calls[ev.Records[0].EventSourceARN+body]
			mu.Unlock()
			switch {
			case body == "m1" && n == 1:
				return events.SQSEventResponse{}, errors.New("boom")
			case body == "m2" && n == 1:
				panic("boom")
			case body == "m3" && n == 1:
				<-ctx.Done() // past the timeout
				return events.SQSEventResponse{}, ctx.Err()
			case body == "m4" && n == 1:
				return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-in-batch"}}}, nil
			}
			time.Sleep(time.Second)
			return events.SQSEventResponse{}, nil
		}
		init := func(context.Context) (sqsbatch.BatchHandler, error) {
			mu.Lock()
			defer mu.Unlock()
			inits++
			if inits == 1 {
				return nil, errors.New("init failed")
			}
			return handler, nil
		}
		ma, err := fleet.Map(q, a, init, func(o *fanoutsim.MappingOptions) { o.BatchSize = 1; o.Timeout = 3 * time.Second })
		if err != nil {
			t.Fatal(err)
		}
		mb, err := fleet.Map(q, b, init, func(o *fanoutsim.MappingOptions) { o.BatchSize = 1; o.Timeout = 3 * time.Second })
		if err != nil {
			t.Fatal(err)
		}
		drain(t, fleet, q, a, b)
		sa, sb := ma.Stats(), mb.Stats()
		if fleet.MaxConcurrency() != 4 || sa.Throttles+sb.Throttles == 0 {
			t.Fatalf("max concurrency %d, throttles %d+%d", fleet.MaxConcurrency(), sa.Throttles, sb.Throttles)
		}
		if got := sa.Errors + sb.Errors; got != 9 { // 1 init + 2×(error, panic, timeout, unknown id)
			t.Fatalf("errors %d: %+v %+v", got, sa, sb)
		}
		// 80 messages, 9 failed deliveries, and redeliveries of messages
		// whose visibility timeout (2 s) passed while throttled.
		if sa.Messages+sb.Messages < 89 || sa.Invocations != sa.Messages || sb.Invocations != sb.Messages {
			t.Fatalf("stats %+v %+v", sa, sb)
		}
		if st := fleet.Stats(); len(st) != 2 || st[0].Name != "a" || st[1].Name != "b" {
			t.Fatalf("fleet stats %+v", st)
		}
	})
}

func TestOptionErrors(t *testing.T) {
	var oe *fanoutsim.OptionError
	if _, err := fanoutsim.NewSQS(func(o *fanoutsim.SQSOptions) { o.Latency = -1 }); !errors.As(err, &oe) {
		t.Fatalf("NewSQS: %v", err)
	}
	if _, err := fanoutsim.NewFleet(func(o *fanoutsim.FleetOptions) { o.Concurrency = -1 }); !errors.As(err, &oe) {
		t.Fatalf("NewFleet: %v", err)
	}
	q, fleet := newSim(t)
	url, _ := q.CreateQueue("q", nil)
	for _, fn := range []func(*fanoutsim.MappingOptions){
		func(o *fanoutsim.MappingOptions) { o.BatchSize = 20 },
		func(o *fanoutsim.MappingOptions) { o.MaximumConcurrency = 1 },
		func(o *fanoutsim.MappingOptions) { o.BatchSize = fanoutsim.MaxBatchSize + 1 },
	} {
		if _, err := fleet.Map(q, url, nil, fn); !errors.As(err, &oe) {
			t.Fatalf("Map: %v", err)
		}
	}
	if _, err := fleet.Map(q, "http://nowhere/1/q", nil); err == nil {
		t.Fatal("Map on a missing queue")
	}
}
