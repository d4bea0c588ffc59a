package engine

import (
	"cmp"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The join forms beyond JOIN … ON: CROSS JOIN and comma joins (every pair;
// a WHERE is their ON), JOIN … USING (c, …) (the columns' equalities, each
// column once in SELECT * and readable unqualified) and SELECT * over a
// join (the left side's columns, then the right side's).

// usingMode says which side an unqualified USING column reads: the left
// side's value (INNER and LEFT JOIN), the right side's (RIGHT JOIN) or the
// first that is not NULL (FULL JOIN).
type usingMode int

const (
	usingLeft usingMode = iota
	usingRight
	usingCoalesce
)

// crossWhere returns sel with the WHERE of a CROSS or comma join moved
// into the join's ON: for an inner join the two are the same rows, and in
// ON its equalities are the join's hash key.
func crossWhere(sel *syntax.Select) *syntax.Select {
	j := sel.Join
	if j == nil || !j.Cross || sel.Where == nil {
		return sel
	}
	jc, sc := *j, *sel
	jc.On, sc.Where, sc.Join = sel.Where, nil, &jc
	return &sc
}

// joinOn is the join's ON condition: TRUE for a CROSS JOIN.
func joinOn(j *syntax.Join) syntax.Expr {
	if j.On == nil {
		return &syntax.Literal{P: j.P, V: value.Value{K: value.KindBool, I: 1}}
	}
	return j.On
}

// setUsing records the USING columns of sel's join in sc, checking that
// both sides have each.
func (s *scope) setUsing(j *syntax.Join) error {
	if len(j.Using) == 0 {
		return nil
	}
	s.using = map[string]bool{}
	switch {
	case j.Left && j.Right:
		s.usingMode = usingCoalesce
	case j.Right:
		s.usingMode = usingRight
	}
	for _, name := range j.Using {
		li, inLeft := s.idx[name]
		ri, inRight := s.ref.t.idx[name]
		switch {
		case !inLeft && s.chain != nil:
			return j.P.Errorf("USING column %q is not in the JOINs before it, or in more than one of them (use ON)", name)
		case !inLeft:
			return j.P.Errorf("USING column %q is not in stream %q", name, s.stream)
		case !inRight:
			return j.P.Errorf("USING column %q is not in %q", name, s.ref.t.name)
		case !comparable(s.cols[li].Type.Kind, s.ref.t.cols[ri].Type.Kind):
			return j.P.Errorf("USING column %q: cannot compare %s with %s", name, s.cols[li].Type.Kind, s.ref.t.cols[ri].Type.Kind)
		}
		s.using[name] = true
	}
	return nil
}

// compileUsing compiles an unqualified USING column.
func (s *scope) compileUsing(c *syntax.ColRef) cexpr {
	li, ri := s.idx[c.Name], s.ref.t.idx[c.Name]
	lk, rk := s.cols[li].Type.Kind, s.ref.t.cols[ri].Type.Kind
	right := func(v *env) value.Value {
		if v.ref == nil {
			return value.Value{}
		}
		return v.ref[ri]
	}
	switch s.usingMode {
	case usingRight:
		return cexpr{typ: rk, fn: func(v *env) (value.Value, error) { return right(v), nil }}
	case usingCoalesce:
		typ, conv := lk, func(x value.Value) value.Value { return x }
		if lk != rk {
			typ, conv = value.KindFloat, func(x value.Value) value.Value { return widen(x, value.KindFloat) }
		}
		return cexpr{typ: typ, fn: func(v *env) (value.Value, error) {
			if x := v.row[li]; x.K != value.KindNull {
				return conv(x), nil
			}
			return conv(right(v)), nil
		}}
	}
	return cexpr{typ: lk, fn: func(v *env) (value.Value, error) { return v.row[li], nil }}
}

// starItems expands SELECT * over a join: the USING columns once, then
// the left side's other columns, then the right side's.
func starItems(sel *syntax.Select, sc *scope, pos syntax.Pos) []syntax.SelectItem {
	j := sel.Join
	var items []syntax.SelectItem
	add := func(qual, name string) {
		items = append(items, syntax.SelectItem{Pos: pos, Expr: &syntax.ColRef{P: pos, Qual: qual, Name: name}})
	}
	for _, name := range j.Using {
		add("", name)
	}
	left, right := cmp.Or(sel.Alias, sel.From), cmp.Or(j.Alias, j.Table)
	for i, c := range sc.cols {
		base := c.Name
		if sc.chain != nil { // a JOIN chain's hidden stream (chain.go)
			if i >= sc.chain.star {
				break
			}
			base = sc.chain.bases[i]
		}
		if !sc.using[base] {
			add(left, c.Name)
		}
	}
	for _, c := range sc.ref.t.cols {
		if !sc.using[c.Name] {
			add(right, c.Name)
		}
	}
	return items
}

// starWidth is the number of columns SELECT * gives in p.
func (p *pump) starWidth(sel *syntax.Select) int {
	n := len(p.src.starCols())
	switch {
	case p.join != nil:
		n += len(p.join.t.cols)
	case p.sjoin != nil:
		n += len(p.sjoin.right.cols)
	default:
		return n
	}
	return n - len(sel.Join.Using)
}
