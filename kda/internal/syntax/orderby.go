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
	var err error
	cp.OrderBy, cp.OrderPos, err = ps.orderItems()
	return err
}

// orderInside parses [ORDER BY …] at the end of a subquery's or a
// CURSOR's query into its first SELECT, which the engine sorts like a
// pump's (order.go).
func (ps *parser) orderInside(first *Select) error {
	var err error
	first.OrderBy, first.OrderPos, err = ps.orderItems()
	return err
}

// orderItems parses [ORDER BY item {, item}]: nil without one.
func (ps *parser) orderItems() ([]OrderItem, Pos, error) {
	if !ps.isKw("ORDER") {
		return nil, Pos{}, nil
	}
	var items []OrderItem
	at := ps.next().pos
	if err := ps.expectKw("BY"); err != nil {
		return nil, at, err
	}
	for {
		x, err := ps.expr()
		if err != nil {
			return nil, at, err
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
				return nil, at, ps.unexpected("FIRST or LAST after NULLS")
			}
			it.NullsSet = true
		}
		items = append(items, it)
		if !ps.isOp(",") {
			return items, at, nil
		}
		ps.p++
	}
}
