package s3copy_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

// smallObjects is a seed-shaped workload of n objects of 1 KB to 1 MB.
func smallObjects(t testing.TB, n int, shape func(*s3sim.WorkloadOptions)) s3sim.Workload {
	t.Helper()
	w, err := s3sim.SeedWorkload(func(o *s3sim.WorkloadOptions) {
		o.Objects, o.MaxSize, o.TotalSize = n, 1_000_000, int64(n)*5_000
		if shape != nil {
			shape(o)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestAdaptiveConcurrency: with the default options the concurrency is
// found by measuring. On an endpoint that serves 200 requests at once the
// limit settles near 200 (more only queue, and the latency says so); on
// one that serves 1,024 it climbs to the 1,024 cap. A fixed Concurrency
// stays where it is.
func TestAdaptiveConcurrency(t *testing.T) {
	w := smallObjects(t, 20000, nil)
	for _, tc := range []struct {
		name        string
		conns       int
		copier      func(*s3copy.CopierOptions)
		low, high   int // the limit at the end
		peakAtLeast int
		peakAtMost  int
	}{
		// Slow start may double once past the knee (256 is 1.28× the
		// latency, within its 1.5×) before the cut.
		{"knee-at-200", 200, func(*s3copy.CopierOptions) {}, 150, 400, 200, 600},
		// The cap is the endpoint's 1,024 connections, which the listing
		// shares: the limit may end a little below.
		{"up-to-the-cap", 0, func(*s3copy.CopierOptions) {}, s3copy.DefaultMaxConcurrency * 3 / 4, s3copy.DefaultMaxConcurrency, s3copy.DefaultMaxConcurrency, s3copy.DefaultMaxConcurrency},
		{"capped", 0, func(o *s3copy.CopierOptions) { o.MaxConcurrency = 300 }, 300, 300, 300, 300},
		{"fixed", 0, func(o *s3copy.CopierOptions) { o.Concurrency = 100 }, 100, 100, 100, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := simCopy(t, w, func(o *s3sim.SimOptions) { o.MaxConnections = tc.conns }, tc.copier)
				if r.err != nil {
					t.Fatal(r.err)
				}
				st := r.res.Stats
				if st.Copied != int64(len(w.Objects)) {
					t.Fatalf("copied %d", st.Copied)
				}
				if st.Concurrency < tc.low || st.Concurrency > tc.high || st.PeakConcurrency < tc.peakAtLeast || st.PeakConcurrency > tc.peakAtMost {
					t.Errorf("concurrency %d at the end (want %d..%d), peak %d (want %d..%d)",
						st.Concurrency, tc.low, tc.high, st.PeakConcurrency, tc.peakAtLeast, tc.peakAtMost)
				}
				if tc.name == "knee-at-200" && st.Elapsed > r.bound.Total*7/5 {
					t.Errorf("simulated %v, bound %v: the limit did not cover the endpoint's connections", st.Elapsed, r.bound.Total)
				}
				t.Logf("concurrency %d, peak %d; %v", st.Concurrency, st.PeakConcurrency, r)
			})
		})
	}
}

// TestAdaptiveShards: the default listing splits a shard whose first page
// shows large sub-folders and lists the rest of it from where the page
// ended, so every object is listed and copied once; ShardDepth 1 keeps
// each folder one paginator.
func TestAdaptiveShards(t *testing.T) {
	// 2 folders × 2 sub-folders × 10 dt= partitions of 500 objects.
	w := smallObjects(t, 20000, func(o *s3sim.WorkloadOptions) { o.Folders, o.SubFolders, o.Partitions = 2, 2, 10 })
	for _, tc := range []struct {
		name       string
		depth      int
		minListing int64
		maxListing int64
	}{
		// The root, each folder's first page and delimited rest, each
		// sub-folder's too, and one page per partition (40).
		{"adaptive", 0, 40, 60},
		// The root and each folder's pages (about 10 each).
		{"depth-1", 1, 20, 24},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				r := simCopy(t, w, func(*s3sim.SimOptions) {}, func(o *s3copy.CopierOptions) { o.ShardDepth = tc.depth })
				if r.err != nil {
					t.Fatal(r.err)
				}
				st := r.sim.Stats()
				if r.res.Stats.Listed != int64(len(w.Objects)) || st.Requests["CopyObject"]-st.SlowDowns > int64(len(w.Objects)) {
					t.Fatalf("listed %d, copies %v, SlowDowns %d, for %d objects", r.res.Stats.Listed, st.Requests, st.SlowDowns, len(w.Objects))
				}
				if got := len(r.sim.Objects("dst")); got != len(w.Objects) {
					t.Fatalf("%d objects at the destination", got)
				}
				if n := r.res.Stats.Requests.List; n < tc.minListing || n > tc.maxListing {
					t.Errorf("%d listing requests, want %d..%d", n, tc.minListing, tc.maxListing)
				}
			})
		})
	}
}

// TestAdaptiveShardsGoFakeS3: the split shard's rest is listed with
// start-after on a local server too (gofakes3): 2,400 objects in two
// sub-folders of one folder, each copied once.
func TestAdaptiveShardsGoFakeS3(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	var wg sync.WaitGroup
	keys := make(chan string)
	for range 16 {
		wg.Go(func() {
			for k := range keys {
				put(t, c, sb, k, []byte("x"), nil)
			}
		})
	}
	for i := range 2400 {
		keys <- fmt.Sprintf("raw/f/%c/part-%05d", 'a'+i/1200, i)
	}
	close(keys)
	wg.Wait()
	cp := must(s3copy.New(c))
	res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "raw/"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Listed != 2400 || res.Stats.Copied != 2400 || res.Stats.Requests.Copy != 2400 {
		t.Fatalf("%+v", res.Stats)
	}
	// Root, f/'s first page, f/'s delimited rest, a/'s rest, b/'s pages.
	if res.Stats.Requests.List < 5 {
		t.Errorf("%d listing requests: the folder was not split", res.Stats.Requests.List)
	}
	if got := listAll(t, c, db, "raw/"); len(got) != 2400 {
		t.Fatalf("%d objects at the destination", len(got))
	}
}
