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
// The clustering is kept up to date as points arrive and leave (see
// Detector), so that a row costs about its neighbourhood rather than the
// whole window; a new point's neighbours are found through a grid of
// ScanRadius cells for up to four dimensions and by comparing it with
// every point above that. Results depend only on the window's points in
// arrival order — they are those of clustering the window from scratch
// (TestMatchesBruteForce) — so a Detector restored from its state
// continues identically.
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
//
// It keeps the clustering up to date point by point: each point's
// neighbours (oldest first) and their count, the core points' clusters
// (labels with their member lists), and each other point's nearest core
// neighbour. A point that arrives or leaves touches only its
// neighbourhood: counts and neighbour lists of its neighbours, the
// clusters of the points whose core status changes (merged on arrival,
// split by a search within the cluster on departure) and the nearest
// core neighbour of the points around them. Only the boxes are
// recomputed for each row, in one pass over the window.
type Detector struct {
	cfg  Config
	ring []float64 // WindowSize × Dims
	head int       // slot of the oldest point
	n    int       // points in the window

	// per slot, grown as the window first fills
	seq   []int64    // arrival number: window order
	count []int32    // points within ScanRadius, itself included
	adj   [][]near   // its neighbours, oldest first
	label []int32    // a core point's cluster, else -1
	pos   []int32    // a core point's index in its cluster's members
	mark  []uint64   // scratch marks, current when equal to epoch
	near  []near     // a non-core point's nearest core neighbour (s -1: none)
	key   [][4]int64 // grid cell (Dims ≤ 4)

	arrivals int64
	grid     map[[4]int64][]int32 // cell of side ScanRadius → its slots, oldest first (Dims ≤ 4)
	members  [][]int32            // per label: its core slots
	free     []int32              // unused labels
	epoch    uint64

	// scratch
	pts     []float64
	ids     []int32
	found   []near
	changed []int32
	at      []int32
	queue   []int32
	losses  []loss
}

// loss is a cluster that lost n core points, c one of them.
type loss struct{ l, c, n int32 }

// near is a neighbouring slot and its squared distance.
type near struct {
	s  int32
	d2 float64
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
	return &Detector{cfg: cfg, ring: make([]float64, cfg.WindowSize*cfg.Dims), grid: map[[4]int64][]int32{}}, nil
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
	for _, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return
		}
	}
	w, k := d.cfg.WindowSize, d.cfg.Dims
	if d.n == w {
		d.remove()
	}
	slot := (d.head + d.n) % w
	if slot == len(d.seq) { // the slots fill in order before the first removal
		d.seq, d.count, d.adj = append(d.seq, 0), append(d.count, 0), append(d.adj, nil)
		d.label, d.pos, d.mark, d.near = append(d.label, -1), append(d.pos, 0), append(d.mark, 0), append(d.near, near{})
		if k <= 4 {
			d.key = append(d.key, [4]int64{})
		}
	}
	d.n++
	copy(d.ring[slot*k:(slot+1)*k], x)
	d.insert(int32(slot))
}

// slot is the slot of the window's i-th oldest point.
func (d *Detector) slot(i int) int32 {
	s := d.head + i
	if s >= d.cfg.WindowSize {
		s -= d.cfg.WindowSize
	}
	return int32(s)
}

func (d *Detector) point(s int32) []float64 {
	k := d.cfg.Dims
	return d.ring[int(s)*k : (int(s)+1)*k]
}

func (d *Detector) dist2(a, b int32) float64 {
	x, y := d.point(a), d.point(b)
	s := 0.0
	for c := range x {
		e := x[c] - y[c]
		s += e * e
	}
	return s
}

func (d *Detector) core(s int32) bool { return int(d.count[s]) >= d.cfg.MinPoints }

// before orders candidates for a nearest core neighbour: nearer, then
// older.
func (d *Detector) before(a, b near) bool {
	return b.s < 0 || a.d2 < b.d2 || a.d2 == b.d2 && d.seq[a.s] < d.seq[b.s]
}

// neighbours returns the points within ScanRadius of slot s (not s),
// oldest first.
func (d *Detector) neighbours(s int32) []near {
	r2 := d.cfg.ScanRadius * d.cfg.ScanRadius
	d.found = d.found[:0]
	try := func(j int32) {
		if j != s {
			if e := d.dist2(s, j); e <= r2 {
				d.found = append(d.found, near{j, e})
			}
		}
	}
	if d.cfg.Dims > 4 {
		for i := range d.n {
			try(d.slot(i))
		}
		return d.found
	}
	k := d.cfg.Dims
	offs := 1
	for range k {
		offs *= 3
	}
	for o := range offs {
		key, m := d.key[s], o
		for c := range k {
			key[c] += int64(m%3) - 1
			m /= 3
		}
		for _, j := range d.grid[key] {
			try(j)
		}
	}
	slices.SortFunc(d.found, func(a, b near) int { return cmp.Compare(d.seq[a.s], d.seq[b.s]) })
	return d.found
}

// insert adds the point in slot s, the newest.
func (d *Detector) insert(s int32) {
	d.seq[s] = d.arrivals
	d.arrivals++
	if d.cfg.Dims <= 4 {
		var key [4]int64
		for c, v := range d.point(s) {
			key[c] = int64(math.Floor(v / d.cfg.ScanRadius))
		}
		d.key[s] = key
		d.grid[key] = append(d.grid[key], s)
	}
	nb := d.neighbours(s)
	d.adj[s] = append(d.adj[s][:0], nb...)
	d.count[s], d.label[s], d.near[s] = int32(len(nb)+1), -1, near{-1, 0}
	d.changed = d.changed[:0]
	for _, q := range nb {
		d.adj[q.s] = append(d.adj[q.s], near{s, q.d2})
		if d.count[q.s]++; int(d.count[q.s]) == d.cfg.MinPoints {
			d.changed = append(d.changed, q.s)
		}
	}
	if d.core(s) {
		d.changed = append(d.changed, s)
	}
	// New core points join their core neighbours' clusters and are
	// candidates for their other neighbours' nearest core neighbour.
	for _, c := range d.changed {
		d.join(c)
		for _, q := range d.adj[c] {
			if !d.core(q.s) {
				if cand := (near{c, q.d2}); d.before(cand, d.near[q.s]) {
					d.near[q.s] = cand
				}
			}
		}
	}
	if !d.core(s) {
		d.nearest(s)
	}
}

// join gives the new core point c the cluster of its core neighbours,
// merging theirs into the largest one, or a new cluster.
func (d *Detector) join(c int32) {
	to := int32(-1)
	for _, q := range d.adj[c] {
		if l := d.label[q.s]; l >= 0 && (to < 0 || len(d.members[l]) > len(d.members[to])) {
			to = l
		}
	}
	if to < 0 {
		to = d.newLabel()
	}
	for _, q := range d.adj[c] {
		if l := d.label[q.s]; l >= 0 && l != to {
			for _, m := range d.members[l] {
				d.enlist(m, to)
			}
			d.members[l] = d.members[l][:0]
			d.free = append(d.free, l)
		}
	}
	d.enlist(c, to)
}

// enlist makes core point s a member of cluster l.
func (d *Detector) enlist(s, l int32) {
	d.label[s], d.pos[s] = l, int32(len(d.members[l]))
	d.members[l] = append(d.members[l], s)
}

// unlist takes s out of its cluster.
func (d *Detector) unlist(s int32) {
	m := d.members[d.label[s]]
	last := m[len(m)-1]
	m[d.pos[s]], d.pos[last] = last, d.pos[s]
	d.members[d.label[s]] = m[:len(m)-1]
	d.label[s] = -1
}

func (d *Detector) newLabel() int32 {
	if n := len(d.free); n > 0 {
		l := d.free[n-1]
		d.free = d.free[:n-1]
		return l
	}
	d.members = append(d.members, nil)
	return int32(len(d.members) - 1)
}

// nearest sets a non-core point's nearest core neighbour.
func (d *Detector) nearest(s int32) {
	best := near{-1, 0}
	for _, q := range d.adj[s] {
		if d.core(q.s) && d.before(q, best) {
			best = q
		}
	}
	d.near[s] = best
}

// remove drops the oldest point: it is first in its neighbours' lists and
// in its grid cell.
func (d *Detector) remove() {
	o := int32(d.head)
	d.head = (d.head + 1) % d.cfg.WindowSize
	d.n--
	if d.cfg.Dims <= 4 {
		key := d.key[o]
		if cell := d.grid[key][1:]; len(cell) == 0 {
			delete(d.grid, key)
		} else {
			d.grid[key] = cell
		}
	}
	// lost: the core points no longer core, o first if it was one.
	d.changed = d.changed[:0]
	if d.core(o) {
		d.changed = append(d.changed, o)
	}
	for _, q := range d.adj[o] {
		d.adj[q.s] = d.adj[q.s][1:]
		if d.count[q.s]--; int(d.count[q.s]) == d.cfg.MinPoints-1 {
			d.changed = append(d.changed, q.s)
		}
	}
	d.count[o] = 0
	// A cluster that lost a core point may fall apart: unless the point's
	// remaining core neighbours are all neighbours of one of them, it is
	// searched again from its remaining members.
	d.losses = d.losses[:0]
	for _, c := range d.changed {
		if l := d.label[c]; l >= 0 {
			d.unlist(c)
			i := slices.IndexFunc(d.losses, func(x loss) bool { return x.l == l })
			if i < 0 {
				i = len(d.losses)
				d.losses = append(d.losses, loss{l: l, c: c})
			}
			d.losses[i].n++
		}
	}
	for _, x := range d.losses {
		switch {
		case x.n > 1 || !d.linked(x.c, x.l):
			d.split(x.l)
		case len(d.members[x.l]) == 0:
			d.free = append(d.free, x.l)
		}
	}
	// The points no longer core, and those whose nearest core neighbour
	// left or is no longer core, look again.
	for _, c := range d.changed {
		if c != o {
			d.nearest(c)
		}
		for _, q := range d.adj[c] {
			if !d.core(q.s) && d.near[q.s].s == c {
				d.nearest(q.s)
			}
		}
	}
	d.adj[o], d.near[o] = d.adj[o][:0], near{-1, 0}
}

// linked reports whether c's neighbours in cluster l are connected
// among themselves, so that they stay connected without c: a search from
// the first of them through the others only.
func (d *Detector) linked(c, l int32) bool {
	d.epoch++
	n := 0
	d.queue = d.queue[:0]
	for _, q := range d.adj[c] {
		if d.label[q.s] == l {
			d.mark[q.s] = d.epoch
			if n++; n == 1 {
				d.queue = append(d.queue, q.s)
			}
		}
	}
	// Marks at epoch are the neighbours not yet reached.
	seen := d.epoch + 1
	if n > 0 {
		d.mark[d.queue[0]] = seen
		n--
	}
	for len(d.queue) > 0 && n > 0 {
		x := d.queue[len(d.queue)-1]
		d.queue = d.queue[:len(d.queue)-1]
		for _, q := range d.adj[x] {
			if d.mark[q.s] == d.epoch {
				d.mark[q.s] = seen
				d.queue = append(d.queue, q.s)
				n--
			}
		}
	}
	d.epoch++
	return n == 0
}

// split relabels the remaining core points of cluster l by a search over
// their core neighbours, one label for each part, and frees l.
func (d *Detector) split(l int32) {
	old := d.members[l]
	for _, m := range old {
		if d.label[m] != l {
			continue
		}
		nl := d.newLabel()
		d.enlist(m, nl)
		d.queue = append(d.queue[:0], m)
		for len(d.queue) > 0 {
			x := d.queue[len(d.queue)-1]
			d.queue = d.queue[:len(d.queue)-1]
			for _, q := range d.adj[x] {
				if d.label[q.s] == l {
					d.enlist(q.s, nl)
					d.queue = append(d.queue, q.s)
				}
			}
		}
	}
	d.members[l] = old[:0]
	d.free = append(d.free, l)
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
	d.ids = d.ids[:0]
	for i := range d.n {
		s := d.slot(i)
		id := int32(-1)
		if d.core(s) {
			id = d.label[s]
		} else if c := d.near[s].s; c >= 0 {
			id = d.label[c]
		}
		d.ids = append(d.ids, id)
	}
	return d.boxes(d.ids)
}

// boxes returns the boxes, counts and densities of the clusters of the
// window (ids[i] is the cluster of its i-th oldest point, -1 for none),
// densest first, then by Min, then in the order of their oldest points.
func (d *Detector) boxes(ids []int32) []Hotspot {
	eps := d.cfg.ScanRadius
	top := int32(-1)
	for _, id := range ids {
		top = max(top, id)
	}
	d.at = slices.Grow(d.at[:0], int(top)+1)[:top+1]
	for i := range d.at {
		d.at[i] = -1
	}
	out := []Hotspot{}
	first := d.point(int32(d.head))
	wlo, whi := slices.Clone(first), slices.Clone(first)
	for i, id := range ids {
		p := d.point(d.slot(i))
		for j, v := range p {
			wlo[j], whi[j] = min(wlo[j], v), max(whi[j], v)
		}
		if id < 0 {
			continue
		}
		if d.at[id] < 0 {
			d.at[id] = int32(len(out))
			out = append(out, Hotspot{Min: slices.Clone(p), Max: slices.Clone(p)})
		}
		h := &out[d.at[id]]
		h.Count++
		for j, v := range p {
			h.Min[j], h.Max[j] = min(h.Min[j], v), max(h.Max[j], v)
		}
	}
	for i := range out {
		h := &out[i]
		h.Density = float64(h.Count) / float64(len(ids))
		for j := range h.Min {
			h.Density /= max(h.Max[j]-h.Min[j], eps) / max(whi[j]-wlo[j], eps)
		}
	}
	slices.SortStableFunc(out, func(a, b Hotspot) int {
		if c := cmp.Compare(b.Density, a.Density); c != 0 {
			return c
		}
		return slices.Compare(a.Min, b.Min)
	})
	return out
}

const stateVersion = 1

// StateError reports a detector state Restore cannot use: Offset is the
// byte where reading stopped, Reason what was read and what is wrong.
type StateError statebin.Error

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
		return nil, 0, (*StateError)(r.Err())
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
	x := make([]float64, cfg.Dims)
	for range n {
		for k := range x {
			x[k] = r.Finite()
		}
		if r.Err() != nil {
			return nil, 0, (*StateError)(r.Err())
		}
		d.add(x)
	}
	if r.Err() != nil {
		return nil, 0, (*StateError)(r.Err())
	}
	return d, r.Offset(), nil
}
