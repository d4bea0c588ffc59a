package engine

import (
	"cmp"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// PARTITION BY in a stream-to-stream join's ROWS window: the latest n+1
// rows of each partition; a row pushed out of its partition is dead in
// the window's buffer until it reaches the head or the buffer is
// compacted.

// partitions numbers the partitions of a partitioned ROWS window while
// they hold rows (a joinRow stays as small as without them): each id's
// key and its rows' sequence numbers, oldest first.
type partitions struct {
	ids  map[string]int32
	keys []string
	rows [][]int64
	free []int32
}

func newPartitions() partitions { return partitions{ids: map[string]int32{}} }

// id is key's partition, numbered now if it holds no rows.
func (p *partitions) id(key string) int32 {
	if id, ok := p.ids[key]; ok {
		return id
	}
	var id int32
	if n := len(p.free); n > 0 {
		id, p.free = p.free[n-1], p.free[:n-1]
		p.keys[id] = key
	} else {
		id = int32(len(p.keys))
		p.keys, p.rows = append(p.keys, key), append(p.rows, nil)
	}
	p.ids[key] = id
	return id
}

// release frees the number of a partition that holds no more rows.
func (p *partitions) release(id int32) {
	delete(p.ids, p.keys[id])
	p.keys[id], p.rows[id] = "", nil
	p.free = append(p.free, id)
}

// partitioned reports whether the side keeps its ROWS per partition.
func (js *joinSide) partitioned() bool { return js.rows && len(js.partFns) > 0 }

// compilePartition compiles side i's PARTITION BY, which may read only
// that side's columns (a plain column name is one of them).
func (js *joinSide) compilePartition(sc *scope, i int) error {
	for _, x := range js.partSpec {
		if c, ok := x.(*syntax.ColRef); ok && c.Qual == "" && c.Name != "ROWTIME" {
			// A plain column is the side's own.
			qual := cmp.Or(sc.alias, sc.stream)
			if i == 1 {
				qual = sc.ref.alias
			}
			x = &syntax.ColRef{P: c.P, Qual: qual, Name: c.Name}
		}
		c, err := sc.compile(x)
		if err != nil {
			return err
		}
		if side := sc.joinSide(x); side != 0 && side != i+1 {
			return x.ExprPos().Errorf("PARTITION BY in the window of a JOIN's %s side reads the other side", [2]string{"left", "right"}[i])
		}
		if js.rows {
			js.partFns = append(js.partFns, c.fn)
		}
	}
	return nil
}

// partID is the partition of the row in v.
func (js *joinSide) partID(v *env, buf []value.Value) (int32, error) {
	buf = buf[:0]
	for _, f := range js.partFns {
		x, err := f(v)
		if err != nil {
			return 0, err
		}
		buf = append(buf, x)
	}
	return js.parts.id(string(appendKey(nil, buf))), nil
}

// kill removes the row with sequence number seq from a partitioned
// window: pushed out of its partition, it is dead until it reaches the
// head (or the window is compacted).
func (js *joinSide) kill(seq int64) {
	r := &js.buf[js.head+int(seq-js.seq)]
	if js.outer && !r.matched {
		js.expired = append(js.expired, *r)
	}
	if len(js.keyFns) > 0 {
		l := js.index[r.key]
		if k := slices.Index(l, seq); k >= 0 {
			l = slices.Delete(l, k, k+1)
		}
		if len(l) == 0 {
			delete(js.index, r.key)
		} else {
			js.index[r.key] = l
		}
	}
	*r = joinRow{dead: true}
	js.dead++
	for js.head < len(js.buf) && js.buf[js.head].dead {
		js.drop()
	}
	if live := len(js.buf) - js.head - js.dead; js.dead > 64 && js.dead > live {
		js.compact()
	}
}

// compact drops the dead rows of a partitioned window, numbering the rest
// from 0.
func (js *joinSide) compact() {
	var live []joinRow
	for _, r := range js.buf[js.head:] {
		if !r.dead {
			live = append(live, r)
		}
	}
	js.buf, js.head, js.seq, js.dead = live, 0, 0, 0
	clear(js.index)
	for id := range js.parts.rows {
		js.parts.rows[id] = js.parts.rows[id][:0]
	}
	for i, r := range live {
		if len(js.keyFns) > 0 {
			js.index[r.key] = append(js.index[r.key], int64(i))
		}
		js.parts.rows[r.part] = append(js.parts.rows[r.part], int64(i))
	}
}
