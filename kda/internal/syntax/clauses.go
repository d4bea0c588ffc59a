package syntax

// The clauses of a SELECT beyond FROM and WHERE that the engine runs:
// WINDOW, JOIN … ON | USING, CROSS JOIN and UNION ALL.

// windowClause parses [WINDOW name AS (spec) {, name AS (spec)}].
func (ps *parser) windowClause(s *Select) error {
	if !ps.acceptKw("WINDOW") {
		return nil
	}
	for {
		name, npos, err := ps.ident("window name")
		if err != nil {
			return err
		}
		for _, w := range s.Windows {
			if w.Name == name {
				return npos.Errorf("window %q is defined twice", name)
			}
		}
		if err := ps.expectKw("AS"); err != nil {
			return err
		}
		spec, err := ps.windowSpec()
		if err != nil {
			return err
		}
		s.Windows = append(s.Windows, NamedWindow{Name: name, Spec: spec})
		if !ps.isOp(",") {
			return nil
		}
		ps.p++
	}
}

// isUnionAll reports whether UNION ALL comes next.
func (ps *parser) isUnionAll() bool {
	return ps.isKw("UNION") && ps.tok(1).kind == tIdent && ps.tok(1).text == "ALL"
}

// join parses [INNER] JOIN or LEFT | RIGHT | FULL [OUTER] JOIN table
// [OVER (…)] [alias] ON cond | USING (col, …), CROSS JOIN table [alias] or
// , table [alias], or returns nil; the table may be a TABLE(…). s is the
// SELECT so far: USING qualifies its columns with the left side's alias or
// name.
func (ps *parser) join(s *Select) (*Join, error) {
	j := &Join{P: ps.peek().pos}
	switch {
	case ps.isOp(","):
		j.Cross = true
	case ps.isKw("CROSS") && ps.tok(1).kind == tIdent && ps.tok(1).text == "JOIN":
		j.Cross = true
		ps.p++
	case ps.isKw("JOIN"):
	case ps.isKw("INNER") && ps.tok(1).kind == tIdent && ps.tok(1).text == "JOIN":
		ps.p++
	case ps.isKw("LEFT") || ps.isKw("RIGHT") || ps.isKw("FULL"):
		kw := ps.next().text
		j.Left, j.Right = kw != "RIGHT", kw != "LEFT"
		ps.acceptKw("OUTER")
		if !ps.isKw("JOIN") {
			return nil, ps.unexpected("JOIN")
		}
	default:
		return nil, nil
	}
	ps.p++ // JOIN or ,
	var err error
	switch {
	case ps.isTableSource():
		if j.TableFn, err = ps.tableCall(); err != nil {
			return nil, err
		}
		j.TablePos = j.TableFn.P
	case ps.isOp("("):
		return nil, ps.peek().pos.Unsupported("subquery")
	default:
		if j.Table, j.TablePos, err = ps.ident("table name"); err != nil {
			return nil, err
		}
	}
	if j.Over, j.OverName, err = ps.optOver(); err != nil {
		return nil, err
	}
	if j.Alias, err = ps.optAlias("table alias"); err != nil {
		return nil, err
	}
	switch {
	case j.Cross && (ps.isKw("ON") || ps.isKw("USING")):
		return nil, ps.peek().pos.Errorf("CROSS JOIN and FROM a, b take no %s: write JOIN … %s", ps.peek().text, ps.peek().text)
	case j.Cross:
		return j, nil
	case ps.isKw("USING"):
		return j, ps.using(s, j)
	}
	if err := ps.expectKw("ON"); err != nil {
		return nil, err
	}
	if j.On, err = ps.expr(); err != nil {
		return nil, err
	}
	return j, nil
}

// using parses USING (col, …) into j: the columns, and ON their
// equalities between the two sides.
func (ps *parser) using(s *Select, j *Join) error {
	upos := ps.next().pos // USING
	left, right := s.Alias, j.Alias
	if left == "" {
		left = s.From
	}
	if s.Join != nil {
		// In a chain the left side is the result so far: the engine
		// qualifies the columns with its name.
		left = "?"
	}
	if left == "" {
		return upos.Errorf("JOIN … USING after a subquery needs the subquery's alias")
	}
	if right == "" {
		right = j.Table
	}
	if left == right {
		return upos.Errorf("JOIN … USING needs different names for its two sides: give one an alias")
	}
	if err := ps.expectOp("("); err != nil {
		return err
	}
	for {
		name, npos, err := ps.ident("column name")
		if err != nil {
			return err
		}
		for _, u := range j.Using {
			if u == name {
				return npos.Errorf("column %q is twice in USING", name)
			}
		}
		j.Using = append(j.Using, name)
		var eq Expr = &Binary{P: npos, Op: "=", L: &ColRef{P: npos, Qual: left, Name: name}, R: &ColRef{P: npos, Qual: right, Name: name}}
		if j.On != nil {
			eq = &Binary{P: npos, Op: "AND", L: j.On, R: eq}
		}
		j.On = eq
		if !ps.isOp(",") {
			break
		}
		ps.p++
	}
	return ps.expectOp(")")
}

// stagger parses [WINDOWED BY STAGGER (PARTITION BY … RANGE INTERVAL 'n'
// unit)].
func (ps *parser) stagger() (*WindowSpec, error) {
	if !ps.isKw("WINDOWED") {
		return nil, nil
	}
	w := &WindowSpec{P: ps.next().pos}
	for _, kw := range []string{"BY", "STAGGER"} {
		if err := ps.expectKw(kw); err != nil {
			return nil, err
		}
	}
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	for _, kw := range []string{"PARTITION", "BY"} {
		if err := ps.expectKw(kw); err != nil {
			return nil, err
		}
	}
	list, err := ps.exprList()
	if err != nil {
		return nil, err
	}
	w.PartitionBy = list
	for _, kw := range []string{"RANGE", "INTERVAL"} {
		if err := ps.expectKw(kw); err != nil {
			return nil, err
		}
	}
	if w.Size, err = ps.intervalMillis(); err != nil {
		return nil, err
	}
	return w, ps.expectOp(")")
}

// subquery parses FROM's ( SELECT STREAM … [UNION ALL SELECT STREAM …]
// [ORDER BY …] ) [AS] alias [(col, …)] into s.
func (ps *parser) subquery(s *Select) error {
	s.FromPos = ps.next().pos          // (
	if err := ps.enter(); err != nil { // subqueries nest: count them
		return err
	}
	sub, err := ps.selectStmt()
	for last := sub; err == nil && ps.isUnionAll(); last = last.UnionAll {
		ps.p += 2
		last.UnionAll, err = ps.selectStmt()
	}
	ps.depth--
	if err != nil {
		return err
	}
	if err := ps.orderInside(sub); err != nil {
		return err
	}
	if err := ps.expectOp(")"); err != nil {
		return err
	}
	s.Sub = sub
	if s.Alias, err = ps.optAlias("subquery alias"); err != nil {
		return err
	}
	if s.Alias != "" && ps.isOp("(") {
		ps.p++
		for {
			name, _, err := ps.ident("column name")
			if err != nil {
				return err
			}
			s.SubCols = append(s.SubCols, name)
			if !ps.isOp(",") {
				break
			}
			ps.p++
		}
		return ps.expectOp(")")
	}
	return nil
}

// optOver parses [OVER (window spec) | OVER name]: after a call, or after a stream
// name in FROM or JOIN (the stream's window in a stream-to-stream join).
func (ps *parser) optOver() (*WindowSpec, string, error) {
	if !ps.acceptKw("OVER") {
		return nil, "", nil
	}
	if !ps.isOp("(") {
		name, _, err := ps.ident("window name or (")
		return nil, name, err
	}
	spec, err := ps.windowSpec()
	return spec, "", err
}

// fromItem parses what follows FROM: a subquery, TABLE(…), or a stream
// with its optional OVER (a stream-to-stream join's window) and alias.
func (ps *parser) fromItem(s *Select) error {
	if ps.isOp("(") && ps.tok(1).kind == tIdent && ps.tok(1).text == "SELECT" {
		return ps.subquery(s)
	}
	if ps.isTableSource() {
		return ps.tableSource(s)
	}
	if err := ps.unsupportedSource(); err != nil {
		return err
	}
	var err error
	if s.From, s.FromPos, err = ps.ident("source stream name"); err != nil {
		return err
	}
	if s.Over, s.OverName, err = ps.optOver(); err != nil {
		return err
	}
	s.Alias, err = ps.optAlias("stream alias")
	return err
}
