package fanoutsim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/sqsbatch"
)

// Defaults of the zero FleetOptions and MappingOptions fields: Lambda's
// documented numbers.
const (
	// DefaultConcurrency is an account's default concurrent executions
	// per region.
	DefaultConcurrency = 1000
	// DefaultColdStartMedian and DefaultColdStartSigma make a cold start
	// (a new execution environment, before the function's init code)
	// lognormal: median 150 ms, σ 0.4 (10th percentile 90 ms, 90th
	// 250 ms, 99th 380 ms), what Go functions on provided.al2023 report as
	// Init Duration. Capped at MaxInitDuration.
	DefaultColdStartMedian = 150 * time.Millisecond
	DefaultColdStartSigma  = 0.4
	// MaxInitDuration is Lambda's limit on a function's init phase.
	MaxInitDuration = 10 * time.Second
	// DefaultInvokeOverhead is the time between a poller's batch and the
	// handler's start in a warm environment (Lambda's invoke path).
	DefaultInvokeOverhead = 10 * time.Millisecond
	// DefaultTimeout is the function's timeout: Lambda's largest, 15 min.
	DefaultTimeout = 15 * time.Minute
	// DefaultBatchSize is an SQS event source mapping's default BatchSize;
	// MaxBatchSize its largest (above 10 it needs a batching window).
	DefaultBatchSize = 10
	MaxBatchSize     = 10000
	// DefaultInitialConcurrency, DefaultScaleUpPerMinute and
	// DefaultMaxBatches are the SQS poller's scaling in standard mode:
	// "when messages are available, Lambda starts processing five batches
	// at a time with five concurrent invocations of your function. If
	// messages are still available, Lambda increases the number of
	// processes that are reading batches by up to 300 more instances per
	// minute. The maximum number of batches that an event source mapping
	// can process simultaneously is 1,000."
	DefaultInitialConcurrency = 5
	DefaultScaleUpPerMinute   = 300
	DefaultMaxBatches         = 1000
	// MaxMaximumConcurrency is the largest ScalingConfig MaximumConcurrency.
	MaxMaximumConcurrency = 1000
)

// FleetOptions configure a Fleet. Every zero field means its documented
// default.
type FleetOptions struct {
	// Concurrency is the account's concurrent executions, shared by every
	// mapping's invocations (default DefaultConcurrency); an invocation
	// over it waits (a throttle) with its batch in flight.
	Concurrency int
	// ColdStartMedian and ColdStartSigma are the lognormal time a new
	// execution environment takes before the function's Init runs
	// (defaults DefaultColdStartMedian, DefaultColdStartSigma; Sigma 0:
	// constant). The Init's own requests add their simulated time.
	ColdStartMedian time.Duration
	ColdStartSigma  float64
	// InvokeOverhead is added to every invocation before the handler runs
	// (default DefaultInvokeOverhead).
	InvokeOverhead time.Duration
	// Seed seeds the cold-start draws (default 1).
	Seed uint64
	// Now and Sleep are the clock (nil: time.Now and a real timer); give
	// the S3 simulation's to share its clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

const fleetOptions = "fanoutsim.FleetOptions"

// Fleet is a simulated Lambda fleet: functions invoked by SQS event source
// mappings on an SQS simulation, with an account concurrency limit, cold
// starts, per-invocation overhead, batch sizes and the SQS poller's
// gradual scaling, on a simulated clock.
type Fleet struct {
	o        FleetOptions
	slots    chan struct{}
	seq      atomic.Uint64
	mu       sync.Mutex
	mappings []*Mapping
	running  int
	maxRun   int
}

// NewFleet returns a Fleet with no functions; an *OptionError for a
// negative option.
func NewFleet(optFns ...func(*FleetOptions)) (*Fleet, error) {
	var o FleetOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := errors.Join(
		opt.Min(fleetOptions, "Concurrency", o.Concurrency, 0),
		opt.Range(fleetOptions, "ColdStartMedian", o.ColdStartMedian, 0, MaxInitDuration),
		opt.Min(fleetOptions, "ColdStartSigma", o.ColdStartSigma, 0),
		opt.Min(fleetOptions, "InvokeOverhead", o.InvokeOverhead, 0),
	); err != nil {
		return nil, err
	}
	o.Concurrency = opt.Default(o.Concurrency, DefaultConcurrency)
	o.ColdStartMedian = opt.Default(o.ColdStartMedian, DefaultColdStartMedian)
	o.ColdStartSigma = opt.Default(o.ColdStartSigma, DefaultColdStartSigma)
	o.InvokeOverhead = opt.Default(o.InvokeOverhead, DefaultInvokeOverhead)
	o.Seed = opt.Default(o.Seed, 1)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
	}
	return &Fleet{o: o, slots: make(chan struct{}, o.Concurrency)}, nil
}

// Init is a function's initialisation, run once per execution environment
// (after its cold start): what a Lambda main does before lambda.Start. It
// returns the handler the environment's invocations call.
type Init func(ctx context.Context) (sqsbatch.BatchHandler, error)

// MappingOptions configure one function and its SQS event source mapping.
// Every zero field means its documented default.
type MappingOptions struct {
	// Name names the function in Stats (default: the queue's name).
	Name string
	// BatchSize is the most messages per invocation, 1..MaxBatchSize
	// (default DefaultBatchSize); above 10 it needs a
	// MaximumBatchingWindow, as on AWS.
	BatchSize int
	// MaximumBatchingWindow is how long a poller gathers messages for a
	// batch that is not full (default 0: one ReceiveMessage).
	MaximumBatchingWindow time.Duration
	// MaximumConcurrency caps the mapping's concurrent invocations
	// (ScalingConfig, 2..MaxMaximumConcurrency; default 0: no cap but
	// MaxBatches and the account's).
	MaximumConcurrency int
	// Timeout is the function's timeout (default DefaultTimeout): an
	// invocation still running is cancelled and its whole batch fails.
	Timeout time.Duration
	// InitialConcurrency, ScaleUpPerMinute and MaxBatches are the poller's
	// scaling: it starts with InitialConcurrency concurrent batches and,
	// while the queue has visible messages, adds one every minute ÷
	// ScaleUpPerMinute, up to MaxBatches (defaults
	// DefaultInitialConcurrency, DefaultScaleUpPerMinute,
	// DefaultMaxBatches). It does not scale down. Provisioned mode is
	// InitialConcurrency at its minimum and three times the
	// ScaleUpPerMinute.
	InitialConcurrency, ScaleUpPerMinute, MaxBatches int
}

const mappingOptions = "fanoutsim.MappingOptions"

// Mapping is one function fed by one queue.
type Mapping struct {
	f    *Fleet
	q    *SQS
	url  string
	arn  string
	init Init
	o    MappingOptions

	idle  chan sqsbatch.BatchHandler // warm environments
	stats MappingStats
	mu    sync.Mutex // stats
	cur   int
}

// MappingStats are a mapping's counters.
type MappingStats struct {
	Name string
	// Invocations counts handler calls; ColdStarts the environments
	// created (each ran Init); Environments the environments alive.
	Invocations, ColdStarts, Environments int64
	Messages                              int64 // delivered to handlers, redeliveries included
	FailedMessages                        int64 // reported failed or in a failed batch: delivered again after the visibility timeout
	Errors                                int64 // invocations that failed as a whole (handler error, Init error, timeout)
	Throttles                             int64 // invocations that waited for the account's concurrency
	MaxConcurrency                        int   // the most invocations at once
	Pollers                               int   // concurrent batches the poller reached
	// Last is when the last invocation ended.
	Last time.Time
}

// Map adds a function with init as its initialisation, invoked by an SQS
// event source mapping on the queue at queueURL of q (with
// ReportBatchItemFailures: messages the handler reports failed, or all of
// a batch whose handler fails, are delivered again after the queue's
// visibility timeout). It returns an *OptionError for an option out of
// AWS's range.
func (f *Fleet) Map(q *SQS, queueURL string, init Init, optFns ...func(*MappingOptions)) (*Mapping, error) {
	var o MappingOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := errors.Join(
		opt.Range(mappingOptions, "BatchSize", o.BatchSize, 0, MaxBatchSize),
		opt.Min(mappingOptions, "MaximumBatchingWindow", o.MaximumBatchingWindow, 0),
		opt.Range(mappingOptions, "MaximumConcurrency", o.MaximumConcurrency, 0, MaxMaximumConcurrency),
		opt.Min(mappingOptions, "Timeout", o.Timeout, 0),
		opt.Min(mappingOptions, "InitialConcurrency", o.InitialConcurrency, 0),
		opt.Min(mappingOptions, "ScaleUpPerMinute", o.ScaleUpPerMinute, 0),
		opt.Min(mappingOptions, "MaxBatches", o.MaxBatches, 0),
	); err != nil {
		return nil, err
	}
	if o.MaximumConcurrency == 1 {
		return nil, &OptionError{Type: mappingOptions, Field: "MaximumConcurrency", Value: 1, Want: "0 or 2..1000"}
	}
	if o.BatchSize > MaxReceiveMessages && o.MaximumBatchingWindow == 0 {
		return nil, &OptionError{Type: mappingOptions, Field: "MaximumBatchingWindow", Value: 0, Want: "above 0 with a BatchSize above 10"}
	}
	arn := q.QueueARN(queueURL)
	if arn == "" {
		return nil, fmt.Errorf("fanoutsim: no queue %s", queueURL)
	}
	o.BatchSize = opt.Default(o.BatchSize, DefaultBatchSize)
	o.Timeout = opt.Default(o.Timeout, DefaultTimeout)
	o.InitialConcurrency = opt.Default(o.InitialConcurrency, DefaultInitialConcurrency)
	o.ScaleUpPerMinute = opt.Default(o.ScaleUpPerMinute, DefaultScaleUpPerMinute)
	o.MaxBatches = opt.Default(o.MaxBatches, DefaultMaxBatches)
	if o.Name == "" {
		o.Name = arn[len("arn:aws:sqs:us-east-1:000000000000:"):]
	}
	m := &Mapping{f: f, q: q, url: queueURL, arn: arn, init: init, o: o, idle: make(chan sqsbatch.BatchHandler, f.o.Concurrency)}
	m.stats.Name = o.Name
	f.mu.Lock()
	f.mappings = append(f.mappings, m)
	f.mu.Unlock()
	return m, nil
}

// Run runs every mapping's pollers until ctx is done, then waits for the
// invocations under way (their context is done too) and returns ctx's
// error.
func (f *Fleet) Run(ctx context.Context) error {
	f.mu.Lock()
	ms := append([]*Mapping(nil), f.mappings...)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, m := range ms {
		wg.Go(func() { m.run(ctx, &wg) })
	}
	wg.Wait()
	return ctx.Err()
}

// Stats returns every mapping's counters, in the order they were added.
func (f *Fleet) Stats() []MappingStats {
	f.mu.Lock()
	ms := append([]*Mapping(nil), f.mappings...)
	f.mu.Unlock()
	out := make([]MappingStats, len(ms))
	for i, m := range ms {
		out[i] = m.Stats()
	}
	return out
}

// MaxConcurrency is the most invocations the fleet ran at once.
func (f *Fleet) MaxConcurrency() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.maxRun
}

// Stats returns the mapping's counters.
func (m *Mapping) Stats() MappingStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// limit is the most concurrent batches the mapping may reach.
func (m *Mapping) limit() int {
	l := min(m.o.MaxBatches, m.f.o.Concurrency)
	if m.o.MaximumConcurrency > 0 {
		l = min(l, m.o.MaximumConcurrency)
	}
	return l
}

// run starts the first pollers and scales up while the queue has visible
// messages.
func (m *Mapping) run(ctx context.Context, wg *sync.WaitGroup) {
	pollers := 0
	spawn := func() {
		pollers++
		m.mu.Lock()
		m.stats.Pollers = pollers
		m.mu.Unlock()
		wg.Go(func() { m.poll(ctx) })
	}
	for range min(m.o.InitialConcurrency, m.limit()) {
		spawn()
	}
	step := time.Minute / time.Duration(max(m.o.ScaleUpPerMinute, 1))
	for pollers < m.limit() && m.o.ScaleUpPerMinute > 0 {
		if m.f.o.Sleep(ctx, step) != nil {
			return
		}
		if visible, _, _ := m.q.Depth(m.url); visible > 0 {
			spawn()
		}
	}
}

// poll is one concurrent batch: receive, invoke, delete, again.
func (m *Mapping) poll(ctx context.Context) {
	for ctx.Err() == nil {
		batch, err := m.q.Receive(ctx, m.url, min(m.o.BatchSize, MaxReceiveMessages), MaxWaitTime)
		if err != nil {
			continue
		}
		if m.o.MaximumBatchingWindow > 0 && len(batch) > 0 {
			deadline := m.f.o.Now().Add(m.o.MaximumBatchingWindow)
			for len(batch) < m.o.BatchSize {
				wait := deadline.Sub(m.f.o.Now())
				if wait <= 0 {
					break
				}
				more, err := m.q.Receive(ctx, m.url, min(m.o.BatchSize-len(batch), MaxReceiveMessages), wait)
				if err != nil {
					break
				}
				batch = append(batch, more...)
			}
		}
		if len(batch) > 0 {
			m.invoke(ctx, batch)
		}
	}
}

// invoke runs one invocation on a warm or new environment and deletes the
// messages it did not fail.
func (m *Mapping) invoke(ctx context.Context, batch []Received) {
	f := m.f
	select {
	case f.slots <- struct{}{}:
	default:
		m.mu.Lock()
		m.stats.Throttles++
		m.mu.Unlock()
		select {
		case f.slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
	}
	defer func() { <-f.slots }()
	f.mu.Lock()
	f.running++
	f.maxRun = max(f.maxRun, f.running)
	f.mu.Unlock()
	m.mu.Lock()
	m.cur++
	m.stats.MaxConcurrency = max(m.stats.MaxConcurrency, m.cur)
	m.stats.Invocations++
	m.stats.Messages += int64(len(batch))
	m.mu.Unlock()
	failed, whole, h := m.call(ctx, batch)
	if h != nil {
		m.idle <- h
	}
	f.mu.Lock()
	f.running--
	f.mu.Unlock()
	nFailed := 0
	for _, r := range batch {
		if whole || failed[r.MessageID] {
			nFailed++
			continue
		}
		m.q.Delete(m.url, r.ReceiptHandle)
	}
	m.mu.Lock()
	m.cur--
	m.stats.FailedMessages += int64(nFailed)
	if whole {
		m.stats.Errors++
	}
	m.stats.Last = f.o.Now()
	m.mu.Unlock()
}

// call gets an environment and calls its handler within the timeout. It
// returns the environment to keep warm, nil when it is lost (Init failed,
// timeout).
func (m *Mapping) call(ctx context.Context, batch []Received) (failed map[string]bool, whole bool, h sqsbatch.BatchHandler) {
	f := m.f
	hctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var timedOut atomic.Bool
	go func() {
		if f.o.Sleep(hctx, m.o.Timeout) == nil {
			timedOut.Store(true)
			cancel()
		}
	}()
	select {
	case h = <-m.idle:
	default:
		if f.o.Sleep(hctx, f.coldStart()) != nil {
			return nil, true, nil
		}
		var err error
		if h, err = m.init(hctx); err != nil {
			m.mu.Lock()
			m.stats.ColdStarts++
			m.mu.Unlock()
			return nil, true, nil
		}
		m.mu.Lock()
		m.stats.ColdStarts++
		m.stats.Environments++
		m.mu.Unlock()
	}
	if f.o.Sleep(hctx, f.o.InvokeOverhead) != nil {
		return nil, true, h
	}
	resp, err := safeCall(hctx, h, m.event(batch))
	if timedOut.Load() {
		m.mu.Lock()
		m.stats.Environments--
		m.mu.Unlock()
		return nil, true, nil
	}
	if err != nil {
		return nil, true, h
	}
	failed, whole = batchFailures(batch, resp)
	return failed, whole, h
}

func safeCall(ctx context.Context, h sqsbatch.BatchHandler, ev events.SQSEvent) (resp events.SQSEventResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("fanoutsim: handler panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, ev)
}

// batchFailures reads a partial batch response as Lambda does: an
// identifier that is empty or names no message of the batch fails it all.
func batchFailures(batch []Received, resp events.SQSEventResponse) (map[string]bool, bool) {
	if len(resp.BatchItemFailures) == 0 {
		return nil, false
	}
	in := make(map[string]bool, len(batch))
	for _, r := range batch {
		in[r.MessageID] = true
	}
	failed := map[string]bool{}
	for _, fl := range resp.BatchItemFailures {
		if !in[fl.ItemIdentifier] {
			return nil, true
		}
		failed[fl.ItemIdentifier] = true
	}
	return failed, false
}

func (m *Mapping) event(batch []Received) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
	for i, r := range batch {
		ev.Records[i] = events.SQSMessage{MessageId: r.MessageID, ReceiptHandle: r.ReceiptHandle, Body: r.Body,
			Md5OfBody: r.MD5OfBody, Attributes: r.Attributes, EventSource: "aws:sqs", EventSourceARN: m.arn, AWSRegion: "us-east-1"}
	}
	return ev
}

func (f *Fleet) coldStart() time.Duration {
	if f.o.ColdStartSigma == 0 {
		return f.o.ColdStartMedian
	}
	r := rand.New(rand.NewPCG(f.o.Seed, f.seq.Add(1)))
	return min(time.Duration(float64(f.o.ColdStartMedian)*math.Exp(f.o.ColdStartSigma*r.NormFloat64())), MaxInitDuration)
}
