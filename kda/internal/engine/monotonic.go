package engine

import (
	"encoding/binary"
	"fmt"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// MONOTONIC(x) returns x, and declares that x never changes direction: it
// goes up (or stays), or goes down (or stays), for the whole stream. As a
// GROUP BY key it is a window of its own, like a STEP over ROWTIME: the
// groups of one value of x come out when a row with another value
// arrives (with that row's ROWTIME, the earliest time they are complete),
// or when a STEP over ROWTIME in the same GROUP BY closes its window. The
// reference leaves what a value against the declared direction does
// unspecified; here the row goes to the error_stream (its value and the
// one before it in the message) and counts in no group. So does a NULL.
// The first change fixes the direction. Engine.Flush closes the groups of
// the last value with the ROWTIME of the last row. As an item of SELECT
// STREAM DISTINCT it bounds the rows remembered, as ROWTIME does, and is
// checked the same way.

// isMonotonicCall reports whether g is MONOTONIC(…).
func isMonotonicCall(g syntax.Expr) bool {
	c, ok := g.(*syntax.Call)
	return ok && c.Name == "MONOTONIC" && c.Over == nil && c.OverName == ""
}

// compileMonotonic compiles MONOTONIC(x) outside a GROUP BY key: x.
func compileMonotonic(e *syntax.Call, args []cexpr) (cexpr, error) {
	if len(args) != 1 || e.Star {
		return cexpr{}, e.P.Errorf("MONOTONIC takes one argument")
	}
	return args[0], nil
}

// monoKeys is the state of a window's MONOTONIC keys.
type monoKeys struct {
	idx  []int         // the keys' indices in window.keys
	pos  []syntax.Pos  // their positions, for the error message
	seen bool          // a row has set cur
	cur  []value.Value // the keys' values in the current window
	dir  []int8        // +1 ascending, -1 descending, 0 not yet known
	next []int8        // scratch: dir after this row
}

// check compares the keys of a row with the current values: changed when
// one moved on in its direction (the window closes), an error when one
// went back or is NULL. Nothing changes on error.
func (m *monoKeys) check(keys []value.Value) (changed bool, err error) {
	copy(m.next, m.dir)
	for j, i := range m.idx {
		x := keys[i]
		if x.K == value.KindNull {
			return false, &EvalError{fmt.Sprintf("MONOTONIC at %d:%d is NULL: a value declared monotonic needs a value", m.pos[j].Line, m.pos[j].Col)}
		}
		if !m.seen {
			continue
		}
		d := m.dir[j]
		switch c := int8(compareValues(x, m.cur[j])); {
		case c == 0:
		case d == 0 || d == c:
			changed, m.next[j] = true, c
		default:
			way := "ascending"
			if d < 0 {
				way = "descending"
			}
			return false, &EvalError{fmt.Sprintf("MONOTONIC at %d:%d was %s and went from %s to %s: the row is dropped", m.pos[j].Line, m.pos[j].Col, way, m.cur[j].SQL(), x.SQL())}
		}
	}
	for j, i := range m.idx {
		m.cur[j] = keys[i]
	}
	m.dir, m.next = m.next, m.dir
	m.seen = true
	return changed, nil
}

func newMonoKeys(idx []int, pos []syntax.Pos) monoKeys {
	return monoKeys{idx: idx, pos: pos, cur: make([]value.Value, len(idx)), dir: make([]int8, len(idx)), next: make([]int8, len(idx))}
}

func (m *monoKeys) appendState(b []byte) []byte {
	if !m.seen {
		return append(b, 0)
	}
	b = append(b, 1)
	for j := range m.idx {
		b = appendValue(b, m.cur[j])
		b = binary.AppendVarint(b, int64(m.dir[j]))
	}
	return b
}

// monoKeys reads what appendState wrote into a copy of m.
func (d *stateDecoder) monoKeys(m *monoKeys) monoKeys {
	r := newMonoKeys(m.idx, m.pos)
	if r.seen = d.flag(); !r.seen {
		return r
	}
	for j := range r.idx {
		r.cur[j] = d.value()
		dir := d.varint()
		if dir < -1 || dir > 1 {
			d.fail("MONOTONIC direction is not -1, 0 or 1")
		}
		r.dir[j] = int8(dir)
		if r.cur[j].K == value.KindNull {
			d.fail("MONOTONIC value is NULL")
		}
	}
	return r
}
