package fanoutsim

import (
	"container/heap"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/inproc"
	"github.com/lakekit/lakekit/internal/opt"
)

// Defaults of the zero SQSOptions fields.
const (
	// DefaultSQSLatency is the median time of one SQS request (lognormal,
	// σ DefaultSQSSigma): in-region SendMessageBatch and ReceiveMessage
	// answers take 10–30 ms.
	DefaultSQSLatency = 15 * time.Millisecond
	DefaultSQSSigma   = 0.3
	// DefaultVisibilityTimeout is SQS's default: a received message not
	// deleted within 30 s is delivered again.
	DefaultVisibilityTimeout = 30 * time.Second
	// MaxWaitTime is the longest long poll SQS allows (WaitTimeSeconds 20).
	MaxWaitTime = 20 * time.Second
	// MaxReceiveMessages is the most messages one ReceiveMessage returns.
	MaxReceiveMessages = 10
)

// Endpoint is the base URL SQS.Client uses with SQS.Transport; any host
// will do, as Transport never dials.
const Endpoint = "http://sqssim.invalid"

// SQSOptions configure a simulated SQS endpoint. Every zero field means its
// documented default.
type SQSOptions struct {
	// Latency and Sigma make each request's time lognormal (defaults
	// DefaultSQSLatency, DefaultSQSSigma); Sigma 0 makes it constant.
	Latency time.Duration
	Sigma   float64
	// Seed seeds the latency draws (default 1).
	Seed uint64
	// Now and Sleep are the clock (nil: time.Now and a real timer). Give
	// the S3 simulation's (s3sim.Sim.Now, Sim.Sleep) to share its clock;
	// inside a testing/synctest bubble the defaults are already virtual.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

const sqsOptions = "fanoutsim.SQSOptions"

// OptionError is the error the constructors return for an option they
// cannot honour.
type OptionError = opt.Error

// SQS is a simulated SQS endpoint: standard queues in memory, served over
// SQS's JSON protocol (the current SDK's) on a simulated clock, so that
// code using an *sqs.Client runs unchanged. It answers CreateQueue,
// GetQueueUrl, GetQueueAttributes, SendMessage, SendMessageBatch,
// ReceiveMessage (long polling), DeleteMessage, DeleteMessageBatch and
// ChangeMessageVisibility; received messages come back after their
// visibility timeout unless deleted, and move to the dead-letter queue of
// a RedrivePolicy after maxReceiveCount receives.
type SQS struct {
	o      SQSOptions
	seq    atomic.Uint64
	mu     sync.Mutex
	queues map[string]*queue // by URL
	byArn  map[string]*queue
	ops    map[string]int64
	msgSeq int64
}

// NewSQS returns an SQS with no queues; an *OptionError for a negative
// option.
func NewSQS(optFns ...func(*SQSOptions)) (*SQS, error) {
	var o SQSOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := errors.Join(opt.Min(sqsOptions, "Latency", o.Latency, 0), opt.Min(sqsOptions, "Sigma", o.Sigma, 0)); err != nil {
		return nil, err
	}
	o.Latency = opt.Default(o.Latency, DefaultSQSLatency)
	o.Sigma = opt.Default(o.Sigma, DefaultSQSSigma)
	o.Seed = opt.Default(o.Seed, 1)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
	}
	return &SQS{o: o, queues: map[string]*queue{}, byArn: map[string]*queue{}, ops: map[string]int64{}}, nil
}

// message is one stored message.
type message struct {
	id, body, md5 string
	sent          time.Time
	receives      int
	receipt       string    // the current receipt handle; "" while visible
	visibleAt     time.Time // while in flight or delayed
	firstReceive  time.Time
	heapIndex     int
	deleted       bool
}

// queue is one standard queue.
type queue struct {
	name, url, arn string
	visibility     time.Duration
	maxReceives    int
	dlqArn         string
	visible        []*message // FIFO-ish, as a standard queue is
	timed          timedHeap  // in flight or delayed, by visibleAt
	inflight       map[string]*message
	delayed        int
	wake           chan struct{} // closed when messages become visible
}

type timedHeap []*message

func (h timedHeap) Len() int           { return len(h) }
func (h timedHeap) Less(i, j int) bool { return h[i].visibleAt.Before(h[j].visibleAt) }
func (h timedHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].heapIndex, h[j].heapIndex = i, j
}
func (h *timedHeap) Push(x any) { m := x.(*message); m.heapIndex = len(*h); *h = append(*h, m) }
func (h *timedHeap) Pop() any {
	old := *h
	m := old[len(old)-1]
	*h = old[:len(old)-1]
	return m
}

// CreateQueue creates a standard queue (or returns the existing one's URL)
// without a request. attrs are CreateQueue's attributes: VisibilityTimeout
// (seconds) and RedrivePolicy ({"deadLetterTargetArn": …,
// "maxReceiveCount": …}) are honoured, others kept unread.
func (s *SQS) CreateQueue(name string, attrs map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.createQueue(name, attrs)
}

func (s *SQS) createQueue(name string, attrs map[string]string) (string, error) {
	url := Endpoint + "/000000000000/" + name
	if _, ok := s.queues[url]; ok {
		return url, nil
	}
	if name == "" || len(name) > 80 || strings.ContainsFunc(name, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) {
		return "", &apiError{"InvalidParameterValue", fmt.Sprintf("invalid queue name %q", name)}
	}
	q := &queue{name: name, url: url, arn: "arn:aws:sqs:us-east-1:000000000000:" + name,
		visibility: DefaultVisibilityTimeout, inflight: map[string]*message{}, wake: make(chan struct{})}
	if v, ok := attrs["VisibilityTimeout"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 43200 {
			return "", &apiError{"InvalidAttributeValue", "VisibilityTimeout " + v}
		}
		q.visibility = time.Duration(n) * time.Second
	}
	if v, ok := attrs["RedrivePolicy"]; ok {
		var rp struct {
			Target string          `json:"deadLetterTargetArn"`
			Max    json.RawMessage `json:"maxReceiveCount"`
		}
		if err := json.Unmarshal([]byte(v), &rp); err != nil {
			return "", &apiError{"InvalidAttributeValue", "RedrivePolicy: " + err.Error()}
		}
		n, err := strconv.Atoi(strings.Trim(string(rp.Max), `"`))
		if err != nil || n < 1 || n > 1000 || rp.Target == "" {
			return "", &apiError{"InvalidAttributeValue", "RedrivePolicy " + v}
		}
		q.maxReceives, q.dlqArn = n, rp.Target
	}
	s.queues[url] = q
	s.byArn[q.arn] = q
	return url, nil
}

// QueueARN returns the ARN of the queue at url ("" if there is none).
func (s *SQS) QueueARN(url string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.queues[url]; q != nil {
		return q.arn
	}
	return ""
}

// promote makes the timed messages whose time has come visible again (or
// moves them to the dead-letter queue).
func (s *SQS) promote(q *queue, now time.Time) {
	woke := false
	for len(q.timed) > 0 && !q.timed[0].visibleAt.After(now) {
		m := heap.Pop(&q.timed).(*message)
		if m.receipt != "" {
			delete(q.inflight, m.receipt)
			m.receipt = ""
		} else {
			q.delayed--
		}
		if dlq := s.byArn[q.dlqArn]; dlq != nil && q.maxReceives > 0 && m.receives >= q.maxReceives {
			m.receives = 0
			dlq.visible = append(dlq.visible, m)
			dlq.wakeAll()
			continue
		}
		q.visible = append(q.visible, m)
		woke = true
	}
	if woke {
		q.wakeAll()
	}
}

func (q *queue) wakeAll() {
	close(q.wake)
	q.wake = make(chan struct{})
}

func (s *SQS) send(q *queue, body string, delay time.Duration, now time.Time) *message {
	s.msgSeq++
	sum := md5.Sum([]byte(body))
	m := &message{id: fmt.Sprintf("%08x-0000-4000-8000-%012x", s.msgSeq>>48, s.msgSeq), body: body,
		md5: hex.EncodeToString(sum[:]), sent: now}
	if delay > 0 {
		m.visibleAt = now.Add(delay)
		q.delayed++
		heap.Push(&q.timed, m)
		return m
	}
	q.visible = append(q.visible, m)
	q.wakeAll()
	return m
}

// take receives up to n visible messages, making them invisible for vis.
func (s *SQS) take(q *queue, n int, vis time.Duration, now time.Time) []*message {
	s.promote(q, now)
	var out []*message
	for len(out) < n && len(q.visible) > 0 {
		m := q.visible[0]
		q.visible[0] = nil
		q.visible = q.visible[1:]
		m.receives++
		if m.receives == 1 {
			m.firstReceive = now
		}
		m.receipt = fmt.Sprintf("%s#%d", m.id, m.receives)
		m.visibleAt = now.Add(vis)
		q.inflight[m.receipt] = m
		heap.Push(&q.timed, m)
		out = append(out, m)
	}
	return out
}

// remove deletes the in-flight message with receipt handle rh.
func (s *SQS) remove(q *queue, rh string) bool {
	m := q.inflight[rh]
	if m == nil {
		return false
	}
	delete(q.inflight, rh)
	heap.Remove(&q.timed, m.heapIndex)
	m.receipt, m.deleted = "", true
	return true
}

// Received is one message received by Receive.
type Received struct {
	MessageID, ReceiptHandle, Body, MD5OfBody string
	// Attributes are SQS's system attributes: ApproximateReceiveCount,
	// SentTimestamp, ApproximateFirstReceiveTimestamp, SenderId.
	Attributes map[string]string
}

func received(m *message) Received {
	return Received{MessageID: m.id, ReceiptHandle: m.receipt, Body: m.body, MD5OfBody: m.md5, Attributes: map[string]string{
		"ApproximateReceiveCount":          strconv.Itoa(m.receives),
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstReceive.UnixMilli(), 10),
		"SenderId":                         "000000000000",
	}}
}

// Receive is ReceiveMessage without the wire: up to max messages (at most
// MaxReceiveMessages) of the queue at url, waiting up to wait (a long poll)
// for the first, invisible for the queue's visibility timeout. It takes a
// request's latency, as a poller's ReceiveMessage does.
func (s *SQS) Receive(ctx context.Context, url string, max int, wait time.Duration) ([]Received, error) {
	s.count("ReceiveMessage")
	if err := s.o.Sleep(ctx, s.latency()); err != nil {
		return nil, err
	}
	return s.receive(ctx, url, min(max, MaxReceiveMessages), wait, -1)
}

func (s *SQS) receive(ctx context.Context, url string, n int, wait, vis time.Duration) ([]Received, error) {
	deadline := s.o.Now().Add(wait)
	for {
		s.mu.Lock()
		q := s.queues[url]
		if q == nil {
			s.mu.Unlock()
			return nil, &apiError{"QueueDoesNotExist", "The specified queue does not exist."}
		}
		if vis < 0 {
			vis = q.visibility
		}
		now := s.o.Now()
		ms := s.take(q, n, vis, now)
		if len(ms) > 0 || !now.Before(deadline) {
			out := make([]Received, len(ms))
			for i, m := range ms {
				out[i] = received(m)
			}
			s.mu.Unlock()
			return out, nil
		}
		d := deadline.Sub(now)
		if len(q.timed) > 0 {
			d = min(d, max(q.timed[0].visibleAt.Sub(now), time.Millisecond))
		}
		wake := q.wake
		s.mu.Unlock()
		if err := s.wait(ctx, wake, d); err != nil {
			return nil, err
		}
	}
}

// wait blocks until wake is closed, d has passed or ctx is done.
func (s *SQS) wait(ctx context.Context, wake <-chan struct{}, d time.Duration) error {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := make(chan struct{})
	go func() {
		_ = s.o.Sleep(tctx, d)
		close(timer)
	}()
	select {
	case <-wake:
	case <-timer:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Delete is DeleteMessage without the wire and without latency (Lambda's
// pollers delete in the background); false if rh is not in flight.
func (s *SQS) Delete(url, rh string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ops["DeleteMessage"]++
	q := s.queues[url]
	return q != nil && s.remove(q, rh)
}

// Depth is a queue's ApproximateNumberOfMessages (visible),
// …NotVisible (in flight) and …Delayed, exactly.
func (s *SQS) Depth(url string) (visible, inflight, delayed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[url]
	if q == nil {
		return 0, 0, 0
	}
	s.promote(q, s.o.Now())
	return len(q.visible), len(q.inflight), q.delayed
}

// Requests returns the requests served, by operation (the pollers'
// ReceiveMessage and DeleteMessage included).
func (s *SQS) Requests() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int64, len(s.ops))
	for k, v := range s.ops {
		m[k] = v
	}
	return m
}

func (s *SQS) count(op string) {
	s.mu.Lock()
	s.ops[op]++
	s.mu.Unlock()
}

func (s *SQS) latency() time.Duration {
	n := s.seq.Add(1)
	if s.o.Sigma == 0 {
		return s.o.Latency
	}
	r := rand.New(rand.NewPCG(s.o.Seed, n))
	return min(time.Duration(float64(s.o.Latency)*math.Exp(s.o.Sigma*r.NormFloat64())), 100*s.o.Latency)
}

// Transport returns an http.RoundTripper that serves requests in the
// calling goroutine, without a network (it runs in a testing/synctest
// bubble).
func (s *SQS) Transport() http.RoundTripper { return inproc.Transport(s) }

// Client returns an SQS client on the simulation through Transport:
// static credentials, region us-east-1. optFns apply after these settings.
func (s *SQS) Client(optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("sqssim", "sqssim", ""),
		BaseEndpoint: aws.String(Endpoint),
		HTTPClient:   &http.Client{Transport: s.Transport()},
	}, optFns...)
}

// apiError is an SQS error answer.
type apiError struct{ code, msg string }

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// ServeHTTP answers one SQS JSON-protocol request (X-Amz-Target
// AmazonSQS.<Operation>) after its simulated latency.
func (s *SQS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	if !ok || r.Method != http.MethodPost {
		writeError(w, &apiError{"InvalidAction", "want a POST with X-Amz-Target AmazonSQS.<Operation>"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		writeError(w, &apiError{"InvalidRequest", err.Error()})
		return
	}
	s.count(op)
	if err := s.o.Sleep(r.Context(), s.latency()); err != nil {
		return
	}
	out, err := s.call(r.Context(), op, body)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		ae = &apiError{"InternalError", err.Error()}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("x-amzn-query-error", "AWS.SimpleQueueService."+ae.code+";Sender")
	status := http.StatusBadRequest
	if ae.code == "InternalError" {
		status = http.StatusInternalServerError
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + ae.code, "message": ae.msg})
}

func (h *timedHeap) fix(m *message) { heap.Fix(h, m.heapIndex) }
