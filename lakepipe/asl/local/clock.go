package local

import (
	"context"
	"sync"
	"time"

	"github.com/lakekit/lakekit/internal/backoff"
)

// Clock is the runner's time: Wait states, retry intervals and timeouts use
// it, and task handlers get it through ClockFrom so that their own polling
// runs on the same time.
type Clock interface {
	Now() time.Time
	// Sleep waits d, or until ctx ends (returning ctx.Err()).
	Sleep(ctx context.Context, d time.Duration) error
}

// RealClock is wall-clock time.
type RealClock struct{}

// Now returns time.Now().
func (RealClock) Now() time.Time { return time.Now() }

// Sleep waits on a timer.
func (RealClock) Sleep(ctx context.Context, d time.Duration) error {
	return backoff.Sleep(ctx, d)
}

// VirtualClock is time that only moves when someone sleeps: Sleep adds d to
// Now at once and records it. Tests use it so that a 30 s retry interval
// takes no time and can be asserted exactly. It is safe for concurrent use.
type VirtualClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

// NewVirtualClock returns a clock reading start.
func NewVirtualClock(start time.Time) *VirtualClock { return &VirtualClock{now: start} }

// Now returns the virtual time.
func (c *VirtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep advances the clock by d without waiting.
func (c *VirtualClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

// Sleeps returns every duration slept, in order.
func (c *VirtualClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

type clockKey struct{}

// ClockFrom returns the runner's clock from a task handler's context, or
// RealClock outside the runner.
func ClockFrom(ctx context.Context) Clock {
	if c, ok := ctx.Value(clockKey{}).(Clock); ok {
		return c
	}
	return RealClock{}
}

// Sleeper returns ClockFrom(ctx).Sleep, for options that take a sleep
// function (lakepipe.PollOptions.Sleep).
func Sleeper(ctx context.Context) func(context.Context, time.Duration) error {
	return ClockFrom(ctx).Sleep
}
