package engine

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The sliding-window aggregates beyond running sums: DISTINCT (a multiset
// of the window's values), the variance aggregates (Welford's update with
// removal), ANY/EVERY, UNBOUNDED PRECEDING's running values, EXP_AVG and
// their part of the window state.
//
// f(DISTINCT x) OVER w counts each non-NULL value of the window once: the
// partition keeps how many of its rows have each value, and a value
// enters the running sums when its count becomes 1 and leaves them when
// it drops to 0. MIN and MAX of the distinct values are MIN and MAX, so
// they ignore DISTINCT.
//
// STDDEV_*/VAR_* keep the window's mean and sum of squared deviations,
// updated by Welford's recurrence when a value arrives and by its inverse
// when one leaves. The inverse loses precision as values come and go, so
// once as many values have left as the window holds (at least 32) both
// are recomputed from the window's rows, two-pass: O(1) amortised, and
// the error never builds up over more than one window's turnover.
// (An UNBOUNDED window only adds, which Welford's recurrence does
// stably.)

// minRecompute is the fewest removals between two recomputations.
const minRecompute = 32

// addDistinct counts x in the multiset and reports whether it is new to
// the window; buf is scratch space.
func (acc *slideAcc) addDistinct(x value.Value, buf *[]byte) bool {
	if acc.set == nil {
		acc.set = map[string]int32{}
	}
	*buf = appendKey((*buf)[:0], []value.Value{x})
	c := acc.set[string(*buf)]
	acc.set[string(*buf)] = c + 1
	return c == 0
}

// removeDistinct uncounts x and reports whether it left the window.
func (acc *slideAcc) removeDistinct(x value.Value, buf *[]byte) bool {
	*buf = appendKey((*buf)[:0], []value.Value{x})
	c := acc.set[string(*buf)]
	if c <= 1 {
		delete(acc.set, string(*buf))
		return true
	}
	acc.set[string(*buf)] = c - 1
	return false
}

// welfordAdd adds x to the mean and squared deviations; n already counts
// it.
func (acc *slideAcc) welfordAdd(x float64) {
	d := x - acc.mean
	acc.mean += d / float64(acc.n)
	acc.m2 += d * (x - acc.mean)
}

// welfordRemove takes x out again; n no longer counts it.
func (acc *slideAcc) welfordRemove(x float64) {
	acc.removed++
	switch acc.n {
	case 0:
		acc.mean, acc.m2 = 0, 0
		return
	case 1:
		// One value left: no deviation, whatever rounding says.
		acc.mean -= (x - acc.mean) / float64(acc.n)
		acc.m2 = 0
		return
	}
	newMean := acc.mean - (x-acc.mean)/float64(acc.n)
	acc.m2 -= (x - newMean) * (x - acc.mean)
	acc.mean = newMean
	if acc.m2 < 0 {
		acc.m2 = 0
	}
}

// recomputeVariance recomputes, from the rows left in p's window, the
// mean and squared deviations of each variance aggregate that has seen
// as many removals as the window holds (for DISTINCT, over the window's
// distinct values in their first row's order).
func (sl *slide) recomputeVariance(ss *slideSpec, p *partition) {
	for _, k := range ss.aggs {
		a := &sl.aggs[k]
		acc := &p.acc[k]
		if a.op != opVar || acc.removed < max(acc.n, minRecompute) {
			continue
		}
		acc.removed = 0
		xs := sl.scratch[:0]
		var seen map[string]bool
		if a.distinct {
			seen = make(map[string]bool, acc.n)
		}
		for i := p.head; i < len(p.rts); i++ {
			x := p.vals[i*ss.slots+a.slot]
			if x.K == value.KindNull {
				continue
			}
			if a.distinct {
				ss.keyBuf = appendKey(ss.keyBuf[:0], []value.Value{x})
				if seen[string(ss.keyBuf)] {
					continue
				}
				seen[string(ss.keyBuf)] = true
			}
			xs = append(xs, x.Float())
		}
		sl.scratch = xs
		acc.mean, acc.m2 = twoPass(xs)
	}
}

// twoPass is the mean and sum of squared deviations of xs by the
// corrected two-pass algorithm.
func twoPass(xs []float64) (mean, m2 float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	n := float64(len(xs))
	mean /= n
	var comp float64
	for _, x := range xs {
		d := x - mean
		m2 += d * d
		comp += d
	}
	// comp is what rounding left of the deviations' sum, zero in exact
	// arithmetic.
	return mean + comp/n, m2 - comp*comp/n
}

// varianceValue is name's value for n values with squared deviations m2:
// NULL without values, or for a sample of one.
func varianceValue(name string, n int64, m2 float64) value.Value {
	d := float64(n)
	if strings.HasSuffix(name, "_SAMP") {
		d--
	}
	if d <= 0 {
		return value.Value{}
	}
	v := max(m2, 0) / d
	if strings.HasPrefix(name, "STDDEV") {
		v = math.Sqrt(v)
	}
	return value.FloatValue(v)
}

// checkUnbounded refuses the calls an UNBOUNDED window cannot keep in
// bounded state, and makes it keep the rows its LAGs reach.
func (ss *slideSpec) checkUnbounded(e *syntax.Call, a *slideAgg) error {
	switch {
	case !ss.unbounded:
	case a.op == opExpAvg:
		return e.P.Errorf("EXP_AVG needs a bounded window: use RANGE INTERVAL … PRECEDING, not UNBOUNDED")
	case e.Distinct:
		return e.P.Errorf("DISTINCT needs a bounded window: over UNBOUNDED PRECEDING its values would be kept for ever")
	case a.op == opLag:
		ss.size = max(ss.size, a.n)
	}
	return nil
}

// moreResult is the value of a variance aggregate, ANY or EVERY.
func (acc *slideAcc) moreResult(a *slideAgg) value.Value {
	if a.op == opVar {
		return varianceValue(a.name, acc.n, acc.m2)
	}
	return boolAgg(a.op == opAny, acc.n, acc.sumI)
}

// unboundedResult is an UNBOUNDED window's MIN, MAX, FIRST_VALUE or
// NTH_VALUE after rows rows.
func (acc *slideAcc) unboundedResult(a *slideAgg, rows int64) value.Value {
	if a.op == opNth && a.n > rows || (a.op == opMin || a.op == opMax) && acc.n == 0 {
		return value.Value{}
	}
	return acc.ext
}

// accExtra reports whether call a keeps state beyond the running sums and
// the MIN/MAX candidates: written after them, so that the states of
// windows without such calls are unchanged.
func (ss *slideSpec) accExtra(a *slideAgg) bool {
	return a.op == opVar || ss.unbounded && a.arg != nil
}

// appendAccExtra writes acc's extra state (accExtra).
func (ss *slideSpec) appendAccExtra(b []byte, a *slideAgg, acc *slideAcc) []byte {
	if a.op == opVar {
		b = appendFloat(appendFloat(b, acc.mean), acc.m2)
		b = binary.AppendVarint(b, acc.removed)
	}
	if ss.unbounded && a.arg != nil {
		b = appendValue(b, acc.ext)
	}
	return b
}

// accExtra reads what appendAccExtra wrote.
func (d *stateDecoder) accExtra(ss *slideSpec, a *slideAgg, acc *slideAcc) {
	if a.op == opVar {
		acc.mean, acc.m2 = d.float(), d.float()
		acc.removed = d.varint()
		if acc.removed < 0 || math.IsNaN(acc.m2) || acc.m2 < 0 {
			d.fail("bad variance state")
		}
	}
	if ss.unbounded && a.arg != nil {
		acc.ext = d.value()
	}
}

// rebuildDistinct recounts the multisets of p's DISTINCT calls from its
// rows (they are not written in the state: the rows are), and checks
// them against the distinct counts written.
func (d *stateDecoder) rebuildDistinct(sl *slide, ss *slideSpec, p *partition) {
	var buf []byte
	for _, k := range ss.aggs {
		a := &sl.aggs[k]
		if !a.distinct {
			continue
		}
		acc := &p.acc[k]
		acc.set = map[string]int32{}
		for i := range p.rts {
			if x := p.vals[i*ss.slots+a.slot]; x.K != value.KindNull {
				acc.addDistinct(x, &buf)
			}
		}
		if int64(len(acc.set)) != acc.n {
			d.fail("distinct values and count differ")
		}
	}
}

// expAvg is EXP_AVG: the window's values weighted by 2^-k for the k-th
// half-life interval back from the current row (the newest interval
// weighs 1).
func expAvg(ss *slideSpec, p *partition, a *slideAgg, rt int64) value.Value {
	var sum, w float64
	for i := p.head; i < len(p.rts); i++ {
		x := p.vals[i*ss.slots+a.slot]
		if x.K == value.KindNull {
			continue
		}
		wt := math.Exp2(-float64((rt - p.rts[i]) / a.half))
		sum += wt * x.Float()
		w += wt
	}
	if w == 0 {
		return value.Value{}
	}
	return value.FloatValue(sum / w)
}
