package syntax

// OrderItem is one sort key of a pump's ORDER BY: an expression (an
// integer literal n is the n-th item of the SELECT list), ASC (the
// default) or DESC, and where NULLs go: NULLS FIRST, NULLS LAST, or by
// default as if larger than every value (last ascending, first
// descending).
type OrderItem struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
	NullsSet   bool // NULLS FIRST or LAST was written
}

// orderBy parses [ORDER BY item {, item}] at the end of a pump's query,
// after its last UNION ALL arm, which it sorts as a whole.
func (ps *parser) orderBy(cp *CreatePump) error {
	if !ps.isKw("ORDER") {
		return nil
	}
	cp.OrderPos = ps.next().pos
	if err := ps.expectKw("BY"); err != nil {
		return err
	}
	for {
		x, err := ps.expr()
		if err != nil {
			return err
		}
		it := OrderItem{Expr: x}
		if !ps.acceptKw("ASC") {
			it.Desc = ps.acceptKw("DESC")
		}
		if ps.acceptKw("NULLS") {
			switch {
			case ps.acceptKw("FIRST"):
				it.NullsFirst = true
			case ps.acceptKw("LAST"):
			default:
				return ps.unexpected("FIRST or LAST after NULLS")
			}
			it.NullsSet = true
		}
		cp.OrderBy = append(cp.OrderBy, it)
		if !ps.isOp(",") {
			return nil
		}
		ps.p++
	}
}

// orderInside names an ORDER BY at the end of a subquery or a CURSOR's
// query, which the engine does not sort.
func (ps *parser) orderInside(where string) error {
	if ps.isKw("ORDER") {
		return ps.peek().pos.Unsupported("ORDER BY in " + where)
	}
	return nil
}
