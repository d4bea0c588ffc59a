package s3copy

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// pacer is the one backoff a Copier shares between all its workers for
// connection faults, in the manner of rclone's pacer: while connections
// fail, requests are spaced out by a sleep that doubles on every fault and
// decays by a quarter on every success. Throttles (SlowDown) are paced per
// prefix instead (prefixPacers): a global backoff on S3's per-prefix limits
// collapses the whole run (measured on s3sim: 1,024 workers doubling one
// sleep per SlowDown reach MaxBackoff within a second and copy at a few
// requests per second). With no trouble the sleep is
// zero and a request costs one atomic load.
type pacer struct {
	min, max time.Duration
	now      func() time.Time
	sleepFn  func(context.Context, time.Duration) error
	sleep    atomic.Int64 // current spacing, ns; 0 = unpaced

	mu   sync.Mutex
	next time.Time // earliest time the next paced request may start
}

func newPacer(o *CopierOptions) *pacer {
	return &pacer{min: o.MinBackoff, max: o.MaxBackoff, now: o.Now, sleepFn: o.Sleep}
}

// wait blocks until the caller may send a request.
func (p *pacer) wait(ctx context.Context) error {
	sleep := time.Duration(p.sleep.Load())
	if sleep == 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := p.now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(sleep)
	p.mu.Unlock()
	return p.sleepFn(ctx, at.Sub(now))
}

// backoff raises the spacing after a throttle or a fault.
func (p *pacer) backoff() {
	p.mu.Lock()
	s := time.Duration(p.sleep.Load()) * 2
	if s < p.min {
		s = p.min
	}
	if s > p.max {
		s = p.max
	}
	p.sleep.Store(int64(s))
	p.mu.Unlock()
}

// success lowers the spacing after a request that went through.
func (p *pacer) success() {
	if p.sleep.Load() == 0 {
		return
	}
	p.mu.Lock()
	s := time.Duration(p.sleep.Load())
	s -= s / 4
	if s < p.min {
		s = 0
	}
	p.sleep.Store(int64(s))
	p.mu.Unlock()
}

// current returns the spacing now in force.
func (p *pacer) current() time.Duration { return time.Duration(p.sleep.Load()) }

// errClass sorts request errors for the one retry layer.
type errClass int

const (
	errFatal    errClass = iota // not worth retrying
	errThrottle                 // SlowDown, 503, 429: back off for everyone
	errFault                    // connection reset, EOF, timeout, 500: retry, back off
)

var throttleCodes = map[string]bool{
	"SlowDown": true, "Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottled": true, "RequestLimitExceeded": true, "TooManyRequests": true,
	"TooManyRequestsException": true, "ServiceUnavailable": true, "RequestThrottledException": true,
}

var faultCodes = map[string]bool{
	"InternalError": true, "RequestTimeout": true, "RequestTimeoutException": true,
	"OperationAborted": true, "ExpiredToken": false,
}

// classify decides whether err is worth another attempt. Context
// cancellation never is.
func classify(err error) errClass {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errFatal
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == 503 || code == 429:
			return errThrottle
		case code >= 500:
			return errFault
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if throttleCodes[ae.ErrorCode()] {
			return errThrottle
		}
		if faultCodes[ae.ErrorCode()] {
			return errFault
		}
		return errFatal
	}
	var send *smithyhttp.RequestSendError
	var deser *smithy.DeserializationError
	var netErr net.Error
	switch {
	case errors.As(err, &send), errors.As(err, &deser),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return errFault
	}
	return errFatal
}

// prefixPacers pace requests per key prefix (paceKey of the key a request
// reads or writes) once S3 has answered SlowDown there: S3's rate
// limits are per partitioned prefix, so one hot prefix is slowed without
// slowing the others. A prefix is unpaced until its first throttle, then
// paced at a rate learnt from it (Little's law: the requests in flight
// there over the throttled request's latency, times 0.7), cut by 30% at
// most once per 500 ms (and per latency) while throttles go on, raised 10%
// every 100 ms from 500 ms after the last cut, and unpaced again when the pacing has not held anything
// back for a second. Entries live only while a prefix has requests in
// flight or is paced.
type prefixPacers struct {
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu sync.Mutex
	m  map[string]*prefixState
}

type prefixState struct {
	inflight int
	rate     float64 // requests per second; 0 = unpaced
	// Paced requests take tickets in order; ticket t may start at
	// origin + (t-originTick)/rate. A rate change moves the origin to the
	// present, so waiters pick up a new rate at once.
	tick, originTick float64
	origin           time.Time
	cut, up          time.Time // last decrease, last increase
}

// due is when ticket t may start.
func (s *prefixState) due(t float64) time.Time {
	return s.origin.Add(time.Duration((t - s.originTick) / s.rate * float64(time.Second)))
}

// setRate changes the rate from now on; the tickets not yet due keep their
// order, and capacity unused while idle is not saved up.
func (s *prefixState) setRate(now time.Time, rate float64) {
	pos := s.tick
	if s.rate > 0 {
		pos = min(s.tick, s.originTick+now.Sub(s.origin).Seconds()*s.rate)
	}
	s.origin, s.originTick, s.rate = now, pos, rate
}

const (
	paceMinRate   = 1.0
	paceCut       = 0.7
	paceCutEvery  = 500 * time.Millisecond
	paceRaise     = 1.1
	paceRaiseStep = 100 * time.Millisecond
	paceIdle      = time.Second
	paceRecheck   = 100 * time.Millisecond
)

func newPrefixPacers(o *CopierOptions) *prefixPacers {
	return &prefixPacers{now: o.Now, sleep: o.Sleep, m: map[string]*prefixState{}}
}

// paceKey is the prefix a request on key (under loc.Prefix) is paced by:
// its first folder below loc.Prefix, the level a copy's shards start at
// (the seed's folders). Pacing a deeper level (each dt= partition) leaves
// short-lived prefixes unpaced whose bursts keep a shared S3 partition
// throttled; pacing the whole tree lets one hot folder slow the others.
func paceKey(loc Location, key string) string {
	n := len(loc.Prefix)
	if !strings.HasPrefix(key, loc.Prefix) {
		n = 0
	}
	if i := strings.IndexByte(key[n:], '/'); i >= 0 {
		return key[:n+i+1]
	}
	return key[:n]
}

// start waits for prefix's turn and counts the request in flight; every
// start is followed by one done. A waiter sleeps at most paceRecheck at a
// time, so a raised rate shortens waits already begun.
func (pp *prefixPacers) start(ctx context.Context, prefix string) (*prefixState, error) {
	pp.mu.Lock()
	s := pp.m[prefix]
	if s == nil {
		s = &prefixState{}
		pp.m[prefix] = s
	}
	s.inflight++
	now := pp.now()
	if s.rate > 0 && now.Sub(s.due(s.tick)) > paceIdle && now.Sub(s.cut) > paceIdle {
		s.setRate(now, 0) // the pacing held nothing back for a second
	}
	t := s.tick
	s.tick++
	for s.rate > 0 {
		wait := s.due(t).Sub(now)
		if wait <= 0 {
			break
		}
		pp.mu.Unlock()
		if err := pp.sleep(ctx, min(wait, paceRecheck)); err != nil {
			pp.done(prefix, s, false, 0)
			return nil, err
		}
		pp.mu.Lock()
		now = pp.now()
	}
	pp.mu.Unlock()
	return s, nil
}

// done ends a request started with start; throttled says S3 answered
// SlowDown after took.
func (pp *prefixPacers) done(prefix string, s *prefixState, throttled bool, took time.Duration) {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	now := pp.now()
	switch {
	case throttled && s.rate == 0:
		s.setRate(now, max(paceMinRate, 0.7*float64(s.inflight)/max(took, time.Millisecond).Seconds()))
		s.cut, s.up = now, now
	case throttled && now.Sub(s.cut) >= max(took, paceCutEvery):
		s.setRate(now, max(paceMinRate, s.rate*paceCut))
		s.cut = now
	case !throttled && s.rate > 0 && now.Sub(s.up) >= paceRaiseStep && now.Sub(s.cut) >= paceCutEvery:
		s.setRate(now, s.rate*paceRaise)
		s.up = now
	}
	s.inflight--
	if s.inflight == 0 && s.rate == 0 {
		delete(pp.m, prefix)
	}
}

// rate returns prefix's pacing rate (0: unpaced).
func (pp *prefixPacers) rate(prefix string) float64 {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if s := pp.m[prefix]; s != nil {
		return s.rate
	}
	return 0
}
