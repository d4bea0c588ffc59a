// Package hotspots finds the dense regions of a sliding window of
// points, the model behind Kinesis Data Analytics' HOTSPOTS.
//
// A Detector keeps the last WindowSize records (Dims numeric values each).
// After each record it clusters the window by density (DBSCAN's rule): a
// point with at least MinPoints points, itself included, within
// ScanRadius (Euclidean) is a core point; core points within ScanRadius
// of each other are in one hotspot, and a point that is not core joins
// the hotspot of its nearest core point within ScanRadius. A hotspot is
// reported as the bounding box of its points (Min, Max), its Count, and
// its Density: the hotspot's share of the window's points divided by its
// box's share of the window's box, so that 1 is the window's average
// density (each side of both boxes counts as at least ScanRadius, so
// that flat boxes have a volume). Hotspots come densest first.
//
// Neighbours are found through a grid of ScanRadius cells for up to four
// dimensions and by comparing all pairs above that. Results depend only
// on the window's points in arrival order, so a Detector restored from
// its state continues identically.
package hotspots

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/statebin"
)

// Limits New accepts.
const (
	MaxWindowSize = 1 << 20
	MaxDims       = 1024
)

// Config is a detector's shape.
type Config struct {
	Dims       int
	WindowSize int
	ScanRadius float64
	MinPoints  int
}

// Hotspot is one dense region of the window.
type Hotspot struct {
	Min, Max []float64
	Count    int
	Density  float64
}

// Detector finds hotspots in a sliding window; it is not safe for
// concurrent use.
type Detector struct {
	cfg  Config
	ring []float64 // WindowSize × Dims
	head int       // slot of the oldest point
	n    int       // points in the window

	// scratch
	pts      []float64 // the window oldest first
	pairs    []pair
	cellOf   map[[4]int64]int32
	cellHead []int32
	next     []int32
	cells    [][4]int64
	counts   []int
	parent   []int
	near     []int
	nearD    []float64
}

// New returns a detector with an empty window.
func New(cfg Config) (*Detector, error) {
	switch {
	case cfg.Dims < 1 || cfg.Dims > MaxDims:
		return nil, fmt.Errorf("hotspots: %d numeric columns is outside 1..%d", cfg.Dims, MaxDims)
	case cfg.WindowSize < 1 || cfg.WindowSize > MaxWindowSize:
		return nil, fmt.Errorf("hotspots: windowSize %d is outside 1..%d", cfg.WindowSize, MaxWindowSize)
	case !(cfg.ScanRadius > 0) || math.IsInf(cfg.ScanRadius, 0):
		return nil, fmt.Errorf("hotspots: scanRadius %v is not a positive number", cfg.ScanRadius)
	case cfg.MinPoints < 2:
		return nil, fmt.Errorf("hotspots: minimumNumberOfPointsInAHotspot %d is under 2", cfg.MinPoints)
	}
	return &Detector{cfg: cfg, ring: make([]float64, cfg.WindowSize*cfg.Dims)}, nil
}

// Update adds x (Dims values; a NaN or infinite value leaves the window
// as it is) to the window, dropping the oldest point when it is full,
// and returns the window's hotspots.
func (d *Detector) Update(x []float64) []Hotspot {
	d.add(x)
	return d.find()
}

func (d *Detector) add(x []float64) {
	x = x[:d.cfg.Dims]
	finite := true
	for _, v := range x {
		finite = finite && !math.IsNaN(v) && !math.IsInf(v, 0)
	}
	if finite {
		w, k := d.cfg.WindowSize, d.cfg.Dims
		slot := (d.head + d.n) % w
		if d.n == w {
			d.head = (d.head + 1) % w
		} else {
			d.n++
		}
		copy(d.ring[slot*k:(slot+1)*k], x)
	}
}

// window copies the window into pts, oldest first.
func (d *Detector) window() []float64 {
	k := d.cfg.Dims
	d.pts = d.pts[:0]
	for i := range d.n {
		s := (d.head + i) % d.cfg.WindowSize
		d.pts = append(d.pts, d.ring[s*k:(s+1)*k]...)
	}
	return d.pts
}

func (d *Detector) find() []Hotspot {
	if d.n < d.cfg.MinPoints {
		return nil
	}
	pts := d.window()
	d.neighbours(pts)
	d.cluster()
	return d.boxes(pts)
}

// root is the union-find root of i, compressing the path.
func (d *Detector) root(i int) int {
	for d.parent[i] != i {
		d.parent[i] = d.parent[d.parent[i]]
		i = d.parent[i]
	}
	return i
}

func (d *Detector) core(i int) bool { return d.counts[i] >= d.cfg.MinPoints }

// cluster counts each point's neighbours, joins core points within
// ScanRadius (a cluster's root is its smallest index, whatever the order
// of the pairs) and gives each other point its nearest core neighbour in
// near (-1 when it has none).
func (d *Detector) cluster() {
	n := d.n
	d.counts = slices.Grow(d.counts[:0], n)[:n]
	d.parent = slices.Grow(d.parent[:0], n)[:n]
	d.near = slices.Grow(d.near[:0], n)[:n]
	d.nearD = slices.Grow(d.nearD[:0], n)[:n]
	for i := range n {
		d.counts[i], d.parent[i], d.near[i], d.nearD[i] = 1, i, -1, math.Inf(1) // a point is its own neighbour
	}
	for _, p := range d.pairs {
		d.counts[p.i]++
		d.counts[p.j]++
	}
	border := func(b, c int, dist float64) {
		if dist < d.nearD[b] || dist == d.nearD[b] && c < d.near[b] {
			d.near[b], d.nearD[b] = c, dist
		}
	}
	for _, p := range d.pairs {
		i, j := int(p.i), int(p.j)
		switch ci, cj := d.core(i), d.core(j); {
		case ci && cj:
			a, b := d.root(i), d.root(j)
			d.parent[max(a, b)] = min(a, b)
		case ci:
			border(j, i, p.d2)
		case cj:
			border(i, j, p.d2)
		}
	}
}

// boxes returns the clusters' boxes, counts and densities, densest first.
func (d *Detector) boxes(pts []float64) []Hotspot {
	k, eps := d.cfg.Dims, d.cfg.ScanRadius
	byRoot := map[int]*Hotspot{}
	var roots []int
	wlo, whi := slices.Clone(pts[:k]), slices.Clone(pts[:k])
	for i := range d.n {
		p := pts[i*k : (i+1)*k]
		for j, v := range p {
			wlo[j], whi[j] = min(wlo[j], v), max(whi[j], v)
		}
		var r int
		switch {
		case d.core(i):
			r = d.root(i)
		case d.near[i] >= 0:
			r = d.root(d.near[i])
		default:
			continue
		}
		h := byRoot[r]
		if h == nil {
			h = &Hotspot{Min: slices.Clone(p), Max: slices.Clone(p)}
			byRoot[r] = h
			roots = append(roots, r)
		}
		h.Count++
		for j, v := range p {
			h.Min[j], h.Max[j] = min(h.Min[j], v), max(h.Max[j], v)
		}
	}
	out := make([]Hotspot, 0, len(roots))
	for _, r := range roots {
		h := byRoot[r]
		h.Density = float64(h.Count) / float64(d.n)
		for j := range h.Min {
			h.Density /= max(h.Max[j]-h.Min[j], eps) / max(whi[j]-wlo[j], eps)
		}
		out = append(out, *h)
	}
	slices.SortStableFunc(out, func(a, b Hotspot) int {
		if c := cmp.Compare(b.Density, a.Density); c != 0 {
			return c
		}
		return slices.Compare(a.Min, b.Min)
	})
	return out
}

// pair is two points within ScanRadius, i < j, and their squared
// distance.
type pair struct {
	i, j int32
	d2   float64
}

// neighbours fills d.pairs with every pair of points within ScanRadius.
func (d *Detector) neighbours(pts []float64) {
	n, k, eps := d.n, d.cfg.Dims, d.cfg.ScanRadius
	r2 := eps * eps
	d.pairs = d.pairs[:0]
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
					d.pairs = append(d.pairs, pair{int32(i), int32(j), e})
				}
			}
		}
		return
	}
	// Grid cells of side ScanRadius, each a linked list of its points: a
	// neighbour is in an adjacent cell.
	if d.cellOf == nil {
		d.cellOf = map[[4]int64]int32{}
	}
	clear(d.cellOf)
	d.cellHead = d.cellHead[:0]
	d.next = slices.Grow(d.next[:0], n)[:n]
	d.cells = slices.Grow(d.cells[:0], n)[:n]
	for i := n - 1; i >= 0; i-- { // lists in index order
		var key [4]int64
		for c := range k {
			key[c] = int64(math.Floor(pts[i*k+c] / eps))
		}
		d.cells[i] = key
		id, ok := d.cellOf[key]
		if !ok {
			id = int32(len(d.cellHead))
			d.cellOf[key] = id
			d.cellHead = append(d.cellHead, -1)
		}
		d.next[i] = d.cellHead[id]
		d.cellHead[id] = int32(i)
	}
	offs := 1
	for range k {
		offs *= 3
	}
	for i := range n {
		for o := range offs {
			key, m := d.cells[i], o
			for c := range k {
				key[c] += int64(m%3) - 1
				m /= 3
			}
			id, ok := d.cellOf[key]
			if !ok {
				continue
			}
			for j := d.cellHead[id]; j >= 0; j = d.next[j] {
				if int(j) > i {
					if e := dist2(i, int(j)); e <= r2 {
						d.pairs = append(d.pairs, pair{int32(i), j, e})
					}
				}
			}
		}
	}
}

const stateVersion = 1

// StateError reports a detector state Restore cannot use.
type StateError struct {
	Offset int
	Reason string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("hotspots: state unusable at byte %d: %s", e.Offset, e.Reason)
}

// AppendState appends the window (its configuration, then its points
// oldest first) to b.
func (d *Detector) AppendState(b []byte) []byte {
	c := d.cfg
	b = append(b, stateVersion)
	b = statebin.AppendUvarint(b, uint64(c.Dims))
	b = statebin.AppendUvarint(b, uint64(c.WindowSize))
	b = statebin.AppendFloat(b, c.ScanRadius)
	b = statebin.AppendUvarint(b, uint64(c.MinPoints))
	b = statebin.AppendUvarint(b, uint64(d.n))
	for _, v := range d.window() {
		b = statebin.AppendFloat(b, v)
	}
	return b
}

// Restore reads a state AppendState wrote for a detector of cfg and
// returns the detector and the bytes it used.
func Restore(cfg Config, b []byte) (*Detector, int, error) {
	d, err := New(cfg)
	if err != nil {
		return nil, 0, err
	}
	r := statebin.NewDecoder(b)
	r.In("hotspots state")
	if len(b) == 0 || b[0] != stateVersion {
		r.Failf("not a version %d hotspots state", stateVersion)
		return nil, 0, stateError(r)
	}
	r.Byte()
	dims, win := r.Uvarint(math.MaxUint64), r.Uvarint(math.MaxUint64)
	radius := r.Float()
	minPts := r.Uvarint(math.MaxUint64)
	if r.Err() == nil && (dims != uint64(cfg.Dims) || win != uint64(cfg.WindowSize) || radius != cfg.ScanRadius || minPts != uint64(cfg.MinPoints)) {
		r.Failf("the state is of HOTSPOTS(%d columns, %d, %v, %d), the application's is (%d columns, %d, %v, %d)",
			dims, win, radius, minPts, cfg.Dims, cfg.WindowSize, cfg.ScanRadius, cfg.MinPoints)
	}
	r.In("hotspots window")
	n := r.Count(8 * cfg.Dims)
	if r.Err() == nil && n > cfg.WindowSize {
		r.Failf("%d points in a window of %d", n, cfg.WindowSize)
	}
	for i := range n * cfg.Dims {
		if d.ring[i] = r.Finite(); r.Err() != nil {
			return nil, 0, stateError(r)
		}
	}
	if r.Err() != nil {
		return nil, 0, stateError(r)
	}
	d.n = n
	return d, r.Offset(), nil
}

// stateError is r's error as a *StateError.
func stateError(r *statebin.Decoder) error {
	e := r.Err()
	return &StateError{Offset: e.Offset, Reason: e.Reason}
}
