package s3copy_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/lakekit/lakekit/internal/simchild"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

var (
	simScale   = flag.Float64("s3sim.scale", 0.5, "wall-clock seconds per simulated second in the s3sim benchmarks")
	simObjects = flag.Int("s3sim.objects", 0, "objects of the s3sim benchmarks' seed workload (0: the seed's 302,400)")
)

// simRun is one copy of a workload on a fresh Sim.
type simRun struct {
	sim   *s3sim.Sim
	bound s3sim.Bound
	res   s3copy.Result
	err   error
}

// simCopy copies w from bucket src, prefix raw/, to bucket dst, prefix
// processed/, on a fresh Sim, with the copier on the Sim's clock.
func simCopy(tb testing.TB, w s3sim.Workload, simOpts func(*s3sim.SimOptions), copierOpts ...func(*s3copy.CopierOptions)) simRun {
	tb.Helper()
	sim, err := s3sim.New(simOpts)
	if err != nil {
		tb.Fatal(err)
	}
	sim.PutObjects("src", w.Objects...)
	sim.CreateBucket("dst")
	c, err := s3copy.New(sim.Client(), append([]func(*s3copy.CopierOptions){func(o *s3copy.CopierOptions) {
		o.Now, o.Sleep = sim.Now, sim.Sleep
	}}, copierOpts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	r := simRun{sim: sim, bound: sim.LowerBound(w.Objects, "raw/", "processed/")}
	r.res, r.err = c.Copy(context.Background(), s3copy.Location{Bucket: "src", Prefix: "raw/"}, s3copy.Location{Bucket: "dst", Prefix: "processed/"})
	return r
}

func (r simRun) String() string {
	st := r.sim.Stats()
	return fmt.Sprintf("simulated %.1fs (%.2f× bound), copied %d, requests %v, SlowDowns %d, partitions %d, max in flight %d; %v",
		r.res.Stats.Elapsed.Seconds(), r.res.Stats.Elapsed.Seconds()/r.bound.Total.Seconds(), r.res.Stats.Copied,
		st.Requests, st.SlowDowns, len(st.Partitions), st.MaxInFlight, r.bound)
}

var seedOnce = sync.OnceValues(func() (s3sim.Workload, error) {
	return s3sim.SeedWorkload(func(o *s3sim.WorkloadOptions) {
		if *simObjects > 0 {
			o.Objects = *simObjects
			o.TotalSize = int64(float64(o.Objects) / s3sim.DefaultWorkloadObjects * s3sim.DefaultTotalSize)
			o.MaxSize = min(s3sim.DefaultMaxSize, o.TotalSize/4)
		}
	})
})

// simCopiers are the copier settings the seed benchmark compares.
type simCopier struct {
	name string
	opts func(*s3copy.CopierOptions)
}

var simCopiers = []simCopier{
	{"defaults", func(*s3copy.CopierOptions) {}},
	// tuned: concurrency covering the latency up to the endpoint's
	// connections (Little's law: 1,024 ≈ 7,500 requests/s × 136 ms),
	// listing sharded down to the dt= partitions with enough paginators,
	// large objects' parts 32 at a time.
	{"tuned", func(o *s3copy.CopierOptions) {
		o.Concurrency = 1024
		o.ListConcurrency = 64
		o.ShardDepth = 3
		o.PartConcurrency = 32
	}},
}

// BenchmarkSimSeed copies the seed's workload (302,400 objects, 24 GB)
// on s3sim's default model and reports simulated seconds and the ratio to
// the model's lower bound. -s3sim.scale sets the time scale,
// -s3sim.objects shrinks the workload.
func BenchmarkSimSeed(b *testing.B) {
	w, err := seedOnce()
	if err != nil {
		b.Fatal(err)
	}
	for _, cc := range simCopiers {
		b.Run(cc.name, func(b *testing.B) {
			var r simRun
			for b.Loop() {
				r = simCopy(b, w, func(o *s3sim.SimOptions) { o.TimeScale = *simScale }, cc.opts)
				if r.err != nil {
					b.Fatal(r.err)
				}
			}
			b.ReportMetric(r.res.Stats.Elapsed.Seconds(), "sim-s")
			b.ReportMetric(r.bound.Total.Seconds(), "bound-s")
			b.ReportMetric(r.res.Stats.Elapsed.Seconds()/r.bound.Total.Seconds(), "x-bound")
			b.ReportMetric(float64(r.sim.Stats().SlowDowns), "slowdowns")
			b.Log(r)
		})
	}
}

// virtualEnv makes the test binary run one simulated copy in a
// testing/synctest bubble (TestSimVirtualChild): virtual time, so the
// simulated figures do not depend on this machine's speed or load. The
// value is "copier objects hot".
const virtualEnv = "S3COPY_SIM_VIRTUAL"

// TestSimVirtualChild is the child side of virtualCopy.
func TestSimVirtualChild(t *testing.T) {
	spec := os.Getenv(virtualEnv)
	if spec == "" {
		t.Skip("run by the s3sim benchmarks")
	}
	var name string
	var objects int
	var hot float64
	if _, err := fmt.Sscan(spec, &name, &objects, &hot); err != nil {
		t.Fatal(err)
	}
	*simObjects = objects
	w, err := seedOnce()
	if err != nil {
		t.Fatal(err)
	}
	if hot > 0 {
		if w, err = hotWorkload(hot); err != nil {
			t.Fatal(err)
		}
	}
	i := slices.IndexFunc(simCopiers, func(c simCopier) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no copier %q", name)
	}
	synctest.Test(t, func(t *testing.T) {
		r := simCopy(t, w, func(*s3sim.SimOptions) {}, simCopiers[i].opts)
		if r.err != nil {
			t.Fatal(r.err)
		}
		st := r.sim.Stats()
		var requests int64
		for _, n := range st.Requests {
			requests += n
		}
		simchild.Result(map[string]float64{"sim-s": r.res.Stats.Elapsed.Seconds(), "bound-s": r.bound.Total.Seconds(),
			"slowdowns": float64(st.SlowDowns), "requests": float64(requests), "partitions": float64(len(st.Partitions)),
			"peak-concurrency": float64(r.res.Stats.PeakConcurrency)})
		simchild.Log("%s", r)
	})
}

// virtualCopy runs one simulated copy in virtual time in a child process
// and reports its figures.
func virtualCopy(b *testing.B, name string, hot float64) {
	simchild.Run(b, "TestSimVirtualChild", []string{fmt.Sprintf("%s=%s %d %g", virtualEnv, name, *simObjects, hot)})
}

// BenchmarkSimSeedVirtual is BenchmarkSimSeed in virtual time (a
// testing/synctest bubble in a child process): the simulated figures are
// exact under the model, whatever the machine's load.
func BenchmarkSimSeedVirtual(b *testing.B) {
	for _, cc := range simCopiers {
		b.Run(cc.name, func(b *testing.B) {
			for b.Loop() {
				virtualCopy(b, cc.name, 0)
			}
		})
	}
}

func hotWorkload(hot float64) (s3sim.Workload, error) {
	return s3sim.SeedWorkload(func(o *s3sim.WorkloadOptions) {
		o.Hot = hot
		if *simObjects > 0 {
			o.Objects = *simObjects
			o.TotalSize = int64(float64(o.Objects) / s3sim.DefaultWorkloadObjects * s3sim.DefaultTotalSize)
			o.MaxSize = min(s3sim.DefaultMaxSize, o.TotalSize/4)
		}
	})
}

// BenchmarkSimScale shows that the time scale does not change the result:
// the same copy (TestCopyOnSim's 3,000 objects, 2 GB, at concurrency 128,
// so that this machine's CPU stays far from the bottleneck) at scales 1
// and 0.5 on the wall clock, and in virtual time. Their sim-s agree within
// the latency draws' spread (a few percent) while the CPU keeps up.
func BenchmarkSimScale(b *testing.B) {
	w := simWorkload(b)
	opts := func(o *s3copy.CopierOptions) { o.Concurrency = 128 }
	for _, scale := range []float64{1, 0.5} {
		b.Run(fmt.Sprintf("scale=%g", scale), func(b *testing.B) {
			var r simRun
			for b.Loop() {
				r = simCopy(b, w, func(o *s3sim.SimOptions) { o.TimeScale = scale }, opts)
				if r.err != nil {
					b.Fatal(r.err)
				}
			}
			b.ReportMetric(r.res.Stats.Elapsed.Seconds(), "sim-s")
			b.ReportMetric(r.res.Stats.Elapsed.Seconds()/r.bound.Total.Seconds(), "x-bound")
		})
	}
}

// BenchmarkSimHotVirtual is the seed copy with 80% of the objects in one
// dt= partition, with each copier setting, in virtual time: the hot
// partition's pacing and S3's splits of it, against a bound set by listing
// that partition's pages one after the other.
func BenchmarkSimHotVirtual(b *testing.B) {
	for _, cc := range simCopiers {
		b.Run(cc.name, func(b *testing.B) {
			for b.Loop() {
				virtualCopy(b, cc.name, 0.8)
			}
		})
	}
}
