package kda

import (
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system CPU time. On this shared 2-core
// machine wall-clock rates depend on other load; a single-goroutine
// benchmark also reports its rate per CPU second.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportRate reports n items over the benchmark as unit/s (wall) and
// unit/cpu-s, where cpu0 is cpuTime() at the start.
func reportRate(b *testing.B, n float64, unit string, cpu0 time.Duration) {
	b.ReportMetric(n/b.Elapsed().Seconds(), unit+"/s")
	if d := cpuTime() - cpu0; d > 0 {
		b.ReportMetric(n/d.Seconds(), unit+"/cpu-s")
	}
}
