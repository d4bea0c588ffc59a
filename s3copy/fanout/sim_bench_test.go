package fanout_test

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

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
		fmt.Printf("SIMRESULT %f %f %f %d %d %d %d %d %d %d %d\n", r.last.Seconds(), r.done.Seconds(), r.bound.Total.Seconds(),
			r.requests(), st.Requests["ListObjectsV2"], st.SlowDowns, inv, cold, maxConc, sqsReq, r.status.Copied)
		fmt.Printf("SIMLOG %s\n", r)
		objs := r.sim.Objects("dst")
		slices.SortFunc(objs, func(a, b s3sim.Object) int { return b.LastModified.Compare(a.LastModified) })
		var lastObjs []string
		for _, o := range objs[:min(8, len(objs))] {
			lastObjs = append(lastObjs, fmt.Sprintf("%s %d B at %.2fs", o.Key, o.Size, o.LastModified.Sub(objs[len(objs)-1].LastModified).Seconds()))
		}
		fmt.Printf("SIMLOG last copied: %s\n", strings.Join(lastObjs, "; "))
		var parts []string
		for _, p := range st.Partitions {
			parts = append(parts, fmt.Sprintf("%s/%s@%.0fs:%d", p.Bucket, p.Prefix, p.Created.Seconds(), p.SlowDowns))
		}
		fmt.Printf("SIMLOG partitions (created, SlowDowns): %s\n", strings.Join(parts, " "))
		fmt.Printf("SIMLOG per second (writes accepted/SlowDowns, partitions): %s\n", timeline(st))
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
	cmd := exec.Command(os.Args[0], "-test.run=^TestFanoutSimChild$", "-test.timeout=60m")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", fanoutVirtualEnv, name, workers, *simObjects))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%v: %s", err, out)
	}
	var simS, doneS, boundS float64
	var requests, lists, slow, inv, cold, maxConc, sqsReq, copied int64
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "SIMRESULT "); ok {
			if _, err := fmt.Sscan(rest, &simS, &doneS, &boundS, &requests, &lists, &slow, &inv, &cold, &maxConc, &sqsReq, &copied); err != nil {
				b.Fatal(err)
			}
		}
		if rest, ok := strings.CutPrefix(line, "SIMLOG "); ok {
			b.Log(strings.TrimSpace(rest))
		}
	}
	if boundS == 0 {
		b.Fatalf("no result: %s", out)
	}
	b.ReportMetric(simS, "sim-s")
	b.ReportMetric(doneS, "done-s")
	b.ReportMetric(boundS, "bound-s")
	b.ReportMetric(simS/boundS, "x-bound")
	b.ReportMetric(float64(requests), "s3-requests")
	b.ReportMetric(float64(lists), "lists")
	b.ReportMetric(float64(slow), "slowdowns")
	b.ReportMetric(float64(inv), "invocations")
	b.ReportMetric(float64(cold), "cold-starts")
	b.ReportMetric(float64(maxConc), "max-concurrent")
	b.ReportMetric(float64(sqsReq), "sqs-requests")
	b.ReportMetric(float64(copied), "copied")
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
