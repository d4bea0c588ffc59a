package hotspots

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// reference is the clustering as the detector computed it before it was
// incremental: every pair of points within ScanRadius found again for
// each row (a grid of ScanRadius cells up to four dimensions, all pairs
// above), union-find over the core pairs (the root is the smallest
// index), each other point joining its nearest core neighbour (ties to
// the older). It returns each point's cluster (its root), -1 for noise.
func reference(c Config, pts []float64) []int32 {
	n, k, eps := len(pts)/c.Dims, c.Dims, c.ScanRadius
	r2 := eps * eps
	type pair struct {
		i, j int
		d2   float64
	}
	var pairs []pair
	dist2 := func(i, j int) float64 {
		s := 0.0
		for c := range k {
			e := pts[i*k+c] - pts[j*k+c]
			s += e * e
		}
		return s
	}
	if k > 4 {
		for i := range n {
			for j := i + 1; j < n; j++ {
				if e := dist2(i, j); e <= r2 {
					pairs = append(pairs, pair{i, j, e})
				}
			}
		}
	} else {
		cells := map[[4]int64][]int{}
		keys := make([][4]int64, n)
		for i := range n {
			for c := range k {
				keys[i][c] = int64(math.Floor(pts[i*k+c] / eps))
			}
			cells[keys[i]] = append(cells[keys[i]], i)
		}
		offs := int(math.Pow(3, float64(k)))
		for i := range n {
			for o := range offs {
				key, m := keys[i], o
				for c := range k {
					key[c] += int64(m%3) - 1
					m /= 3
				}
				for _, j := range cells[key] {
					if j > i {
						if e := dist2(i, j); e <= r2 {
							pairs = append(pairs, pair{i, j, e})
						}
					}
				}
			}
		}
	}
	counts, parent, near, nearD := make([]int, n), make([]int, n), make([]int, n), make([]float64, n)
	for i := range n {
		counts[i], parent[i], near[i], nearD[i] = 1, i, -1, math.Inf(1)
	}
	for _, p := range pairs {
		counts[p.i]++
		counts[p.j]++
	}
	root := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	core := func(i int) bool { return counts[i] >= c.MinPoints }
	border := func(b, c int, dist float64) {
		if dist < nearD[b] || dist == nearD[b] && c < near[b] {
			near[b], nearD[b] = c, dist
		}
	}
	for _, p := range pairs {
		switch ci, cj := core(p.i), core(p.j); {
		case ci && cj:
			a, b := root(p.i), root(p.j)
			parent[max(a, b)] = min(a, b)
		case ci:
			border(p.j, p.i, p.d2)
		case cj:
			border(p.i, p.j, p.d2)
		}
	}
	ids := make([]int32, n)
	for i := range n {
		switch {
		case core(i):
			ids[i] = int32(root(i))
		case near[i] >= 0:
			ids[i] = int32(root(near[i]))
		default:
			ids[i] = -1
		}
	}
	return ids
}

// randomPoints are n points in dims dimensions on a coarse lattice (so
// that distances tie and points coincide), some in dense spots, some
// with a NaN.
func randomPoints(rng *rand.Rand, n, dims int, span, step float64) [][]float64 {
	spots := make([][]float64, 3)
	for i := range spots {
		spots[i] = make([]float64, dims)
		for k := range dims {
			spots[i][k] = rng.Float64() * span
		}
	}
	out := make([][]float64, n)
	for i := range out {
		p := make([]float64, dims)
		for k := range p {
			if rng.IntN(2) == 0 {
				p[k] = spots[rng.IntN(len(spots))][k] + rng.NormFloat64()*step*2
			} else {
				p[k] = rng.Float64() * span
			}
			p[k] = math.Round(p[k]/step) * step
		}
		if rng.IntN(50) == 0 {
			p[rng.IntN(dims)] = math.NaN()
		}
		out[i] = p
	}
	return out
}

// TestMatchesBruteForce: after every row of random windows (1 to 6
// dimensions, windows that slide many times, lattice points that tie,
// NaN rows), and across a restore, the incremental detector gives
// exactly the hotspots of the brute-force clustering it replaced.
func TestMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(16, 16))
	for run := range 42 {
		c := Config{Dims: 1 + run%6, WindowSize: 5 + rng.IntN(150), ScanRadius: []float64{0.5, 1, 1.5, 3}[rng.IntN(4)], MinPoints: 2 + rng.IntN(8)}
		d := newDetector(t, c)
		in := randomPoints(rng, 3*c.WindowSize+20, c.Dims, 10, 0.5)
		for i, p := range in {
			got := d.Update(p)
			var want []Hotspot
			if d.n >= c.MinPoints {
				pts := slices.Clone(d.window())
				want = d.boxes(reference(c, pts))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("run %d %+v, row %d:\n got %+v\nwant %+v", run, c, i, got, want)
			}
			if i == len(in)/2 {
				r, _, err := Restore(c, d.AppendState(nil))
				if err != nil {
					t.Fatal(err)
				}
				d = r
			}
		}
	}
}

// FuzzMatchesBruteForce: windows of points from the fuzzer's bytes (a
// configuration, then one coordinate a byte on a lattice of quarter
// radii, so that points sit on cell edges, coincide and tie) give the
// brute-force clustering's hotspots after every row.
func FuzzMatchesBruteForce(f *testing.F) {
	f.Add([]byte{1, 7, 2, 10, 10, 11, 10, 10, 11, 30, 30, 10, 12, 11, 11})
	f.Add([]byte{4, 3, 1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 0, 0, 0, 0, 8, 8, 8, 8})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 3 {
			return
		}
		c := Config{Dims: 1 + int(b[0])%6, WindowSize: 1 + int(b[1])%40, ScanRadius: 1, MinPoints: 2 + int(b[2])%6}
		d := newDetector(t, c)
		b = b[3:]
		for len(b) >= c.Dims {
			p := make([]float64, c.Dims)
			for k := range p {
				p[k] = float64(int(b[k])-128) / 4
				if b[k] == 255 {
					p[k] = math.Inf(1)
				}
			}
			b = b[c.Dims:]
			got := d.Update(p)
			var want []Hotspot
			if d.n >= c.MinPoints {
				want = d.boxes(reference(c, slices.Clone(d.window())))
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%+v after %v:\n got %+v\nwant %+v", c, p, got, want)
			}
		}
	})
}
