package rcf

import (
	"bytes"
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
)

func defaults(dims int) Config {
	return Config{Dims: dims, Trees: DefaultTrees, SampleSize: DefaultSampleSize, TimeDecay: DefaultTimeDecay, ShingleSize: DefaultShingleSize, Seed: 7}
}

func newForest(t testing.TB, c Config) *Forest {
	t.Helper()
	f, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestInjectedOutliersRankTop: in a stream of three Gaussian clusters,
// the 12 points injected far from every cluster get the 12 highest
// scores.
func TestInjectedOutliersRankTop(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := newForest(t, defaults(2))
	centers := [][2]float64{{0, 0}, {10, 10}, {-8, 12}}
	injected := map[int]bool{}
	for len(injected) < 12 {
		injected[1000+rng.IntN(4000)] = true
	}
	type scored struct {
		i int
		s float64
	}
	var scores []scored
	for i := range 5000 {
		c := centers[rng.IntN(3)]
		x := []float64{c[0] + rng.NormFloat64(), c[1] + rng.NormFloat64()}
		if injected[i] {
			a := rng.Float64() * 2 * math.Pi
			x = []float64{1 + 25*math.Cos(a), 6 + 25*math.Sin(a)}
		}
		s := f.Update(x)
		if i >= 1000 {
			scores = append(scores, scored{i, s})
		}
	}
	slices.SortFunc(scores, func(a, b scored) int { return cmp.Compare(b.s, a.s) })
	for _, s := range scores[:12] {
		if !injected[s.i] {
			t.Errorf("record %d (score %.2f) is in the top 12, not injected; 12th score %.2f", s.i, s.s, scores[11].s)
		}
	}
	t.Logf("top score %.2f, 12th %.2f, 13th %.2f, median %.2f", scores[0].s, scores[11].s, scores[12].s, scores[len(scores)/2].s)
}

// TestFarPointScoresHigher: a point far from the bulk scores far above
// one in its middle.
func TestFarPointScoresHigher(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	f := newForest(t, defaults(3))
	for range 3000 {
		f.Update([]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()})
	}
	bulk := f.Update([]float64{0, 0, 0})
	far := f.Update([]float64{0, 40, 0})
	if !(far > 10*bulk) || bulk <= 0 {
		t.Fatalf("far point %.3f, bulk point %.3f: want far > 10× bulk", far, bulk)
	}
	t.Logf("far %.2f, bulk %.2f", far, bulk)
}

// TestTreesStayConsistent checks after every update that each tree's
// boxes and masses equal a recomputation from its leaves, its cuts
// separate, and its sample is its leaves: small samples and a short
// decay evict often; integer values make duplicates.
func TestTreesStayConsistent(t *testing.T) {
	for _, c := range []Config{
		{Dims: 1, Trees: 3, SampleSize: 8, TimeDecay: 5, ShingleSize: 1, Seed: 1},
		{Dims: 3, Trees: 5, SampleSize: 16, TimeDecay: 20, ShingleSize: 1, Seed: 2},
		{Dims: 2, Trees: 4, SampleSize: 32, TimeDecay: 1e6, ShingleSize: 3, Seed: 3},
	} {
		rng := rand.New(rand.NewPCG(5, uint64(c.Dims)))
		f := newForest(t, c)
		x := make([]float64, c.Dims)
		for i := range 3000 {
			for k := range x {
				x[k] = float64(rng.IntN(6))
				if i%3 == 0 {
					x[k] = rng.NormFloat64() * 100
				}
			}
			f.Update(x)
			if err := f.check(); err != nil {
				t.Fatalf("%+v after %d updates: %v", c, i+1, err)
			}
		}
		for i := range f.trees {
			if n := len(f.trees[i].heap); n != c.SampleSize {
				t.Fatalf("tree %d samples %d points, want %d", i, n, c.SampleSize)
			}
		}
	}
}

// TestTimeDecayKeepsRecent: with a short decay the sample holds mostly
// recent points; with the default long one it spreads over the stream.
func TestTimeDecayKeepsRecent(t *testing.T) {
	meanAge := func(decay float64) float64 {
		f := newForest(t, Config{Dims: 1, Trees: 10, SampleSize: 64, TimeDecay: decay, ShingleSize: 1, Seed: 9})
		for i := range 20000 {
			f.Update([]float64{float64(i)})
		}
		sum, n := 0.0, 0
		for _, tr := range f.trees {
			for _, e := range tr.heap {
				sum += float64(f.t - e.t)
				n++
			}
		}
		return sum / float64(n)
	}
	short, long := meanAge(500), meanAge(DefaultTimeDecay)
	if !(short < 1500 && long > 5000) {
		t.Fatalf("mean age of sampled points %.0f with decay 500, %.0f with %d", short, long, DefaultTimeDecay)
	}
}

func stream(n int, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 0))
	out := make([][]float64, n)
	for i := range out {
		out[i] = []float64{rng.NormFloat64(), 5 + rng.NormFloat64()*2}
		if i%500 == 499 {
			out[i][0] += 30
		}
	}
	return out
}

func TestSameSeedSameScores(t *testing.T) {
	in := stream(2000, 11)
	run := func(seed uint64) []float64 {
		c := defaults(2)
		c.Seed = seed
		f := newForest(t, c)
		var s []float64
		for _, x := range in {
			s = append(s, f.Update(x))
		}
		return s
	}
	a, b, other := run(1), run(1), run(2)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave different scores")
	}
	if slices.Equal(a, other) {
		t.Fatal("another seed gave the same scores")
	}
}

// TestStateRoundTrip: a forest restored from its state scores the rest
// of the stream bit-identically, and writes the same state.
func TestStateRoundTrip(t *testing.T) {
	in := stream(4000, 12)
	for _, c := range []Config{defaults(2), {Dims: 2, Trees: 7, SampleSize: 32, TimeDecay: 50, ShingleSize: 4, Seed: 5}} {
		a := newForest(t, c)
		for _, x := range in[:2500] {
			a.Update(x)
		}
		st := a.AppendState(nil)
		b, n, err := Restore(c, st)
		if err != nil {
			t.Fatal(err)
		}
		if n != len(st) {
			t.Fatalf("Restore used %d of %d bytes", n, len(st))
		}
		if err := b.check(); err != nil {
			t.Fatal(err)
		}
		if st2 := b.AppendState(nil); !bytes.Equal(st, st2) {
			t.Fatalf("the restored forest's state differs (%d and %d bytes)", len(st), len(st2))
		}
		ha, la, hb, lb := make([]float64, 2), make([]float64, 2), make([]float64, 2), make([]float64, 2)
		for i, x := range in[2500:] {
			sa, sb := a.Explain(x, ha, la), b.Explain(x, hb, lb)
			if sa != sb || !slices.Equal(ha, hb) || !slices.Equal(la, lb) {
				t.Fatalf("%+v: record %d after the restore scores %v %v %v, the original %v %v %v", c, 2500+i, sb, hb, lb, sa, ha, la)
			}
		}
		t.Logf("%d trees × %d: %d bytes of state", c.Trees, c.SampleSize, len(st))
		if _, _, err := Restore(Config{Dims: 2, Trees: 7, SampleSize: 32, TimeDecay: 51, ShingleSize: 4, Seed: 5}, st); err == nil && c.Trees == 7 {
			t.Fatal("a state restored into another configuration")
		}
	}
}

// TestExplain: attributions sum to the score, and a record far above
// the bulk in one column is attributed to that column, high.
func TestExplain(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	f := newForest(t, defaults(3))
	hi, lo := make([]float64, 3), make([]float64, 3)
	for i := range 3000 {
		x := []float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		s := f.Explain(x, hi, lo)
		if sum := hi[0] + hi[1] + hi[2] + lo[0] + lo[1] + lo[2]; math.Abs(sum-s) > 1e-9*max(1, s) {
			t.Fatalf("record %d: attributions sum to %v, the score is %v", i, sum, s)
		}
	}
	s := f.Explain([]float64{0, 25, 0}, hi, lo)
	if !(hi[1] > 0.9*s) {
		t.Fatalf("score %.2f: high %v low %v; want column 1 high to hold most of it", s, hi, lo)
	}
	s = f.Explain([]float64{-25, 0, 0}, hi, lo)
	if !(lo[0] > 0.9*s) {
		t.Fatalf("score %.2f: high %v low %v; want column 0 low to hold most of it", s, hi, lo)
	}
}

func TestNewRejects(t *testing.T) {
	for _, c := range []Config{
		{Dims: 0, Trees: 1, SampleSize: 1, TimeDecay: 1, ShingleSize: 1},
		{Dims: 1, Trees: 0, SampleSize: 1, TimeDecay: 1, ShingleSize: 1},
		{Dims: 1, Trees: 1, SampleSize: 0, TimeDecay: 1, ShingleSize: 1},
		{Dims: 1, Trees: 1, SampleSize: 1, TimeDecay: 0, ShingleSize: 1},
		{Dims: 1, Trees: 1, SampleSize: 1, TimeDecay: math.NaN(), ShingleSize: 1},
		{Dims: 1, Trees: 1, SampleSize: 1, TimeDecay: 1, ShingleSize: 0},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
	f := newForest(t, defaults(1))
	if s := f.Update([]float64{math.NaN()}); s != 0 || f.t != 0 {
		t.Fatal("a NaN entered the forest")
	}
}

func FuzzRestore(f *testing.F) {
	c := Config{Dims: 2, Trees: 3, SampleSize: 8, TimeDecay: 10, ShingleSize: 2, Seed: 1}
	fo, _ := New(c)
	for i, x := range stream(40, 3) {
		fo.Update(x)
		if i%13 == 0 {
			f.Add(fo.AppendState(nil))
		}
	}
	f.Add(fo.AppendState(nil))
	f.Add([]byte{1})
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, n, err := Restore(c, b)
		if err != nil {
			if _, ok := err.(*StateError); !ok {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		if err := fr.check(); err != nil {
			t.Fatalf("restored an inconsistent forest: %v", err)
		}
		for _, x := range stream(20, 4) {
			fr.Update(x)
		}
		if err := fr.check(); err != nil {
			t.Fatal(err)
		}
	})
}

// BenchmarkUpdate: one record (2 values) scored and added to 100 trees
// of 256 points, the KDA defaults, on a forest already in its steady
// state.
func BenchmarkUpdate(b *testing.B) {
	f := newForest(b, defaults(2))
	in := stream(1<<16, 21)
	for _, x := range in[:20000] {
		f.Update(x)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuSeconds()
	for i := range b.N {
		f.Update(in[i&(len(in)-1)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N)/(cpuSeconds()-cpu0), "rows/cpu-s")
}

// cpuSeconds is the process's user+system CPU time: on a shared machine
// a single-goroutine rate per CPU second is steadier than per wall second.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
