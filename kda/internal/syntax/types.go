package syntax

import (
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Column types and interval qualifiers; the types themselves are in
// parse.go (typ).

// columnType parses the type of a column: any type but an INTERVAL,
// which the KDA reference allows in date arithmetic only.
func (ps *parser) columnType() (value.Type, error) {
	p := ps.peek().pos
	typ, err := ps.typ()
	if err == nil && (typ.Kind == value.KindInterval || typ.Kind == value.KindMonths) {
		return typ, p.Errorf("%s is not a column type: the KDA reference allows intervals only in expressions", typ)
	}
	return typ, err
}

// skipPrecision skips the optional (p) of TIME(p) and TIMESTAMP(p): both
// hold milliseconds.
func (ps *parser) skipPrecision() error {
	if !ps.isOp("(") {
		return nil
	}
	ps.p++
	if n := ps.peek(); n.kind != tNumber {
		return ps.unexpected("a precision")
	}
	ps.p++
	return ps.expectOp(")")
}

// qualifier parses an interval qualifier: unit [(p)] [TO unit [(p)]],
// the units YEAR, MONTH, DAY, HOUR, MINUTE, SECOND.
func (ps *parser) qualifier() (value.Qualifier, error) {
	unit := func() (value.Unit, error) {
		t := ps.peek()
		u := value.UnitByName(t.text)
		if t.kind != tIdent || u == value.UnitNone {
			return u, ps.unexpected("YEAR, MONTH, DAY, HOUR, MINUTE or SECOND")
		}
		ps.p++
		if ps.isOp("(") { // leading or fractional precision
			for !ps.isOp(")") && ps.peek().kind != tEOF {
				ps.p++
			}
			if err := ps.expectOp(")"); err != nil {
				return u, err
			}
		}
		return u, nil
	}
	start := ps.peek().pos
	from, err := unit()
	if err != nil {
		return value.Qualifier{}, err
	}
	q := value.Qualifier{From: from, To: from}
	if ps.acceptKw("TO") {
		if q.To, err = unit(); err != nil {
			return q, err
		}
	}
	if !q.Valid() {
		return q, start.Errorf("INTERVAL %s is not a valid qualifier", q)
	}
	return q, nil
}
