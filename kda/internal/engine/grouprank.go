package engine

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// GROUP_RANK(CURSOR(…), rankByColumnName, rankOutColumnName, sortOrder,
// outputOrder, maxIdle, outputMax): the reference's group rank, which
// applies RANK() to each group of cursor rows that share a ROWTIME (the
// rows of one window of a GROUP BY, typically). It returns the cursor's
// columns then rankOutColumnName, INTEGER: with sortOrder 'asc' the
// smallest value of rankByColumnName is rank 1, with 'desc' the largest;
// equal values share a rank and the next rank skips (1, 1, 3); NULLs rank
// last. outputOrder 'asc' emits the group by rank from 1, 'desc' from the
// highest rank; equal ranks in the order the rows came. outputMax (0 for
// no limit) keeps the first rows of that order. Each row keeps its ROWTIME.
//
// A group is released when the engine's clock passes its ROWTIME: a row
// at a later ROWTIME, Engine.Advance past it, or Flush. In KDA the
// function only saw rows, so a group waited for the next one, at most
// maxIdle milliseconds (0: no limit); here ROWTIME is the engine's clock
// and never goes back, so once it has moved on no row can join the group,
// which is therefore released within any maxIdle. maxIdle is checked (0 to
// 2^31-1) and changes nothing. The group's rows are kept with the window
// state (Engine.State) until released.

func init() { registerTableFunc("GROUP_RANK", newGroupRank) }

type groupRank struct {
	col     int
	outCol  string
	kinds   []value.Kind // the cursor's column kinds, to check a restored state
	desc    bool         // sortOrder 'desc': the largest value is rank 1
	outDesc bool         // outputOrder 'desc': the highest rank first
	maxOut  int          // outputMax; 0 is no limit

	pending bool
	rt      int64           // the pending group's ROWTIME
	rows    [][]value.Value // the pending group, in arrival order
	out     []value.Value
}

func newGroupRank(a *TableArgs) ([]value.Column, TableFunc, error) {
	if err := a.Count(6, "rankByColumnName", "rankOutColumnName", "sortOrder", "outputOrder", "maxIdle", "outputMax"); err != nil {
		return nil, nil, err
	}
	g := &groupRank{}
	var err error
	if g.col, err = a.Column(0, "rankByColumnName"); err != nil {
		return nil, nil, err
	}
	switch k := a.Input[g.col].Type.Kind; k {
	case value.KindInt, value.KindFloat, value.KindString, value.KindTime:
	default:
		return nil, nil, a.ArgErrorf(0, "rankByColumnName", "cannot rank by %s column %q: it must be a number, a string or a TIMESTAMP", k, a.Input[g.col].Name)
	}
	if g.outCol, err = a.String(1, "rankOutColumnName"); err != nil {
		return nil, nil, err
	}
	if g.outCol == "" {
		return nil, nil, a.ArgErrorf(1, "rankOutColumnName", "must name the rank column")
	}
	for _, c := range a.Input {
		if c.Name == g.outCol {
			return nil, nil, a.ArgErrorf(1, "rankOutColumnName", "the cursor already has a column %q", g.outCol)
		}
	}
	if g.desc, err = orderArg(a, 2, "sortOrder"); err != nil {
		return nil, nil, err
	}
	if g.outDesc, err = orderArg(a, 3, "outputOrder"); err != nil {
		return nil, nil, err
	}
	if _, err = a.Int(4, "maxIdle", 0, math.MaxInt32); err != nil {
		return nil, nil, err
	}
	maxOut, err := a.Int(5, "outputMax", 0, math.MaxInt32)
	if err != nil {
		return nil, nil, err
	}
	g.maxOut = int(maxOut)
	for _, c := range a.Input {
		g.kinds = append(g.kinds, c.Type.Kind)
	}
	cols := append(slices.Clone(a.Input), value.Column{Name: g.outCol, Type: value.Integer})
	g.out = make([]value.Value, len(cols))
	return cols, g, nil
}

// orderArg reads 'asc' or 'desc' (in any case); true for 'desc'.
func orderArg(a *TableArgs, i int, name string) (bool, error) {
	s, err := a.String(i, name)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(s) {
	case "asc":
		return false, nil
	case "desc":
		return true, nil
	}
	return false, a.ArgErrorf(i, name, "must be 'asc' or 'desc', got '%s'", s)
}

func (g *groupRank) Push(row []value.Value, rt int64, emit Emit) error {
	if g.pending && rt != g.rt {
		g.release(emit)
	}
	g.pending, g.rt = true, rt
	g.rows = append(g.rows, slices.Clone(row))
	return nil
}

func (g *groupRank) Advance(t int64, emit Emit) {
	if g.pending && t > g.rt {
		g.release(emit)
	}
}

func (g *groupRank) NextClose() (int64, bool) { return g.rt + 1, g.pending }

// better orders two rank values: negative when a ranks before b. NULLs
// rank last.
func (g *groupRank) better(a, b value.Value) int {
	switch an, bn := a.K == value.KindNull, b.K == value.KindNull; {
	case an || bn:
		return cmp.Compare(b2i(an), b2i(bn))
	case g.desc:
		return compareValues(b, a)
	}
	return compareValues(a, b)
}

// release ranks and emits the pending group and empties it.
func (g *groupRank) release(emit Emit) {
	order := make([]int, len(g.rows))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return g.better(g.rows[i][g.col], g.rows[j][g.col]) })
	rank := make([]int64, len(g.rows))
	for k, i := range order {
		rank[i] = int64(k + 1)
		if k > 0 && g.better(g.rows[order[k-1]][g.col], g.rows[i][g.col]) == 0 {
			rank[i] = rank[order[k-1]]
		}
	}
	if g.outDesc {
		slices.SortStableFunc(order, func(i, j int) int { return cmp.Compare(rank[j], rank[i]) })
		// Equal ranks in arrival order.
		for lo := 0; lo < len(order); {
			hi := lo + 1
			for hi < len(order) && rank[order[hi]] == rank[order[lo]] {
				hi++
			}
			slices.Sort(order[lo:hi])
			lo = hi
		}
	}
	if g.maxOut > 0 && len(order) > g.maxOut {
		order = order[:g.maxOut]
	}
	n := len(g.out) - 1
	for _, i := range order {
		copy(g.out, g.rows[i])
		g.out[n] = value.IntValue(rank[i])
		emit(g.out, g.rt)
	}
	g.pending = false
	clear(g.rows)
	g.rows = g.rows[:0]
}

// AppendState writes the pending group: its ROWTIME and rows.
func (g *groupRank) AppendState(b []byte) []byte {
	b = append(b, b2byte(g.pending))
	b = binary.AppendVarint(b, g.rt)
	b = binary.AppendUvarint(b, uint64(len(g.rows)))
	for _, r := range g.rows {
		for _, v := range r {
			b = appendValue(b, v)
		}
	}
	return b
}

func (g *groupRank) Restore(state []byte) (TableFunc, error) {
	d := &stateDecoder{b: state}
	r := &groupRank{col: g.col, outCol: g.outCol, kinds: g.kinds, desc: g.desc, outDesc: g.outDesc, maxOut: g.maxOut,
		out: make([]value.Value, len(g.out))}
	r.pending, r.rt = d.flag(), d.varint()
	n := d.count(max(1, len(g.kinds)))
	if d.err == nil && (n > 0) != r.pending {
		d.fail(fmt.Sprintf("%d rows in a group that is not pending", n))
	}
	for range n {
		row := make([]value.Value, len(g.kinds))
		for k := range row {
			row[k] = d.value()
			if d.err == nil && row[k].K != value.KindNull && row[k].K != g.kinds[k] {
				d.fail(fmt.Sprintf("a %s value in a %s column", row[k].K, g.kinds[k]))
			}
		}
		if d.err != nil {
			break
		}
		r.rows = append(r.rows, row)
	}
	if d.err == nil && d.off != len(state) {
		d.fail("bytes after the group's rows")
	}
	if d.err != nil {
		return nil, errors.New(d.err.Reason)
	}
	return r, nil
}
