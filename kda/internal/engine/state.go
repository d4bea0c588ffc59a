package engine

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/statebin"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Window state: MarshalState writes the open tumbling and stagger windows
// and the sliding windows' partitions, so that a fresh engine compiled
// from the same application continues where this one stopped (a Lambda's
// next invocation, a restarted container). The encoding is
//
//	"KDAS" version(1) last-ROWTIME pump-count { pump-name table-function? window? slide? }
//
// in varints and length-prefixed strings; RestoreState reads it as
// outside input: every count is bounded by the bytes left and by the
// compiled application, and anything that does not fit is a *StateError.

// stateMagic starts every state; stateVersion is bumped on any change to
// the encoding.
const (
	stateMagic   = "KDAS"
	stateVersion = 1
)

// MaxStateBytes bounds the state RestoreState reads.
const MaxStateBytes = 64 << 20

// StateError reports window state that cannot be restored: corrupt,
// truncated, of another version, or saved by a different application.
// Offset is the byte where decoding stopped, Reason what was being read
// (the header or a pump) and what is wrong.
type StateError statebin.Error

func (e *StateError) Error() string {
	return fmt.Sprintf("kda: window state unusable at byte %d: %s", e.Offset, e.Reason)
}

// MarshalState returns the engine's window state (see RestoreState).
func (e *Engine) MarshalState() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	b := append([]byte(stateMagic), stateVersion)
	b = binary.AppendVarint(b, e.last)
	b = binary.AppendUvarint(b, uint64(len(e.pumps)))
	for _, p := range e.pumps {
		b = appendString(b, p.name)
		if p.fn != nil {
			b = p.fn.appendState(b)
		}
		if p.win != nil {
			b = p.win.appendState(b)
		}
		if p.slide != nil {
			b = p.slide.appendState(b)
		}
		b = p.appendExtraState(b)
	}
	return b
}

// RestoreState replaces the engine's window state with one MarshalState
// wrote for the same application. On error the engine is unchanged.
func (e *Engine) RestoreState(state []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	d := &stateDecoder{b: state}
	if len(state) > MaxStateBytes {
		return d.fail(fmt.Sprintf("%d bytes is over the limit of %d", len(state), MaxStateBytes))
	}
	if len(state) < len(stateMagic)+1 || string(state[:len(stateMagic)]) != stateMagic {
		return d.fail("not a kda window state")
	}
	if v := state[len(stateMagic)]; v != stateVersion {
		return d.fail(fmt.Sprintf("version %d, this engine reads version %d", v, stateVersion))
	}
	d.off, d.what = len(stateMagic)+1, "header"
	last := d.varint()
	if n := d.count(1); d.err == nil && n != len(e.pumps) {
		return d.fail(fmt.Sprintf("state has %d pumps, the application %d", n, len(e.pumps)))
	}
	fns := make([]TableFunc, len(e.pumps))
	wins := make([]windowState, len(e.pumps))
	slides := make([][]map[string]*partition, len(e.pumps))
	extras := make([]pumpExtra, len(e.pumps))
	for i, p := range e.pumps {
		d.what = fmt.Sprintf("pump %d", i)
		if name := d.string(); d.err == nil && name != p.name {
			return d.fail(fmt.Sprintf("pump %d is %q in the state, %q in the application", i, name, p.name))
		}
		d.what = fmt.Sprintf("pump %q", p.name)
		if p.fn != nil {
			fns[i] = d.tableFn(p.fn)
		}
		if p.win != nil {
			wins[i] = d.window(p.win)
		}
		if p.slide != nil {
			slides[i] = d.slide(p.slide)
		}
		extras[i] = d.pumpExtra(p)
		if d.err != nil {
			return d.err
		}
	}
	if d.err == nil && d.off != len(d.b) {
		return &StateError{Offset: d.off, Reason: fmt.Sprintf("%d bytes after the last pump", len(d.b)-d.off)}
	}
	if d.err != nil {
		return d.err
	}
	e.last = last
	for i, p := range e.pumps {
		p.restoreExtra(extras[i])
		if p.win != nil {
			p.win.restore(wins[i])
		}
		if p.slide != nil {
			for j, ss := range p.slide.specs {
				ss.parts, ss.strParts = map[string]*partition{}, map[string]*partition{}
				for k, part := range slides[i][j] {
					if k[0] == 's' {
						ss.strParts[k[1:]] = part
					} else {
						ss.parts[k[1:]] = part
					}
				}
			}
		}
		if p.fn != nil {
			p.fn.op = fns[i]
		}
	}
	e.setNextClose()
	return nil
}

func appendString(b []byte, s string) []byte { return statebin.AppendString(b, s) }

func appendValue(b []byte, v value.Value) []byte {
	b = append(b, byte(v.K))
	switch v.K {
	case value.KindInt, value.KindTime, value.KindBool, value.KindDate, value.KindTimeOfDay, value.KindInterval, value.KindMonths:
		b = binary.AppendVarint(b, v.I)
	case value.KindFloat:
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.F))
	case value.KindString, value.KindBinary:
		b = appendString(b, v.S)
	}
	return b
}

func appendFloat(b []byte, f float64) []byte { return statebin.AppendFloat(b, f) }

func (w *window) appendState(b []byte) []byte {
	open := byte(0)
	if w.open {
		open = 1
	}
	b = append(b, open)
	b = binary.AppendVarint(b, w.start)
	b = binary.AppendUvarint(b, uint64(len(w.order)))
	for _, g := range w.order {
		b = binary.AppendVarint(b, g.start)
		for _, k := range g.keys {
			b = appendValue(b, k)
		}
		for i, a := range g.acc {
			b = binary.AppendVarint(b, a.n)
			b = binary.AppendVarint(b, a.sumI)
			b = appendFloat(b, a.sumF)
			b = appendValue(b, a.ext)
			failed := byte(0)
			if a.err != nil {
				failed = 1
			}
			b = append(b, failed)
			if w.aggs[i].distinct {
				b = appendSet(b, a.set)
			}
			if varianceAggs[w.aggs[i].name] {
				b = appendFloat(appendFloat(b, a.mean), a.m2)
			}
		}
	}
	if w.mono != nil {
		b = w.mono.appendState(b)
	}
	return b
}

func (sl *slide) appendState(b []byte) []byte {
	for _, ss := range sl.specs {
		type kp struct {
			key string
			p   *partition
		}
		var parts []kp
		for k, p := range ss.strParts {
			parts = append(parts, kp{"s" + k, p})
		}
		for k, p := range ss.parts {
			parts = append(parts, kp{"k" + k, p})
		}
		// Sorted, so that equal states are equal bytes.
		slices.SortFunc(parts, func(a, b kp) int { return cmp.Compare(a.key, b.key) })
		b = binary.AppendUvarint(b, uint64(len(parts)))
		for _, x := range parts {
			p := x.p
			b = appendString(b, x.key)
			b = binary.AppendVarint(b, p.seq)
			n := len(p.rts) - p.head
			b = binary.AppendUvarint(b, uint64(n))
			for _, rt := range p.rts[p.head:] {
				b = binary.AppendVarint(b, rt)
			}
			for _, v := range p.vals[p.head*ss.slots:] {
				b = appendValue(b, v)
			}
			for _, k := range ss.aggs {
				acc := &p.acc[k]
				b = binary.AppendVarint(b, acc.n)
				b = binary.AppendVarint(b, acc.sumI)
				b = appendFloat(b, acc.sumF)
				b = appendFloat(b, acc.comp)
				mono := acc.mono[acc.mhead:]
				b = binary.AppendUvarint(b, uint64(len(mono)))
				for _, s := range mono {
					b = binary.AppendVarint(b, s-p.seq)
				}
				if a := &sl.aggs[k]; ss.accExtra(a) {
					b = ss.appendAccExtra(b, a, acc)
				}
			}
		}
	}
	return b
}

// stateDecoder reads a state through package statebin; the first error
// sticks. The decoders of the windows and functions check d.err and d.off
// themselves, so they are fields: read runs each primitive at d.off.
type stateDecoder struct {
	b    []byte
	off  int
	err  *StateError
	what string // what is being decoded, for errors
}

// read runs one statebin read at d.off and keeps its position and error.
func read[T any](d *stateDecoder, f func(*statebin.Decoder) T) T {
	if d.err != nil {
		var zero T
		return zero
	}
	s := statebin.At(d.b, d.off, d.what)
	v := f(&s)
	d.off = s.Offset()
	if e := s.Err(); e != nil {
		d.err = (*StateError)(e)
	}
	return v
}

func (d *stateDecoder) fail(reason string) *StateError {
	read(d, func(s *statebin.Decoder) int { s.Failf("%s", reason); return 0 })
	return d.err
}

func (d *stateDecoder) varint() int64 { return read(d, (*statebin.Decoder).Varint) }

// count reads a length whose items take at least min bytes each, so that
// a corrupt count cannot make a large allocation.
func (d *stateDecoder) count(min int) int {
	return read(d, func(s *statebin.Decoder) int { return s.Count(min) })
}

func (d *stateDecoder) bytes(n int) []byte {
	return read(d, func(s *statebin.Decoder) []byte { return s.Bytes(n) })
}

func (d *stateDecoder) string() string {
	return read(d, func(s *statebin.Decoder) string { return s.String(MaxStateBytes) })
}

func (d *stateDecoder) float() float64 { return read(d, (*statebin.Decoder).Float) }

func (d *stateDecoder) value() value.Value {
	k := d.bytes(1)
	if k == nil {
		return value.Value{}
	}
	v := value.Value{K: value.Kind(k[0])}
	switch v.K {
	case value.KindNull:
	case value.KindInt, value.KindTime, value.KindInterval, value.KindMonths:
		v.I = d.varint()
	case value.KindDate:
		if v.I = d.varint(); v.I < value.MinDate || v.I > value.MaxDate {
			d.fail("DATE out of range")
		}
	case value.KindTimeOfDay:
		if v.I = d.varint(); v.I < 0 || v.I >= value.DayMillis {
			d.fail("TIME out of range")
		}
	case value.KindBool:
		v.I = d.varint()
		if v.I != 0 && v.I != 1 {
			d.fail("boolean is not 0 or 1")
		}
	case value.KindFloat:
		v.F = d.float()
	case value.KindString, value.KindBinary:
		v.S = d.string()
	default:
		d.fail(fmt.Sprintf("unknown value kind %d", k[0]))
	}
	return v
}

func (d *stateDecoder) flag() bool { return read(d, (*statebin.Decoder).Flag) }

// restore sets the window's state to ws.
func (w *window) restore(ws windowState) {
	w.open, w.start, w.order = ws.open, ws.start, ws.order
	if w.mono != nil {
		*w.mono = ws.mono
	}
	w.groups = make(map[string]*group, len(w.order))
	for _, g := range w.order {
		w.groups[g.key] = g
	}
}

type windowState struct {
	open  bool
	start int64
	order []*group
	mono  monoKeys
}

func (d *stateDecoder) window(w *window) windowState {
	ws := windowState{open: d.flag(), start: d.varint()}
	n := d.count(1 + len(w.keyFns) + 12*len(w.aggs))
	seen := map[string]bool{}
	for range n {
		g := &group{start: d.varint(), keys: make([]value.Value, len(w.keyFns)), acc: make([]aggAcc, len(w.aggs))}
		for i := range g.keys {
			g.keys[i] = d.value()
		}
		for i := range g.acc {
			a := &g.acc[i]
			a.n, a.sumI, a.sumF, a.ext = d.varint(), d.varint(), d.float(), d.value()
			if d.flag() {
				a.err = &EvalError{"SUM overflow"}
			}
			if w.aggs[i].distinct {
				if a.set = d.set(); int64(len(a.set)) != a.n && d.err == nil {
					d.fail("distinct values and count differ")
				}
			}
			if varianceAggs[w.aggs[i].name] {
				a.mean, a.m2 = d.float(), d.float()
			}
			if a.n < 0 {
				d.fail("negative count")
			}
		}
		if d.err != nil {
			return ws
		}
		if w.stagger && len(ws.order) > 0 && g.start < ws.order[len(ws.order)-1].start {
			d.fail("stagger windows out of opening order")
			return ws
		}
		g.key = string(appendKey(nil, g.keys))
		if seen[g.key] {
			d.fail("a group appears twice")
			return ws
		}
		seen[g.key] = true
		ws.order = append(ws.order, g)
	}
	if !w.stagger && !ws.open && len(ws.order) > 0 {
		d.fail("groups in a closed tumbling window")
	}
	if w.mono != nil {
		ws.mono = d.monoKeys(w.mono)
	}
	return ws
}

// slide reads each spec's partitions, keyed "s"+string or "k"+appendKey.
func (d *stateDecoder) slide(sl *slide) []map[string]*partition {
	out := make([]map[string]*partition, len(sl.specs))
	for i, ss := range sl.specs {
		out[i] = map[string]*partition{}
		n := d.count(3)
		for range n {
			key := d.string()
			if d.err == nil && (key == "" || key[0] != 's' && key[0] != 'k') {
				d.fail("bad partition key")
			}
			if _, dup := out[i][key]; dup {
				d.fail("a partition appears twice")
			}
			p := d.partition(sl, ss)
			if d.err != nil {
				return out
			}
			out[i][key] = p
		}
	}
	return out
}

func (d *stateDecoder) partition(sl *slide, ss *slideSpec) *partition {
	p := &partition{seq: d.varint(), acc: make([]slideAcc, len(sl.aggs))}
	rows := d.count(1 + ss.slots)
	if d.err == nil && (p.seq < 0 || p.seq > math.MaxInt64-int64(rows)) {
		d.fail("sequence number out of range")
	}
	if ss.rows && int64(rows) > ss.size+1 {
		d.fail(fmt.Sprintf("%d rows in a ROWS %d PRECEDING window", rows, ss.size))
	}
	p.rts = make([]int64, rows)
	for j := range p.rts {
		p.rts[j] = d.varint()
		if j > 0 && p.rts[j] < p.rts[j-1] {
			d.fail("ROWTIME goes back")
		}
	}
	p.vals = make([]value.Value, rows*ss.slots)
	for j := range p.vals {
		p.vals[j] = d.value()
	}
	for _, k := range ss.aggs {
		acc := &p.acc[k]
		acc.n, acc.sumI, acc.sumF, acc.comp = d.varint(), d.varint(), d.float(), d.float()
		if acc.n < 0 || acc.n > int64(rows) && !ss.unbounded {
			d.fail("count outside the window")
		}
		m := d.count(1)
		prev := int64(-1)
		for range m {
			s := d.varint()
			if s <= prev || s >= int64(rows) {
				d.fail("MIN/MAX candidate outside the window")
				return p
			}
			prev = s
			acc.mono = append(acc.mono, p.seq+s)
		}
		if a := &sl.aggs[k]; ss.accExtra(a) {
			d.accExtra(ss, a, acc)
		}
	}
	if d.err == nil {
		d.rebuildDistinct(sl, ss, p)
	}
	return p
}
