package engine

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/axiomhq/hyperloglog"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(…), 'columnName', windowSize): the
// number of distinct values of a column in each tumbling window of
// windowSize seconds on ROWTIME (aligned on the epoch). When a window
// closes it emits one row, NUMBER_OF_DISTINCT_ITEMS BIGINT, with ROWTIME
// the window's end. NULLs are not counted.
//
// As the reference documents, the count is exact up to 10,000 distinct
// values; from the 10,001st the window's values go into a HyperLogLog
// sketch (github.com/axiomhq/hyperloglog: LogLog-Beta with a sparse
// representation, 2^14 registers, about 0.8% standard error) and the
// count is its estimate.

func init() { registerTableFunc("COUNT_DISTINCT_ITEMS_TUMBLING", newCountDistinct) }

type countDistinct struct {
	tumble
	seen  map[string]struct{}
	items []value.Value // the exact set in arrival order, for the state
	hll   *hyperloglog.Sketch
	out   []value.Value
}

func newCountDistinct(a *TableArgs) ([]value.Column, TableFunc, error) {
	if err := a.Count(2, "columnName", "windowSize"); err != nil {
		return nil, nil, err
	}
	col, err := a.Column(0, "columnName")
	if err != nil {
		return nil, nil, err
	}
	ms, err := windowSizeArg(a, 1)
	if err != nil {
		return nil, nil, err
	}
	c := &countDistinct{tumble: tumble{millis: ms, col: col}, seen: map[string]struct{}{}, out: make([]value.Value, 1)}
	c.flush = c.emitCount
	return []value.Column{{Name: "NUMBER_OF_DISTINCT_ITEMS", Type: value.Bigint}}, c, nil
}

func (c *countDistinct) Push(row []value.Value, rt int64, emit Emit) error {
	v, key, ok := c.enter(row, rt, emit)
	if !ok {
		return nil
	}
	if c.hll != nil {
		c.hll.Insert(key)
		return nil
	}
	if _, dup := c.seen[string(key)]; dup {
		return nil
	}
	if len(c.items) < exactItems {
		c.seen[string(key)] = struct{}{}
		c.items = append(c.items, v)
		return nil
	}
	// The 10,001st distinct value: estimate from here on.
	c.hll = hyperloglog.New14()
	for _, x := range c.items {
		c.key = appendKey(c.key[:0], []value.Value{x})
		c.hll.Insert(c.key)
	}
	c.hll.Insert(appendKey(c.key[:0], []value.Value{v}))
	c.items = nil
	clear(c.seen)
	return nil
}

// emitCount emits the window's count and empties it.
func (c *countDistinct) emitCount(end int64, emit Emit) {
	n := int64(len(c.items))
	if c.hll != nil {
		n = int64(c.hll.Estimate())
	}
	c.hll, c.items = nil, c.items[:0]
	clear(c.seen)
	c.out[0] = value.IntValue(n)
	emit(c.out, end)
}

// AppendState writes the window and either its exact set, in arrival
// order, or its sketch.
func (c *countDistinct) AppendState(b []byte) []byte {
	b = c.tumble.appendState(b)
	if c.hll != nil {
		sk, err := c.hll.MarshalBinary()
		if err != nil {
			panic("kda: COUNT_DISTINCT_ITEMS_TUMBLING sketch: " + err.Error()) // only a zero Sketch fails
		}
		b = append(b, 1)
		return appendString(b, string(sk))
	}
	b = append(b, 0)
	b = binary.AppendUvarint(b, uint64(len(c.items)))
	for _, v := range c.items {
		b = appendValue(b, v)
	}
	return b
}

func (c *countDistinct) Restore(state []byte) (TableFunc, error) {
	d := &stateDecoder{b: state}
	r := &countDistinct{tumble: tumble{millis: c.millis, col: c.col}, seen: map[string]struct{}{}, out: make([]value.Value, 1)}
	r.flush = r.emitCount
	r.tumble.restore(d)
	if d.flag() {
		sk := d.bytes(d.count(1))
		if d.err == nil {
			r.hll = &hyperloglog.Sketch{}
			if err := r.hll.UnmarshalBinary(sk); err != nil {
				d.fail(err.Error())
			}
		}
	} else {
		n := d.count(1)
		if d.err == nil && n > exactItems {
			d.fail(fmt.Sprintf("%d exact items, at most %d", n, exactItems))
		}
		for range n {
			v := d.value()
			if d.err != nil {
				break
			}
			k := string(appendKey(nil, []value.Value{v}))
			if _, dup := r.seen[k]; dup || v.K == value.KindNull {
				d.fail("a value twice, or NULL, in the exact set")
				break
			}
			r.seen[k] = struct{}{}
			r.items = append(r.items, v)
		}
	}
	if d.err == nil && !r.open && (r.hll != nil || len(r.items) > 0) {
		d.fail("values in a closed window")
	}
	if d.err == nil && d.off != len(state) {
		d.fail("bytes after the window")
	}
	if d.err != nil {
		return nil, errors.New(d.err.Reason)
	}
	return r, nil
}
