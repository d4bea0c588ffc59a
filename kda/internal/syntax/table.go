package syntax

// TableCall is FROM TABLE(name(CURSOR(SELECT STREAM …), arg, …)) [AS]
// alias: a table function reading the rows of its cursor's query, as
// RANDOM_CUT_FOREST, TOP_K_ITEMS_TUMBLING and the other streaming table
// functions of the KDA reference are called. The parser takes any name;
// the engine decides which functions exist.
type TableCall struct {
	P       Pos // TABLE
	Name    string
	NamePos Pos
	// Cursor is the query of CURSOR(…), the function's first argument
	// (its UnionAll the next SELECT of a UNION ALL, its OrderBy the
	// query's ORDER BY).
	Cursor    *Select
	CursorPos Pos
	// Args are the arguments after the cursor, in order.
	Args []Expr
}

// TableFunctions are the table functions of the KDA SQL reference. Called
// as a scalar function, one is an error that shows how to call it; in
// FROM TABLE(…) the engine runs those it implements and names the others
// as unsupported.
var TableFunctions = map[string]bool{
	"TOP_K_ITEMS_TUMBLING": true, "COUNT_DISTINCT_ITEMS_TUMBLING": true,
	"RANDOM_CUT_FOREST": true, "RANDOM_CUT_FOREST_WITH_EXPLANATION": true, "HOTSPOTS": true,
	"GROUP_RANK": true,
}

// isTableSource reports whether TABLE ( comes next.
func (ps *parser) isTableSource() bool {
	return ps.isKw("TABLE") && ps.tok(1).kind == tOp && ps.tok(1).text == "("
}

// tableSource parses FROM's TABLE(…) [OVER (…)] [AS] alias into s.Table
// (OVER is its window in a JOIN of two streams).
func (ps *parser) tableSource(s *Select) error {
	tc, err := ps.tableCall()
	if err != nil {
		return err
	}
	s.Table, s.FromPos = tc, tc.P
	if s.Over, s.OverName, err = ps.optOver(); err != nil {
		return err
	}
	s.Alias, err = ps.optAlias("table alias")
	return err
}

// tableCall parses TABLE ( name ( CURSOR ( SELECT STREAM … [UNION ALL
// SELECT STREAM …] ) {, expr} ) ).
func (ps *parser) tableCall() (*TableCall, error) {
	tc := &TableCall{P: ps.next().pos} // TABLE
	ps.p++                             // (
	var err error
	if tc.Name, tc.NamePos, err = ps.ident("table function name"); err != nil {
		return nil, err
	}
	if tc.Name == "CURSOR" {
		return nil, tc.NamePos.Errorf("TABLE(CURSOR(…)) names no function: write TABLE(function(CURSOR(SELECT STREAM …), …))")
	}
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	tc.CursorPos = ps.peek().pos
	if !ps.isKw("CURSOR") || ps.tok(1).kind != tOp || ps.tok(1).text != "(" {
		return nil, ps.unexpected("CURSOR(SELECT STREAM …) as the first argument of " + tc.Name)
	}
	ps.p += 2
	if err := ps.enter(); err != nil { // cursors nest like subqueries
		return nil, err
	}
	tc.Cursor, err = ps.selectStmt()
	for last := tc.Cursor; err == nil && ps.isUnionAll(); last = last.UnionAll {
		ps.p += 2
		last.UnionAll, err = ps.selectStmt()
	}
	ps.depth--
	if err != nil {
		return nil, err
	}
	if err := ps.orderInside(tc.Cursor); err != nil {
		return nil, err
	}
	if err := ps.expectOp(")"); err != nil {
		return nil, err
	}
	for ps.isOp(",") {
		ps.p++
		if ps.isOp(")") {
			break // the reference's syntax shows a trailing comma
		}
		a, err := ps.expr()
		if err != nil {
			return nil, err
		}
		tc.Args = append(tc.Args, a)
	}
	for range 2 {
		if err := ps.expectOp(")"); err != nil {
			return nil, err
		}
	}
	return tc, nil
}
