package sqsbatch_test

import (
	"context"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/internal/sqsceiling"
	"github.com/lakekit/lakekit/sqsbatch"
)

const (
	benchMessages = 20000
	benchBody     = 200
)

func benchBodies() []string { return sqsceiling.Bodies(benchMessages, benchBody) }

// rawSend is the ceiling: sqsceiling.Send, concurrent SendMessageBatch
// calls of 10, nothing else. It returns the messages/s.
func rawSend(b *testing.B, c *sqs.Client, url string, bodies []string, concurrency int) float64 {
	b.Helper()
	rate, err := sqsceiling.Send(context.Background(), c, url, bodies, concurrency)
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

func deleteQueue(c *sqs.Client, url string) {
	_, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url})
}

// cpuTime returns the user+system CPU time this process has used: the
// client side's cost, which fauxqs (another process) does not share.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs fn and returns its CPU microseconds per message.
func measure(msgs int, fn func()) float64 {
	start := cpuTime()
	fn()
	return float64(cpuTime()-start) / float64(time.Microsecond) / float64(msgs)
}

func median(xs []float64) float64 { return sqsceiling.Median(xs) }

// rotate runs fns in an order that changes every round, so that load from
// outside the benchmark does not always fall on the same contestant.
func rotate(round int, fns ...func()) {
	for i := range fns {
		fns[(i+round)%len(fns)]()
	}
}

// BenchmarkWriter compares the Writer with the raw concurrent
// SendMessageBatch loop, on the same fauxqs in the same run: 20,000 × 200 B
// messages per contestant per round, contestants in rotating order, fresh
// queues. Both sides run at 32 and at 64 concurrent batches and count their
// better run (the best of two noisy runs is systematically faster than one
// run, so a ceiling taken as the best of two must be met by a writer taken
// the same way). "ratio" is the median of the per-round best/best ratios;
// "ratio-32" compares the two at 32 concurrent batches only (the Writer's
// default MaxInFlight).
func BenchmarkWriter(b *testing.B) {
	c := awstest.SQS(b)
	bodies := benchBodies()
	ctx := context.Background()
	var raw1, rawBest, writer, ratios, ratios32, reqPerMsg, rawCPU, writerCPU []float64
	round := 0
	for b.Loop() {
		var r1, r32, r64, w32, w64, rc, wc float64
		raw := func(conc int, into *float64) func() {
			return func() {
				url := newQueue(b, c, "bench-raw", nil)
				cpu := measure(benchMessages, func() { *into = rawSend(b, c, url, bodies, conc) })
				if conc == 32 {
					rc = cpu
				}
				deleteQueue(c, url)
			}
		}
		write := func(inFlight int, into *float64) func() {
			return func() {
				url := newQueue(b, c, "bench-writer", nil)
				w := must(sqsbatch.NewWriter(c, url, func(o *sqsbatch.WriterOptions) { o.MaxInFlight = inFlight }))
				cpu0 := cpuTime()
				start := time.Now()
				for i := range bodies {
					if _, err := w.Send(ctx, sqsbatch.Message{Body: bodies[i]}); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
				*into = float64(len(bodies)) / time.Since(start).Seconds()
				if inFlight == 32 {
					wc = float64(cpuTime()-cpu0) / float64(time.Microsecond) / benchMessages
				}
				st := w.Stats()
				if st.Sent != benchMessages {
					b.Fatalf("writer stats %+v", st)
				}
				reqPerMsg = append(reqPerMsg, float64(st.Requests)/float64(st.Sent))
				deleteQueue(c, url)
			}
		}
		rotate(round, raw(1, &r1), raw(32, &r32), write(32, &w32), raw(64, &r64), write(64, &w64))
		round++
		best, wbest := max(r32, r64), max(w32, w64)
		raw1, rawBest, writer = append(raw1, r1), append(rawBest, best), append(writer, wbest)
		rawCPU, writerCPU = append(rawCPU, rc), append(writerCPU, wc)
		ratios, ratios32 = append(ratios, wbest/best), append(ratios32, w32/r32)
		b.Logf("round %d: raw1 %.0f raw32 %.0f raw64 %.0f writer32 %.0f writer64 %.0f", round, r1, r32, r64, w32, w64)
	}
	b.ReportMetric(median(writer), "writer-msgs/s")
	b.ReportMetric(median(rawBest), "raw-best-msgs/s")
	b.ReportMetric(median(raw1), "raw-1-batch-msgs/s")
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(median(ratios32), "ratio-32")
	b.ReportMetric(median(reqPerMsg), "requests/msg")
	b.ReportMetric(median(rawCPU), "raw-cpu-µs/msg")
	b.ReportMetric(median(writerCPU), "writer-cpu-µs/msg")
	b.ReportMetric(0, "ns/op")
}

// fill puts the bench messages on a new queue and returns its URL.
func fill(b *testing.B, c *sqs.Client, bodies []string) string {
	b.Helper()
	url := newQueue(b, c, "bench-consume", nil)
	rawSend(b, c, url, bodies, 32)
	return url
}

// rawReceive is the consumer ceiling: sqsceiling.Receive, concurrent
// pollers doing ReceiveMessage(10) + DeleteMessageBatch, nothing else.
func rawReceive(b *testing.B, c *sqs.Client, url string, pollers, total int) float64 {
	b.Helper()
	rate, err := sqsceiling.Receive(context.Background(), c, url, pollers, total)
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

func consumeAll(b *testing.B, c *sqs.Client, url string, h sqsbatch.Handler, total int) float64 {
	b.Helper()
	cons := must(sqsbatch.NewConsumer(c, url, h, func(o *sqsbatch.ConsumerOptions) { o.Pollers = 8; o.Workers = 80 }))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- cons.Run(ctx) }()
	for cons.Stats().Deleted < int64(total) {
		time.Sleep(2 * time.Millisecond)
	}
	elapsed := time.Since(start)
	cancel()
	<-done
	st := cons.Stats()
	if st.Processed != int64(total) || st.ReceiveErrors != 0 {
		b.Fatalf("consumer stats %+v", st)
	}
	b.Logf("consumer: receive calls/msg %.3f, delete calls/msg %.3f", float64(st.ReceiveCalls)/float64(total), float64(st.DeleteCalls)/float64(total))
	return float64(total) / elapsed.Seconds()
}

// BenchmarkConsumer compares the Consumer (no-op handler, then with the
// in-memory idempotency store) with a raw loop of 8 concurrent pollers
// doing ReceiveMessage + DeleteMessageBatch, on the same fauxqs in the same
// run: 20,000 messages per contestant per round, in rotating order. Ratios
// are medians of per-round ratios.
func BenchmarkConsumer(b *testing.B) {
	c := awstest.SQS(b)
	bodies := benchBodies()
	noop := func(context.Context, types.Message) error { return nil }
	var raws, plains, idems, ratios, idemRatios []float64
	round := 0
	for b.Loop() {
		var raw, plain, idem float64
		rotate(round, func() {
			url := fill(b, c, bodies)
			raw = rawReceive(b, c, url, 8, benchMessages)
			deleteQueue(c, url)
		}, func() {
			url := fill(b, c, bodies)
			plain = consumeAll(b, c, url, noop, benchMessages)
			deleteQueue(c, url)
		}, func() {
			url := fill(b, c, bodies)
			id := must(sqsbatch.NewIdempotency(&sqsbatch.MemoryStore{}, sqsbatch.KeyFromJSONField("id")))
			idem = consumeAll(b, c, url, id.Wrap(noop), benchMessages)
			if st := id.Stats(); st.Applied != benchMessages {
				b.Fatalf("idempotency stats %+v", st)
			}
			deleteQueue(c, url)
		})
		round++
		raws, plains, idems = append(raws, raw), append(plains, plain), append(idems, idem)
		ratios, idemRatios = append(ratios, plain/raw), append(idemRatios, idem/raw)
	}
	b.ReportMetric(median(raws), "raw-msgs/s")
	b.ReportMetric(median(plains), "consumer-msgs/s")
	b.ReportMetric(median(idems), "idempotent-msgs/s")
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(median(idemRatios), "idempotent-ratio")
	b.ReportMetric(0, "ns/op")
}

// inFlightClient is an HTTP client that counts the requests it has in
// flight: the peak, and the time-weighted mean since the last reset.
type inFlightClient struct {
	next sqs.HTTPClient

	mu          sync.Mutex
	n, peak     int
	start, last time.Time
	area        float64 // requests × seconds
}

func (c *inFlightClient) Do(req *http.Request) (*http.Response, error) {
	c.step(1)
	defer c.step(-1)
	return c.next.Do(req)
}

func (c *inFlightClient) step(d int) {
	now := time.Now()
	c.mu.Lock()
	c.area += float64(c.n) * now.Sub(c.last).Seconds()
	c.last = now
	c.n += d
	c.peak = max(c.peak, c.n)
	c.mu.Unlock()
}

func (c *inFlightClient) reset() {
	c.mu.Lock()
	c.peak, c.area, c.start, c.last = c.n, 0, time.Now(), time.Now()
	c.mu.Unlock()
}

// read returns the peak and mean requests in flight since reset.
func (c *inFlightClient) read() (peak int, mean float64) {
	c.step(0)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.peak, c.area / c.last.Sub(c.start).Seconds()
}

// BenchmarkWriterInFlight is BenchmarkWriter's diagnosis: the Writer at
// MaxInFlight 32 and the raw loop at 32 goroutines, on one client that
// counts HTTP requests in flight, so that the concurrency each reaches is
// measured the same way: "peak" is the most requests at once, "mean" the
// time-weighted average over the run (32 would be every slot busy all the
// time). Rounds rotate as in BenchmarkWriter; figures are medians.
func BenchmarkWriterInFlight(b *testing.B) {
	counter := &inFlightClient{}
	c := sqs.New(awstest.SQS(b).Options(), func(o *sqs.Options) {
		counter.next = o.HTTPClient
		o.HTTPClient = counter
	})
	bodies := benchBodies()
	ctx := context.Background()
	var rawRate, rawPeak, rawMean, wRate, wPeak, wMean []float64
	round := 0
	run := func(prefix string, send func(url string) float64, rate, peak, mean *[]float64) func() {
		return func() {
			url := newQueue(b, c, prefix, nil)
			counter.reset()
			r := send(url)
			p, m := counter.read()
			*rate, *peak, *mean = append(*rate, r), append(*peak, float64(p)), append(*mean, m)
			deleteQueue(c, url)
		}
	}
	for b.Loop() {
		rotate(round,
			run("bench-raw", func(url string) float64 { return rawSend(b, c, url, bodies, 32) }, &rawRate, &rawPeak, &rawMean),
			run("bench-writer", func(url string) float64 {
				w := must(sqsbatch.NewWriter(c, url))
				start := time.Now()
				for i := range bodies {
					if _, err := w.Send(ctx, sqsbatch.Message{Body: bodies[i]}); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(ctx); err != nil {
					b.Fatal(err)
				}
				return float64(len(bodies)) / time.Since(start).Seconds()
			}, &wRate, &wPeak, &wMean))
		round++
		b.Logf("round %d: raw %.0f msgs/s peak %.0f mean %.1f; writer %.0f msgs/s peak %.0f mean %.1f", round,
			rawRate[len(rawRate)-1], rawPeak[len(rawPeak)-1], rawMean[len(rawMean)-1], wRate[len(wRate)-1], wPeak[len(wPeak)-1], wMean[len(wMean)-1])
	}
	b.ReportMetric(median(rawRate), "raw-msgs/s")
	b.ReportMetric(median(wRate), "writer-msgs/s")
	b.ReportMetric(median(rawPeak), "raw-peak")
	b.ReportMetric(median(wPeak), "writer-peak")
	b.ReportMetric(median(rawMean), "raw-mean-inflight")
	b.ReportMetric(median(wMean), "writer-mean-inflight")
	b.ReportMetric(0, "ns/op")
}
