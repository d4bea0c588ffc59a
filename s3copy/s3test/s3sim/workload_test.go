package s3sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

func smallWorkload(t testing.TB, optFns ...func(*s3sim.WorkloadOptions)) s3sim.Workload {
	t.Helper()
	w, err := s3sim.SeedWorkload(append([]func(*s3sim.WorkloadOptions){s3sim.Small}, optFns...)...)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSeedWorkloadShape(t *testing.T) {
	w := smallWorkload(t)
	if len(w.Objects) != 3000 {
		t.Fatalf("%d objects", len(w.Objects))
	}
	sizes := make([]int64, len(w.Objects))
	for i, o := range w.Objects {
		sizes[i] = o.Size
	}
	if slices.Min(sizes) != 1000 || slices.Max(sizes) != 1_000_000_000 {
		t.Fatalf("sizes %d…%d", slices.Min(sizes), slices.Max(sizes))
	}
	if d := w.Bytes - 2_000_000_000; d < -2_000_000 || d > 2_000_000 {
		t.Fatalf("total %d bytes, want 2e9 ± 0.1%%", w.Bytes)
	}
	if !slices.IsSortedFunc(w.Objects, func(a, b s3sim.Object) int { return compare(a.Key, b.Key) }) {
		t.Fatal("keys not sorted")
	}
	again := smallWorkload(t)
	if !slices.EqualFunc(w.Objects, again.Objects, func(a, b s3sim.Object) bool { return a.Key == b.Key && a.Size == b.Size }) {
		t.Fatal("same seed, different workload")
	}
	other := smallWorkload(t, func(o *s3sim.WorkloadOptions) { o.Seed = 2 })
	if slices.EqualFunc(w.Objects, other.Objects, func(a, b s3sim.Object) bool { return a.Key == b.Key && a.Size == b.Size }) {
		t.Fatal("seed 2 gives seed 1's workload")
	}
	hot := smallWorkload(t, func(o *s3sim.WorkloadOptions) { o.Hot = 0.8 })
	n := 0
	for _, o := range hot.Objects {
		if o.Key[:len("raw/folder1/sub1/dt=2021-01-01/")] == "raw/folder1/sub1/dt=2021-01-01/" {
			n++
		}
	}
	if n < 2400 {
		t.Fatalf("hot partition holds %d of 3000", n)
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestLowerBound(t *testing.T) {
	sim := newSim(t, constant)
	// 7,000 small objects in two folders: 7,000 writes + 7 pages at 100 ms
	// over 1,024 connections; the rate: 3,500/s for 10 s covers them.
	var objs []s3sim.Object
	for i := range 7000 {
		objs = append(objs, s3sim.Object{Key: "raw/" + string(rune('a'+i%2)) + "/" + string(rune('a'+i%26)) + itoa(i), Size: 1})
	}
	b := sim.LowerBound(objs, "raw/", "processed/")
	if b.Requests != 7007 {
		t.Fatalf("requests %d", b.Requests)
	}
	if b.Rate != 2*time.Second {
		t.Fatalf("rate bound %v, want 2s", b.Rate)
	}
	if b.Total != b.Rate {
		t.Fatalf("total %v: %v", b.Total, b)
	}
	t.Log(b)
}

func itoa(i int) string {
	var buf []byte
	for {
		buf = append([]byte{byte('0' + i%10)}, buf...)
		i /= 10
		if i == 0 {
			return string(buf)
		}
	}
}
