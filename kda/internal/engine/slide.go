package engine

import (
	"math"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Sliding windows: an aggregate or analytic function with OVER gives one
// value per input row, computed over the rows of the row's partition whose
// ROWTIME is at most the window's range before the row's (RANGE INTERVAL
// … PRECEDING) or over the row and the n rows before it (ROWS n
// PRECEDING), or over every row of the partition so far (UNBOUNDED
// PRECEDING). The current row is always in its window. COUNT, SUM and AVG
// are kept as running sums (compensated for DOUBLE), MIN and MAX as
// monotonic queues, STDDEV_*/VAR_* as Welford's mean and squared
// deviations with removal, ANY and EVERY as counts, so a row costs O(1)
// amortised whatever the window's size; EXP_AVG scans its window. An
// aggregate's DISTINCT counts each value of the window in a multiset
// (slideagg.go). An UNBOUNDED window keeps running values and only the
// rows its LAG reaches back to.

// slide is a pump's sliding-window state: its windows and the calls over
// them.
type slide struct {
	specs []*slideSpec
	aggs  []slideAgg
	vals  []value.Value // per row: each call's value, read through env.aggs
	// scratch holds the values recomputeVariance reads.
	scratch []float64
}

// slideSpec is one window of a pump, with its partitions.
type slideSpec struct {
	ast    *syntax.WindowSpec
	keyFns []evalFn
	rows   bool
	size   int64
	// unbounded: UNBOUNDED PRECEDING; rows is set and size is the largest
	// LAG offset, the rows kept.
	unbounded bool
	aggs      []int                 // indices into slide.aggs
	evictAggs []int                 // aggs, or none for an UNBOUNDED window
	slots     int                   // argument values kept per row
	parts     map[string]*partition // by appendKey of the keys
	// strParts are the partitions of a single VARCHAR key, by its value.
	strParts map[string]*partition
	keys     []value.Value
	keyBuf   []byte
	cur      []value.Value // this row's argument values
	// vars: some call is STDDEV_*/VAR_*, recomputed from the window now
	// and then.
	vars bool
	// nextSweep is when a RANGE window next drops the partitions whose
	// window is empty: keys that stopped arriving hold no memory.
	nextSweep int64
}

// slideAgg is one call with OVER.
type slideAgg struct {
	name string
	op   slideOp
	spec int
	arg  evalFn // nil for COUNT(*)
	slot int    // its argument's slot in a row's values
	typ  value.Kind
	n    int64  // LAG offset, NTH_VALUE position
	def  evalFn // LAG's default, or nil
	half int64  // EXP_AVG half-life in milliseconds
	// intArg: the argument is an integer, so AVG is exact from sumI.
	intArg bool
	// distinct: f(DISTINCT x), each value of the window once.
	distinct bool
	// special: distinct, or an UNBOUNDED window's FIRST_VALUE or
	// NTH_VALUE, which add checks before the running sums.
	special bool
}

// partition holds one partition's rows in arrival order: rts[i] and
// vals[i*slots:(i+1)*slots] for i from head on; seq is the sequence number
// of rts[head].
type partition struct {
	rts  []int64
	vals []value.Value
	head int
	seq  int64
	acc  []slideAcc
}

// slideAcc is the running state of one call in one partition.
type slideAcc struct {
	n     int64   // non-NULL values in the window
	sumI  int64   // SUM/AVG of integers
	sumF  float64 // SUM/AVG of numbers, with Neumaier's compensation
	comp  float64
	mono  []int64 // MIN/MAX: sequence numbers of the candidates, front best
	mhead int
	// ext: an UNBOUNDED window's MIN/MAX so far, FIRST_VALUE or
	// NTH_VALUE.
	ext value.Value
	// STDDEV_*/VAR_*: the mean and sum of squared deviations (Welford's),
	// and the removals since they were last recomputed from the window.
	mean, m2 float64
	removed  int64
	// set counts the window's values of an aggregate with DISTINCT, by
	// appendKey.
	set map[string]int32
}

// slideOp is a window function, switched on per row instead of its name.
type slideOp uint8

const (
	opCount slideOp = iota + 1
	opSum
	opAvg
	opMin
	opMax
	opFirst
	opLast
	opLag
	opNth
	opExpAvg
	opVar // STDDEV_POP, STDDEV_SAMP, VAR_POP, VAR_SAMP
	opAny
	opEvery
)

var slideOps = map[string]slideOp{
	"COUNT": opCount, "SUM": opSum, "AVG": opAvg, "MIN": opMin, "MAX": opMax,
	"FIRST_VALUE": opFirst, "LAST_VALUE": opLast, "LAG": opLag, "NTH_VALUE": opNth, "EXP_AVG": opExpAvg,
	"STDDEV_POP": opVar, "STDDEV_SAMP": opVar, "VAR_POP": opVar, "VAR_SAMP": opVar,
	"ANY": opAny, "EVERY": opEvery,
}

// slideFunctions are the functions allowed with OVER.
var slideFunctions = func() map[string]bool {
	m := map[string]bool{}
	for name := range slideOps {
		m[name] = true
	}
	return m
}()

// compileOver compiles a call with OVER into a slot of the pump's sliding
// state.
func (s *scope) compileOver(e *syntax.Call) (cexpr, error) {
	if s.slide == nil {
		if s.agg {
			return cexpr{}, e.P.Errorf("%s … OVER cannot be used with GROUP BY", e.Name)
		}
		return cexpr{}, e.P.Errorf("%s … OVER is only allowed in the SELECT list", e.Name)
	}
	if s.inAgg {
		return cexpr{}, e.P.Errorf("window functions cannot be nested")
	}
	if !slideFunctions[e.Name] {
		return cexpr{}, e.P.Errorf("%s cannot be used with OVER", e.Name)
	}
	spec := e.Over
	if e.OverName != "" {
		for _, w := range s.windows {
			if w.Name == e.OverName {
				spec = w.Spec
			}
		}
		if spec == nil {
			return cexpr{}, e.P.Errorf("unknown window %q (define it with WINDOW %s AS (…))", e.OverName, e.OverName)
		}
	}
	si, err := s.slideSpecFor(spec)
	if err != nil {
		return cexpr{}, err
	}
	ss := s.slide.specs[si]
	a := slideAgg{name: e.Name, op: slideOps[e.Name], spec: si, slot: -1,
		// MIN and MAX of the distinct values are MIN and MAX.
		distinct: e.Distinct && e.Name != "MIN" && e.Name != "MAX"}
	nargs := len(e.Args)
	switch {
	case e.Star && e.Name == "COUNT":
		a.typ = value.KindInt
	case e.Star:
		return cexpr{}, e.P.Errorf("%s(*) is not allowed; only COUNT(*)", e.Name)
	case nargs == 0:
		return cexpr{}, e.P.Errorf("%s needs an argument", e.Name)
	default:
		s.inAgg = true
		x, err := s.compile(e.Args[0])
		s.inAgg = false
		if err != nil {
			return cexpr{}, err
		}
		a.arg, a.slot, a.typ, a.intArg = x.fn, ss.slots, x.typ, x.typ == value.KindInt
		ss.slots++
		if err := a.checkArgs(e, x.typ, s); err != nil {
			return cexpr{}, err
		}
	}
	if err := ss.checkUnbounded(e, &a); err != nil {
		return cexpr{}, err
	}
	ss.vars = ss.vars || a.op == opVar && !ss.unbounded
	a.special = a.distinct || ss.unbounded && (a.op == opFirst || a.op == opNth)
	k := len(s.slide.aggs)
	s.slide.aggs = append(s.slide.aggs, a)
	ss.aggs = append(ss.aggs, k)
	if !ss.unbounded {
		ss.evictAggs = ss.aggs
	}
	s.slide.vals = append(s.slide.vals, value.Value{})
	return cexpr{typ: a.typ, fn: func(v *env) (value.Value, error) { return v.aggs[k], nil }}, nil
}

// checkArgs checks a window call's arguments after the first, whose kind is
// typ, and sets its result kind.
func (a *slideAgg) checkArgs(e *syntax.Call, typ value.Kind, s *scope) error {
	nargs := len(e.Args)
	switch a.name {
	case "COUNT":
		a.typ = value.KindInt
	case "SUM", "AVG", "EXP_AVG", "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP":
		if typ != value.KindInt && typ != value.KindFloat {
			return e.P.Errorf("%s needs a number, got %s", a.name, typ)
		}
		if a.name != "SUM" {
			a.typ = value.KindFloat
		}
	case "ANY", "EVERY":
		if typ != value.KindBool && typ != value.KindNull {
			return e.P.Errorf("%s needs a BOOLEAN, got %s", a.name, typ)
		}
		a.typ = value.KindBool
	}
	maxArgs := 1
	switch a.name {
	case "LAG":
		maxArgs, a.n = 3, 1
		if nargs >= 2 {
			n, err := constInt(e.Args[1], 0, 1_000_000)
			if err != nil {
				return err
			}
			a.n = n
		}
		if nargs == 3 {
			d, err := s.compile(e.Args[2])
			if err != nil {
				return err
			}
			if !comparable(d.typ, typ) {
				return e.Args[2].ExprPos().Errorf("LAG's default is %s, its value %s", d.typ, typ)
			}
			a.def = d.fn
		}
	case "NTH_VALUE":
		maxArgs = 2
		if nargs != 2 {
			return e.P.Errorf("NTH_VALUE takes 2 arguments")
		}
		n, err := constInt(e.Args[1], 1, 1_000_000)
		if err != nil {
			return err
		}
		a.n = n
	case "EXP_AVG":
		maxArgs = 2
		if nargs != 2 {
			return e.P.Errorf("EXP_AVG takes an expression and INTERVAL 'n' unit (the half-life)")
		}
		h, ok := e.Args[1].(*syntax.Literal)
		if !ok || h.V.K != value.KindInt || h.V.I < 1 {
			return e.Args[1].ExprPos().Errorf("EXP_AVG's half-life must be INTERVAL 'n' SECOND|MINUTE|HOUR|DAY")
		}
		a.half = h.V.I
	}
	if nargs > maxArgs {
		return e.P.Errorf("%s takes at most %d arguments", a.name, maxArgs)
	}
	return nil
}

// constInt reads an integer literal between lo and hi.
func constInt(x syntax.Expr, lo, hi int64) (int64, error) {
	l, ok := x.(*syntax.Literal)
	if !ok || l.V.K != value.KindInt || l.V.I < lo || l.V.I > hi {
		return 0, x.ExprPos().Errorf("expected an integer literal between %d and %d", lo, hi)
	}
	return l.V.I, nil
}

// slideSpecFor returns the index of w's state, made on first use.
func (s *scope) slideSpecFor(w *syntax.WindowSpec) (int, error) {
	for i, ss := range s.slide.specs {
		if ss.ast == w {
			return i, nil
		}
	}
	ss := &slideSpec{ast: w, rows: w.Rows || w.Unbounded, size: w.Size, unbounded: w.Unbounded,
		parts: map[string]*partition{}, strParts: map[string]*partition{}}
	for _, p := range w.PartitionBy {
		s.inAgg = true // partition keys read the row
		c, err := s.compile(p)
		s.inAgg = false
		if err != nil {
			return 0, err
		}
		ss.keyFns = append(ss.keyFns, c.fn)
	}
	ss.keys = make([]value.Value, len(ss.keyFns))
	s.slide.specs = append(s.slide.specs, ss)
	return len(s.slide.specs) - 1, nil
}

// update adds the row in v to each window and computes every call's value
// into sl.vals.
func (sl *slide) update(v *env) error {
	for _, ss := range sl.specs {
		for i, f := range ss.keyFns {
			k, err := f(v)
			if err != nil {
				return err
			}
			ss.keys[i] = k
		}
		if cap(ss.cur) < ss.slots {
			ss.cur = make([]value.Value, ss.slots)
		}
		cur := ss.cur[:ss.slots]
		for _, k := range ss.aggs {
			if a := &sl.aggs[k]; a.arg != nil {
				x, err := a.arg(v)
				if err != nil {
					return err
				}
				cur[a.slot] = x
			}
		}
		if !ss.rows && v.rowtime >= ss.nextSweep {
			ss.sweep(v.rowtime)
		}
		p := ss.partition(len(sl.aggs))
		sl.evict(ss, p, v.rowtime)
		sl.add(ss, p, v.rowtime, cur)
		for _, k := range ss.aggs {
			x, err := sl.result(ss, p, k, v)
			if err != nil {
				return err
			}
			sl.vals[k] = x
		}
	}
	return nil
}

// partition returns the partition of the keys in ss.keys, made on first
// use. One VARCHAR key (PARTITION BY ticker) is its own map key.
func (ss *slideSpec) partition(naggs int) *partition {
	if len(ss.keys) == 1 && ss.keys[0].K == value.KindString {
		key := ss.keys[0].S
		if p := ss.strParts[key]; p != nil {
			return p
		}
		p := &partition{acc: make([]slideAcc, naggs)}
		ss.strParts[strings.Clone(key)] = p
		return p
	}
	ss.keyBuf = appendKey(ss.keyBuf[:0], ss.keys)
	if p := ss.parts[string(ss.keyBuf)]; p != nil {
		return p
	}
	p := &partition{acc: make([]slideAcc, naggs)}
	ss.parts[string(ss.keyBuf)] = p
	return p
}

// sweep drops the partitions of a RANGE window that a row at rt would
// find empty, at most once per range: a key seen again later starts a new
// partition, the same state as its emptied one (evict resets the sums of
// an empty window), so sweeping changes no result.
func (ss *slideSpec) sweep(rt int64) {
	ss.nextSweep = rt + max(ss.size, 1)
	for k, p := range ss.strParts {
		if p.empty(ss, rt) {
			delete(ss.strParts, k)
		}
	}
	for k, p := range ss.parts {
		if p.empty(ss, rt) {
			delete(ss.parts, k)
		}
	}
}

// empty reports whether a row at rt leaves none of p's rows in its RANGE
// window.
func (p *partition) empty(ss *slideSpec, rt int64) bool {
	return p.head >= len(p.rts) || p.rts[len(p.rts)-1] < rt-ss.size
}

// evict drops the rows that leave the window when a row at rt arrives.
func (sl *slide) evict(ss *slideSpec, p *partition, rt int64) {
	for p.head < len(p.rts) {
		if ss.rows {
			if int64(len(p.rts)-p.head) <= ss.size {
				break
			}
		} else if p.rts[p.head] >= rt-ss.size {
			break
		}
		base := p.head * ss.slots
		// An UNBOUNDED window's running values keep the row: it only
		// leaves LAG's reach.
		for _, k := range ss.evictAggs {
			a := &sl.aggs[k]
			if a.arg == nil {
				p.acc[k].n--
				continue
			}
			x := p.vals[base+a.slot]
			if x.K == value.KindNull {
				continue
			}
			acc := &p.acc[k]
			if a.distinct && !acc.removeDistinct(x, &ss.keyBuf) {
				continue // the value is still in the window
			}
			acc.n--
			switch a.op {
			case opSum, opAvg:
				acc.sumI -= x.I
				acc.addF(-x.Float())
			case opMin, opMax:
				if acc.mhead < len(acc.mono) && acc.mono[acc.mhead] == p.seq {
					acc.mhead++
				}
			case opVar:
				acc.welfordRemove(x.Float())
			case opAny, opEvery:
				acc.sumI -= x.I
			}
		}
		p.head++
		p.seq++
		if ss.vars {
			sl.recomputeVariance(ss, p)
		}
		if p.head == len(p.rts) && !ss.unbounded {
			// An empty window sums to exactly zero, as a new partition
			// does: what a DOUBLE sum's rounding left goes with its rows.
			for k := range p.acc {
				p.acc[k] = slideAcc{mono: p.acc[k].mono[:0], set: p.acc[k].set}
			}
		}
	}
	// Compact when the dropped prefix is at least half the buffer.
	if p.head > 0 && p.head*2 >= len(p.rts) {
		n := copy(p.rts, p.rts[p.head:])
		p.rts = p.rts[:n]
		m := copy(p.vals, p.vals[p.head*ss.slots:])
		clear(p.vals[m:])
		p.vals = p.vals[:m]
		p.head = 0
	}
}

// add appends the row (rt, cur) to p and updates the running state.
func (sl *slide) add(ss *slideSpec, p *partition, rt int64, cur []value.Value) {
	seq := p.seq + int64(len(p.rts)-p.head)
	p.rts = append(p.rts, rt)
	p.vals = append(p.vals, cur...)
	for _, k := range ss.aggs {
		a := &sl.aggs[k]
		acc := &p.acc[k]
		if a.arg == nil {
			acc.n++
			continue
		}
		x := cur[a.slot]
		if a.special {
			if ss.unbounded && (a.op == opFirst && seq == 0 || a.op == opNth && seq == a.n-1) {
				acc.ext = x
			}
			if x.K != value.KindNull && a.distinct && !acc.addDistinct(x, &ss.keyBuf) {
				continue // already in the window
			}
		}
		if x.K == value.KindNull {
			continue
		}
		acc.n++
		switch a.op {
		case opSum, opAvg:
			acc.sumI += x.I
			acc.addF(x.Float())
		case opVar:
			acc.welfordAdd(x.Float())
		case opAny, opEvery:
			acc.sumI += x.I
		case opMin, opMax:
			want := -1
			if a.op == opMax {
				want = 1
			}
			if ss.unbounded {
				if acc.n == 1 || compareValues(x, acc.ext)*want > 0 {
					acc.ext = x
				}
				continue
			}
			// Drop candidates the new value beats: they can never be the
			// extreme again.
			for len(acc.mono) > acc.mhead {
				last := acc.mono[len(acc.mono)-1]
				if compareValues(x, p.value(ss, last, a.slot))*want < 0 {
					break
				}
				acc.mono = acc.mono[:len(acc.mono)-1]
			}
			if acc.mhead > 0 && acc.mhead*2 >= len(acc.mono) {
				acc.mono = append(acc.mono[:0], acc.mono[acc.mhead:]...)
				acc.mhead = 0
			}
			acc.mono = append(acc.mono, seq)
		}
	}
}

// addF adds x to the compensated sum (Neumaier).
func (acc *slideAcc) addF(x float64) {
	t := acc.sumF + x
	if math.Abs(acc.sumF) >= math.Abs(x) {
		acc.comp += (acc.sumF - t) + x
	} else {
		acc.comp += (x - t) + acc.sumF
	}
	acc.sumF = t
}

// value returns slot of the row with sequence number seq.
func (p *partition) value(ss *slideSpec, seq int64, slot int) value.Value {
	i := p.head + int(seq-p.seq)
	return p.vals[i*ss.slots+slot]
}

// result is call k's value over p's window, which ends with the current
// row.
func (sl *slide) result(ss *slideSpec, p *partition, k int, v *env) (value.Value, error) {
	a := &sl.aggs[k]
	acc := &p.acc[k]
	n := len(p.rts) - p.head
	last := p.seq + int64(n) - 1
	switch a.op {
	case opCount:
		return value.IntValue(acc.n), nil
	case opSum:
		if acc.n == 0 {
			return value.Value{}, nil
		}
		if a.typ == value.KindInt {
			if s := acc.sumF + acc.comp; s >= 1<<63 || s < -(1<<63) {
				return value.Value{}, &EvalError{"SUM overflow"}
			}
			return value.IntValue(acc.sumI), nil
		}
		return value.FloatValue(acc.sumF + acc.comp), nil
	case opAvg:
		if acc.n == 0 {
			return value.Value{}, nil
		}
		if a.intArg {
			return value.FloatValue(float64(acc.sumI) / float64(acc.n)), nil
		}
		return value.FloatValue((acc.sumF + acc.comp) / float64(acc.n)), nil
	case opVar, opAny, opEvery:
		return acc.moreResult(a), nil
	case opMin, opMax, opFirst, opNth:
		if ss.unbounded {
			return acc.unboundedResult(a, last+1), nil
		}
	}
	switch a.op {
	case opMin, opMax:
		if acc.mhead >= len(acc.mono) {
			return value.Value{}, nil
		}
		return p.value(ss, acc.mono[acc.mhead], a.slot), nil
	case opFirst:
		return p.value(ss, p.seq, a.slot), nil
	case opLast:
		return p.value(ss, last, a.slot), nil
	case opNth:
		if a.n > int64(n) {
			return value.Value{}, nil
		}
		return p.value(ss, p.seq+a.n-1, a.slot), nil
	case opLag:
		if a.n >= int64(n) {
			if a.def != nil {
				return a.def(v)
			}
			return value.Value{}, nil
		}
		return p.value(ss, last-a.n, a.slot), nil
	}
	return expAvg(ss, p, a, v.rowtime), nil
}
