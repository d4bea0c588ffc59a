package syntax

import (
	"strconv"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// expr parses an expression. Nesting counts against MaxExprDepth here and
// in the prefix operators (NOT, unary minus), which recurse without expr;
// the finished top-level tree is checked too, for operator chains.
// exprList parses expr {"," expr}.
func (ps *parser) exprList() ([]Expr, error) {
	var list []Expr
	for {
		e, err := ps.expr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !ps.isOp(",") {
			return list, nil
		}
		ps.p++
	}
}

func (ps *parser) expr() (Expr, error) {
	if err := ps.enter(); err != nil {
		return nil, err
	}
	e, err := ps.orExpr()
	ps.depth--
	if err == nil && ps.depth == 0 {
		err = checkDepth(e, 1)
	}
	return e, err
}

func (ps *parser) enter() error {
	if ps.depth >= MaxExprDepth {
		return ps.peek().pos.TooDeep()
	}
	ps.depth++
	return nil
}

// leftAssoc parses operand {op operand}, left-associative, for one
// precedence level; atOp says whether the next token is one of its
// operators (keywords arrive upper-cased, so the token text is the Op).
func (ps *parser) leftAssoc(operand func() (Expr, error), atOp func() bool) (Expr, error) {
	l, err := operand()
	for n := 1; err == nil && atOp(); n++ {
		t := ps.next()
		if n > MaxExprDepth {
			// A left-deep chain this long is too deep already; stop
			// before building the rest of it.
			return nil, t.pos.TooDeep()
		}
		var r Expr
		if r, err = operand(); err == nil {
			l = &Binary{P: t.pos, Op: t.text, L: l, R: r}
		}
	}
	return l, err
}

func (ps *parser) orExpr() (Expr, error) {
	return ps.leftAssoc(ps.andExpr, func() bool { return ps.isKw("OR") })
}

func (ps *parser) andExpr() (Expr, error) {
	return ps.leftAssoc(ps.notExpr, func() bool { return ps.isKw("AND") })
}

func (ps *parser) notExpr() (Expr, error) {
	if ps.isKw("NOT") {
		t := ps.next()
		if err := ps.enter(); err != nil {
			return nil, err
		}
		x, err := ps.notExpr()
		ps.depth--
		if err != nil {
			return nil, err
		}
		return &Unary{P: t.pos, Op: "NOT", X: x}, nil
	}
	return ps.cmpExpr()
}

func (ps *parser) cmpExpr() (Expr, error) {
	l, err := ps.addExpr()
	if err != nil {
		return nil, err
	}
	if ps.isTemporal() {
		return ps.temporal(l)
	}
	t := ps.peek()
	if t.kind == tOp {
		switch t.text {
		case "=", "<>", "!=", "<", "<=", ">", ">=":
			ps.p++
			r, err := ps.addExpr()
			if err != nil {
				return nil, err
			}
			op := t.text
			if op == "!=" {
				op = "<>"
			}
			return ps.isSuffix(t, &Binary{P: t.pos, Op: op, L: l, R: r}) // (a = b) IS TRUE
		}
	}
	not := false
	if ps.isKw("NOT") {
		if nt := ps.tok(1); nt.kind == tIdent && (nt.text == "BETWEEN" || nt.text == "IN" || nt.text == "LIKE" || nt.text == "SIMILAR") {
			ps.p++
			not = true
		}
	}
	if x, ok, err := ps.predicate(t, l, not); ok || err != nil {
		return x, err
	}
	return ps.isSuffix(t, l)
}

// isSuffix parses an optional IS [NOT] NULL | TRUE | FALSE | UNKNOWN |
// DISTINCT FROM x after l, whose operator token is t.
func (ps *parser) isSuffix(t token, l Expr) (Expr, error) {
	if !ps.isKw("IS") {
		return l, nil
	}
	ps.p++
	not := ps.acceptKw("NOT")
	if x, ok, err := ps.isPredicate(t.pos, l, not); ok || err != nil {
		return x, err
	}
	if err := ps.expectKw("NULL"); err != nil {
		return nil, err
	}
	return &IsNull{P: t.pos, X: l, Not: not}, nil
}

// predicate parses [NOT] BETWEEN, IN or LIKE after l, whose operator
// token is t; ok is false when none follows.
func (ps *parser) predicate(t token, l Expr, not bool) (x Expr, ok bool, err error) {
	switch {
	case ps.isKw("SIMILAR") && ps.tok(1).kind == tIdent && ps.tok(1).text == "TO":
		ps.p += 2
		pat, err := ps.addExpr()
		if err != nil {
			return nil, true, err
		}
		args := []Expr{l, pat}
		if ps.acceptKw("ESCAPE") {
			esc, err := ps.addExpr()
			if err != nil {
				return nil, true, err
			}
			args = append(args, esc)
		}
		var x Expr = &Call{P: t.pos, Name: "SIMILAR TO", Args: args}
		if not {
			x = &Unary{P: t.pos, Op: "NOT", X: x}
		}
		return x, true, nil
	case ps.acceptKw("BETWEEN"):
		lo, err := ps.addExpr()
		if err != nil {
			return nil, true, err
		}
		if err := ps.expectKw("AND"); err != nil {
			return nil, true, err
		}
		hi, err := ps.addExpr()
		if err != nil {
			return nil, true, err
		}
		return &Between{P: t.pos, X: l, Lo: lo, Hi: hi, Not: not}, true, nil
	case ps.acceptKw("IN"):
		if err := ps.expectOp("("); err != nil {
			return nil, true, err
		}
		if ps.isKw("SELECT") {
			q, err := ps.tableQuery("IN")
			if err != nil {
				return nil, true, err
			}
			return &Subquery{P: t.pos, X: l, Not: not, Query: q}, true, nil
		}
		list, err := ps.exprList()
		if err != nil {
			return nil, true, err
		}
		return &In{P: t.pos, X: l, Not: not, List: list}, true, ps.expectOp(")")
	case ps.acceptKw("LIKE"):
		pt := ps.peek()
		if pt.kind != tString {
			return nil, true, ps.unexpected("a pattern string after LIKE")
		}
		ps.p++
		if ps.acceptKw("ESCAPE") {
			return ps.likeEscape(t.pos, l, pt, not)
		}
		return &Like{P: t.pos, X: l, Pattern: pt.text, Not: not}, true, nil
	}
	return nil, false, nil
}

func (ps *parser) addExpr() (Expr, error) {
	return ps.leftAssoc(ps.mulExpr, func() bool { return ps.isOp("+") || ps.isOp("-") || ps.isOp("||") })
}

func (ps *parser) mulExpr() (Expr, error) {
	return ps.leftAssoc(ps.unary, func() bool { return ps.isOp("*") || ps.isOp("/") || ps.isOp("%") })
}

func (ps *parser) unary() (Expr, error) {
	if ps.isOp("-") || ps.isOp("+") {
		t := ps.next()
		if err := ps.enter(); err != nil {
			return nil, err
		}
		x, err := ps.unary()
		ps.depth--
		if err != nil {
			return nil, err
		}
		if t.text == "+" {
			return x, nil
		}
		if lit, ok := x.(*Literal); ok && (lit.V.K == value.KindInt && lit.V.I != -1<<63 || lit.V.K == value.KindFloat) {
			lit.V.I, lit.V.F = -lit.V.I, -lit.V.F
			lit.P = t.pos
			return lit, nil
		}
		return &Unary{P: t.pos, Op: "-", X: x}, nil
	}
	return ps.primary()
}

var intervalUnits = map[string]int64{"SECOND": 1000, "MINUTE": 60_000, "HOUR": 3_600_000, "DAY": 86_400_000}

func (ps *parser) primary() (Expr, error) {
	t := ps.peek()
	switch t.kind {
	case tNumber:
		ps.p++
		return numberLiteral(t)
	case tString:
		ps.p++
		return &Literal{P: t.pos, V: value.StringValue(t.text)}, nil
	case tOp:
		if t.text != "(" {
			return nil, ps.unexpected("an expression")
		}
		ps.p++
		if ps.isKw("SELECT") {
			q, err := ps.tableQuery("scalar")
			if err != nil {
				return nil, err
			}
			return &Subquery{P: t.pos, Scalar: true, Query: q}, nil
		}
		e, err := ps.expr()
		if err != nil {
			return nil, err
		}
		if ps.isOp(",") {
			return ps.rowRest(t.pos, e)
		}
		if err := ps.expectOp(")"); err != nil {
			return nil, err
		}
		// (a - b) DAY TO SECOND: the difference of two datetimes as an
		// interval.
		if b, ok := e.(*Binary); ok && b.Op == "-" && b.Qual.From == value.UnitNone && ps.peek().kind == tIdent && value.UnitByName(ps.peek().text) != value.UnitNone {
			q, err := ps.qualifier()
			if err != nil {
				return nil, err
			}
			b.Qual = q
		}
		return e, nil
	case tQIdent:
		if nt := ps.tok(1); nt.kind == tOp && nt.text == "(" {
			return ps.call() // a user-defined function with a quoted name
		}
		return ps.colRef()
	case tIdent:
		return ps.identExpr(t)
	}
	return nil, ps.unexpected("an expression")
}

// clockFunctions are the time functions called without parentheses.
var clockFunctions = map[string]bool{"CURRENT_ROW_TIMESTAMP": true, "CURRENT_TIMESTAMP": true, "LOCALTIMESTAMP": true,
	"CURRENT_DATE": true, "CURRENT_TIME": true, "LOCALTIME": true}

// dateTimeLiteral is DATE 'yyyy-MM-dd' or TIME 'HH:mm:ss[.fff]' (t the
// keyword, nt the string).
func dateTimeLiteral(t, nt token) (Expr, error) {
	v := value.Value{K: value.KindDate}
	var ok bool
	want := "yyyy-MM-dd"
	if t.text == "DATE" {
		v.I, ok = value.ParseDate(nt.text)
	} else {
		v.K, want = value.KindTimeOfDay, "HH:mm:ss[.fff]"
		v.I, ok = value.ParseTimeOfDay(nt.text)
	}
	if !ok {
		return nil, nt.pos.Errorf("bad %s literal '%s' (want %s)", t.text, nt.text, want)
	}
	return &Literal{P: t.pos, V: v}, nil
}

// intervalLiteral parses INTERVAL [+|-] 'text' qualifier.
func (ps *parser) intervalLiteral(pos Pos) (Expr, error) {
	ps.p++ // INTERVAL
	neg := false
	if ps.isOp("-") || ps.isOp("+") {
		neg = ps.next().text == "-"
	}
	st := ps.next()
	q, err := ps.qualifier()
	if err != nil {
		return nil, err
	}
	n, ok := value.ParseInterval(st.text, q)
	if !ok {
		return nil, st.pos.Errorf("bad INTERVAL literal '%s' for %s", st.text, q)
	}
	if neg {
		n = -n
	}
	return &Literal{P: pos, V: value.Value{K: q.Kind(), I: n}, Qual: q}, nil
}

// numberLiteral is an integer literal when it fits BIGINT, else DOUBLE.
func numberLiteral(t token) (Expr, error) {
	if !strings.ContainsAny(t.text, ".eE") {
		if v, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return &Literal{P: t.pos, V: value.IntValue(v)}, nil
		}
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		return nil, t.pos.Errorf("bad number %s", t.text)
	}
	return &Literal{P: t.pos, V: value.FloatValue(f)}, nil
}

// identExpr parses an expression that starts with the identifier t: a
// keyword literal, CASE, CAST, STEP, a call or a column.
func (ps *parser) identExpr(t token) (Expr, error) {
	nt := ps.tok(1)
	switch {
	case t.text == "EXISTS":
		return ps.exists()
	case nt.kind == tString && t.text == "TIMESTAMP":
		ps.p += 2
		ms, ok := parseTimestampLiteral(nt.text)
		if !ok {
			return nil, nt.pos.Errorf("bad TIMESTAMP literal '%s' (want yyyy-MM-dd HH:mm:ss[.fff])", nt.text)
		}
		return &Literal{P: t.pos, V: value.Value{K: value.KindTime, I: ms}}, nil
	case clockFunctions[t.text] && !(nt.kind == tOp && (nt.text == "(" || nt.text == ".")):
		ps.p++
		return &Call{P: t.pos, Name: t.text}, nil
	case nt.kind == tString && (t.text == "DATE" || t.text == "TIME"):
		ps.p += 2
		return dateTimeLiteral(t, nt)
	case t.text == "INTERVAL" && (nt.kind == tString || nt.kind == tOp && (nt.text == "-" || nt.text == "+") && ps.tok(2).kind == tString):
		return ps.intervalLiteral(t.pos)
	case t.text == "EXTRACT" && nt.kind == tOp && nt.text == "(":
		return ps.extractExpr(t.pos)
	case t.text == "CURSOR" && nt.kind == tOp && nt.text == "(":
		return nil, t.pos.Unsupported("CURSOR")
	case TableFunctions[t.text] && nt.kind == tOp && nt.text == "(":
		return nil, t.pos.Errorf("%s is a table function: call it in FROM TABLE(%s(CURSOR(SELECT STREAM …), …))", t.text, t.text)
	case unsupportedFunctions[t.text] && !(nt.kind == tOp && nt.text == "."):
		return nil, t.pos.Unsupported(t.text)
	}
	switch t.text {
	case "NULL":
		ps.p++
		return &Literal{P: t.pos, V: value.Value{}}, nil
	case "TRUE", "FALSE":
		ps.p++
		return &Literal{P: t.pos, V: value.BoolValue(t.text == "TRUE")}, nil
	case "CASE":
		ps.p++
		return ps.caseExpr(t.pos)
	case "CAST":
		ps.p++
		return ps.castExpr(t.pos)
	case "STEP":
		ps.p++
		return ps.stepExpr(t.pos)
	}
	if nt.kind == tOp && nt.text == "(" {
		c, err := ps.call()
		if err != nil || !ps.isOp(".") {
			return c, err
		}
		call, ok := c.(*Call)
		if !ok || !RowFunctions[call.Name] {
			return nil, ps.unexpected("no '.' after a function that does not return a row")
		}
		ps.p++
		name, npos, err := ps.ident("column name")
		if err != nil {
			return nil, err
		}
		return &Field{P: npos, X: call, Name: name}, nil
	}
	if reserved[t.text] {
		return nil, ps.unexpected("an expression")
	}
	return ps.colRef()
}

// caseExpr parses what follows CASE: [operand] WHEN … THEN … [ELSE …] END.
func (ps *parser) caseExpr(pos Pos) (Expr, error) {
	c := &Case{P: pos}
	if !ps.isKw("WHEN") {
		op, err := ps.expr()
		if err != nil {
			return nil, err
		}
		c.Operand = op
	}
	for ps.acceptKw("WHEN") {
		cond, err := ps.expr()
		if err != nil {
			return nil, err
		}
		if err := ps.expectKw("THEN"); err != nil {
			return nil, err
		}
		res, err := ps.expr()
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, When{Cond: cond, Result: res})
	}
	if len(c.Whens) == 0 {
		return nil, ps.unexpected("WHEN")
	}
	if ps.acceptKw("ELSE") {
		e, err := ps.expr()
		if err != nil {
			return nil, err
		}
		c.Else = e
	}
	return c, ps.expectKw("END")
}

// castExpr parses what follows CAST: (expr AS type).
func (ps *parser) castExpr(pos Pos) (Expr, error) {
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	x, err := ps.expr()
	if err != nil {
		return nil, err
	}
	if err := ps.expectKw("AS"); err != nil {
		return nil, err
	}
	typ, err := ps.typ()
	if err != nil {
		return nil, err
	}
	return &Cast{P: pos, X: x, Type: typ}, ps.expectOp(")")
}

// stepExpr parses what follows STEP: (expr BY INTERVAL 'n' unit).
func (ps *parser) stepExpr(pos Pos) (Expr, error) {
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	x, err := ps.expr()
	if err != nil {
		return nil, err
	}
	if err := ps.expectKw("BY"); err != nil {
		return nil, err
	}
	if err := ps.expectKw("INTERVAL"); err != nil {
		return nil, err
	}
	ms, err := ps.intervalMillis()
	if err != nil {
		return nil, err
	}
	return &Step{P: pos, X: x, Millis: ms}, ps.expectOp(")")
}

func (ps *parser) colRef() (Expr, error) {
	t := ps.next()
	if ps.isOp(".") {
		ps.p++
		name, _, err := ps.ident("column name")
		if err != nil {
			if ps.isKw("ROWTIME") {
				ps.p++
				return &ColRef{P: t.pos, Qual: t.text, Name: "ROWTIME"}, nil
			}
			return nil, err
		}
		if ps.isOp("(") {
			return nil, t.pos.Unsupported("the qualified function name " + t.text + "." + name + " (call a function by its name alone)")
		}
		// T.REC.COLUMN1: a column of a row-valued column of a subquery,
		// named REC.COLUMN1 there.
		if ps.isOp(".") {
			ps.p++
			sub, _, err := ps.ident("column name")
			if err != nil {
				return nil, err
			}
			name += "." + sub
		}
		return &ColRef{P: t.pos, Qual: t.text, Name: name}, nil
	}
	return &ColRef{P: t.pos, Name: t.text}, nil
}

func (ps *parser) call() (Expr, error) {
	t := ps.next()
	ps.p++ // (
	c := &Call{P: t.pos, Name: t.text}
	if t.text == "FLOOR" {
		// FLOOR(x TO unit) is the other KDA spelling of a tumbling window.
		x, err := ps.expr()
		if err != nil {
			return nil, err
		}
		if ps.acceptKw("TO") {
			ut := ps.peek()
			unit, ok := intervalUnits[ut.text]
			if ut.kind != tIdent || !ok {
				return nil, ps.unexpected("SECOND, MINUTE, HOUR or DAY")
			}
			ps.p++
			return &Step{P: t.pos, X: x, Millis: unit}, ps.expectOp(")")
		}
		c.Args = []Expr{x}
		return c, ps.expectOp(")")
	}
	if ps.acceptKw("DISTINCT") {
		c.Distinct = true
	} else if ps.isKw("ALL") && !(ps.tok(1).kind == tOp && (ps.tok(1).text == ")" || ps.tok(1).text == "(")) {
		ps.p++ // the default
	}
	switch t.text {
	case "EXP_AVG":
		return ps.expAvgArgs(c)
	case "SUBSTRING":
		return ps.substringArgs(c)
	case "OVERLAY":
		return ps.overlayArgs(c)
	case "POSITION":
		return ps.positionArgs(c)
	case "TRIM":
		return ps.trimArgs(c)
	}
	switch {
	case ps.isOp("*") && !c.Distinct:
		ps.p++
		c.Star = true
	case ps.isOp(")"):
	default:
		var err error
		if c.Args, err = ps.exprList(); err != nil {
			return nil, err
		}
	}
	return ps.over(c)
}
