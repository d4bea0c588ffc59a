package hotspots

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// gen is a uniform background on [0,100]^dims with dense balls around
// centers: every third point is in a ball of radius r.
func gen(n, dims int, centers [][]float64, r float64, seed uint64) [][]float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([][]float64, n)
	for i := range out {
		p := make([]float64, dims)
		if i%3 == 0 {
			c := centers[rng.IntN(len(centers))]
			for {
				s := 0.0
				for k := range p {
					p[k] = (rng.Float64()*2 - 1) * r
					s += p[k] * p[k]
				}
				if s <= r*r {
					break
				}
			}
			for k := range p {
				p[k] += c[k]
			}
		} else {
			for k := range p {
				p[k] = rng.Float64() * 100
			}
		}
		out[i] = p
	}
	return out
}

func newDetector(t testing.TB, c Config) *Detector {
	t.Helper()
	d, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestFindsDenseRegions: the generated dense balls are the hotspots,
// each box around its ball and far denser than the window, in 2, 3 and
// (all pairs) 6 dimensions.
func TestFindsDenseRegions(t *testing.T) {
	for _, dims := range []int{2, 3, 6} {
		centers := [][]float64{make([]float64, dims), make([]float64, dims)}
		for k := range dims {
			centers[0][k], centers[1][k] = 20, 70
		}
		centers[1][0] = 40
		d := newDetector(t, Config{Dims: dims, WindowSize: 1000, ScanRadius: 3, MinPoints: 12})
		in := gen(3000, dims, centers, 2, uint64(dims))
		for _, p := range in[:2990] {
			d.add(p)
		}
		var hs []Hotspot
		for _, p := range in[2990:] {
			hs = d.Update(p)
		}
		if len(hs) != 2 {
			t.Fatalf("%d dimensions: %d hotspots, want 2: %+v", dims, len(hs), hs)
		}
		for _, c := range centers {
			found := false
			for _, h := range hs {
				in := true
				for k := range c {
					in = in && h.Min[k] >= c[k]-2-3 && h.Max[k] <= c[k]+2+3 && h.Min[k] <= c[k] && c[k] <= h.Max[k]
				}
				if in {
					found = true
					if h.Count < 100 || h.Density < 10 {
						t.Errorf("%d dimensions: the hotspot at %v holds %d points, density %.1f", dims, c, h.Count, h.Density)
					}
				}
			}
			if !found {
				t.Errorf("%d dimensions: no hotspot around %v in %+v", dims, c, hs)
			}
		}
		if hs[0].Density < hs[1].Density {
			t.Errorf("hotspots not densest first: %v, %v", hs[0].Density, hs[1].Density)
		}
	}
}

// TestWindowSlides: once a dense region's points leave the window, its
// hotspot goes.
func TestWindowSlides(t *testing.T) {
	d := newDetector(t, Config{Dims: 2, WindowSize: 300, ScanRadius: 2, MinPoints: 10})
	for _, p := range gen(600, 2, [][]float64{{50, 50}}, 1, 7) {
		d.Update(p)
	}
	if hs := d.Update([]float64{0, 0}); len(hs) != 1 {
		t.Fatalf("%d hotspots with the dense region in the window", len(hs))
	}
	rng := rand.New(rand.NewPCG(8, 8))
	var hs []Hotspot
	for range 300 {
		hs = d.Update([]float64{rng.Float64() * 100, rng.Float64() * 100})
	}
	if len(hs) != 0 {
		t.Fatalf("%d hotspots in a uniform window: %+v", len(hs), hs)
	}
}

func TestStateRoundTrip(t *testing.T) {
	c := Config{Dims: 2, WindowSize: 200, ScanRadius: 2, MinPoints: 8}
	in := gen(900, 2, [][]float64{{30, 30}, {60, 80}}, 1.5, 9)
	a := newDetector(t, c)
	for _, p := range in[:450] {
		a.Update(p)
	}
	st := a.AppendState(nil)
	b, n, err := Restore(c, st)
	if err != nil || n != len(st) {
		t.Fatalf("Restore: %v, %d of %d bytes", err, n, len(st))
	}
	for i, p := range in[450:] {
		if ha, hb := a.Update(p), b.Update(p); !reflect.DeepEqual(ha, hb) {
			t.Fatalf("record %d after the restore: %+v, the original %+v", 450+i, hb, ha)
		}
	}
	c.MinPoints = 9
	if _, _, err := Restore(c, st); err == nil {
		t.Fatal("a state restored into another configuration")
	}
}

func TestNewRejects(t *testing.T) {
	for _, c := range []Config{
		{Dims: 0, WindowSize: 10, ScanRadius: 1, MinPoints: 2},
		{Dims: 1, WindowSize: 0, ScanRadius: 1, MinPoints: 2},
		{Dims: 1, WindowSize: 10, ScanRadius: 0, MinPoints: 2},
		{Dims: 1, WindowSize: 10, ScanRadius: math.Inf(1), MinPoints: 2},
		{Dims: 1, WindowSize: 10, ScanRadius: 1, MinPoints: 1},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v) succeeded", c)
		}
	}
}

func FuzzRestore(f *testing.F) {
	c := Config{Dims: 2, WindowSize: 16, ScanRadius: 2, MinPoints: 3}
	d, _ := New(c)
	f.Add(d.AppendState(nil))
	for _, p := range gen(40, 2, [][]float64{{5, 5}}, 1, 3) {
		d.Update(p)
	}
	f.Add(d.AppendState(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := Restore(c, b)
		if err != nil {
			if _, ok := err.(*StateError); !ok {
				t.Fatalf("%T: %v", err, err)
			}
			return
		}
		if n > len(b) {
			t.Fatalf("used %d of %d bytes", n, len(b))
		}
		r.Update([]float64{1, 2})
	})
}

// BenchmarkUpdate: one record into a full window of 1000 2-D points.
func BenchmarkUpdate(b *testing.B) {
	d := newDetector(b, Config{Dims: 2, WindowSize: 1000, ScanRadius: 3, MinPoints: 12})
	in := gen(4096, 2, [][]float64{{20, 20}, {40, 70}}, 2, 1)
	for _, p := range in[:1000] {
		d.Update(p)
	}
	b.ResetTimer()
	for i := range b.N {
		d.Update(in[i%len(in)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
