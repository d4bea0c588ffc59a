package local

import (
	"context"
	"sync"
	"time"

	"github.com/lakekit/lakekit/internal/backoff"
)

// clock is the runner's time: RunnerOptions.Now and RunnerOptions.Sleep,
// with their defaults filled in.
type clock struct {
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func (c clock) Now() time.Time                                   { return c.now() }
func (c clock) Sleep(ctx context.Context, d time.Duration) error { return c.sleep(ctx, d) }

var realClock = clock{now: time.Now, sleep: backoff.Sleep}

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

// Now returns the runner's time (its RunnerOptions.Now) in a task
// handler's context, or time.Now() outside the runner.
func Now(ctx context.Context) time.Time { return clockFrom(ctx).Now() }

// Sleep waits d on the runner's time (its RunnerOptions.Sleep) in a task
// handler's context, so that a handler's own polling runs on the
// runner's virtual clock; outside the runner it waits on a real timer.
// It ends early with ctx.Err().
func Sleep(ctx context.Context, d time.Duration) error { return clockFrom(ctx).Sleep(ctx, d) }

func clockFrom(ctx context.Context) clock {
	if c, ok := ctx.Value(clockKey{}).(clock); ok {
		return c
	}
	return realClock
}
