package simplot_test

import (
	"context"
	"flag"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"

	"github.com/lakekit/lakekit/examples/oms-copy/simplot"
	"github.com/lakekit/lakekit/internal/simchild"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

var (
	pngPath = flag.String("png", "", "where BenchmarkHotPrefix writes its plot (default: a temporary file)")
	objects = flag.Int("objects", 0, "objects of BenchmarkHotPrefix's workload (0: the seed's 302,400)")
)

// hotCopy copies a seed workload with hot of its objects in one dt=
// partition on a fresh Sim (series by destination folder) with s3copy's
// defaults, on the Sim's clock, and returns the Sim's stats, the copy's
// simulated time and the model's bound.
func hotCopy(t testing.TB, hot float64, shape ...func(*s3sim.WorkloadOptions)) (s3sim.Stats, s3copy.Stats, s3sim.Bound) {
	w, err := s3sim.SeedWorkload(append(shape, func(o *s3sim.WorkloadOptions) { o.Hot = hot })...)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := s3sim.New(func(o *s3sim.SimOptions) { o.SeriesDepth = 2 })
	if err != nil {
		t.Fatal(err)
	}
	sim.PutObjects("src", w.Objects...)
	sim.CreateBucket("dst")
	c, err := s3copy.New(sim.Client(), func(o *s3copy.CopierOptions) { o.Now, o.Sleep = sim.Now, sim.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Copy(context.Background(), s3copy.Location{Bucket: "src", Prefix: "raw/"}, s3copy.Location{Bucket: "dst", Prefix: "processed/"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stats.Copied != int64(len(w.Objects)) {
		t.Fatalf("copied %d of %d", res.Stats.Copied, len(w.Objects))
	}
	return sim.Stats(), res.Stats, sim.LowerBound(w.Objects, "raw/", "processed/")
}

func figure(title string) simplot.Figure {
	return simplot.Figure{Title: title, Bucket: "dst", Trim: "processed/", Splits: true, Limit: s3sim.DefaultWriteRate}
}

// TestWritePNG plots a small hot copy (3,000 objects, 80% in one
// partition) and decodes the PNG.
func TestWritePNG(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, _, _ := hotCopy(t, 0.8, s3sim.Small)
		path := filepath.Join(t.TempDir(), "hot.png")
		if err := simplot.WritePNG(path, st, figure("small hot copy")); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		if b := img.Bounds(); b.Dx() < 500 || b.Dy() < 300 {
			t.Fatalf("image %v", b)
		}
		if err := simplot.WritePNG(path, st, simplot.Figure{Bucket: "none"}); err == nil {
			t.Fatal("no error for a bucket without series")
		}
	})
}

// childEnv makes the test binary run BenchmarkHotPrefix's copy in a
// synctest bubble (virtual time) in TestHotPrefixChild; the value is the
// PNG's path.
const childEnv = "SIMPLOT_HOT_CHILD"

// TestHotPrefixChild is the child side of BenchmarkHotPrefix.
func TestHotPrefixChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by BenchmarkHotPrefix")
	}
	synctest.Test(t, func(t *testing.T) {
		var shape []func(*s3sim.WorkloadOptions)
		if *objects > 0 {
			shape = append(shape, func(o *s3sim.WorkloadOptions) {
				o.Objects = *objects
				o.TotalSize = int64(float64(o.Objects) / s3sim.DefaultWorkloadObjects * s3sim.DefaultTotalSize)
				o.MaxSize = min(s3sim.DefaultMaxSize, o.TotalSize/4)
			})
		}
		st, cs, bound := hotCopy(t, 0.8, shape...)
		title := fmt.Sprintf("s3copy defaults, seed workload with 80%% of %d objects in one dt= partition: %.1f s simulated, bound %.1f s (%.2fx)",
			cs.Listed, cs.Elapsed.Seconds(), bound.Total.Seconds(), cs.Elapsed.Seconds()/bound.Total.Seconds())
		if err := simplot.WritePNG(path, st, figure(title)); err != nil {
			t.Fatal(err)
		}
		simchild.Result(map[string]float64{"sim-s": cs.Elapsed.Seconds(), "bound-s": bound.Total.Seconds(),
			"slowdowns": float64(st.SlowDowns), "peak-concurrency": float64(cs.PeakConcurrency)})
		simchild.Log("%s", bound)
	})
}

// BenchmarkHotPrefix copies the seed's workload (-objects shrinks it)
// with 80% of the objects in one dt= partition, with s3copy's defaults on
// s3sim in virtual time (a synctest bubble in a child process), writes the
// plot of the destination folders' requests/s and SlowDowns/s to -png, and
// reports the simulated time against the model's bound.
func BenchmarkHotPrefix(b *testing.B) {
	path := *pngPath
	if path == "" {
		path = filepath.Join(b.TempDir(), "hot-prefix.png")
	} else if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	for b.Loop() {
		simchild.Run(b, "TestHotPrefixChild", []string{childEnv + "=" + path}, fmt.Sprintf("-objects=%d", *objects))
	}
	b.Logf("plot: %s", path)
}
