package syntax

import "github.com/lakekit/lakekit/kda/internal/value"

// The predicates and special call forms beyond the core grammar: IS [NOT]
// TRUE | FALSE | UNKNOWN | DISTINCT FROM, LIKE … ESCAPE and EXTRACT(field
// FROM x). Each becomes a Call (or IsNull) the engine knows by name, so
// printing, comparing and walking expressions need nothing new.

// extractFields are the fields EXTRACT takes.
var extractFields = map[string]bool{"YEAR": true, "MONTH": true, "DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true}

// isPredicate parses what follows IS [NOT] other than NULL: TRUE, FALSE,
// UNKNOWN (IS NULL of a BOOLEAN) or DISTINCT FROM x; ok is false for none.
func (ps *parser) isPredicate(pos Pos, l Expr, not bool) (x Expr, ok bool, err error) {
	nt := ps.peek()
	if nt.kind != tIdent {
		return nil, false, nil
	}
	switch nt.text {
	case "TRUE", "FALSE":
		ps.p++
		x = &Call{P: pos, Name: "IS " + nt.text, Args: []Expr{l}}
	case "UNKNOWN":
		ps.p++
		return &IsNull{P: pos, X: l, Not: not}, true, nil
	case "DISTINCT":
		ps.p++
		if err := ps.expectKw("FROM"); err != nil {
			return nil, true, err
		}
		r, err := ps.addExpr()
		if err != nil {
			return nil, true, err
		}
		x = &Call{P: pos, Name: "IS DISTINCT FROM", Args: []Expr{l, r}}
	default:
		return nil, false, nil
	}
	if not {
		x = &Unary{P: pos, Op: "NOT", X: x} // never NULL, so NOT is exact
	}
	return x, true, nil
}

// likeEscape parses the escape string after x [NOT] LIKE 'pattern' ESCAPE.
func (ps *parser) likeEscape(pos Pos, l Expr, pat token, not bool) (Expr, bool, error) {
	et := ps.peek()
	if et.kind != tString {
		return nil, true, ps.unexpected("an escape string after ESCAPE")
	}
	ps.p++
	var x Expr = &Call{P: pos, Name: "LIKE ESCAPE", Args: []Expr{l,
		&Literal{P: pat.pos, V: value.StringValue(pat.text)}, &Literal{P: et.pos, V: value.StringValue(et.text)}}}
	if not {
		x = &Unary{P: pos, Op: "NOT", X: x}
	}
	return x, true, nil
}

// extractExpr parses EXTRACT(field FROM x) into EXTRACT('field', x).
func (ps *parser) extractExpr(pos Pos) (Expr, error) {
	ps.p += 2 // EXTRACT (
	ft := ps.peek()
	if ft.kind != tIdent || !extractFields[ft.text] {
		return nil, ps.unexpected("YEAR, MONTH, DAY, HOUR, MINUTE or SECOND")
	}
	ps.p++
	if err := ps.expectKw("FROM"); err != nil {
		return nil, err
	}
	x, err := ps.expr()
	if err != nil {
		return nil, err
	}
	return &Call{P: pos, Name: "EXTRACT", Args: []Expr{&Literal{P: ft.pos, V: value.StringValue(ft.text)}, x}}, ps.expectOp(")")
}

// temporalBases are the temporal predicates of SQL:2011 the engine runs;
// temporalExtensions KDA's own, which its reference defines only by
// diagrams.
var (
	temporalBases      = map[string]bool{"CONTAINS": true, "OVERLAPS": true, "EQUALS": true, "PRECEDES": true, "SUCCEEDS": true}
	temporalExtensions = map[string]bool{"LEADS": true, "LAGS": true}
)

// isTemporal reports whether a temporal predicate starts at the current
// token.
func (ps *parser) isTemporal() bool {
	t := ps.peek()
	if t.kind != tIdent {
		return false
	}
	k := 1
	if t.text == "STRICTLY" || t.text == "IMMEDIATELY" {
		t = ps.tok(1)
		k = 2
	}
	if t.kind != tIdent || !temporalBases[t.text] && !temporalExtensions[t.text] {
		return false
	}
	// An operand follows, not the end of an item: "x leads" may be an
	// alias.
	switch n := ps.tok(k); {
	case n.kind == tEOF, n.kind == tOp && n.text != "(":
		return false
	case n.kind == tIdent && reserved[n.text]:
		return n.text == "CAST" || n.text == "CASE" || n.text == "NULL"
	}
	return true
}

// Temporal is a temporal predicate L Pred R: Pred is CONTAINS, OVERLAPS,
// EQUALS, PRECEDES, SUCCEEDS, IMMEDIATELY PRECEDES or IMMEDIATELY
// SUCCEEDS; L and R are periods, a *Row (s, e) or a Call PERIOD(s, e),
// and R may be a timestamp for CONTAINS.
type Temporal struct {
	P    Pos
	Pred string
	L, R Expr
}

func (e *Temporal) ExprPos() Pos   { return e.P }
func (e *Temporal) String() string { return exprString(e) }

// temporal parses the temporal predicates after the period l: l pred r
// [pred r2 …], a compact chain meaning l pred r AND r pred r2 ….
func (ps *parser) temporal(l Expr) (Expr, error) {
	var out Expr
	for ps.isTemporal() {
		t := ps.next()
		name := t.text
		if name == "STRICTLY" || name == "IMMEDIATELY" {
			name += " " + ps.next().text
		}
		switch name {
		case "CONTAINS", "OVERLAPS", "EQUALS", "PRECEDES", "SUCCEEDS", "IMMEDIATELY PRECEDES", "IMMEDIATELY SUCCEEDS":
		default:
			return nil, t.pos.Unsupported(name + " (a KDA extension of the temporal predicates that its reference defines only by diagrams)")
		}
		r, err := ps.addExpr()
		if err != nil {
			return nil, err
		}
		var x Expr = &Temporal{P: t.pos, Pred: name, L: l, R: r}
		if out != nil {
			x = &Binary{P: t.pos, Op: "AND", L: out, R: x}
		}
		out, l = x, r
	}
	return out, nil
}
