package rcf

import (
	"cmp"
	"fmt"
	"math"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/statebin"
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

// StateError reports a forest state Restore cannot use: Offset is the
// byte where reading stopped, Reason what was read and what is wrong.
type StateError statebin.Error

func (e *StateError) Error() string {
	return fmt.Sprintf("rcf: state unusable at byte %d: %s", e.Offset, e.Reason)
}

// AppendState appends the forest's state to b.
func (f *Forest) AppendState(b []byte) []byte {
	c := f.cfg
	b = append(b, stateVersion)
	for _, n := range []int{c.Dims, c.Trees, c.SampleSize, c.ShingleSize} {
		b = statebin.AppendUvarint(b, uint64(n))
	}
	b = statebin.AppendFloat(b, c.TimeDecay)
	b = statebin.AppendUint64(b, c.Seed)
	b = statebin.AppendUvarint(b, uint64(f.t))
	b = statebin.AppendUvarint(b, uint64(f.filled))
	for _, x := range f.shingle[f.d-f.filled*c.Dims:] {
		b = statebin.AppendFloat(b, x)
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
	b = statebin.AppendUvarint(b, uint64(len(times)))
	prev := int64(0)
	for j, r := range refs {
		if j > 0 && refs[j-1].t == r.t {
			continue
		}
		b = statebin.AppendUvarint(b, uint64(r.t-prev))
		prev = r.t
		lo, _ := f.trees[r.tree].box(r.leaf)
		for _, x := range lo {
			b = statebin.AppendFloat(b, x)
		}
	}
	for i := range f.trees {
		tr := &f.trees[i]
		b = statebin.AppendUint64(b, tr.rng)
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
		b = statebin.AppendUvarint(b, uint64(len(ts)))
		prev := 0
		for _, p := range ts {
			b = statebin.AppendUvarint(b, uint64(p-prev))
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
		return statebin.AppendUvarint(b, uint64(leafPoint[v]))
	}
	b = statebin.AppendUvarint(b, uint64(tr.n[v].cutDim)+1)
	b = statebin.AppendFloat(b, tr.n[v].cutVal)
	b = tr.appendNodes(b, tr.n[v].left, leafPoint)
	return tr.appendNodes(b, tr.n[v].right, leafPoint)
}

// Restore reads a state AppendState wrote for a forest of cfg and returns
// the forest and the bytes it used.
func Restore(cfg Config, b []byte) (*Forest, int, error) {
	f, err := New(cfg)
	if err != nil {
		return nil, 0, err
	}
	d := statebin.NewDecoder(b)
	d.In("forest state")
	if len(b) == 0 || b[0] != stateVersion {
		d.Failf("not a version %d forest state", stateVersion)
		return nil, 0, (*StateError)(d.Err())
	}
	d.Byte()
	var got Config
	got.Dims, got.Trees = int(d.Uvarint(MaxPointDims)), int(d.Uvarint(MaxTrees))
	got.SampleSize, got.ShingleSize = int(d.Uvarint(MaxSampleSize)), int(d.Uvarint(MaxPointDims))
	got.TimeDecay, got.Seed = d.Finite(), d.Uint64()
	if d.Err() == nil && got != cfg {
		d.Failf("the state is of a forest %+v, the application's is %+v", got, cfg)
	}
	d.In("forest time and shingle")
	f.t = int64(d.Uvarint(math.MaxInt64 / 2))
	f.filled = int(d.Uvarint(uint64(cfg.ShingleSize)))
	if d.Err() == nil && f.filled < cfg.ShingleSize && f.t > 0 {
		d.Failf("points made before the shingle filled")
	}
	for i := f.d - f.filled*cfg.Dims; i < f.d && d.Err() == nil; i++ {
		f.shingle[i] = d.Finite()
	}
	d.In("sampled points")
	np := d.Count(1 + 8*f.d)
	if d.Err() == nil && np > cfg.Trees*cfg.SampleSize {
		d.Failf("%d points, more than %d trees of %d sample", np, cfg.Trees, cfg.SampleSize)
	}
	if d.Err() != nil {
		return nil, 0, (*StateError)(d.Err())
	}
	times := make([]int64, np)
	coords := make([]float64, np*f.d)
	prev := int64(-1)
	for i := range times {
		dt := int64(d.Uvarint(math.MaxInt64 / 2))
		if i > 0 && dt == 0 {
			d.Failf("points out of time order")
		}
		t := max(prev, 0) + dt
		if d.Err() == nil && t >= f.t {
			d.Failf("a point of time %d, after the forest's %d", t, f.t)
		}
		times[i], prev = t, t
		for k := range f.d {
			coords[i*f.d+k] = d.Finite()
		}
		if d.Err() != nil {
			return nil, 0, (*StateError)(d.Err())
		}
	}
	for i := range f.trees {
		d.In(fmt.Sprintf("tree %d", i))
		f.trees[i].restore(d, f, i, times, coords)
		if d.Err() != nil {
			return nil, 0, (*StateError)(d.Err())
		}
	}
	return f, d.Offset(), nil
}

func (tr *tree) restore(d *statebin.Decoder, f *Forest, ti int, times []int64, coords []float64) {
	tr.rng = d.Uint64()
	n := d.Count(1)
	if n > tr.cap {
		d.Failf("%d sampled points, the sample holds %d", n, tr.cap)
		return
	}
	pts := make([]int, n)
	prev := 0
	for j := range pts {
		dp := int(d.Uvarint(uint64(len(times))))
		if j > 0 && dp == 0 {
			d.Failf("a point appears twice in a tree")
		}
		pts[j] = prev + dp
		prev = pts[j]
		if d.Err() == nil && pts[j] >= len(times) {
			d.Failf("point %d of %d", pts[j], len(times))
		}
	}
	if d.Err() != nil || n == 0 {
		return
	}
	tr.root = tr.readNode(d, -1, coords, len(times), 0)
	if d.Err() != nil {
		return
	}
	if err := tr.checkNode(tr.root, -1); err != "" {
		d.Failf("%s", err)
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
			d.Failf("a sampled point is not at its leaf")
			return
		}
		tr.n[v].mass++
		tr.heap = append(tr.heap, entry{w: f.weight(ti, times[p]), t: times[p], leaf: v})
	}
	if err := tr.fixMass(tr.root); err != "" {
		d.Failf("%s", err)
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
func (tr *tree) readNode(d *statebin.Decoder, parent int32, coords []float64, np, depth int) int32 {
	if d.Err() != nil {
		return -1
	}
	if len(tr.free) < 2 || depth > 2*tr.cap {
		d.Failf("more nodes than a sample of %d makes", tr.cap)
		return -1
	}
	tag := d.Uvarint(uint64(tr.d))
	if d.Err() != nil {
		return -1
	}
	if tag == 0 {
		p := int(d.Uvarint(uint64(np - 1)))
		if d.Err() != nil {
			return -1
		}
		v := tr.newLeaf(coords[p*tr.d : (p+1)*tr.d])
		tr.n[v].parent, tr.n[v].mass = parent, 0
		return v
	}
	v := tr.newNode()
	tr.n[v].parent = parent
	tr.n[v].cutDim, tr.n[v].cutVal = int32(tag-1), d.Finite()
	tr.n[v].left = tr.readNode(d, v, coords, np, depth+1)
	tr.n[v].right = tr.readNode(d, v, coords, np, depth+1)
	if d.Err() == nil {
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
