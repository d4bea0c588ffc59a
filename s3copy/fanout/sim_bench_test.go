package fanout_test

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/lakekit/lakekit/internal/simchild"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

var simSetupFlag = flag.String("fanoutsim.setup", "", "comma-separated setups of BenchmarkFanoutSimVirtual (default: template)")

var simObjects = flag.Int("fanoutsim.objects", 0, "objects of the fan-out simulation benchmarks' seed workload (0: the seed's 302,400)")

// simSetups are the fan-out configurations the benchmarks compare, by
// name; workers is the worker mapping's MaximumConcurrency.
var simSetups = map[string]func(workers int) simSetup{
	// template: examples/oms-copy's template.yaml and omsenv defaults:
	// ShardDepth 3 (the seed's folder/sub-folder/dt= partition), shard
	// batches of 10 (HandleShards runs them side by side), task batches of
	// 10 without a batching window, 64 copies in flight per worker
	// invocation, 32 parts of a large object at once.
	"template": func(workers int) simSetup {
		return simSetup{Workers: workers, Concurrency: 64, MasterBatch: 10, WorkerWindow: -1,
			Fanout: func(o *fanout.FanoutOptions) { o.ShardDepth = 3 },
			Copier: func(o *s3copy.CopierOptions) { o.PartConcurrency = 32 }}
	},
	// before: the template as it was before the simulation (ShardDepth 2,
	// shard batches of 1, a one-second batching window, 8 parts at once).
	// On the code of that time (before the shard expansion) it took
	// 60.2 s at 1,000 workers.
	"before": func(workers int) simSetup {
		return simSetup{Workers: workers, Concurrency: 64, Fanout: func(o *fanout.FanoutOptions) { o.ShardDepth = 2 }}
	},
}

// fanoutVirtualEnv makes the test binary run one simulated fan-out job in
// a testing/synctest bubble (TestFanoutSimChild): "setup workers objects".
const fanoutVirtualEnv = "FANOUT_SIM_VIRTUAL"

func seedWorkload(objects int) (s3sim.Workload, error) {
	return s3sim.SeedWorkload(func(o *s3sim.WorkloadOptions) {
		if objects > 0 {
			o.Objects = objects
			o.TotalSize = int64(float64(o.Objects) / s3sim.DefaultWorkloadObjects * s3sim.DefaultTotalSize)
			o.MaxSize = min(s3sim.DefaultMaxSize, o.TotalSize/4)
		}
	})
}

// TestFanoutSimChild is the child side of BenchmarkFanoutSimVirtual.
func TestFanoutSimChild(t *testing.T) {
	spec := os.Getenv(fanoutVirtualEnv)
	if spec == "" {
		t.Skip("run by BenchmarkFanoutSimVirtual")
	}
	var name string
	var workers, objects int
	if _, err := fmt.Sscan(spec, &name, &workers, &objects); err != nil {
		t.Fatal(err)
	}
	setup, ok := simSetups[name]
	if !ok {
		t.Fatalf("no setup %q", name)
	}
	w, err := seedWorkload(objects)
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		r := runFanoutSim(t, w, setup(workers))
		st := r.sim.Stats()
		var inv, cold, maxConc int64
		for _, m := range r.fleet.Stats() {
			inv += m.Invocations
			cold += m.ColdStarts
		}
		maxConc = int64(r.fleet.MaxConcurrency())
		var sqsReq int64
		for _, n := range r.sqs.Requests() {
			sqsReq += n
		}
		simchild.Result(map[string]float64{"sim-s": r.last.Seconds(), "done-s": r.done.Seconds(), "bound-s": r.bound.Total.Seconds(),
			"s3-requests": float64(r.requests()), "lists": float64(st.Requests["ListObjectsV2"]), "slowdowns": float64(st.SlowDowns),
			"invocations": float64(inv), "cold-starts": float64(cold), "max-concurrent": float64(maxConc),
			"sqs-requests": float64(sqsReq), "copied": float64(r.status.Copied)})
		simchild.Log("%s", r)
		objs := r.sim.Objects("dst")
		slices.SortFunc(objs, func(a, b s3sim.Object) int { return b.LastModified.Compare(a.LastModified) })
		var lastObjs []string
		for _, o := range objs[:min(8, len(objs))] {
			lastObjs = append(lastObjs, fmt.Sprintf("%s %d B at %.2fs", o.Key, o.Size, o.LastModified.Sub(objs[len(objs)-1].LastModified).Seconds()))
		}
		simchild.Log("last copied: %s", strings.Join(lastObjs, "; "))
		var parts []string
		for _, p := range st.Partitions {
			parts = append(parts, fmt.Sprintf("%s/%s@%.0fs:%d", p.Bucket, p.Prefix, p.Created.Seconds(), p.SlowDowns))
		}
		simchild.Log("partitions (created, SlowDowns): %s", strings.Join(parts, " "))
		simchild.Log("per second (writes accepted/SlowDowns, partitions): %s", timeline(st))
	})
}

// BenchmarkFanoutSimVirtual fans the seed's workload (302,400 objects,
// 24 GB; -fanoutsim.objects shrinks it) out through the real handlers on
// the simulated Lambda fleet and SQS, against s3sim's default model, in
// virtual time (a synctest bubble in a child process), with 10, 100 and
// 1,000 workers (the worker mapping's MaximumConcurrency). sim-s is the
// simulated time until the last worker invocation ended, done-s until
// Status said Done (polled every simulated second).
func BenchmarkFanoutSimVirtual(b *testing.B) {
	names := []string{"template"}
	if *simSetupFlag != "" {
		names = strings.Split(*simSetupFlag, ",")
	}
	for _, name := range names {
		for _, workers := range []int{10, 100, 1000} {
			b.Run(fmt.Sprintf("%s/workers=%d", name, workers), func(b *testing.B) {
				for b.Loop() {
					fanoutVirtual(b, name, workers)
				}
			})
		}
	}
}

func fanoutVirtual(b *testing.B, name string, workers int) {
	simchild.Run(b, "TestFanoutSimChild", []string{fmt.Sprintf("%s=%s %d %d", fanoutVirtualEnv, name, workers, *simObjects)})
}

// timeline prints, per simulated second, the writes the Sim accepted and
// the SlowDowns it answered over every partition, and how many partitions
// existed.
func timeline(st s3sim.Stats) string {
	var b strings.Builder
	for sec := 0; ; sec++ {
		var w, slow, parts int32
		any := false
		for _, p := range st.Partitions {
			if p.Created <= time.Duration(sec)*time.Second {
				parts++
			}
			if sec < len(p.PerSecond) {
				any = true
				w += p.PerSecond[sec].Writes
				slow += p.PerSecond[sec].SlowDowns
			}
		}
		if !any {
			return b.String()
		}
		fmt.Fprintf(&b, " %d:%d/%d,%d", sec, w, slow, parts)
	}
}
