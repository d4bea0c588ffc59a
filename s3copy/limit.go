package s3copy

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// limiter bounds a run's copy requests in flight. slots holds one token per
// request in flight (workers and multipart lanes send one before a request
// and take it back after) plus the tokens the limiter keeps out of
// circulation: the limit in force is cap(slots) minus those.
//
// With CopierOptions.Concurrency set the limit is fixed. Otherwise it is
// adapted to the latency the run observes, in the manner of TCP Vegas
// (and Netflix's concurrency-limits): by Little's law, throughput is
// in-flight ÷ latency, so while more requests in flight leave the latency
// where it was they add throughput, and once the latency grows with them
// the endpoint (its connections, its CPU, the network) is queueing them
// and they add nothing. Every window of about one round trip of successful
// requests (the limit's number of them, at least minWindow; the first
// window, whose requests dial their connections, only warms up) gives a
// median latency and a throughput; base is the lowest window median seen:
//
//   - slow start: the limit doubles while a doubling pays, measured on the
//     window after the next (in flight is still rising during the first):
//     throughput up by slowStartGain (30%) and the median within
//     slowStartTolerance (1.5×) of base. 64 → 1,024 on s3sim in about a
//     second. A doubling that does not pay is undone and ends slow start;
//     the limit may then grow to at most twice that. On gofakes3 on this
//     machine (the CPU is the limit) 128 requests complete no faster than
//     64, and the limit stays between 64 and 128;
//   - after it, the limit grows by a sixteenth per window while the median
//     stays within adaptTolerance (1.2×) of base, and is otherwise cut in
//     proportion (base ÷ median, at most by half), which by Little's law
//     brings the latency back to base.
//
// Throttled answers (SlowDown, 503) are not samples and cut nothing: S3's
// limits are per prefix and the per-prefix pacer (prefixPacers) slows the
// prefix that was throttled; cutting the run's concurrency would slow every
// other prefix too. The median, not the mean, so that the few long copies
// of large objects and parts (seconds, at 100 MB/s) in a window of small
// ones do not read as queueing. base creeps up by 1/64 of the gap each
// window it is exceeded, so that an endpoint that has become slower for
// good is followed.
type limiter struct {
	slots    chan struct{}
	adaptive bool
	min      int // the adaptive limit's floor and start

	debt      atomic.Int64 // tokens to keep when requests end (the limit was cut below the requests in flight)
	throttled atomic.Int64 // throttled answers in the window

	mu        sync.Mutex
	limit     int
	peakLimit int
	reserved  int // tokens the limiter holds in slots
	samples   []time.Duration
	base      time.Duration
	warm      bool // the first window (connections being dialled) is over
	slowStart bool
	now       func() time.Time
	winStart  time.Time       // when the window began
	prevTput  float64         // requests/s of the last measured window in slow start
	prevLimit int             // the limit it was measured at
	skip      bool            // the window after a doubling: in flight is still rising
	ceiling   int             // after slow start: at most twice where it ended
	grow      func(limit int) // starts workers up to limit; nil outside execute
}

const (
	minWindow = 128
	// adaptTolerance: a window median up to 20% above base is no
	// queueing. base is the lowest of noisy window medians (a median of
	// 128 of s3sim's draws varies by about 3%), so it sits below the
	// typical median: at 10%, noise alone cut a limit of 300 to 64.
	adaptTolerance = 1.2
	// slowStartTolerance ends slow start: a doubling that shows queueing
	// at all doubles the latency, so it need not end on a window that is
	// merely noisy (a median of 64 draws varies by about 5% on s3sim).
	slowStartTolerance = 1.5
	slowStartGain      = 1.3 // a doubling pays if throughput grows by 30%
	adaptIncrease      = 16  // the limit grows by limit/adaptIncrease per window
	baseCreep          = 64
)

// newLimiter returns a fixed limiter of limit slots, or with adaptive set
// one that starts at limit and may reach max.
func newLimiter(limit, max int, adaptive bool, now func() time.Time) *limiter {
	if !adaptive {
		max = limit
	}
	l := &limiter{slots: make(chan struct{}, max), adaptive: adaptive, min: limit, limit: limit, slowStart: true, now: now, ceiling: max}
	for range max - limit {
		l.slots <- struct{}{}
		l.reserved++
	}
	return l
}

// max is the most requests the limiter may ever allow.
func (l *limiter) max() int { return cap(l.slots) }

// current returns the limit in force.
func (l *limiter) current() int {
	if !l.adaptive {
		return l.limit
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}

// throttle counts a throttled answer.
func (l *limiter) throttle() {
	if l.adaptive {
		l.throttled.Add(1)
	}
}

// peak returns the highest limit so far.
func (l *limiter) peak() int {
	if !l.adaptive {
		return l.limit
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return max(l.peakLimit, l.limit)
}

// release gives back the slot of a request that ended.
func (l *limiter) release() {
	if l.adaptive {
		for d := l.debt.Load(); d > 0; d = l.debt.Load() {
			if l.debt.CompareAndSwap(d, d-1) {
				l.mu.Lock()
				l.reserved++ // the token stays in slots, now the limiter's
				l.mu.Unlock()
				return
			}
		}
	}
	<-l.slots
}

// observe records a successful request's latency.
func (l *limiter) observe(took time.Duration) {
	if !l.adaptive {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.samples = append(l.samples, took)
	if len(l.samples) < max(l.limit, minWindow) {
		return
	}
	slices.Sort(l.samples)
	med := l.samples[len(l.samples)/2]
	now := l.now()
	tput := float64(len(l.samples)) / max(now.Sub(l.winStart), time.Microsecond).Seconds()
	l.samples = l.samples[:0]
	l.winStart = now
	if !l.warm {
		// The first window's requests dial their connections (TCP, TLS):
		// as a base it would make the next windows look fast however much
		// they queue. On a local server it let slow start climb to 512.
		l.warm = true
		return
	}
	l.adjust(med, tput)
}

// adjust moves the limit after a window whose median latency was med and
// whose throughput was tput requests/s.
func (l *limiter) adjust(med time.Duration, tput float64) {
	med = max(med, time.Microsecond)
	switch {
	case l.base == 0 || med < l.base:
		l.base = med
	case med > l.base:
		l.base += (med - l.base) / baseCreep
	}
	if l.slowStart {
		l.slowStartStep(med, tput)
		return
	}
	next := l.limit
	if float64(med) <= adaptTolerance*float64(l.base) {
		next += max(1, next/adaptIncrease)
	} else {
		next = int(float64(next) * max(0.5, float64(l.base)/float64(med)))
	}
	l.setLimit(min(max(next, l.min), l.ceiling))
}

// slowStartStep doubles the limit while a doubling pays: the window after
// it (the one after, as in flight rises during the first) completes at
// least slowStartGain times the requests per second of the one before,
// with the latency within slowStartTolerance of base. A doubling that does
// not pay (the endpoint's CPU or connections are the limit: on gofakes3,
// 128 requests in flight complete no faster than 64) is undone, and the
// limit may then grow to at most twice that.
func (l *limiter) slowStartStep(med time.Duration, tput float64) {
	if l.skip {
		l.skip = false
		return
	}
	// A doubling must gain 30%; a step cut short by the cap in proportion.
	// While S3 throttles, the throughput is the prefixes' pacing, not the
	// endpoint's capacity: then only the latency says (on s3sim's seed
	// workload the destination's one partition capped the first seconds'
	// throughput, and judging doublings by it ended slow start at 512, 10 s
	// slower).
	gain := 1 + (slowStartGain-1)*(float64(l.limit)/float64(max(l.prevLimit, 1))-1)
	throttled := l.throttled.Swap(0) > 0
	if l.prevTput > 0 && (!throttled && tput < gain*l.prevTput || float64(med) > slowStartTolerance*float64(l.base)) {
		l.slowStart = false
		back := max(l.min, l.prevLimit)
		l.ceiling = min(l.max(), 2*back)
		l.setLimit(back)
		return
	}
	if l.limit >= l.max() {
		l.slowStart = false
		return
	}
	l.prevTput, l.prevLimit = tput, l.limit
	l.skip = true
	l.setLimit(min(2*l.limit, l.max()))
}

// setLimit changes the limit in force; l.mu is held.
func (l *limiter) setLimit(n int) {
	for l.limit < n { // hand tokens back: first those owed, then those held
		if d := l.debt.Load(); d > 0 && l.debt.CompareAndSwap(d, d-1) {
			l.limit++
			continue
		}
		if l.reserved == 0 {
			break
		}
		<-l.slots
		l.reserved--
		l.limit++
	}
	for l.limit > n { // take tokens: free ones now, the others as requests end
		select {
		case l.slots <- struct{}{}:
			l.reserved++
		default:
			l.debt.Add(1)
		}
		l.limit--
	}
	l.peakLimit = max(l.peakLimit, l.limit)
	if l.grow != nil {
		l.grow(l.limit)
	}
}
