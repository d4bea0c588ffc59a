package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// holdServer is a reverse proxy in front of fauxqs that holds every
// SendMessageBatch request while holding is on (until released, the
// client gives up, or 5 s pass), as a slow or overloaded SQS would.
type holdServer struct {
	holding atomic.Bool
	held    atomic.Int32 // requests being held now
	release chan struct{}
	once    sync.Once
	srv     *httptest.Server
}

func newHoldServer(t *testing.T, c *sqs.Client) (*holdServer, *sqs.Client) {
	t.Helper()
	target, err := url.Parse(aws.ToString(c.Options().BaseEndpoint))
	if err != nil {
		t.Fatal(err)
	}
	h := &holdServer{release: make(chan struct{})}
	h.holding.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	h.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if h.holding.Load() && strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".SendMessageBatch") {
			h.held.Add(1)
			select {
			case <-h.release:
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			h.held.Add(-1)
		}
		proxy.ServeHTTP(rw, r)
	}))
	t.Cleanup(func() { h.Release(); h.srv.Close() })
	return h, sqs.New(c.Options(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(h.srv.URL) })
}

func (h *holdServer) Release() { h.once.Do(func() { h.holding.Store(false); close(h.release) }) }

// timed runs fn and fails the test if it has not returned within 1 s: the
// bound only detects a hang (the server holds requests for 5 s).
func timed(t *testing.T, what string, fn func() error) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- fn() }()
	select {
	case err := <-done:
		return time.Since(start), err
	case <-time.After(time.Second):
		t.Fatalf("%s: still blocked 1 s after its 50 ms context ended", what)
		return 0, nil
	}
}

// TestWriterSendHonoursContextUnderBackpressure: with MaxInFlight 1 and the
// only in-flight request held by the server, a Send that has to wait for
// capacity returns its context's error promptly, even while another caller
// (a Send with no deadline, or the linger timer) is itself waiting; the
// message it was given fails with that error and nothing else does.
func TestWriterSendHonoursContextUnderBackpressure(t *testing.T) {
	for _, linger := range []time.Duration{0, 5 * time.Millisecond} {
		t.Run(fmt.Sprint("linger=", linger), func(t *testing.T) {
			c := awstest.SQS(t)
			url := newQueue(t, c, "held", nil)
			hold, hc := newHoldServer(t, c)
			var mu sync.Mutex
			results := map[int64]sqsbatch.Result{}
			w := must(sqsbatch.NewWriter(hc, url, func(o *sqsbatch.WriterOptions) {
				o.MaxInFlight = 1
				o.Linger = linger
				o.OnResult = func(r sqsbatch.Result) { mu.Lock(); results[r.Index] = r; mu.Unlock() }
			}))
			bg := context.Background()
			for i := range 10 { // batch 0: in flight, held
				if _, err := w.Send(bg, sqsbatch.Message{Key: strconv.Itoa(i), Body: "b"}); err != nil {
					t.Fatal(err)
				}
			}
			if !waitFor(t, 5*time.Second, func() bool { return hold.held.Load() == 1 }) {
				t.Fatal("the first batch never reached the server")
			}
			// A caller with no deadline fills batch 1 and then waits for
			// capacity for message 20 (old code: holding the Writer's mutex).
			blocked := make(chan error, 1)
			go func() {
				for i := 10; i < 21; i++ {
					if _, err := w.Send(bg, sqsbatch.Message{Key: strconv.Itoa(i), Body: "b"}); err != nil {
						blocked <- err
						return
					}
				}
				blocked <- nil
			}()
			time.Sleep(100 * time.Millisecond) // let it block (or not: either way the next Send must not hang)

			// This caller has 50 ms: its Sends fill the current batch, and
			// the one that needs room must wait for capacity, then give up.
			ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
			defer cancel()
			var idx int64
			short := 0
			took, err := timed(t, "Send", func() error {
				for ; short < 30; short++ {
					var err error
					if idx, err = w.Send(ctx, sqsbatch.Message{Key: "short", Body: "b"}); err != nil {
						return err
					}
				}
				return nil
			})
			t.Logf("Send with a 50 ms context under back-pressure returned after %v (%d messages accepted first): %v", took.Round(time.Millisecond), short, err)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Send returned %v, want context.DeadlineExceeded", err)
			}
			ctx2, cancel2 := context.WithTimeout(bg, 50*time.Millisecond)
			defer cancel2()
			_, err = timed(t, "Flush", func() error { return w.Flush(ctx2) })
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Flush returned %v, want context.DeadlineExceeded", err)
			}

			hold.Release()
			if err := <-blocked; err != nil {
				t.Fatalf("the patient Send failed: %v", err)
			}
			if err := w.Close(bg); err == nil {
				t.Fatal("Close: nil error although one message failed")
			} else {
				var se *sqsbatch.SendError
				if !errors.As(err, &se) || se.Failed != 1 || se.Sent != int64(21+short) || se.First[0].Index != idx {
					t.Fatalf("Close: %v (%+v)", err, se)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if r := results[idx]; !errors.Is(r.Err, context.DeadlineExceeded) {
				t.Fatalf("the short message's result: %+v", r)
			}
			for i, r := range results {
				if i != idx && (r.Err != nil || r.MessageID == "") {
					t.Fatalf("message %d: %+v", i, r)
				}
			}
			if len(results) != 22+short {
				t.Fatalf("%d results for %d messages", len(results), 22+short)
			}
			if got := len(drain(t, c, url)); got != 21+short {
				t.Fatalf("received %d, want %d", got, 21+short)
			}
		})
	}
}

// TestWriterCloseHonoursContextUnderBackpressure: Close with a 50 ms
// context while the server holds the only in-flight request returns
// promptly with the context's error; every accepted message has a Result
// (the held ones fail with a context error), none is lost silently.
func TestWriterCloseHonoursContextUnderBackpressure(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "held-close", nil)
	hold, hc := newHoldServer(t, c)
	var mu sync.Mutex
	results := map[int64]sqsbatch.Result{}
	w := must(sqsbatch.NewWriter(hc, url, func(o *sqsbatch.WriterOptions) {
		o.MaxInFlight = 1
		o.OnResult = func(r sqsbatch.Result) { mu.Lock(); results[r.Index] = r; mu.Unlock() }
	}))
	bg := context.Background()
	for i := range 25 { // batch 0 held, batch 1 waiting, 5 in the current batch
		if _, err := w.Send(bg, sqsbatch.Message{Key: strconv.Itoa(i), Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	if !waitFor(t, 5*time.Second, func() bool { return hold.held.Load() == 1 }) {
		t.Fatal("the first batch never reached the server")
	}
	ctx, cancel := context.WithTimeout(bg, 50*time.Millisecond)
	defer cancel()
	took, err := timed(t, "Close", func() error { return w.Close(ctx) })
	t.Logf("Close with a 50 ms context under back-pressure returned after %v: %v", took.Round(time.Millisecond), err)
	var se *sqsbatch.SendError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &se) || se.Messages != 25 || se.Failed != 25 {
		t.Fatalf("Close returned %v (%+v), want a *SendError for 25 messages unwrapping to context.DeadlineExceeded", err, se)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(results) != 25 {
		t.Fatalf("%d results for 25 accepted messages", len(results))
	}
	for i, r := range results {
		if !errors.Is(r.Err, context.DeadlineExceeded) && !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("message %d: %+v", i, r)
		}
	}
	if _, err := w.Send(bg, sqsbatch.Message{Body: "late"}); !errors.Is(err, sqsbatch.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
}

// TestWriterSendAllHonoursContext: SendAll with a 50 ms context while the
// server holds requests returns promptly; the messages still in flight get
// ErrNoResult rather than a zero Result that reads as success.
func TestWriterSendAllHonoursContext(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "held-all", nil)
	hold, hc := newHoldServer(t, c)
	w := must(sqsbatch.NewWriter(hc, url, func(o *sqsbatch.WriterOptions) { o.MaxInFlight = 1 }))
	defer w.Close(context.Background())
	defer hold.Release()
	var msgs []sqsbatch.Message
	for i := range 35 {
		msgs = append(msgs, sqsbatch.Message{Key: strconv.Itoa(i), Body: "b"})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	var results []sqsbatch.Result
	_, err := timed(t, "SendAll", func() error {
		var err error
		results, err = w.SendAll(ctx, msgs)
		return err
	})
	var se *sqsbatch.SendError
	if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &se) || se.Sent != 0 || se.Messages != 35 {
		t.Fatalf("SendAll: %v (%+v)", err, se)
	}
	for i, r := range results {
		if r.Err == nil {
			t.Fatalf("message %d reads as sent: %+v", i, r)
		}
	}
	if !errors.Is(results[0].Err, sqsbatch.ErrNoResult) || results[0].Index != 0 {
		t.Fatalf("held message: %+v", results[0])
	}
}

// TestWriterErrorWhenEverySendFails: SendAll, WriteCSV, Flush and Close
// return a *SendError (with counts and the first failures) when the queue
// does not exist or nothing listens on the endpoint; the per-message
// results still say why.
func TestWriterErrorWhenEverySendFails(t *testing.T) {
	c := awstest.SQS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := "http://" + ln.Addr().String()
	ln.Close()
	existing := newQueue(t, c, "exists", nil)
	missing := strings.Replace(existing, "exists", "missing", 1)
	for _, tc := range []struct {
		name   string
		client *sqs.Client
		url    string
	}{
		{"missing queue", c, missing},
		{"closed port", sqs.New(c.Options(), func(o *sqs.Options) {
			o.BaseEndpoint = aws.String(closedPort)
			o.RetryMaxAttempts = 1
		}), existing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			var msgs []sqsbatch.Message
			for i := range 15 {
				msgs = append(msgs, sqsbatch.Message{Key: "k" + strconv.Itoa(i), Body: "b"})
			}
			w := must(sqsbatch.NewWriter(tc.client, tc.url))
			results, err := w.SendAll(ctx, msgs)
			var se *sqsbatch.SendError
			var re *sqsbatch.RequestError
			if !errors.As(err, &se) || se.Messages != 15 || se.Failed != 15 || se.Sent != 0 || len(se.First) != sqsbatch.MaxSendErrorSamples || !errors.As(err, &re) {
				t.Fatalf("SendAll: %v (%+v)", err, se)
			}
			t.Logf("SendAll error: %v", err)
			for i, r := range results {
				if !errors.As(r.Err, &re) || r.Key != msgs[i].Key {
					t.Fatalf("result %d: %+v", i, r)
				}
			}
			if _, err := w.Send(ctx, sqsbatch.Message{Key: "one", Body: "b"}); err != nil && !errors.As(err, &re) {
				t.Fatal(err) // refused at once once the queue is known missing
			}
			if err := w.Flush(ctx); !errors.As(err, &se) || se.Messages != 16 || se.Failed != 16 {
				t.Fatalf("Flush: %v (%+v)", err, se)
			}
			if _, err := w.Send(ctx, sqsbatch.Message{Key: "two", Body: "b"}); err != nil && !errors.As(err, &re) {
				t.Fatal(err) // refused at once once the queue is known missing
			}
			if err := w.Flush(ctx); !errors.As(err, &se) || se.Messages != 1 || se.Failed != 1 || se.First[0].Key != "two" {
				t.Fatalf("second Flush: %v (%+v)", err, se)
			}
			if err := w.Flush(ctx); err != nil {
				t.Fatalf("third Flush, nothing new: %v", err)
			}
			if err := w.Close(ctx); !errors.As(err, &se) || se.Messages != 17 || se.Failed != 17 {
				t.Fatalf("Close: %v (%+v)", err, se)
			}

			src, err := sqsbatch.NewCSV(strings.NewReader("id,v\n1,a\n2,b\n3,c\n"), func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id" })
			if err != nil {
				t.Fatal(err)
			}
			rep, err := sqsbatch.WriteCSV(ctx, src, must(sqsbatch.NewWriter(tc.client, tc.url)), sqsbatch.SkipMalformed)
			if !errors.As(err, &se) || se.Messages != 3 || se.Failed != 3 || rep.FailedCount != 3 || rep.Sent != 0 {
				t.Fatalf("WriteCSV: %v (%+v) %+v", err, se, rep)
			}
		})
	}
}

// TestWriterStopsOnMissingQueue: once SQS says the queue does not exist,
// the Writer fails the remaining messages at once, each with a
// *RequestError wrapping a *QueueError, instead of sending one doomed
// request per batch; Send refuses new messages the same way.
func TestWriterStopsOnMissingQueue(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	missing := strings.Replace(newQueue(t, c, "exists", nil), "exists", "missing", 1)
	cc := &countingSQS{Client: c}
	w := must(sqsbatch.NewWriter(cc, missing, func(o *sqsbatch.WriterOptions) { o.MaxInFlight = 1 }))
	var msgs []sqsbatch.Message
	for i := range 2000 {
		msgs = append(msgs, sqsbatch.Message{Key: strconv.Itoa(i), Body: "b"})
	}
	results, err := w.SendAll(ctx, msgs)
	var se *sqsbatch.SendError
	var qe *sqsbatch.QueueError
	if !errors.As(err, &se) || se.Failed != 2000 || !errors.As(err, &qe) {
		t.Fatalf("SendAll: %v", err)
	}
	for i, r := range results {
		var re *sqsbatch.RequestError
		if !errors.As(r.Err, &re) || re.Key != msgs[i].Key {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if n := cc.sendBatches.Load(); n > 2 {
		t.Fatalf("%d SendMessageBatch calls to a missing queue for 2,000 messages", n)
	}
	if !errors.As(results[1999].Err, &qe) || qe.Code == "" {
		t.Fatalf("last result: %v", results[1999].Err)
	}
	t.Logf("requests: %d; a later message's error: %v", cc.sendBatches.Load(), results[1999].Err)
	if _, err := w.Send(ctx, sqsbatch.Message{Key: "late", Body: "b"}); !errors.As(err, &qe) {
		t.Fatalf("Send after the queue was found missing: %v", err)
	}
}
