package rcf

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// The state AppendState writes and Restore reads:
//
//	version(1) dims trees sampleSize shingleSize timeDecay(f64) seed(u64)
//	time filled shingle(filled×dims f64)
//	points { Δtime coords(d f64) }          each sampled point once, by time
//	trees  { rng(u64) entries { Δpoint } nodes(preorder) }
//
// with uvarints unless marked; a node is 0 and a point index (a leaf)
// or cutDim+1, the cut (f64) and its two subtrees. Weights are not
// stored: they are a function of the seed, the tree and the time; boxes
// and masses are recomputed. Restore reads it as outside input and
// checks that every tree is a consistent random cut tree on its sample.

const stateVersion = 1

// StateError reports a forest state Restore cannot use.
type StateError struct {
	Offset int
	Reason string
}

func (e *StateError) Error() string {
	return fmt.Sprintf("rcf: state unusable at byte %d: %s", e.Offset, e.Reason)
}

// AppendState appends the forest's state to b.
func (f *Forest) AppendState(b []byte) []byte {
	c := f.cfg
	b = append(b, stateVersion)
	for _, n := range []int{c.Dims, c.Trees, c.SampleSize, c.ShingleSize} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	b = appendFloat(b, c.TimeDecay)
	b = binary.LittleEndian.AppendUint64(b, c.Seed)
	b = binary.AppendUvarint(b, uint64(f.t))
	b = binary.AppendUvarint(b, uint64(f.filled))
	for _, x := range f.shingle[f.d-f.filled*c.Dims:] {
		b = appendFloat(b, x)
	}
	// The points of all samples, once each, in time order.
	type ref struct {
		t    int64
		tree int32
		leaf int32
	}
	var refs []ref
	for i := range f.trees {
		for _, e := range f.trees[i].heap {
			refs = append(refs, ref{e.t, int32(i), e.leaf})
		}
	}
	slices.SortFunc(refs, func(a, b ref) int { return cmp.Compare(a.t, b.t) })
	index := make(map[int64]int, len(refs))
	var times []int64
	for _, r := range refs {
		if _, ok := index[r.t]; !ok {
			index[r.t] = len(times)
			times = append(times, r.t)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(times)))
	prev := int64(0)
	for j, r := range refs {
		if j > 0 && refs[j-1].t == r.t {
			continue
		}
		b = binary.AppendUvarint(b, uint64(r.t-prev))
		prev = r.t
		lo, _ := f.trees[r.tree].box(r.leaf)
		for _, x := range lo {
			b = appendFloat(b, x)
		}
	}
	for i := range f.trees {
		tr := &f.trees[i]
		b = binary.LittleEndian.AppendUint64(b, tr.rng)
		ts := make([]int, 0, len(tr.heap))
		leafPoint := map[int32]int{}
		for _, e := range tr.heap {
			p := index[e.t]
			ts = append(ts, p)
			if q, ok := leafPoint[e.leaf]; !ok || p < q {
				leafPoint[e.leaf] = p
			}
		}
		slices.Sort(ts)
		b = binary.AppendUvarint(b, uint64(len(ts)))
		prev := 0
		for _, p := range ts {
			b = binary.AppendUvarint(b, uint64(p-prev))
			prev = p
		}
		if tr.root >= 0 {
			b = tr.appendNodes(b, tr.root, leafPoint)
		}
	}
	return b
}

func (tr *tree) appendNodes(b []byte, v int32, leafPoint map[int32]int) []byte {
	if tr.n[v].left < 0 {
		b = append(b, 0)
		return binary.AppendUvarint(b, uint64(leafPoint[v]))
	}
	b = binary.AppendUvarint(b, uint64(tr.n[v].cutDim)+1)
	b = appendFloat(b, tr.n[v].cutVal)
	b = tr.appendNodes(b, tr.n[v].left, leafPoint)
	return tr.appendNodes(b, tr.n[v].right, leafPoint)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

// decoder reads a state; the first error sticks.
type decoder struct {
	b   []byte
	off int
	err *StateError
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = &StateError{Offset: d.off, Reason: fmt.Sprintf(format, args...)}
	}
}

func (d *decoder) uvarint(max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("bad or truncated integer")
		return 0
	}
	if v > max {
		d.fail("%d is over %d", v, max)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail("truncated")
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

func (d *decoder) float() float64 {
	f := math.Float64frombits(d.u64())
	if d.err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		d.fail("a value is not finite")
	}
	return f
}

// Restore reads a state AppendState wrote for a forest of cfg and returns
// the forest and the bytes it used.
func Restore(cfg Config, b []byte) (*Forest, int, error) {
	f, err := New(cfg)
	if err != nil {
		return nil, 0, err
	}
	d := &decoder{b: b}
	if len(b) == 0 || b[0] != stateVersion {
		d.fail("not a version %d forest state", stateVersion)
		return nil, 0, d.err
	}
	d.off = 1
	var got Config
	got.Dims, got.Trees = int(d.uvarint(MaxPointDims)), int(d.uvarint(MaxTrees))
	got.SampleSize, got.ShingleSize = int(d.uvarint(MaxSampleSize)), int(d.uvarint(MaxPointDims))
	got.TimeDecay, got.Seed = d.float(), d.u64()
	if d.err == nil && got != cfg {
		d.fail("the state is of a forest %+v, the application's is %+v", got, cfg)
	}
	f.t = int64(d.uvarint(math.MaxInt64 / 2))
	f.filled = int(d.uvarint(uint64(cfg.ShingleSize)))
	if d.err == nil && f.filled < cfg.ShingleSize && f.t > 0 {
		d.fail("points made before the shingle filled")
	}
	for i := f.d - f.filled*cfg.Dims; i < f.d && d.err == nil; i++ {
		f.shingle[i] = d.float()
	}
	np := int(d.uvarint(uint64(cfg.Trees * cfg.SampleSize)))
	if d.err == nil && np > (len(b)-d.off)/(1+8*f.d) {
		d.fail("%d points do not fit in the %d bytes left", np, len(b)-d.off)
	}
	if d.err != nil {
		return nil, 0, d.err
	}
	times := make([]int64, np)
	coords := make([]float64, np*f.d)
	prev := int64(-1)
	for i := range times {
		dt := int64(d.uvarint(math.MaxInt64 / 2))
		if i > 0 && dt == 0 {
			d.fail("points out of time order")
		}
		t := max(prev, 0) + dt
		if d.err == nil && t >= f.t {
			d.fail("a point of time %d, after the forest's %d", t, f.t)
		}
		times[i], prev = t, t
		for k := range f.d {
			coords[i*f.d+k] = d.float()
		}
		if d.err != nil {
			return nil, 0, d.err
		}
	}
	for i := range f.trees {
		f.trees[i].restore(d, f, i, times, coords)
		if d.err != nil {
			return nil, 0, d.err
		}
	}
	return f, d.off, nil
}

func (tr *tree) restore(d *decoder, f *Forest, ti int, times []int64, coords []float64) {
	tr.rng = d.u64()
	n := int(d.uvarint(uint64(tr.cap)))
	pts := make([]int, n)
	prev := 0
	for j := range pts {
		dp := int(d.uvarint(uint64(len(times))))
		if j > 0 && dp == 0 {
			d.fail("a point appears twice in a tree")
		}
		pts[j] = prev + dp
		prev = pts[j]
		if d.err == nil && pts[j] >= len(times) {
			d.fail("point %d of %d", pts[j], len(times))
		}
	}
	if d.err != nil || n == 0 {
		return
	}
	tr.root = tr.readNode(d, -1, coords, len(times), 0)
	if d.err != nil {
		return
	}
	if err := tr.checkNode(tr.root, -1); err != "" {
		d.fail("tree %d: %s", ti, err)
		return
	}
	for _, p := range pts {
		x := coords[p*tr.d : (p+1)*tr.d]
		v := tr.root
		for tr.n[v].left >= 0 {
			if x[tr.n[v].cutDim] <= tr.n[v].cutVal {
				v = tr.n[v].left
			} else {
				v = tr.n[v].right
			}
		}
		if lo, _ := tr.box(v); !slices.Equal(lo, x) {
			d.fail("tree %d: a sampled point is not at its leaf", ti)
			return
		}
		tr.n[v].mass++
		tr.heap = append(tr.heap, entry{w: f.weight(ti, times[p]), t: times[p], leaf: v})
	}
	if err := tr.fixMass(tr.root); err != "" {
		d.fail("tree %d: %s", ti, err)
		return
	}
	heap := tr.heap
	tr.heap = tr.heap[:0:tr.cap]
	slices.SortFunc(heap, func(a, b entry) int {
		if a.less(b) {
			return -1
		}
		return 1
	})
	for _, e := range heap {
		tr.push(e)
	}
}

// readNode reads a subtree with masses 0 (fixMass sets them).
func (tr *tree) readNode(d *decoder, parent int32, coords []float64, np, depth int) int32 {
	if d.err != nil {
		return -1
	}
	if len(tr.free) < 2 || depth > 2*tr.cap {
		d.fail("more nodes than a sample of %d makes", tr.cap)
		return -1
	}
	tag := d.uvarint(uint64(tr.d))
	if d.err != nil {
		return -1
	}
	if tag == 0 {
		p := int(d.uvarint(uint64(np - 1)))
		if d.err != nil {
			return -1
		}
		v := tr.newLeaf(coords[p*tr.d : (p+1)*tr.d])
		tr.n[v].parent, tr.n[v].mass = parent, 0
		return v
	}
	v := tr.newNode()
	tr.n[v].parent = parent
	tr.n[v].cutDim, tr.n[v].cutVal = int32(tag-1), d.float()
	tr.n[v].left = tr.readNode(d, v, coords, np, depth+1)
	tr.n[v].right = tr.readNode(d, v, coords, np, depth+1)
	if d.err == nil {
		tr.refit(v)
	}
	return v
}

// checkNode checks parent links and that each cut separates its
// children's boxes: left ≤ cut < right.
func (tr *tree) checkNode(v, parent int32) string {
	if tr.n[v].parent != parent {
		return "a node's parent link is wrong"
	}
	l, r := tr.n[v].left, tr.n[v].right
	if l < 0 {
		return ""
	}
	k := tr.n[v].cutDim
	_, lhi := tr.box(l)
	rlo, _ := tr.box(r)
	if !(lhi[k] <= tr.n[v].cutVal && tr.n[v].cutVal < rlo[k]) {
		return "a cut does not separate its children"
	}
	if e := tr.checkNode(l, v); e != "" {
		return e
	}
	return tr.checkNode(r, v)
}

// fixMass sets internal masses from the leaves' and rejects empty leaves.
func (tr *tree) fixMass(v int32) string {
	if tr.n[v].left < 0 {
		if tr.n[v].mass == 0 {
			return "a leaf holds no sampled point"
		}
		return ""
	}
	if e := tr.fixMass(tr.n[v].left); e != "" {
		return e
	}
	if e := tr.fixMass(tr.n[v].right); e != "" {
		return e
	}
	tr.n[v].mass = tr.n[tr.n[v].left].mass + tr.n[tr.n[v].right].mass
	return ""
}

// check verifies every tree against a recomputation: boxes are the
// union of the leaves below, masses their sum, cuts separate, and the
// sample's entries are the leaves' points.
func (f *Forest) check() error {
	for i := range f.trees {
		tr := &f.trees[i]
		if tr.root < 0 {
			if len(tr.heap) > 0 {
				return fmt.Errorf("tree %d: empty with %d sampled", i, len(tr.heap))
			}
			continue
		}
		if e := tr.checkNode(tr.root, -1); e != "" {
			return fmt.Errorf("tree %d: %s", i, e)
		}
		count := map[int32]int32{}
		for _, e := range tr.heap {
			count[e.leaf]++
		}
		total, err := tr.checkBoxes(tr.root, count)
		if err != "" {
			return fmt.Errorf("tree %d: %s", i, err)
		}
		if int(total) != len(tr.heap) {
			return fmt.Errorf("tree %d: mass %d, %d sampled", i, total, len(tr.heap))
		}
		if len(tr.free)+int(tr.count(tr.root)) != len(tr.n) {
			return fmt.Errorf("tree %d: %d free and %d used nodes of %d", i, len(tr.free), tr.count(tr.root), len(tr.n))
		}
	}
	return nil
}

func (tr *tree) count(v int32) int32 {
	if tr.n[v].left < 0 {
		return 1
	}
	return 1 + tr.count(tr.n[v].left) + tr.count(tr.n[v].right)
}

func (tr *tree) checkBoxes(v int32, count map[int32]int32) (int32, string) {
	lo, hi := tr.box(v)
	if tr.n[v].left < 0 {
		if !slices.Equal(lo, hi) {
			return 0, "a leaf's box is not a point"
		}
		if count[v] != tr.n[v].mass {
			return 0, fmt.Sprintf("leaf mass %d, %d sampled points", tr.n[v].mass, count[v])
		}
		return tr.n[v].mass, ""
	}
	ml, e := tr.checkBoxes(tr.n[v].left, count)
	if e != "" {
		return 0, e
	}
	mr, e := tr.checkBoxes(tr.n[v].right, count)
	if e != "" {
		return 0, e
	}
	if ml+mr != tr.n[v].mass {
		return 0, fmt.Sprintf("mass %d, children %d+%d", tr.n[v].mass, ml, mr)
	}
	llo, lhi := tr.box(tr.n[v].left)
	rlo, rhi := tr.box(tr.n[v].right)
	for k := range lo {
		if lo[k] != min(llo[k], rlo[k]) || hi[k] != max(lhi[k], rhi[k]) {
			return 0, fmt.Sprintf("box [%v,%v] in dimension %d, its children's union [%v,%v]", lo[k], hi[k], k, min(llo[k], rlo[k]), max(lhi[k], rhi[k]))
		}
	}
	return tr.n[v].mass, ""
}
