package engine

import (
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// TOP_K_ITEMS_TUMBLING(CURSOR(…), 'columnName', K, windowSize): the K most
// frequent values of a column in each tumbling window of windowSize
// seconds on ROWTIME (aligned on the epoch, as GROUP BY STEP(ROWTIME BY
// INTERVAL 'n' SECOND) is). When a window closes it emits up to K rows of
// (the column, under its own name and type; MOST_FREQUENT_VALUES BIGINT,
// the value's count), most frequent first, equal counts in the order the
// values first came, each with ROWTIME the window's end. NULLs are not
// counted.
//
// The reference allows an approximation. This one counts exactly while a
// window has at most max(K, 10,000) distinct values, and above that keeps
// that many counters by Space-Saving (Metwally, Agrawal and El Abbadi,
// ICDT 2005): a new value takes the place of the one with the lowest count
// and starts from that count, so that every value more frequent than
// rows/counters is kept and counts are over-estimates by at most the count
// they replaced. Memory, and the state saved between invocations, stay
// bounded by the counters.

func init() { registerTableFunc("TOP_K_ITEMS_TUMBLING", newTopK) }

// exactItems is how many distinct values the tumbling table functions
// count exactly, as the reference documents for
// COUNT_DISTINCT_ITEMS_TUMBLING.
const exactItems = 10_000

// tumble is the tumbling window of a table function counting the values
// of column col: millis long, aligned on the epoch. It gives the function
// its Advance and NextClose.
type tumble struct {
	millis int64
	col    int
	open   bool
	start  int64
	key    []byte
	// flush emits the closing window's rows, at ROWTIME end, and empties
	// the window.
	flush func(end int64, emit Emit)
}

// due reports whether the open window has ended by t.
func (w *tumble) due(t int64) bool { return w.open && t >= w.start+w.millis }

// enter closes the open window if rt is past it, opens rt's window if
// none is open, and returns the row's value of the column with its key
// (valid until the next call), or false for NULL.
func (w *tumble) enter(row []value.Value, rt int64, emit Emit) (value.Value, []byte, bool) {
	w.Advance(rt, emit)
	if !w.open {
		w.open, w.start = true, floorDiv(rt, w.millis)*w.millis
	}
	v := row[w.col]
	if v.K == value.KindNull {
		return v, nil, false
	}
	w.key = appendKey(w.key[:0], []value.Value{v})
	return v, w.key, true
}

func (w *tumble) Advance(now int64, emit Emit) {
	if w.due(now) {
		w.open = false
		w.flush(w.start+w.millis, emit)
	}
}

func (w *tumble) NextClose() (int64, bool) { return w.start + w.millis, w.open }

func (w *tumble) appendState(b []byte) []byte {
	b = append(b, b2byte(w.open))
	return binary.AppendVarint(b, w.start)
}

func (w *tumble) restore(d *stateDecoder) {
	w.open, w.start = d.flag(), d.varint()
	if d.err == nil && w.start != floorDiv(w.start, w.millis)*w.millis {
		d.fail("window start is not a multiple of the window size")
	}
}

func b2byte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// windowSizeArg reads a tumbling table function's windowSize argument:
// whole seconds from 1 to 3600, as the reference allows.
func windowSizeArg(a *TableArgs, i int) (int64, error) {
	s, err := a.Int(i, "windowSize", 1, 3600)
	return s * 1000, err
}

// topKItem is one counter of TOP_K_ITEMS_TUMBLING.
type topKItem struct {
	v     value.Value
	key   string
	count int64
	seq   int64 // order of arrival in the window, for ties
	pos   int   // index in the heap, once there is one
}

type topK struct {
	tumble
	k, capacity int

	items map[string]*topKItem
	order []*topKItem // every counter; a min-heap on (count, seq) once full
	full  bool        // order is a heap: the counters are all taken
	seq   int64
	out   []value.Value
}

func newTopK(a *TableArgs) ([]value.Column, TableFunc, error) {
	if err := a.Count(3, "columnName", "K", "windowSize"); err != nil {
		return nil, nil, err
	}
	col, err := a.Column(0, "columnName")
	if err != nil {
		return nil, nil, err
	}
	k, err := a.Int(1, "K", 1, 100_000)
	if err != nil {
		return nil, nil, err
	}
	ms, err := windowSizeArg(a, 2)
	if err != nil {
		return nil, nil, err
	}
	t := &topK{tumble: tumble{millis: ms, col: col}, k: int(k), capacity: max(int(k), exactItems), items: map[string]*topKItem{}}
	t.out, t.flush = make([]value.Value, 2), t.emitTop
	return []value.Column{a.Input[col], {Name: "MOST_FREQUENT_VALUES", Type: value.Bigint}}, t, nil
}

func (t *topK) Push(row []value.Value, rt int64, emit Emit) error {
	v, key, ok := t.enter(row, rt, emit)
	if !ok {
		return nil
	}
	if it := t.items[string(key)]; it != nil {
		it.count++
		if t.full {
			heap.Fix((*topKHeap)(&t.order), it.pos)
		}
		return nil
	}
	t.seq++
	if len(t.order) < t.capacity {
		it := &topKItem{v: v, key: string(key), count: 1, seq: t.seq, pos: len(t.order)}
		t.items[it.key] = it
		t.order = append(t.order, it)
		if len(t.order) == t.capacity {
			heap.Init((*topKHeap)(&t.order))
			t.full = true
		}
		return nil
	}
	// Space-Saving: the new value replaces the least frequent one.
	it := t.order[0]
	delete(t.items, it.key)
	it.v, it.key, it.count, it.seq = v, string(key), it.count+1, t.seq
	t.items[it.key] = it
	heap.Fix((*topKHeap)(&t.order), 0)
	return nil
}

// emitTop emits the window's top K and empties it.
func (t *topK) emitTop(end int64, emit Emit) {
	top := slices.Clone(t.order)
	slices.SortFunc(top, func(a, b *topKItem) int {
		if c := cmp.Compare(b.count, a.count); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	t.full, t.seq, t.order = false, 0, t.order[:0]
	clear(t.items)
	for _, it := range top[:min(t.k, len(top))] {
		t.out[0], t.out[1] = it.v, value.IntValue(it.count)
		emit(t.out, end)
	}
}

// AppendState writes the window and its counters in arrival order.
func (t *topK) AppendState(b []byte) []byte {
	b = t.tumble.appendState(b)
	b = binary.AppendVarint(b, t.seq)
	items := slices.Clone(t.order)
	slices.SortFunc(items, func(a, b *topKItem) int { return cmp.Compare(a.seq, b.seq) })
	b = binary.AppendUvarint(b, uint64(len(items)))
	for _, it := range items {
		b = appendValue(b, it.v)
		b = binary.AppendVarint(b, it.count)
		b = binary.AppendVarint(b, it.seq)
	}
	return b
}

func (t *topK) Restore(state []byte) (TableFunc, error) {
	d := &stateDecoder{b: state}
	r := &topK{tumble: tumble{millis: t.millis, col: t.col}, k: t.k, capacity: t.capacity, items: map[string]*topKItem{}, out: make([]value.Value, 2)}
	r.flush = r.emitTop
	r.tumble.restore(d)
	r.seq = d.varint()
	n := d.count(3)
	if d.err == nil && (n > r.capacity || n > 0 && !r.open) {
		d.fail(fmt.Sprintf("%d counters in a window that holds %d", n, r.capacity))
	}
	prev := int64(0)
	for range n {
		it := &topKItem{v: d.value(), count: d.varint(), seq: d.varint(), pos: len(r.order)}
		if d.err != nil {
			break
		}
		it.key = string(appendKey(nil, []value.Value{it.v}))
		switch {
		case it.v.K == value.KindNull:
			d.fail("a NULL counter")
		case it.count < 1:
			d.fail("a counter below 1")
		case it.seq <= prev || it.seq > r.seq:
			d.fail("counters out of order")
		case r.items[it.key] != nil:
			d.fail("a value counted twice")
		}
		if d.err != nil {
			break
		}
		prev = it.seq
		r.items[it.key] = it
		r.order = append(r.order, it)
	}
	if d.err == nil && d.off != len(state) {
		d.fail("bytes after the counters")
	}
	if d.err != nil {
		return nil, errors.New(d.err.Reason)
	}
	if len(r.order) == r.capacity {
		heap.Init((*topKHeap)(&r.order))
		r.full = true
	}
	return r, nil
}

// topKHeap orders the counters by count then arrival, least first: the
// one Space-Saving replaces is unique, whatever the heap's layout.
type topKHeap []*topKItem

func (h topKHeap) Len() int { return len(h) }
func (h topKHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count < h[j].count
	}
	return h[i].seq < h[j].seq
}
func (h topKHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].pos, h[j].pos = i, j
}
func (h *topKHeap) Push(any) { panic("topKHeap: fixed size") }
func (h *topKHeap) Pop() any { panic("topKHeap: fixed size") }
