package fanout_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
	"github.com/lakekit/lakekit/s3copy/fanout/fanoutsim"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
	"github.com/lakekit/lakekit/sqsbatch"
)

// simSetup is one fan-out job on the simulations: which knobs the run
// turns (zero: the defaults of omsenv and template.yaml, as deployed).
type simSetup struct {
	Workers     int // the worker mapping's MaximumConcurrency (template MaxWorkers)
	Concurrency int // copies in flight per worker invocation (CONCURRENCY)
	WorkerBatch int // the worker mapping's BatchSize (template: 10)
	MasterBatch int // the master mapping's BatchSize (template: 1)
	// WorkerWindow is the worker mapping's MaximumBatchingWindow
	// (template: 1 s); negative: none.
	WorkerWindow time.Duration
	Fanout       func(*fanout.FanoutOptions)
	Copier       func(*s3copy.CopierOptions)
	Fleet        func(*fanoutsim.FleetOptions)
	Mapping      func(*fanoutsim.MappingOptions) // both mappings
	Sim          func(*s3sim.SimOptions)
}

// simJob is a finished fan-out job.
type simJob struct {
	sim    *s3sim.Sim
	sqs    *fanoutsim.SQS
	fleet  *fanoutsim.Fleet
	status fanout.Status
	bound  s3sim.Bound
	done   time.Duration // simulated time until Status said Done
	last   time.Duration // until the last worker invocation ended
}

// runFanoutSim copies w (bucket src, prefix raw/) to bucket dst, prefix
// processed/, through the real fan-out handlers run by a simulated Lambda
// fleet on a simulated SQS, against a Sim, all on the Sim's clock: the
// orchestrator's Start, then Status every simulated second until Done.
// Each execution environment builds its own clients, copier and Fanout,
// as the oms-copy Lambdas' omsenv.Fanout does.
func runFanoutSim(tb testing.TB, w s3sim.Workload, su simSetup) simJob {
	tb.Helper()
	ctx := context.Background()
	sim, err := s3sim.New(func(o *s3sim.SimOptions) {
		if su.Sim != nil {
			su.Sim(o)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	sim.PutObjects("src", w.Objects...)
	sim.CreateBucket("dst")
	sim.CreateBucket("ops")
	q, err := fanoutsim.NewSQS(func(o *fanoutsim.SQSOptions) { o.Now, o.Sleep = sim.Now, sim.Sleep })
	if err != nil {
		tb.Fatal(err)
	}
	shardQ, err := q.CreateQueue("shards", map[string]string{"VisibilityTimeout": "900"})
	if err != nil {
		tb.Fatal(err)
	}
	taskQ, err := q.CreateQueue("tasks", map[string]string{"VisibilityTimeout": "1800"})
	if err != nil {
		tb.Fatal(err)
	}
	newFanout := func(withCopier bool) (*fanout.Fanout, error) {
		s3c := sim.Client()
		var copier *s3copy.Copier
		if withCopier {
			var err error
			if copier, err = s3copy.New(s3c, func(o *s3copy.CopierOptions) {
				o.Concurrency = su.Concurrency
				o.Now, o.Sleep = sim.Now, sim.Sleep
				if su.Copier != nil {
					su.Copier(o)
				}
			}); err != nil {
				return nil, err
			}
		}
		return fanout.New(s3c, q.Client(), copier, shardQ, taskQ, func(o *fanout.FanoutOptions) {
			o.StatusLocation = s3copy.Location{Bucket: "ops", Prefix: "jobs/"}
			o.Logger = simLogger
			if su.Fanout != nil {
				su.Fanout(o)
			}
		})
	}
	fleet, err := fanoutsim.NewFleet(func(o *fanoutsim.FleetOptions) {
		o.Now, o.Sleep = sim.Now, sim.Sleep
		if su.Fleet != nil {
			su.Fleet(o)
		}
	})
	if err != nil {
		tb.Fatal(err)
	}
	mapping := func(batch int, timeout time.Duration, more func(*fanoutsim.MappingOptions)) func(*fanoutsim.MappingOptions) {
		return func(o *fanoutsim.MappingOptions) {
			o.BatchSize, o.Timeout = batch, timeout
			if more != nil {
				more(o)
			}
			if su.Mapping != nil {
				su.Mapping(o)
			}
		}
	}
	if _, err := fleet.Map(q, shardQ, func(context.Context) (sqsbatch.BatchHandler, error) {
		f, err := newFanout(false)
		if err != nil {
			return nil, err
		}
		return f.HandleShards, nil
	}, mapping(max(su.MasterBatch, 1), 150*time.Second, nil)); err != nil {
		tb.Fatal(err)
	}
	if _, err := fleet.Map(q, taskQ, func(context.Context) (sqsbatch.BatchHandler, error) {
		f, err := newFanout(true)
		if err != nil {
			return nil, err
		}
		return f.HandleTasks, nil
	}, mapping(max(su.WorkerBatch, 10), 300*time.Second, func(o *fanoutsim.MappingOptions) {
		o.MaximumBatchingWindow = max(0, cmp.Or(su.WorkerWindow, time.Second))
		o.MaximumConcurrency = su.Workers
	})); err != nil {
		tb.Fatal(err)
	}

	orch, err := newFanout(false)
	if err != nil {
		tb.Fatal(err)
	}
	start := sim.Now()
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = fleet.Run(runCtx) })
	defer func() { stop(); wg.Wait() }() // also when tb.Fatal leaves early
	job := fanout.Job{ID: "job-1", Src: s3copy.Location{Bucket: "src", Prefix: "raw/"}, Dst: s3copy.Location{Bucket: "dst", Prefix: "processed/"}}
	r := simJob{sim: sim, sqs: q, fleet: fleet, bound: sim.LowerBound(w.Objects, "raw/", "processed/")}
	if err := orch.Start(ctx, job); err != nil {
		tb.Fatal(err)
	}
	for !r.status.Done {
		if err := sim.Sleep(ctx, time.Second); err != nil {
			tb.Fatal(err)
		}
		if r.status, err = orch.Status(ctx, job.ID); err != nil {
			tb.Fatal(err)
		}
		if sim.Now().Sub(start) > 10*time.Minute {
			tb.Fatalf("not done after 10 simulated minutes: %+v; %+v", r.status, fleet.Stats())
		}
	}
	r.done = sim.Now().Sub(start)
	for _, st := range fleet.Stats() {
		if st.Name == "tasks" {
			r.last = st.Last.Sub(start)
		}
	}
	return r
}

// requests sums the Sim's requests.
func (r simJob) requests() (total int64) {
	for _, n := range r.sim.Stats().Requests {
		total += n
	}
	return total
}

func (r simJob) String() string {
	var b strings.Builder
	st := r.sim.Stats()
	fmt.Fprintf(&b, "copy %.1fs simulated (%.2f× bound), Done seen at %.1fs; S3 requests %d %v, SlowDowns %d, partitions %d, max in flight %d; SQS %v;",
		r.last.Seconds(), r.last.Seconds()/r.bound.Total.Seconds(), r.done.Seconds(), r.requests(), sortedMap(st.Requests), st.SlowDowns, len(st.Partitions), st.MaxInFlight, sortedMap(r.sqs.Requests()))
	for _, m := range r.fleet.Stats() {
		fmt.Fprintf(&b, " %s: %d invocations, %d cold starts, max %d at once, %d pollers, %d throttled, %d failed messages;",
			m.Name, m.Invocations, m.ColdStarts, m.MaxConcurrency, m.Pollers, m.Throttles, m.FailedMessages)
	}
	fmt.Fprintf(&b, " status %+v; %v", r.status, r.bound)
	return b.String()
}

func sortedMap(m map[string]int64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

var simLogger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
