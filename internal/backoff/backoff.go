// Package backoff is the one retry delay and the one context-aware sleep
// that lakekit's retry loops share (sqsbatch, kda, lakepipe, s3copy,
// examples).
//
// FullJitter is "full jitter" exponential backoff as described in the AWS
// Architecture Blog post "Exponential Backoff And Jitter": the delay before
// retry attempt n is uniform in (0, min(base·2^(n-1), max)].
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Ceiling returns the largest delay FullJitter may return for attempt
// (1-based): base·2^(attempt-1), capped at max, without overflowing however
// large attempt or base are. attempt < 1 counts as 1; a base or max that is
// not positive gives 0.
func Ceiling(attempt int, base, max time.Duration) time.Duration {
	if base <= 0 || max <= 0 {
		return 0
	}
	shift := attempt - 1
	if shift < 0 {
		shift = 0
	}
	if base >= max || shift >= 62 || base > max>>shift {
		return max
	}
	return base << shift
}

// FullJitter returns a random delay in [1ns, Ceiling(attempt, base, max)],
// or 0 when the ceiling is 0. It is safe for concurrent use.
func FullJitter(attempt int, base, max time.Duration) time.Duration {
	c := Ceiling(attempt, base, max)
	if c <= 0 {
		return 0
	}
	return rand.N(c) + 1
}

// Sleep waits d or until ctx ends, whichever comes first, and returns
// ctx.Err() in the second case. A d that is not positive returns ctx.Err()
// at once: nil while ctx is live.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
