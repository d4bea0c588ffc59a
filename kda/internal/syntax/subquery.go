package syntax

import (
	"fmt"
	"strings"
)

// Subqueries in expressions: x [NOT] IN (SELECT …), (a, b) [NOT] IN
// (SELECT …), EXISTS (SELECT …) and the scalar (SELECT x …), whose SELECT
// reads a reference table (a relation: SELECT, not SELECT STREAM), and the
// row value (a, b).

// Subquery is x [NOT] IN (SELECT …), when Exists EXISTS (SELECT …), or
// when Scalar the value (SELECT x …) (P its '('). X is a *Row for (a, b)
// IN (…).
type Subquery struct {
	P      Pos
	Exists bool
	Scalar bool
	X      Expr
	Not    bool
	Query  *TableQuery
}

// TableQuery is the SELECT of a subquery in IN or EXISTS: SELECT items
// FROM table [AS alias] [WHERE cond].
type TableQuery struct {
	P       Pos
	Items   []SelectItem
	From    string
	FromPos Pos
	Alias   string
	Where   Expr
}

// Row is a row value constructor (a, b, …), as the left side of IN.
type Row struct {
	P     Pos
	Items []Expr
}

func (e *Subquery) ExprPos() Pos   { return e.P }
func (e *Row) ExprPos() Pos        { return e.P }
func (e *Subquery) String() string { return exprString(e) }
func (e *Row) String() string      { return exprString(e) }

// writeOther prints the expressions of this file and of Temporal, or
// e's type.
func writeOther(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Subquery:
		writeSubquery(b, e)
	case *Row:
		b.WriteByte('(')
		writeList(b, e.Items)
		b.WriteByte(')')
	case *Temporal:
		writeExpr(b, &Binary{Op: e.Pred, L: e.L, R: e.R}) // (l PRED r)
	default:
		b.WriteString(fmt.Sprintf("%T", e))
	}
}

// writeSubquery prints e; the subquery as (SELECT … FROM "t").
func writeSubquery(b *strings.Builder, e *Subquery) {
	if e.Scalar {
		b.WriteString("(SELECT … FROM \"" + e.Query.From + "\")")
		return
	}
	if e.Exists {
		b.WriteString("EXISTS (SELECT … FROM \"" + e.Query.From + "\")")
		return
	}
	b.WriteString("(")
	writeExpr(b, e.X)
	if e.Not {
		b.WriteString(" NOT")
	}
	b.WriteString(" IN (SELECT … FROM \"" + e.Query.From + "\"))")
}

// tableQuery parses SELECT items FROM table [alias] [WHERE cond] ) after
// the '(' of the IN or EXISTS of what, or of a scalar subquery (what
// "scalar").
func (ps *parser) tableQuery(what string) (*TableQuery, error) {
	q := &TableQuery{P: ps.next().pos} // SELECT
	an := "an " + what
	if ps.isKw("STREAM") {
		if what == "scalar" {
			return nil, q.P.Unsupported("a scalar subquery (SELECT STREAM …) (a stream never ends, so the subquery's one row cannot be decided; " +
				"it may read a reference table, (SELECT x FROM \"table\" WHERE …))")
		}
		return nil, q.P.Unsupported(what + " (SELECT STREAM …) (a subquery over a stream: a stream never ends, so " + what +
			" cannot be decided; the subquery may read a reference table, SELECT … FROM \"table\")")
	}
	if what == "scalar" {
		an = "a scalar"
	}
	ps.acceptKw("ALL")
	if ps.isKw("DISTINCT") {
		ps.p++ // a set either way
	}
	if err := ps.enter(); err != nil {
		return nil, err
	}
	defer func() { ps.depth-- }()
	var err error
	if q.Items, err = ps.selectItems(); err != nil {
		return nil, err
	}
	if err := ps.expectKw("FROM"); err != nil {
		return nil, err
	}
	if ps.isOp("(") || ps.isTableSource() {
		return nil, ps.peek().pos.Unsupported("a subquery or TABLE(…) in the FROM of " + an + " subquery")
	}
	if q.From, q.FromPos, err = ps.ident("reference table name"); err != nil {
		return nil, err
	}
	if q.Alias, err = ps.optAlias("table alias"); err != nil {
		return nil, err
	}
	if ps.acceptKw("WHERE") {
		if q.Where, err = ps.expr(); err != nil {
			return nil, err
		}
	}
	if t := ps.peek(); !(t.kind == tOp && t.text == ")") {
		if t.kind == tIdent {
			kw := t.text
			if kw == "GROUP" || kw == "ORDER" {
				kw += " BY"
			}
			return nil, t.pos.Unsupported(kw + " in " + an + " subquery")
		}
		return nil, ps.unexpected("')' closing the " + what + " subquery")
	}
	ps.p++
	for _, it := range q.Items {
		if it.Expr != nil {
			if err := checkDepth(it.Expr, ps.depth+1); err != nil {
				return nil, err
			}
		}
	}
	if q.Where != nil {
		if err := checkDepth(q.Where, ps.depth+1); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// exists parses EXISTS (SELECT …) at EXISTS.
func (ps *parser) exists() (Expr, error) {
	t := ps.next()
	if !ps.isOp("(") || ps.tok(1).kind != tIdent || ps.tok(1).text != "SELECT" {
		return nil, ps.unexpected("(SELECT … FROM table) after EXISTS")
	}
	ps.p++ // (
	q, err := ps.tableQuery("EXISTS")
	if err != nil {
		return nil, err
	}
	return &Subquery{P: t.pos, Exists: true, Query: q}, nil
}

// rowRest parses the rest of a row value (first, …) after first, at its
// ','.
func (ps *parser) rowRest(p Pos, first Expr) (Expr, error) {
	r := &Row{P: p, Items: []Expr{first}}
	for ps.isOp(",") {
		ps.p++
		x, err := ps.expr()
		if err != nil {
			return nil, err
		}
		r.Items = append(r.Items, x)
	}
	return r, ps.expectOp(")")
}
