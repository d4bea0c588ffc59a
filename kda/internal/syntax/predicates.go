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
