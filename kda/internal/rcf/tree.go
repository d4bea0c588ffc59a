package rcf

// tree is one random cut tree in flat arrays: node i is a leaf when
// n[i].left < 0; box2 holds every node's bounding box (a leaf's is its
// point). Nodes are recycled through free, so a tree
// allocates nothing after init.
type tree struct {
	d    int
	rng  uint64 // SplitMix64 state for the cuts
	root int32
	n    []node
	box2 []float64 // node v's box: lo at [2dv, 2dv+d), hi after it
	free []int32
	heap []entry // the sample: a max-heap on (w, t)
	cap  int     // SampleSize
}

// node is a tree node; a leaf has left < 0. One struct a node keeps a
// descent to one cache line for the node and one for its box.
type node struct {
	left, right, parent int32
	cutDim              int32
	mass                int32
	cutVal              float64
}

// entry is a sampled point: its reservoir weight, its time and its leaf
// (duplicates share a leaf of mass > 1).
type entry struct {
	w    float64
	t    int64
	leaf int32
}

func (e entry) less(o entry) bool { return e.w < o.w || e.w == o.w && e.t < o.t }

func (tr *tree) init(d, sampleSize int, seed uint64) {
	n := 2 * sampleSize
	tr.d, tr.rng, tr.root, tr.cap = d, seed, -1, sampleSize
	tr.n, tr.box2 = make([]node, n), make([]float64, 2*n*d)
	tr.free = make([]int32, n)
	for i := range tr.free {
		tr.free[i] = int32(n - 1 - i)
	}
	tr.heap = make([]entry, 0, sampleSize)
}

// rand returns a uniform float64 in [0, 1).
func (tr *tree) rand() float64 {
	tr.rng += 0x9e3779b97f4a7c15
	return float64(mix(tr.rng)>>11) / (1 << 53)
}

func (tr *tree) box(v int32) (lo, hi []float64) {
	o := 2 * int(v) * tr.d
	return tr.box2[o : o+tr.d : o+tr.d], tr.box2[o+tr.d : o+2*tr.d : o+2*tr.d]
}

// gaps fills gap with how far p lies outside v's box in each dimension
// and returns their sum and the sum of the box's ranges extended to p.
func (tr *tree) gaps(v int32, p, gap []float64) (g, s float64) {
	lo, hi := tr.box(v)
	for k, x := range p {
		e := outside(x, lo[k], hi[k])
		gap[k] = e
		g += e
		s += hi[k] - lo[k] + e
	}
	return g, s
}

// outside is how far x lies outside [lo, hi].
func outside(x, lo, hi float64) float64 {
	if x < lo {
		return lo - x
	}
	if x > hi {
		return x - hi
	}
	return 0
}

// score returns p's expected collusive displacement in the tree (see
// the package doc), adding each dimension's part to ah/al when they are
// not nil.
func (tr *tree) score(p, gap, ah, al []float64) float64 {
	v := tr.root
	if v < 0 {
		return 0
	}
	if ah == nil {
		return tr.scoreOnly(p)
	}
	q, sum, above := 1.0, 0.0, 0.0
	for {
		if g, s := tr.gaps(v, p, gap); g > 0 {
			disp := max(float64(tr.n[v].mass), above)
			sum += q * disp * g / s
			if ah != nil {
				f := q * disp / s
				_, hi := tr.box(v)
				for k, e := range gap {
					if e > 0 {
						if p[k] > hi[k] {
							ah[k] += f * e
						} else {
							al[k] += f * e
						}
					}
				}
			}
			if g == s { // a leaf, or a box flat where p is not: cut off for sure
				return sum
			}
			q *= 1 - g/s
		}
		l := tr.n[v].left
		if l < 0 { // p duplicates the leaf's point
			sum += q * above
			if ah != nil {
				f := q * above / float64(2*len(p))
				for k := range p {
					ah[k] += f
					al[k] += f
				}
			}
			return sum
		}
		c, sib := l, tr.n[v].right
		if p[tr.n[v].cutDim] > tr.n[v].cutVal {
			c, sib = sib, c
		}
		above = max(above, float64(tr.n[sib].mass)/float64(tr.n[c].mass+1))
		v = c
	}
}

// scoreOnly is score without attribution: the same sums in the same
// order, without the gap array.
func (tr *tree) scoreOnly(p []float64) float64 {
	d := len(p)
	v := tr.root
	q, sum, above := 1.0, 0.0, 0.0
	for {
		o := 2 * int(v) * d
		lo, hi := tr.box2[o:o+d:o+d], tr.box2[o+d:o+2*d:o+2*d]
		g, s := 0.0, 0.0
		for k, x := range p {
			e := outside(x, lo[k], hi[k])
			g += e
			s += hi[k] - lo[k] + e
		}
		nv := &tr.n[v]
		if g > 0 {
			sum += q * max(float64(nv.mass), above) * g / s
			if g == s {
				return sum
			}
			q *= 1 - g/s
		}
		if nv.left < 0 {
			return sum + q*above
		}
		c, sib := nv.left, nv.right
		if p[nv.cutDim] > nv.cutVal {
			c, sib = sib, c
		}
		above = max(above, float64(tr.n[sib].mass)/float64(tr.n[c].mass+1))
		v = c
	}
}

// offer adds the point p of time t and weight w to the tree's sample if
// its weight is among the SampleSize smallest, evicting the largest.
func (tr *tree) offer(p []float64, w float64, t int64, gap []float64) {
	e := entry{w: w, t: t}
	if len(tr.heap) == tr.cap {
		if !e.less(tr.heap[0]) {
			return
		}
		tr.delete(tr.popMax().leaf)
	}
	e.leaf = tr.insert(p, gap)
	tr.push(e)
}

func (tr *tree) newNode() int32 {
	n := tr.free[len(tr.free)-1]
	tr.free = tr.free[:len(tr.free)-1]
	return n
}

func (tr *tree) newLeaf(p []float64) int32 {
	n := tr.newNode()
	lo, hi := tr.box(n)
	copy(lo, p)
	copy(hi, p)
	tr.n[n].left, tr.n[n].right, tr.n[n].mass = -1, -1, 1
	return n
}

// insert adds p by the paper's insertion and returns its leaf.
func (tr *tree) insert(p, gap []float64) int32 {
	v := tr.root
	if v < 0 {
		tr.root = tr.newLeaf(p)
		tr.n[tr.root].parent = -1
		return tr.root
	}
	for {
		g, s := tr.gaps(v, p, gap)
		if g > 0 {
			r := tr.rand() * s
			if r >= g && tr.n[v].left < 0 {
				r = 0 // rounding; a leaf's box has no range, p is cut off
			}
			if r < g {
				return tr.separate(v, p, gap, r)
			}
		}
		if tr.n[v].left < 0 { // a duplicate of the leaf's point
			tr.n[v].mass++
			return v
		}
		tr.n[v].mass++
		lo, hi := tr.box(v)
		for k, x := range p {
			lo[k] = min(lo[k], x)
			hi[k] = max(hi[k], x)
		}
		if p[tr.n[v].cutDim] <= tr.n[v].cutVal {
			v = tr.n[v].left
		} else {
			v = tr.n[v].right
		}
	}
}

// separate cuts p off beside v at r (< the sum of gap): a new node takes
// v's place with v and p's new leaf as children. insert has already
// counted p in the masses and boxes above v.
func (tr *tree) separate(v int32, p, gap []float64, r float64) int32 {
	k := 0
	for ; k < len(gap)-1; k++ {
		if gap[k] > 0 && r < gap[k] {
			break
		}
		r -= gap[k]
	}
	for gap[k] == 0 { // rounding left r past the last gap
		k--
	}
	r = min(max(r, 0), gap[k])
	vlo, vhi := tr.box(v)
	below := p[k] < vlo[k]
	var cut float64
	if below { // p ≤ cut < box
		cut = p[k] + r
		if cut >= vlo[k] {
			cut = p[k]
		}
	} else { // box ≤ cut < p
		cut = vhi[k] + r
		if cut >= p[k] {
			cut = vhi[k]
		}
	}
	leaf := tr.newLeaf(p)
	u := tr.newNode()
	tr.replace(v, u)
	tr.n[u].cutDim, tr.n[u].cutVal = int32(k), cut
	if below {
		tr.n[u].left, tr.n[u].right = leaf, v
	} else {
		tr.n[u].left, tr.n[u].right = v, leaf
	}
	tr.n[v].parent, tr.n[leaf].parent = u, u
	tr.n[u].mass = tr.n[v].mass + 1
	ulo, uhi := tr.box(u)
	for j, x := range p {
		ulo[j] = min(vlo[j], x)
		uhi[j] = max(vhi[j], x)
	}
	return leaf // the ancestors' masses and boxes grew on the way down
}

// replace puts node u where v is: under v's parent, or at the root.
func (tr *tree) replace(v, u int32) {
	par := tr.n[v].parent
	tr.n[u].parent = par
	switch {
	case par < 0:
		tr.root = u
	case tr.n[par].left == v:
		tr.n[par].left = u
	default:
		tr.n[par].right = u
	}
}

// delete removes one point from leaf: its mass goes down, or the leaf
// goes and its sibling takes the parent's place; the ancestors' masses
// and boxes follow.
func (tr *tree) delete(leaf int32) {
	if tr.n[leaf].mass > 1 {
		for a := leaf; a >= 0; a = tr.n[a].parent {
			tr.n[a].mass--
		}
		return
	}
	par := tr.n[leaf].parent
	tr.free = append(tr.free, leaf)
	if par < 0 {
		tr.root = -1
		return
	}
	sib := tr.n[par].left
	if sib == leaf {
		sib = tr.n[par].right
	}
	gp := tr.n[par].parent
	tr.replace(par, sib)
	tr.free = append(tr.free, par)
	a := gp
	for ; a >= 0; a = tr.n[a].parent {
		tr.n[a].mass--
		if !tr.refit(a) {
			break
		}
	}
	if a >= 0 {
		for a = tr.n[a].parent; a >= 0; a = tr.n[a].parent {
			tr.n[a].mass--
		}
	}
}

// refit sets a's box to its children's union and reports whether it
// changed.
func (tr *tree) refit(a int32) bool {
	lo, hi := tr.box(a)
	llo, lhi := tr.box(tr.n[a].left)
	rlo, rhi := tr.box(tr.n[a].right)
	changed := false
	for k := range lo {
		l, h := min(llo[k], rlo[k]), max(lhi[k], rhi[k])
		if l != lo[k] || h != hi[k] {
			lo[k], hi[k], changed = l, h, true
		}
	}
	return changed
}

func (tr *tree) push(e entry) {
	h := append(tr.heap, e)
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h[p].less(h[i]) {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	tr.heap = h
}

func (tr *tree) popMax() entry {
	h := tr.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	tr.heap = h
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < n && h[m].less(h[l]) {
			m = l
		}
		if r < n && h[m].less(h[r]) {
			m = r
		}
		if m == i {
			return top
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
