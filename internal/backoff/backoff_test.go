package backoff

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	const ms = time.Millisecond
	for _, tc := range []struct {
		attempt   int
		base, max time.Duration
		want      time.Duration
	}{
		{1, 100 * ms, 5 * time.Second, 100 * ms},
		{0, 100 * ms, 5 * time.Second, 100 * ms},
		{-3, 100 * ms, 5 * time.Second, 100 * ms},
		{2, 100 * ms, 5 * time.Second, 200 * ms},
		{6, 100 * ms, 5 * time.Second, 3200 * ms},
		{7, 100 * ms, 5 * time.Second, 5 * time.Second},
		{64, 100 * ms, 5 * time.Second, 5 * time.Second},
		{math.MaxInt, 100 * ms, 5 * time.Second, 5 * time.Second},
		// Shifts that overflow int64 into a positive value smaller than
		// max: the old copies' "d <= 0" check missed these.
		{36, 3 * time.Minute, time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)},
		{29, time.Minute, time.Hour, time.Hour},
		// sqsbatch's old copy (shift capped at 30) gave 1.073741824s here:
		// (2^34+1)<<30 wraps to 2^30.
		{31, 1<<34 + 1, time.Hour, time.Hour},
		{1, 10 * time.Second, time.Second, time.Second},
		{3, 0, time.Second, 0},
		{3, time.Second, 0, 0},
		{3, -time.Second, time.Second, 0},
	} {
		if got := Ceiling(tc.attempt, tc.base, tc.max); got != tc.want {
			t.Errorf("Ceiling(%d, %v, %v) = %v, want %v", tc.attempt, tc.base, tc.max, got, tc.want)
		}
	}
}

func TestCeilingNeverOverflows(t *testing.T) {
	for _, base := range []time.Duration{1, 3, time.Millisecond, 7 * time.Second, time.Hour, math.MaxInt64 / 3} {
		for attempt := 1; attempt < 80; attempt++ {
			for _, max := range []time.Duration{time.Second, time.Hour, math.MaxInt64} {
				c := Ceiling(attempt, base, max)
				if c <= 0 || c > max {
					t.Fatalf("Ceiling(%d, %v, %v) = %v", attempt, base, max, c)
				}
				if prev := Ceiling(attempt-1, base, max); attempt > 1 && c < prev {
					t.Fatalf("Ceiling(%d, %v, %v) = %v < Ceiling(%d) = %v", attempt, base, max, c, attempt-1, prev)
				}
			}
		}
	}
}

func TestFullJitterBounds(t *testing.T) {
	const base, max = 10 * time.Millisecond, 300 * time.Millisecond
	for attempt := 1; attempt <= 10; attempt++ {
		ceil := Ceiling(attempt, base, max)
		var low, high bool
		for range 2000 {
			d := FullJitter(attempt, base, max)
			if d < 1 || d > ceil {
				t.Fatalf("FullJitter(%d) = %v outside [1ns, %v]", attempt, d, ceil)
			}
			low = low || d < ceil/4
			high = high || d > ceil*3/4
		}
		if !low || !high {
			t.Errorf("FullJitter(%d): 2000 draws never reached both quarters of [0, %v] (low %v, high %v)", attempt, ceil, low, high)
		}
	}
	if d := FullJitter(1, 0, time.Second); d != 0 {
		t.Errorf("FullJitter with zero base = %v, want 0", d)
	}
	if d := FullJitter(1, 1, 1); d != 1 {
		t.Errorf("FullJitter(1, 1ns, 1ns) = %v, want 1ns", d)
	}
}

func TestSleepElapses(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep: %v", err)
	}
	if err := Sleep(context.Background(), 0); err != nil {
		t.Fatalf("Sleep(0): %v", err)
	}
	if err := Sleep(context.Background(), -time.Second); err != nil {
		t.Fatalf("Sleep(-1s): %v", err)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Sleep(ctx, time.Hour) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Sleep = %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(5 * time.Second): // hang detector, not a timing assertion
		t.Fatal("Sleep(1h) did not return after its context's 50ms deadline")
	}
}

func TestSleepCanceledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, d := range []time.Duration{0, time.Hour} {
		if err := Sleep(ctx, d); !errors.Is(err, context.Canceled) {
			t.Errorf("Sleep(canceled, %v) = %v, want context.Canceled", d, err)
		}
	}
}
