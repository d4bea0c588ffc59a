package engine

import (
	"encoding/binary"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// DISTINCT on a stream. SELECT STREAM DISTINCT emits a row the first time
// its values appear and drops later rows with the same values (NULLs equal,
// as IS NOT DISTINCT FROM). A stream never ends, so one of the selected
// items must be monotonic — ROWTIME, or STEP/FLOOR over ROWTIME — and the
// rows seen are forgotten when its value moves on: the state is the
// distinct rows of the current value only. A ROWTIME item, when another
// item is monotonic, counts for neither (the reference ignores ROWTIME
// for duplicates): SELECT STREAM DISTINCT ROWTIME, prodId,
// FLOOR(ROWTIME TO DAY) gives each day's products once. Each distinct row comes out as
// soon as it is seen, with the ROWTIME of the row that first had it. With
// OVER the same holds for the rows the sliding window gives. With GROUP BY
// or WINDOWED BY, whose rows come out when a window closes, DISTINCT drops
// the duplicates among the rows that come out with the same ROWTIME (one
// tumbling window's, or the stagger windows closing at that time): its
// state is those rows.
//
// An aggregate's DISTINCT (COUNT(DISTINCT x), SUM/AVG/MIN/MAX(DISTINCT x))
// in a tumbling or stagger window aggregates each group's distinct non-NULL
// values once: the group keeps the set of values it has seen.

// distinct is a pump's SELECT STREAM DISTINCT state.
type distinct struct {
	mono []int // the output columns of the monotonic items
	// cur is the monotonic items' key of the rows in seen, or the
	// ROWTIME of a window's rows.
	cur  []byte
	seen map[string]struct{}
	buf  []byte
	// declared are the MONOTONIC(…) items, whose values must keep their
	// direction (monotonic.go), or nil.
	declared *monoKeys
	// skip marks the output columns of ROWTIME items when another item
	// is monotonic: as the reference says, they do not count for
	// duplicates (nil: every column counts).
	skip []bool
}

// isMonotonic reports whether x is ROWTIME, STEP/FLOOR over ROWTIME or
// MONOTONIC(…).
func isMonotonic(x syntax.Expr) bool {
	if isMonotonicCall(x) {
		return true
	}
	if st, ok := x.(*syntax.Step); ok {
		x = st.X
	}
	c, ok := x.(*syntax.ColRef)
	return ok && c.Name == "ROWTIME"
}

// compileDistinct sets up SELECT STREAM DISTINCT for p, whose items go to
// the output columns target.
func (p *pump) compileDistinct(sel *syntax.Select, target []int) error {
	d := &distinct{seen: map[string]struct{}{}}
	if p.win != nil {
		p.distinct = d // windowed: the ROWTIME of a window's rows bounds it
		return nil
	}
	var declared []int // MONOTONIC(…) items: checked
	var rowtimes []int // ROWTIME items
	var pos []syntax.Pos
	i := 0 // the item's first output column: * gives one per column
	for _, it := range sel.Items {
		if it.Star {
			i += p.starWidth(sel)
			continue
		}
		if isMonotonic(it.Expr) {
			d.mono = append(d.mono, target[i])
		}
		if c, ok := it.Expr.(*syntax.ColRef); ok && c.Name == "ROWTIME" {
			rowtimes = append(rowtimes, target[i])
		}
		if isMonotonicCall(it.Expr) {
			declared = append(declared, target[i])
			pos = append(pos, it.Expr.ExprPos())
		}
		i++
	}
	if len(d.mono) == 0 {
		return sel.DistinctPos.Errorf("SELECT STREAM DISTINCT needs a monotonic item to bound its state: select ROWTIME, STEP(ROWTIME BY INTERVAL …) or MONOTONIC(…)")
	}
	if len(declared) > 0 {
		m := newMonoKeys(declared, pos)
		d.declared = &m
	}
	if len(rowtimes) > 0 && len(rowtimes) < len(d.mono) {
		d.skip = make([]bool, len(p.out))
		for _, c := range rowtimes {
			d.skip[c] = true
		}
		d.mono = slices.DeleteFunc(d.mono, func(c int) bool { return d.skip[c] })
	}
	p.distinct = d
	return nil
}

// admit reports whether the output row is new among the rows of the
// current monotonic value, and remembers it; a MONOTONIC item against
// its direction is an error.
func (d *distinct) admit(out []value.Value) (bool, error) {
	if d.declared != nil {
		if _, err := d.declared.check(out); err != nil {
			return false, err
		}
	}
	d.buf = d.buf[:0]
	for _, i := range d.mono {
		d.buf = appendKey(d.buf, out[i:i+1])
	}
	return d.admitAt(out), nil
}

// admitWindow is admit for a row a window emits with ROWTIME rt.
func (d *distinct) admitWindow(out []value.Value, rt int64) bool {
	d.buf = binary.AppendVarint(d.buf[:0], rt)
	return d.admitAt(out)
}

// admitAt is admit with the monotonic key in d.buf.
func (d *distinct) admitAt(out []value.Value) bool {
	if string(d.buf) != string(d.cur) {
		d.cur = append(d.cur[:0], d.buf...)
		clear(d.seen)
	}
	d.buf = d.buf[:0]
	for i := range out {
		if d.skip == nil || !d.skip[i] {
			d.buf = appendKey(d.buf, out[i:i+1])
		}
	}
	if _, dup := d.seen[string(d.buf)]; dup {
		return false
	}
	d.seen[string(d.buf)] = struct{}{}
	return true
}

// firstSeen reports whether x is new to the distinct aggregate's set, and
// adds it; buf is scratch space.
func firstSeen(set *map[string]struct{}, x value.Value, buf *[]byte) bool {
	if *set == nil {
		*set = map[string]struct{}{}
	}
	*buf = appendKey((*buf)[:0], []value.Value{x})
	if _, dup := (*set)[string(*buf)]; dup {
		return false
	}
	(*set)[string(*buf)] = struct{}{}
	return true
}

// appendSet writes a set of keys, sorted so that equal states are equal
// bytes.
func appendSet(b []byte, set map[string]struct{}) []byte {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = appendString(b, k)
	}
	return b
}

// set reads what appendSet wrote.
func (d *stateDecoder) set() map[string]struct{} {
	n := d.count(1)
	set := make(map[string]struct{}, n)
	for range n {
		k := d.string()
		if _, dup := set[k]; dup && d.err == nil {
			d.fail("a distinct value appears twice")
		}
		set[k] = struct{}{}
	}
	return set
}

func (d *distinct) appendState(b []byte) []byte {
	b = appendString(b, string(d.cur))
	b = appendSet(b, d.seen)
	if d.declared != nil {
		b = d.declared.appendState(b)
	}
	return b
}

func (d *stateDecoder) distinct(dist *distinct) (cur []byte, seen map[string]struct{}, declared monoKeys) {
	cur = []byte(d.string())
	seen = d.set()
	if dist.declared != nil {
		declared = d.monoKeys(dist.declared)
	}
	return cur, seen, declared
}
