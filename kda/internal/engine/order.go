package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Streaming ORDER BY, as the KDA reference describes it: a pump's
// ORDER BY (after its last SELECT; of a UNION ALL, the whole union's)
// needs a monotonic leading expression — ROWTIME, STEP/FLOOR over
// ROWTIME, or a call of MONOTONIC(…) (which the parser refuses until the
// engine runs it) — and gathers the pump's output rows while
// that expression keeps its value. When it changes (a row with another
// value arrives, ROWTIME passes the value's end — ROWTIME + 1 ms, or the
// step's end — or Engine.Flush), the gathered rows come out sorted by the
// other keys (ASC or DESC, NULLS FIRST or LAST; NULLs by default as if
// larger than any value; ties in arrival order), each with the ROWTIME of
// the latest of them, so that the stream's ROWTIME still never goes back.
//
// A key is a SELECT item's ordinal (ORDER BY 2), a select item's alias or
// column name, an expression equal to a select item's (COUNT(*) of a GROUP
// BY), an expression over the select items' names, or one over the FROM
// stream's columns (or, in a GROUP BY, its group keys and aggregates) that
// the SELECT list need not contain. With UNION ALL the names are the first
// SELECT's, as its columns are the union's.
//
// The gathered rows are kept with the engine's window state. At most
// MaxOrderRows of them are held for one value of the leading expression:
// when they reach that, they come out sorted as a run, the value's later
// rows are sorted in runs of their own, and one Evaluation_Error row in the
// error_stream says so.

// MaxOrderRows bounds the rows a streaming ORDER BY gathers for one value
// of its leading expression.
const MaxOrderRows = 100_000

// orderRule says when the rows of a leading value are complete, besides
// the arrival of another value.
type orderRule uint8

const (
	orderOnChange  orderRule = iota // MONOTONIC(…): only a new value or Flush
	orderOnRowtime                  // ROWTIME: once ROWTIME passes it
	orderOnStep                     // STEP/FLOOR(ROWTIME …): at the step's end
)

// sorter is the buffer of a pump's ORDER BY, shared by a UNION ALL's arms.
type sorter struct {
	pump       string
	at         syntax.Pos // of ORDER BY, for messages
	rule       orderRule
	millis     int64 // orderOnStep's step
	desc       []bool
	nullsFirst []bool
	nk         int // keys per row, the leading one first
	dst        *stream
	limit      int

	has   bool        // rows of cur are being gathered
	cur   value.Value // the leading value
	split bool        // cur's rows reached limit and went out as a run
	maxRT int64       // the latest ROWTIME of the gathered rows
	rows  []sortRow
}

// sortRow is a gathered row: its keys, then its columns.
type sortRow struct {
	rt   int64
	vals []value.Value
}

// orderArm is how one SELECT of the pump computes the sort keys of its
// output rows.
type orderArm struct {
	s     *sorter
	owner bool // the pump that closes and saves the sorter (the last arm)
	keys  []orderKey
	vals  []value.Value
	out   env
}

// orderKey is one sort key: an output column (col >= 0), or fn over the
// output row (onOut) or over the pump's own row, pair or group.
type orderKey struct {
	col   int
	fn    evalFn
	onOut bool
}

// orderSpec is a pump's ORDER BY while its SELECTs compile: the sorter,
// and the first SELECT's output names, expressions and key kinds.
type orderSpec struct {
	st    *syntax.CreatePump
	s     *sorter
	names []string
	exprs []syntax.Expr
	kinds []value.Kind
	rule  orderRule
	step  int64
}

// newOrderSpec starts compiling st's ORDER BY, or returns nil without one.
func (e *Engine) newOrderSpec(st *syntax.CreatePump) *orderSpec {
	if len(st.OrderBy) == 0 {
		return nil
	}
	s := &sorter{pump: st.Name, at: st.OrderPos, nk: len(st.OrderBy), limit: MaxOrderRows, dst: e.streams[st.Target]}
	for _, it := range st.OrderBy {
		s.desc = append(s.desc, it.Desc)
		s.nullsFirst = append(s.nullsFirst, it.NullsFirst || !it.NullsSet && it.Desc)
	}
	return &orderSpec{st: st, s: s}
}

// compileOrder compiles the sort keys of one SELECT of the pump, whose
// items (sel.Items in scope sc) go to the output columns target.
func (p *pump) compileOrder(ob *orderSpec, sel *syntax.Select, sc *scope, target []int) error {
	var names []string
	var exprs []syntax.Expr
	for _, it := range sel.Items {
		if it.Star {
			for _, c := range p.src.cols {
				names = append(names, c.Name)
				exprs = append(exprs, &syntax.ColRef{P: it.Pos, Name: c.Name})
			}
			continue
		}
		name := it.Alias
		if c, ok := it.Expr.(*syntax.ColRef); ok && name == "" && c.Name != "ROWTIME" {
			name = c.Name
		}
		names = append(names, name)
		exprs = append(exprs, it.Expr)
	}
	first := ob.names == nil
	if first {
		ob.names, ob.exprs = names, exprs
	}
	// The output row by the first SELECT's names.
	out := &scope{stream: sel.From, alias: sel.Alias, cols: p.dst.cols, idx: map[string]int{}, now: p.now}
	for j, n := range ob.names {
		if _, dup := out.idx[n]; n != "" && !dup && j < len(target) {
			out.idx[n] = target[j]
		}
	}
	arm := &orderArm{s: ob.s, vals: make([]value.Value, ob.s.nk)}
	for k, it := range ob.st.OrderBy {
		key, kind, resolved, err := p.orderKey(ob, it.Expr, exprs, sc, out, target)
		if err != nil {
			return err
		}
		if k == 0 {
			rule, step, ok := leadRule(resolved, sc)
			if !ok {
				what := it.Expr.String() + " is not"
				if c, isCol := it.Expr.(*syntax.ColRef); isCol && c.Name == "ROWTIME" {
					what = strconv.Quote(c.Qual) + ".ROWTIME, one side's, is not (the pair's ROWTIME is)"
				}
				return it.Expr.ExprPos().Errorf("a streaming ORDER BY needs a monotonic leading expression (ROWTIME, or STEP or FLOOR of ROWTIME); %s", what)
			}
			if first {
				ob.rule, ob.step = rule, step
			} else if rule != ob.rule || step != ob.step {
				ob.rule = orderOnChange
			}
		}
		if first {
			ob.kinds = append(ob.kinds, kind)
		} else if !comparable(ob.kinds[k], kind) {
			return it.Expr.ExprPos().Errorf("ORDER BY key %d is %s in the first SELECT and %s in this one", k+1, ob.kinds[k], kind)
		}
		arm.keys = append(arm.keys, key)
	}
	ob.s.rule, ob.s.millis = ob.rule, ob.step
	p.order = arm
	return nil
}

// orderKey resolves one ORDER BY expression x for a SELECT whose output
// expressions are exprs: an ordinal, a name or an expression of the
// SELECT list, else an expression over the output row (out) or over the
// pump's row or group (sc). It returns the expression the key stands for.
func (p *pump) orderKey(ob *orderSpec, x syntax.Expr, exprs []syntax.Expr, sc, out *scope, target []int) (orderKey, value.Kind, syntax.Expr, error) {
	column := func(j int) (orderKey, value.Kind, syntax.Expr, error) {
		return orderKey{col: target[j]}, p.dst.cols[target[j]].Type.Kind, exprs[j], nil
	}
	switch x := x.(type) {
	case *syntax.Literal:
		if x.V.K == value.KindInt {
			if x.V.I < 1 || x.V.I > int64(len(exprs)) {
				return orderKey{}, 0, nil, x.P.Errorf("ORDER BY %d: the SELECT list has %d items", x.V.I, len(exprs))
			}
			return column(int(x.V.I) - 1)
		}
	case *syntax.ColRef:
		if x.Qual == "" && x.Name != "ROWTIME" {
			if j := slices.Index(ob.names, x.Name); j >= 0 && j < len(exprs) {
				return column(j)
			}
		}
	default:
		for j, ex := range exprs {
			if ex.String() == x.String() {
				return column(j)
			}
		}
	}
	if p.win != nil {
		// A group key or an aggregate, evaluated with the group's row.
		if c, err := sc.compile(x); err == nil {
			return orderKey{col: -1, fn: c.fn}, c.typ, x, nil
		}
	}
	if c, err := out.compile(x); err == nil {
		return orderKey{col: -1, fn: c.fn, onOut: true}, c.typ, x, nil
	}
	c, err := sc.compile(x)
	if err != nil {
		return orderKey{}, 0, nil, err
	}
	return orderKey{col: -1, fn: c.fn}, c.typ, x, nil
}

// leadRule says whether x, a leading ORDER BY expression, is monotonic,
// and when its rows are complete.
func leadRule(x syntax.Expr, sc *scope) (orderRule, int64, bool) {
	rowtime := func(x syntax.Expr) bool {
		c, ok := x.(*syntax.ColRef)
		if !ok || c.Name != "ROWTIME" {
			return false
		}
		_, side := sc.joinRowtime(c) // a.ROWTIME of a join's pair need not ascend
		return !side
	}
	switch x := x.(type) {
	case *syntax.Step:
		if rowtime(x.X) {
			return orderOnStep, x.Millis, true
		}
	case *syntax.Call:
		return orderOnChange, 0, x.Name == "MONOTONIC"
	}
	return orderOnRowtime, 0, rowtime(x)
}

// orderRow computes the sort keys of p's output row out (at ROWTIME rt,
// from the row, pair or group in v) and gathers it.
func (e *Engine) orderRow(p *pump, v *env, out []value.Value, rt int64) error {
	a := p.order
	a.out.row, a.out.rowtime = out, rt
	for i, k := range a.keys {
		switch {
		case k.col >= 0:
			a.vals[i] = out[k.col]
			continue
		case k.onOut:
			x, err := k.fn(&a.out)
			if err != nil {
				return err
			}
			a.vals[i] = x
		default:
			x, err := k.fn(v)
			if err != nil {
				return err
			}
			a.vals[i] = x
		}
	}
	e.gather(a.s, a.vals, out, rt)
	return nil
}

// gather adds a row with its keys, first emitting the rows of the previous
// leading value if keys[0] is another.
func (e *Engine) gather(s *sorter, keys, row []value.Value, rt int64) {
	if s.has && !sameValue(keys[0], s.cur) {
		e.emitSorted(s)
	}
	if !s.has {
		s.has, s.cur, s.split, s.maxRT = true, keys[0], false, rt
		if c, ok := s.closeAt(); ok && c < e.nextClose {
			e.nextClose = c
		}
	}
	vals := make([]value.Value, 0, len(keys)+len(row))
	s.rows = append(s.rows, sortRow{rt: rt, vals: append(append(vals, keys...), row...)})
	s.maxRT = max(s.maxRT, rt)
	if len(s.rows) >= s.limit {
		if !s.split {
			s.split = true
			e.emitError(ErrorNameEval, fmt.Sprintf("ORDER BY at %d:%d gathered %d rows for one value of its leading expression: they come out sorted in runs of %d",
				s.at.Line, s.at.Col, s.limit, s.limit),
				rt, valuesRow(row), s.pump)
		}
		e.emitRun(s)
	}
}

// sameValue reports whether two leading values are the same (NULLs equal).
func sameValue(a, b value.Value) bool {
	if a.K == value.KindNull || b.K == value.KindNull {
		return a.K == b.K
	}
	return compareValues(a, b) == 0
}

// closeAt is the ROWTIME from which no row can have the current leading
// value, for a time-based one.
func (s *sorter) closeAt() (int64, bool) {
	if !s.has || s.cur.K != value.KindTime {
		return 0, false
	}
	switch s.rule {
	case orderOnRowtime:
		return satAdd(s.cur.I, 1), true
	case orderOnStep:
		return satAdd(floorDiv(s.cur.I, s.millis)*s.millis, s.millis), true
	}
	return 0, false
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// nextClose is when the arm's sorter next emits by time, for the pump
// that owns it.
func (a *orderArm) nextClose() (int64, bool) {
	if a == nil || !a.owner {
		return 0, false
	}
	return a.s.closeAt()
}

// closeOrder emits the gathered rows if ROWTIME t completes them.
func (e *Engine) closeOrder(s *sorter, t int64) {
	if c, ok := s.closeAt(); s.has && (t == math.MaxInt64 || ok && t >= c) {
		e.emitSorted(s)
	}
}

// emitSorted emits the rows of the current leading value and forgets it.
func (e *Engine) emitSorted(s *sorter) {
	e.emitRun(s)
	s.has, s.cur, s.split = false, value.Value{}, false
}

// emitRun emits the gathered rows sorted, with ROWTIME the latest of
// theirs.
func (e *Engine) emitRun(s *sorter) {
	rows := s.rows
	slices.SortStableFunc(rows, func(a, b sortRow) int { return s.compare(a.vals, b.vals) })
	for _, r := range rows {
		e.insert(s.dst, r.vals[s.nk:], s.maxRT)
	}
	clear(rows)
	if cap(rows) > 4096 {
		rows = nil // a large run's memory goes
	}
	s.rows = rows[:0]
}

// compare orders two rows' keys after the leading one.
func (s *sorter) compare(a, b []value.Value) int {
	for i := 1; i < s.nk; i++ {
		x, y := a[i], b[i]
		xn, yn := x.K == value.KindNull, y.K == value.KindNull
		switch {
		case xn && yn:
			continue
		case xn || yn:
			if xn == s.nullsFirst[i] {
				return -1
			}
			return 1
		}
		c := compareValues(x, y)
		if s.desc[i] {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// appendState appends the gathered rows.
func (s *sorter) appendState(b []byte) []byte {
	if !s.has {
		return append(b, 0)
	}
	b = appendValue(append(b, 1), s.cur)
	split := byte(0)
	if s.split {
		split = 1
	}
	b = binary.AppendVarint(append(b, split), s.maxRT)
	b = binary.AppendUvarint(b, uint64(len(s.rows)))
	for _, r := range s.rows {
		b = binary.AppendVarint(b, r.rt)
		for _, v := range r.vals {
			b = appendValue(b, v)
		}
	}
	return b
}

// orderState is a decoded sorter.
type orderState struct {
	has, split bool
	cur        value.Value
	maxRT      int64
	rows       []sortRow
}

// order reads a sorter's state: rows of the sorter's shape, all of the
// leading value, fewer than its limit, values of their columns' kinds.
func (d *stateDecoder) order(s *sorter) orderState {
	var o orderState
	if o.has = d.flag(); !o.has {
		return o
	}
	o.cur, o.split, o.maxRT = d.value(), d.flag(), d.varint()
	n := d.count(1 + s.nk + len(s.dst.cols))
	if n >= s.limit {
		d.fail(fmt.Sprintf("%d rows gathered for ORDER BY, the limit is %d", n, s.limit))
	}
	for range n {
		if d.err != nil {
			return o
		}
		r := sortRow{rt: d.varint(), vals: make([]value.Value, s.nk+len(s.dst.cols))}
		for i := range r.vals {
			r.vals[i] = d.value()
		}
		switch {
		case d.err != nil:
		case !sameValue(r.vals[0], o.cur):
			d.fail("a row gathered for ORDER BY has another leading value")
		case r.rt > o.maxRT:
			d.fail("a row gathered for ORDER BY is later than the latest")
		}
		for j, c := range s.dst.cols {
			if v := r.vals[s.nk+j]; v.K != value.KindNull && v.K != c.Type.Kind {
				d.fail(fmt.Sprintf("a row gathered for ORDER BY has %s in column %q", v.K, c.Name))
			}
		}
		o.rows = append(o.rows, r)
	}
	return o
}

func (s *sorter) restore(o orderState) {
	s.has, s.split, s.cur, s.maxRT, s.rows = o.has, o.split, o.cur, o.maxRT, o.rows
}
