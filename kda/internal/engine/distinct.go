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
// distinct rows of the current value only. Each distinct row comes out as
// soon as it is seen, with the ROWTIME of the row that first had it.
//
// An aggregate's DISTINCT (COUNT(DISTINCT x), SUM/AVG/MIN/MAX(DISTINCT x))
// in a tumbling or stagger window aggregates each group's distinct non-NULL
// values once: the group keeps the set of values it has seen.

// distinct is a pump's SELECT STREAM DISTINCT state.
type distinct struct {
	mono []int // the output columns of the monotonic items
	cur  []byte
	seen map[string]struct{}
	buf  []byte
}

// isMonotonic reports whether x is ROWTIME or STEP/FLOOR over ROWTIME.
func isMonotonic(x syntax.Expr) bool {
	if st, ok := x.(*syntax.Step); ok {
		x = st.X
	}
	c, ok := x.(*syntax.ColRef)
	return ok && c.Name == "ROWTIME"
}

// compileDistinct sets up SELECT STREAM DISTINCT for p, whose items go to
// the output columns target.
func (p *pump) compileDistinct(sel *syntax.Select, target []int) error {
	if p.win != nil {
		return sel.DistinctPos.Unsupported("SELECT STREAM DISTINCT with GROUP BY or WINDOWED BY")
	}
	if p.slide != nil {
		return sel.DistinctPos.Unsupported("SELECT STREAM DISTINCT with OVER")
	}
	d := &distinct{seen: map[string]struct{}{}}
	i := 0 // the item's first output column: * gives one per column
	for _, it := range sel.Items {
		if it.Star {
			i += p.starWidth(sel)
			continue
		}
		if isMonotonic(it.Expr) {
			d.mono = append(d.mono, target[i])
		}
		i++
	}
	if len(d.mono) == 0 {
		return sel.DistinctPos.Errorf("SELECT STREAM DISTINCT needs a monotonic item to bound its state: select ROWTIME or STEP(ROWTIME BY INTERVAL …)")
	}
	p.distinct = d
	return nil
}

// admit reports whether the output row is new among the rows of the
// current monotonic value, and remembers it.
func (d *distinct) admit(out []value.Value) bool {
	d.buf = d.buf[:0]
	for _, i := range d.mono {
		d.buf = appendKey(d.buf, out[i:i+1])
	}
	if string(d.buf) != string(d.cur) {
		d.cur = append(d.cur[:0], d.buf...)
		clear(d.seen)
	}
	d.buf = appendKey(d.buf[:0], out)
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
	return appendSet(b, d.seen)
}

func (d *stateDecoder) distinct() (cur []byte, seen map[string]struct{}) {
	cur = []byte(d.string())
	return cur, d.set()
}
