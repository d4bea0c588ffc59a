package engine

import (
	"encoding/binary"
	"math"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// window is the state of a pump whose GROUP BY has a STEP over ROWTIME: a
// tumbling window of millis, with one group per distinct key.
type window struct {
	millis  int64
	keyFns  []evalFn
	groupBy groupKeys
	aggs    []aggSpec
	having  evalFn // nil: every group is emitted

	// stagger: each group is a window of its own, opened by its first row
	// and closed millis later (WINDOWED BY STAGGER); order is then the
	// open groups by opening time.
	stagger bool
	// mono are the MONOTONIC(…) keys of GROUP BY (monotonic.go): a new
	// value closes the window too. millis is 0 when they are the window.
	mono *monoKeys

	open   bool
	start  int64
	groups map[string]*group
	order  []*group
	keys   []value.Value
	keyBuf []byte
}

type group struct {
	keys  []value.Value
	acc   []aggAcc
	start int64 // a stagger window's opening ROWTIME
	key   string
}

type aggAcc struct {
	n    int64
	sumI int64
	sumF float64
	ext  value.Value // MIN/MAX so far
	err  error
	set  map[string]struct{} // f(DISTINCT x): the values seen
	// STDDEV_*/VAR_*: the running mean and sum of squared deviations
	// (Welford's).
	mean, m2 float64
}

func newWindow(sel *syntax.Select, sc *scope) (*window, error) {
	w := &window{groupBy: groupKeys{memo: map[syntax.Expr]uint64{}, shapes: map[shape]bool{}}, groups: map[string]*group{}}
	keys := sel.GroupBy
	var monoIdx []int
	var monoPos []syntax.Pos
	if st := sel.Stagger; st != nil {
		w.millis, w.stagger, keys = st.Size, true, st.PartitionBy
	}
	for _, g := range keys {
		if st, ok := g.(*syntax.Step); ok && !w.stagger {
			if c, ok := st.X.(*syntax.ColRef); ok && c.Name == "ROWTIME" {
				if w.millis != 0 {
					return nil, st.P.Errorf("GROUP BY has more than one STEP over ROWTIME")
				}
				w.millis = st.Millis
			}
		}
		c, err := sc.compile(g)
		if err != nil {
			return nil, err
		}
		if _, added := w.groupBy.add(g, c.typ); added {
			w.keyFns = append(w.keyFns, c.fn)
			if isMonotonicCall(g) && !w.stagger {
				monoIdx = append(monoIdx, len(w.keyFns)-1)
				monoPos = append(monoPos, g.ExprPos())
			}
		}
	}
	if len(monoIdx) > 0 {
		m := newMonoKeys(monoIdx, monoPos)
		w.mono = &m
	}
	if w.millis == 0 && w.mono == nil {
		return nil, sel.GroupBy[0].ExprPos().Errorf("a streaming GROUP BY needs a window: add STEP(%q.ROWTIME BY INTERVAL 'n' SECOND|MINUTE|HOUR), or group by MONOTONIC(…) of a column that only goes up or down", sel.From)
	}
	w.keys = make([]value.Value, len(w.keyFns))
	return w, nil
}

func (e *Engine) accumulate(p *pump, v *env) error {
	w := p.win
	switch {
	case w.stagger:
		e.closeStagger(p, v.rowtime)
	case w.millis == 0:
		w.open = true // MONOTONIC keys alone: they close the window
	default:
		ws := floorDiv(v.rowtime, w.millis) * w.millis
		if w.open && ws >= w.start+w.millis {
			e.closeWindow(p)
		}
		if !w.open {
			w.open, w.start = true, ws
			if end := ws + w.millis; end < e.nextClose {
				e.nextClose = end
			}
		}
	}
	for i, f := range w.keyFns {
		k, err := f(v)
		if err != nil {
			return err
		}
		w.keys[i] = k
	}
	if w.mono != nil {
		changed, err := w.mono.check(w.keys)
		if err != nil {
			return err
		}
		if changed {
			e.closeGroups(p, v.rowtime)
		}
	}
	w.keyBuf = appendKey(w.keyBuf[:0], w.keys)
	g := w.groups[string(w.keyBuf)]
	if g == nil {
		g = &group{keys: append([]value.Value(nil), w.keys...), acc: make([]aggAcc, len(w.aggs)), start: v.rowtime, key: string(w.keyBuf)}
		w.groups[g.key] = g
		w.order = append(w.order, g)
		if end := v.rowtime + w.millis; w.stagger && end < e.nextClose {
			e.nextClose = end
		}
	}
	for i := range w.aggs {
		a := &w.aggs[i]
		acc := &g.acc[i]
		if a.arg == nil {
			acc.n++
			continue
		}
		x, err := a.arg(v)
		if err != nil {
			return err
		}
		if x.K == value.KindNull || a.distinct && !firstSeen(&acc.set, x, &w.keyBuf) {
			continue
		}
		acc.add(a.name, x)
	}
	return nil
}

// add counts the non-NULL value x into aggregate name's state.
func (acc *aggAcc) add(name string, x value.Value) {
	acc.n++
	switch name {
	case "SUM", "AVG":
		if x.K == value.KindInt {
			s := acc.sumI + x.I
			if (s > acc.sumI) != (x.I > 0) && acc.err == nil {
				acc.err = &EvalError{"SUM overflow"}
			}
			acc.sumI = s
		}
		acc.sumF += x.Float()
	case "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP":
		acc.welford(x.Float())
	case "ANY", "EVERY":
		acc.sumI += x.I // the TRUE values
	case "MIN":
		if acc.n == 1 || compareValues(x, acc.ext) < 0 {
			acc.ext = x
		}
	case "MAX":
		if acc.n == 1 || compareValues(x, acc.ext) > 0 {
			acc.ext = x
		}
	}
}

// appendKey encodes group key values so equal keys give equal bytes.
func appendKey(dst []byte, keys []value.Value) []byte {
	for _, k := range keys {
		dst = append(dst, byte(k.K))
		switch k.K {
		case value.KindInt, value.KindTime, value.KindBool, value.KindDate, value.KindTimeOfDay, value.KindInterval, value.KindMonths:
			dst = binary.LittleEndian.AppendUint64(dst, uint64(k.I))
		case value.KindFloat:
			f := k.F
			if f == 0 {
				f = 0 // -0 and +0 group together
			}
			dst = binary.LittleEndian.AppendUint64(dst, math.Float64bits(f))
		case value.KindString, value.KindBinary:
			dst = binary.AppendUvarint(dst, uint64(len(k.S)))
			dst = append(dst, k.S...)
		}
	}
	return dst
}

// closeWindow emits one row per group, in first-seen order, with ROWTIME
// the end of the window.
func (e *Engine) closeWindow(p *pump) {
	w := p.win
	e.closeGroups(p, w.start+w.millis)
	w.open = false
}

// closeGroups emits the tumbling window's groups with ROWTIME end and
// empties it.
func (e *Engine) closeGroups(p *pump, end int64) {
	w := p.win
	order := w.order
	w.order, w.groups = nil, map[string]*group{}
	for _, g := range order {
		e.emitGroup(p, g, end)
	}
}

// closeStagger emits the stagger windows that have closed by t (those
// opened at least millis before it), in opening order, each with ROWTIME
// its close.
func (e *Engine) closeStagger(p *pump, t int64) {
	w := p.win
	n := 0
	for n < len(w.order) && w.order[n].start+w.millis <= t {
		g := w.order[n]
		delete(w.groups, g.key)
		e.emitGroup(p, g, g.start+w.millis)
		n++
	}
	if n > 0 {
		m := copy(w.order, w.order[n:])
		clear(w.order[m:]) // the closed groups' memory goes
		w.order = w.order[:m]
	}
}

// nextEnd is when the pump's window next closes, or false.
func (w *window) nextEnd() (int64, bool) {
	if w.stagger {
		if len(w.order) == 0 {
			return 0, false
		}
		return w.order[0].start + w.millis, true
	}
	return w.start + w.millis, w.open && w.millis > 0
}

// emitGroup emits a group's row, with ROWTIME end.
func (e *Engine) emitGroup(p *pump, g *group, end int64) {
	w := p.win
	aggVals := make([]value.Value, len(w.aggs))
	var ev env
	var failed error
	for i, a := range w.aggs {
		var err error
		if aggVals[i], err = g.acc[i].result(&a); err != nil {
			failed = err
		}
	}
	ev = env{rowtime: end, keys: g.keys, aggs: aggVals}
	if failed != nil {
		e.windowError(p, &ev, failed)
		return
	}
	if w.having != nil {
		h, err := w.having(&ev)
		if err != nil {
			e.windowError(p, &ev, err)
			return
		}
		if h.K != value.KindBool || h.I == 0 {
			return
		}
	}
	out := p.out
	clear(out)
	ok := true
	for i, f := range p.projs {
		x, err := f(&ev)
		if err == nil {
			x, err = assign(x, p.types[i])
		}
		if err != nil {
			e.windowError(p, &ev, err)
			ok = false
			break
		}
		out[p.target[i]] = x
	}
	switch {
	case !ok:
	case p.distinct != nil && !p.distinct.admitWindow(out, end):
	case p.order != nil:
		if err := e.orderRow(p, &ev, out, end); err != nil {
			e.windowError(p, &ev, err)
		}
	default:
		e.insert(p.dst, out, end)
	}
}

// result is the aggregate a's value over its group; err is a SUM's
// overflow.
func (acc *aggAcc) result(a *aggSpec) (value.Value, error) {
	switch a.name {
	case "COUNT":
		return value.IntValue(acc.n), nil
	case "SUM":
		switch {
		case acc.n == 0:
		case a.typ == value.KindInt:
			return value.IntValue(acc.sumI), acc.err
		default:
			return value.FloatValue(acc.sumF), nil
		}
	case "AVG":
		if acc.n > 0 {
			return value.FloatValue(acc.sumF / float64(acc.n)), nil
		}
	case "STDDEV_POP", "STDDEV_SAMP", "VAR_POP", "VAR_SAMP":
		return acc.variance(a.name), nil
	case "ANY", "EVERY":
		return boolAgg(a.name == "ANY", acc.n, acc.sumI), nil
	default:
		if acc.n > 0 {
			return acc.ext, nil
		}
	}
	return value.Value{}, nil
}

// boolAgg is ANY (isAny) or EVERY of n values of which trues are TRUE:
// NULL without values.
func boolAgg(isAny bool, n, trues int64) value.Value {
	switch {
	case n == 0:
		return value.Value{}
	case isAny:
		return value.BoolValue(trues > 0)
	}
	return value.BoolValue(trues == n)
}

func (e *Engine) windowError(p *pump, ev *env, err error) {
	e.emitError(ErrorNameEval, err.Error(), ev.rowtime, valuesRow(append(append([]value.Value(nil), ev.keys...), ev.aggs...)), p.name)
}
