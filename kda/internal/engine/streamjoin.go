package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Stream-to-stream joins: FROM a [OVER (…)] [AS x] [INNER | LEFT] JOIN b
// [OVER (…)] [AS y] ON cond. Each side's OVER is its window: RANGE
// INTERVAL 'n' unit PRECEDING holds the side's rows whose ROWTIME is at
// most n before the current time (both ends included), ROWS n PRECEDING its
// latest n+1 rows, and a side without OVER only its current row. When a
// row arrives on one side it is paired with the rows of the other side's
// window, oldest first, for which cond is TRUE; the pair's ROWTIME is the
// arrival's. So a pair comes out exactly once, when its later row arrives,
// if the earlier row is then in its side's window (a row arriving on both
// sides of a self-join meets itself once). a.ROWTIME and b.ROWTIME are the
// two rows' own ROWTIMEs; ROWTIME is the pair's. LEFT JOIN emits a left row
// that pairs with nothing with NULLs for the right side once it can pair no
// more: at its arrival when the left side keeps no window (or its key is
// NULL), else when it leaves its window — with ROWTIME its ROWTIME plus the
// RANGE (at the first arrival or Advance after that), or the ROWTIME of the
// left row that pushes it out of a ROWS window; Flush emits the rest.
// RIGHT JOIN does the same for the right side's rows, FULL JOIN for both
// (the left side's first when both expire at once).
// Equalities in cond between an expression of one side and one of the other
// are a hash key; the rest is checked per pair. CROSS JOIN and FROM a, b
// pair every row of the windows (a comma join's WHERE is its ON), USING
// (c, …) is c's equalities. A ROWS window with PARTITION BY holds the
// latest n+1 rows of each partition (a RANGE window holds the same rows
// partitioned or not); a row pushed out of its partition leaves the
// window then, as a LEFT JOIN's unpaired row does. The windows (with
// whether each row has paired, and its partition) are kept with the
// engine's window state.

// streamJoin is a pump's stream-to-stream join.
type streamJoin struct {
	right *stream
	// outer: side i's rows that never pair come out with NULLs for the
	// other side (LEFT: 0, RIGHT: 1, FULL: both); nulls[i] is side i's
	// row of NULLs.
	outer [2]bool
	sides [2]joinSide
	// residual is the part of ON that is not a key equality, or nil.
	residual evalFn
	nulls    [2][]value.Value
	env      env
	keys     []value.Value
	parts    []value.Value // partKey's buffer
}

// joinSide is one stream of the join with its window.
type joinSide struct {
	windowed bool
	rows     bool  // ROWS n PRECEDING, else RANGE
	size     int64 // rows, or milliseconds
	keyFns   []evalFn
	buf      []joinRow
	head     int
	seq      int64 // sequence number of buf[head]
	index    map[string][]int64
	// outer: a side of an outer join with a window, whose dropped rows
	// that never paired go to expired.
	outer   bool
	expired []joinRow
	// partFns are a ROWS window's PARTITION BY (RANGE windows hold the
	// same rows partitioned or not): it holds the latest size+1 rows of
	// each partition, whose rows are in parts. A row pushed out of its
	// partition is dead until it reaches the head; dead counts them.
	partFns  []evalFn
	partSpec []syntax.Expr
	parts    partitions
	dead     int
}

type joinRow struct {
	rt      int64
	vals    []value.Value
	key     string
	matched bool  // a left row of a LEFT JOIN has paired
	dead    bool  // pushed out of its partition's ROWS window
	part    int32 // its partition in a partitioned ROWS window
}

// compileStreamJoin compiles p's JOIN of the stream right: its columns
// resolve in sc as a reference table's do, read from env.ref.
func (e *Engine) compileStreamJoin(p *pump, sel *syntax.Select, sc *scope, right *stream) error {
	j := sel.Join
	if e.reaches(p.dst, right) {
		return j.TablePos.Errorf("pump %q would make a cycle: %q already feeds %q", p.name, p.dst.name, right.name)
	}
	sj := &streamJoin{right: right, outer: [2]bool{j.Left, j.Right},
		nulls: [2][]value.Value{make([]value.Value, len(p.src.cols)), make([]value.Value, len(right.cols))}}
	var err error
	if sj.sides[0], err = joinWindow(sel, sel.Over, sel.OverName, sel.FromPos); err != nil {
		return err
	}
	if sj.sides[1], err = joinWindow(sel, j.Over, j.OverName, j.TablePos); err != nil {
		return err
	}
	if !sj.sides[0].windowed && !sj.sides[1].windowed {
		side := j.Table
		if j.TableFn != nil {
			side = "TABLE(" + j.TableFn.Name + "(…))"
		}
		return j.P.Errorf("a JOIN of two streams needs a window on at least one side: %s OVER (RANGE INTERVAL 'n' unit PRECEDING)", side)
	}
	for i := range sj.sides {
		sj.sides[i].outer = sj.outer[i] && sj.sides[i].windowed
	}
	alias := j.Alias
	if alias == "" {
		alias = right.name
	}
	sc.ref = &refScope{t: &table{name: right.name, cols: right.cols, idx: right.idx}, alias: alias}
	sc.streamJoin = true
	if err := sc.setUsing(j); err != nil {
		return err
	}
	if err := sj.compileOn(sc, joinOn(j)); err != nil {
		return err
	}
	for i := range sj.sides {
		if err := sj.sides[i].compilePartition(sc, i); err != nil {
			return err
		}
	}
	sj.keys = make([]value.Value, len(sj.sides[0].keyFns))
	for i := range sj.sides {
		sj.sides[i].index, sj.sides[i].parts = map[string][]int64{}, newPartitions()
	}
	p.sjoin = sj
	return nil
}

// compileOn splits ON into the equalities between an expression of each
// side (the sides' keys) and the rest (the residual, checked per pair).
func (sj *streamJoin) compileOn(sc *scope, on syntax.Expr) error {
	var rest []syntax.Expr
	for _, c := range conjuncts(on, nil) {
		b, ok := c.(*syntax.Binary)
		if !ok || b.Op != "=" {
			rest = append(rest, c)
			continue
		}
		ls, rs := sc.joinSide(b.L), sc.joinSide(b.R)
		l, r := b.L, b.R
		if ls == 2 && rs == 1 {
			l, r, ls, rs = r, l, rs, ls
		}
		if ls != 1 || rs != 2 {
			rest = append(rest, c)
			continue
		}
		lx, err := sc.compile(l)
		if err != nil {
			return err
		}
		rx, err := sc.compile(r)
		if err != nil {
			return err
		}
		if !comparable(lx.typ, rx.typ) {
			return b.P.Errorf("cannot compare %s with %s", lx.typ, rx.typ)
		}
		lf, rf := lx.fn, rx.fn
		if lx.typ != rx.typ {
			lf, rf = widenFn(lf), widenFn(rf) // a mix of numbers compares as DOUBLE
		}
		sj.sides[0].keyFns = append(sj.sides[0].keyFns, lf)
		sj.sides[1].keyFns = append(sj.sides[1].keyFns, rf)
	}
	if len(rest) == 0 {
		return nil
	}
	cond := rest[0]
	for _, r := range rest[1:] {
		cond = &syntax.Binary{P: r.ExprPos(), Op: "AND", L: cond, R: r}
	}
	var err error
	sj.residual, err = compileCondition(sc, cond, "ON")
	return err
}

// noRowtime is a side's ROWTIME in an outer join's row without that side:
// NULL.
const noRowtime = math.MinInt64

// joinRowtimeFn reads side i's ROWTIME of a stream-to-stream join's pair.
func joinRowtimeFn(i int) evalFn {
	return func(v *env) (value.Value, error) {
		if v.sideRT[i] == noRowtime {
			return value.Value{}, nil
		}
		return value.Value{K: value.KindTime, I: v.sideRT[i]}, nil
	}
}

func widenFn(f evalFn) evalFn {
	return func(v *env) (value.Value, error) {
		x, err := f(v)
		return widen(x, value.KindFloat), err
	}
}

// joinWindow reads one side's OVER: inline, or a name of the WINDOW clause.
func joinWindow(sel *syntax.Select, spec *syntax.WindowSpec, name string, pos syntax.Pos) (joinSide, error) {
	if name != "" {
		for _, w := range sel.Windows {
			if w.Name == name {
				spec = w.Spec
			}
		}
		if spec == nil {
			return joinSide{}, pos.Errorf("unknown window %q (define it with WINDOW %s AS (…))", name, name)
		}
	}
	if spec == nil {
		return joinSide{}, nil
	}
	if spec.Unbounded {
		return joinSide{}, spec.P.Errorf("UNBOUNDED PRECEDING cannot be the window of a JOIN: it would keep every row of the stream")
	}
	return joinSide{windowed: true, rows: spec.Rows, size: spec.Size, partSpec: spec.PartitionBy}, nil
}

// joinSide tells which streams x reads: 1 the left only, 2 the right only,
// 0 neither, 3 both (or the pair's own ROWTIME).
func (s *scope) joinSide(x syntax.Expr) int {
	if c, ok := x.(*syntax.ColRef); ok {
		if c.Name == "ROWTIME" {
			if _, ok := s.chainRowtime(c); ok {
				return 1
			}
			if i, ok := s.joinRowtime(c); ok {
				return i + 1
			}
			return 3
		}
		if _, found, _ := s.tableCol(c); found {
			return 2
		}
		return 1
	}
	side := 0
	for _, k := range syntax.Children(x) {
		switch ks := s.joinSide(k); {
		case ks == 0:
		case side == 0:
			side = ks
		case side != ks:
			return 3
		}
	}
	return side
}

// joinRowtime resolves a.ROWTIME or b.ROWTIME in a stream-to-stream join to
// side 0 (left) or 1 (right).
func (s *scope) joinRowtime(c *syntax.ColRef) (int, bool) {
	r := s.ref
	if !s.streamJoin || c.Qual == "" {
		return 0, false
	}
	if c.Qual == r.alias || c.Qual == r.t.name && r.alias == r.t.name {
		return 1, true
	}
	if c.Qual == s.stream || c.Qual == s.alias || s.chain != nil && slices.Contains(s.chain.quals, c.Qual) {
		return 0, true
	}
	return 0, false
}

// pushStreamJoin handles a row arriving on stream s, a side (or both sides)
// of p's join.
func (e *Engine) pushStreamJoin(p *pump, s *stream, v *env) {
	sj := p.sjoin
	for i := range sj.sides {
		sj.sides[i].evict(v.rowtime)
	}
	e.emitExpired(p, 0, v.rowtime)
	e.emitExpired(p, 1, v.rowtime)
	if s == p.src {
		if err := e.joinArrival(p, 0, v); err != nil {
			e.pumpError(p, v, err)
		}
		e.emitExpired(p, 0, v.rowtime)
	}
	if s == sj.right {
		if err := e.joinArrival(p, 1, v); err != nil {
			// The row is the right stream's: report it as such.
			e.emitError(ErrorNameEval, err.Error(), v.rowtime, string(value.AppendRowJSON(nil, sj.right.cols, v.row)), p.name)
		}
		e.emitExpired(p, 1, v.rowtime)
	}
}

// joinArrival pairs the row in v, arriving on side i, with the other
// side's window, then keeps it in its own window.
func (e *Engine) joinArrival(p *pump, i int, v *env) error {
	sj := p.sjoin
	me, other := &sj.sides[i], &sj.sides[1-i]
	probe := env{rowtime: v.rowtime}
	if i == 0 {
		probe.row = v.row
	} else {
		probe.ref = v.row
	}
	probe.sideRT[i] = v.rowtime
	key, err := me.key(&probe, sj.keys)
	if err != nil {
		return err
	}
	var part int32
	if me.partitioned() && key != nil {
		if part, err = me.partID(&probe, sj.parts); err != nil {
			return err
		}
	}
	matched := false
	pair := &sj.env
	*pair = env{rowtime: v.rowtime}
	pair.sideRT[i] = v.rowtime
	emit := func(o *joinRow) error {
		if i == 0 {
			pair.row, pair.ref, pair.sideRT[1] = v.row, o.vals, o.rt
		} else {
			pair.row, pair.ref, pair.sideRT[0] = o.vals, v.row, o.rt
		}
		if sj.residual != nil {
			ok, err := sj.residual(pair)
			if err != nil {
				return err
			}
			if ok.K != value.KindBool || ok.I == 0 {
				return nil
			}
		}
		matched, o.matched = true, true
		e.pushRow(p, pair)
		return nil
	}
	if key != nil && other.windowed {
		if len(other.keyFns) == 0 {
			for k := other.head; k < len(other.buf); k++ {
				if other.buf[k].dead {
					continue
				}
				if err := emit(&other.buf[k]); err != nil {
					return err
				}
			}
		} else {
			for _, seq := range other.index[*key] {
				if err := emit(&other.buf[other.head+int(seq-other.seq)]); err != nil {
					return err
				}
			}
		}
	}
	if sj.outer[i] && !matched && (!me.windowed || key == nil) {
		e.emitNulls(p, i, v.row, v.rowtime, v.rowtime)
	}
	if me.windowed && key != nil {
		me.add(joinRow{rt: v.rowtime, vals: append([]value.Value(nil), v.row...), key: *key, part: part, matched: matched})
		if end, ok := sj.nextExpiry(); ok && end < e.nextClose {
			e.nextClose = end
		}
	}
	return nil
}

// emitNulls emits an outer join's row of side i with NULLs for the other
// side, at rt; own is the row's own ROWTIME.
func (e *Engine) emitNulls(p *pump, i int, row []value.Value, own, rt int64) {
	sj := p.sjoin
	pair := &sj.env
	if i == 0 {
		*pair = env{row: row, ref: sj.nulls[1], rowtime: rt, sideRT: [2]int64{own, noRowtime}}
	} else {
		*pair = env{row: sj.nulls[0], ref: row, rowtime: rt, sideRT: [2]int64{noRowtime, own}}
	}
	e.pushRow(p, pair)
}

// emitExpired emits side i's rows of an outer join that left their window
// without pairing: at the end of their RANGE, or at now (the arrival that
// pushed them out of a ROWS window, or Flush).
func (e *Engine) emitExpired(p *pump, i int, now int64) {
	js := &p.sjoin.sides[i]
	for len(js.expired) > 0 {
		r := js.expired[0]
		js.expired = js.expired[1:]
		rt := now
		if !js.rows {
			rt = r.rt + js.size
		}
		e.emitNulls(p, i, r.vals, r.rt, rt)
	}
	js.expired = nil
}

// expireJoin drops the rows of an outer join's sides that leave their
// window by t (every row at Flush), emitting those that never paired:
// the left side's, then the right's.
func (e *Engine) expireJoin(p *pump, t int64) {
	for i := range p.sjoin.sides {
		js := &p.sjoin.sides[i]
		if !js.outer {
			continue
		}
		now := t
		if t == math.MaxInt64 {
			for js.head < len(js.buf) {
				js.drop()
			}
			now = e.last
		} else {
			js.evict(t)
		}
		e.emitExpired(p, i, now)
	}
}

// nextExpiry is when the oldest row of an outer join's RANGE window leaves
// it, if there is one.
func (sj *streamJoin) nextExpiry() (int64, bool) {
	if sj == nil {
		return 0, false
	}
	end, ok := int64(math.MaxInt64), false
	for i := range sj.sides {
		js := &sj.sides[i]
		if js.outer && !js.rows && js.head < len(js.buf) {
			end, ok = min(end, js.buf[js.head].rt+js.size+1), true
		}
	}
	return end, ok
}

// key is the side's join key for the row in v, or nil when a key value is
// NULL (the row can pair with nothing).
func (js *joinSide) key(v *env, buf []value.Value) (*string, error) {
	for k, f := range js.keyFns {
		x, err := f(v)
		if err != nil {
			return nil, err
		}
		if x.K == value.KindNull {
			return nil, nil
		}
		buf[k] = x
	}
	key := string(appendKey(nil, buf))
	return &key, nil
}

// evict drops the rows that have left a RANGE window at time now.
func (js *joinSide) evict(now int64) {
	if js.rows {
		return
	}
	for js.head < len(js.buf) && js.buf[js.head].rt < now-js.size {
		js.drop()
	}
}

// add keeps r in the window (and drops the oldest of a full ROWS window).
func (js *joinSide) add(r joinRow) {
	seq := js.seq + int64(len(js.buf)-js.head)
	js.buf = append(js.buf, r)
	if len(js.keyFns) > 0 {
		js.index[r.key] = append(js.index[r.key], seq)
	}
	switch {
	case js.partitioned():
		q := append(js.parts.rows[r.part], seq)
		js.parts.rows[r.part] = q
		if int64(len(q)) > js.size+1 {
			js.parts.rows[r.part] = q[1:]
			js.kill(q[0])
		}
	case js.rows && int64(len(js.buf)-js.head) > js.size+1:
		js.drop()
	}
}

// drop removes the oldest row.
func (js *joinSide) drop() {
	r := &js.buf[js.head]
	switch {
	case r.dead:
		js.dead--
	case js.outer && !r.matched:
		js.expired = append(js.expired, *r)
	}
	if js.partitioned() && !r.dead {
		if l := js.parts.rows[r.part][1:]; len(l) == 0 {
			js.parts.release(r.part)
		} else {
			js.parts.rows[r.part] = l
		}
	}
	if len(js.keyFns) > 0 && !r.dead {
		if l := js.index[r.key][1:]; len(l) == 0 {
			delete(js.index, r.key)
		} else {
			js.index[r.key] = l
		}
	}
	*r = joinRow{}
	js.head++
	js.seq++
	if js.head*2 >= len(js.buf) {
		n := copy(js.buf, js.buf[js.head:])
		clear(js.buf[n:])
		js.buf = js.buf[:n]
		js.head = 0
	}
}

// appendState writes both windows: per side the row count, then each
// row's ROWTIME, key and values.
func (sj *streamJoin) appendState(b []byte) []byte {
	for i := range sj.sides {
		js := &sj.sides[i]
		rows := js.buf[js.head:]
		b = binary.AppendUvarint(b, uint64(len(rows)-js.dead))
		for _, r := range rows {
			if r.dead {
				continue
			}
			b = binary.AppendVarint(b, r.rt)
			b = appendString(b, r.key)
			if js.partitioned() {
				b = appendString(b, js.parts.keys[r.part])
			}
			b = append(b, b2i8(r.matched))
			for _, x := range r.vals {
				b = appendValue(b, x)
			}
		}
	}
	return b
}

// joinState reads what appendState wrote into fresh sides.
func (d *stateDecoder) joinState(sj *streamJoin, left *stream) [2]joinSide {
	var out [2]joinSide
	ncols := [2]int{len(left.cols), len(sj.right.cols)}
	for i := range out {
		js := sj.sides[i]
		js.buf, js.head, js.seq, js.index, js.expired = nil, 0, 0, map[string][]int64{}, nil
		js.parts, js.dead = newPartitions(), 0
		n := d.count(3 + ncols[i])
		if !js.windowed && n > 0 {
			d.fail("rows kept for a side without a window")
		}
		if js.rows && !js.partitioned() && int64(n) > js.size+1 {
			d.fail(fmt.Sprintf("%d rows in a ROWS %d PRECEDING join window", n, js.size))
		}
		for range n {
			r := joinRow{rt: d.varint(), key: d.string(), vals: make([]value.Value, ncols[i])}
			if js.partitioned() {
				r.part = js.parts.id(d.string())
			}
			r.matched = d.flag()
			for k := range r.vals {
				r.vals[k] = d.value()
			}
			if d.err != nil {
				return out
			}
			if len(js.buf) > 0 && r.rt < js.buf[len(js.buf)-1].rt {
				d.fail("ROWTIME goes back")
				return out
			}
			js.add(r)
			if js.dead > 0 {
				d.fail(fmt.Sprintf("more than %d rows in a partition of a ROWS %d PRECEDING join window", js.size+1, js.size))
				return out
			}
		}
		out[i] = js
	}
	return out
}

func b2i8(b bool) byte {
	if b {
		return 1
	}
	return 0
}
