package syntax

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// SQLError is a statement the engine cannot parse or compile. Line and Col
// (1-based; columns count bytes) point at the offending token. Err, when
// set, is the typed cause: *UnsupportedError or *ExprDepthError.
type SQLError struct {
	Line, Col int
	Msg       string
	Err       error
}

func (e *SQLError) Error() string { return fmt.Sprintf("sql %d:%d: %s", e.Line, e.Col, e.Msg) }

// Unwrap returns the typed cause, if any.
func (e *SQLError) Unwrap() error { return e.Err }

// UnsupportedError is a construct of the KDA SQL reference that this engine
// does not run yet (a sliding window, a JOIN, a function such as
// REGEX_REPLACE, …). It arrives wrapped in a *SQLError; use errors.As.
type UnsupportedError struct {
	// Construct names what is not supported: "SIMILAR TO", "JOIN",
	// "OVER (sliding windows)", a function name, ….
	Construct string
	Line, Col int
}

func (e *UnsupportedError) Error() string { return e.Construct + " is not supported yet" }

// MaxExprDepth is how deeply expressions may nest: parentheses, function
// calls, CASE, NOT and unary minus each add a level, and so does every
// operator of a chain such as a + b + c (x IN (…) and BETWEEN add one).
// Parsing, compiling and evaluating recurse once per level; the cap keeps
// the stack to about 10 MB at worst (Go cannot recover from a stack
// overflow: a million open parentheses used to exhaust the 1 GB stack).
const MaxExprDepth = 10_000

// ExprDepthError is an expression nested more than MaxExprDepth levels
// deep. Line and Col point where the limit was passed. It arrives wrapped
// in a *SQLError; use errors.As.
type ExprDepthError struct {
	Line, Col int
	Max       int
}

func (e *ExprDepthError) Error() string {
	return fmt.Sprintf("expression nested more than %d levels deep", e.Max)
}

// Pos is a position in SQL text.
type Pos struct{ Line, Col int }

// Errorf returns a *SQLError at p.
func (p Pos) Errorf(format string, args ...any) error {
	return &SQLError{Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

// Unsupported returns a *SQLError at p wrapping an *UnsupportedError for
// construct.
func (p Pos) Unsupported(construct string) error {
	u := &UnsupportedError{Construct: construct, Line: p.Line, Col: p.Col}
	return &SQLError{Line: p.Line, Col: p.Col, Msg: u.Error(), Err: u}
}

// TooDeep returns a *SQLError at p wrapping an *ExprDepthError.
func (p Pos) TooDeep() error {
	d := &ExprDepthError{Line: p.Line, Col: p.Col, Max: MaxExprDepth}
	return &SQLError{Line: p.Line, Col: p.Col, Msg: d.Error(), Err: d}
}

// parser reads tokens through a short window: toks holds the tokens from
// index base on (the current one and the lookahead), lexed on demand.
type parser struct {
	lx     lexer
	toks   []token
	base   int
	p      int
	lexErr error
	depth  int // expressions being parsed, one inside the other
}

// tok returns the token k places after the current one. After a lexing
// error it returns end of input; ParseSQL then reports the lexing error.
func (ps *parser) tok(k int) token {
	if drop := ps.p - ps.base; drop > 64 {
		ps.toks = append(ps.toks[:0], ps.toks[drop:]...)
		ps.base = ps.p
	}
	for ps.p+k-ps.base >= len(ps.toks) {
		if n := len(ps.toks); n > 0 && ps.toks[n-1].kind == tEOF {
			return ps.toks[n-1]
		}
		t, err := ps.lx.next()
		if err != nil {
			ps.lexErr = err
			t = token{kind: tEOF, pos: Pos{ps.lx.line, ps.lx.col}}
		}
		ps.toks = append(ps.toks, t)
	}
	return ps.toks[ps.p+k-ps.base]
}

// ParseSQL parses a KDA SQL application script.
func ParseSQL(src string) (*Script, error) {
	ps := &parser{lx: lexer{src: src, line: 1, col: 1}}
	s, err := ps.script()
	if ps.lexErr != nil {
		return nil, ps.lexErr
	}
	return s, err
}

func (ps *parser) script() (*Script, error) {
	s := &Script{}
	for {
		for ps.isOp(";") {
			ps.p++
		}
		if ps.peek().kind == tEOF {
			break
		}
		st, err := ps.stmt()
		if err != nil {
			return nil, err
		}
		s.Stmts = append(s.Stmts, st)
		if !ps.isOp(";") && ps.peek().kind != tEOF {
			return nil, ps.unexpected("; or end of input")
		}
	}
	if len(s.Stmts) == 0 {
		return nil, Pos{1, 1}.Errorf("no statements")
	}
	return s, nil
}

func (ps *parser) peek() token { return ps.tok(0) }
func (ps *parser) next() token {
	t := ps.tok(0)
	if t.kind != tEOF {
		ps.p++
	}
	return t
}
func (ps *parser) isOp(op string) bool {
	t := ps.peek()
	return t.kind == tOp && t.text == op
}
func (ps *parser) isKw(kw string) bool {
	t := ps.peek()
	return t.kind == tIdent && t.text == kw
}
func (ps *parser) acceptKw(kw string) bool {
	if ps.isKw(kw) {
		ps.p++
		return true
	}
	return false
}
func (ps *parser) unexpected(want string) error {
	t := ps.peek()
	return t.pos.Errorf("expected %s, found %s", want, t)
}
func (ps *parser) expectKw(kw string) error {
	if !ps.acceptKw(kw) {
		return ps.unexpected(kw)
	}
	return nil
}
func (ps *parser) expectOp(op string) error {
	if !ps.isOp(op) {
		return ps.unexpected("'" + op + "'")
	}
	ps.p++
	return nil
}

// reserved words that cannot be unquoted identifiers.
var reserved = map[string]bool{
	"SELECT": true, "FROM": true, "WHERE": true, "GROUP": true, "BY": true, "AS": true, "AND": true, "OR": true,
	"NOT": true, "INSERT": true, "INTO": true, "CREATE": true, "STREAM": true, "PUMP": true, "NULL": true,
	"TRUE": true, "FALSE": true, "IS": true, "CAST": true, "INTERVAL": true, "STEP": true, "HAVING": true,
	"CASE": true, "WHEN": true, "THEN": true, "ELSE": true, "END": true, "BETWEEN": true, "IN": true, "LIKE": true,
}

func (ps *parser) ident(what string) (string, Pos, error) {
	t := ps.peek()
	switch {
	case t.kind == tQIdent:
	case t.kind == tIdent && !reserved[t.text]:
	default:
		return "", t.pos, ps.unexpected(what)
	}
	ps.p++
	return t.text, t.pos, nil
}

func (ps *parser) stmt() (Stmt, error) {
	start := ps.peek().pos
	if err := ps.expectKw("CREATE"); err != nil {
		return nil, err
	}
	orReplace := false
	if ps.acceptKw("OR") {
		if err := ps.expectKw("REPLACE"); err != nil {
			return nil, err
		}
		orReplace = true
	}
	switch {
	case ps.acceptKw("STREAM"):
		return ps.createStream(start, orReplace)
	case ps.acceptKw("PUMP"):
		return ps.createPump(start, orReplace)
	case ps.acceptKw("FUNCTION"):
		return ps.createFunction(start, orReplace)
	}
	return nil, ps.unexpected("STREAM, PUMP or FUNCTION")
}

// createStream parses what follows CREATE [OR REPLACE] STREAM: a name and
// its column list.
func (ps *parser) createStream(start Pos, orReplace bool) (Stmt, error) {
	name, _, err := ps.ident("stream name")
	if err != nil {
		return nil, err
	}
	cs := &CreateStream{Pos: start, OrReplace: orReplace, Name: name}
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		cn, cpos, err := ps.ident("column name")
		if err != nil {
			return nil, err
		}
		typ, err := ps.columnType()
		if err != nil {
			return nil, err
		}
		if seen[cn] {
			return nil, cpos.Errorf("duplicate column %q", cn)
		}
		seen[cn] = true
		cs.Columns = append(cs.Columns, value.Column{Name: cn, Type: typ})
		if !ps.isOp(",") {
			break
		}
		ps.p++
	}
	return cs, ps.expectOp(")")
}

// createPump parses what follows CREATE [OR REPLACE] PUMP: a name, AS
// INSERT INTO target [(columns)] and the SELECT.
func (ps *parser) createPump(start Pos, orReplace bool) (Stmt, error) {
	name, _, err := ps.ident("pump name")
	if err != nil {
		return nil, err
	}
	cp := &CreatePump{Pos: start, OrReplace: orReplace, Name: name}
	for _, kw := range []string{"AS", "INSERT", "INTO"} {
		if err := ps.expectKw(kw); err != nil {
			return nil, err
		}
	}
	if cp.Target, cp.TargetPos, err = ps.ident("target stream name"); err != nil {
		return nil, err
	}
	if ps.isOp("(") {
		ps.p++
		for {
			cn, _, err := ps.ident("column name")
			if err != nil {
				return nil, err
			}
			cp.Columns = append(cp.Columns, cn)
			if !ps.isOp(",") {
				break
			}
			ps.p++
		}
		if err := ps.expectOp(")"); err != nil {
			return nil, err
		}
	}
	if cp.Select, err = ps.selectStmt(); err != nil {
		return nil, err
	}
	for last := cp.Select; ps.isUnionAll(); last = last.UnionAll {
		ps.p += 2
		if last.UnionAll, err = ps.selectStmt(); err != nil {
			return nil, err
		}
	}
	return cp, ps.orderBy(cp)
}

func (ps *parser) typ() (value.Type, error) {
	t := ps.peek()
	if t.kind != tIdent {
		return value.Type{}, ps.unexpected("a column type")
	}
	ps.p++
	var typ value.Type
	switch t.text {
	case "INTEGER", "INT", "SMALLINT", "TINYINT":
		typ.Kind = value.KindInt
		typ.Bits = 32
	case "BIGINT":
		typ.Kind = value.KindInt
		typ.Bits = 64
	case "DOUBLE", "REAL", "FLOAT", "DECIMAL", "NUMERIC":
		typ.Kind = value.KindFloat
		if t.text == "DOUBLE" {
			ps.acceptKw("PRECISION")
		}
		if t.text == "DECIMAL" || t.text == "NUMERIC" {
			// Precision and scale are accepted; values are held as float64.
			if ps.isOp("(") {
				for !ps.isOp(")") && ps.peek().kind != tEOF {
					ps.p++
				}
				if err := ps.expectOp(")"); err != nil {
					return typ, err
				}
			}
		}
	case "VARCHAR", "CHAR", "VARBINARY", "BINARY":
		typ.Kind = value.KindString
		if strings.HasSuffix(t.text, "BINARY") {
			typ.Kind = value.KindBinary
		}
		if ps.isOp("(") {
			ps.p++
			n := ps.peek()
			v, err := strconv.Atoi(n.text)
			if n.kind != tNumber || err != nil || v < 1 || v > 1<<20 {
				return typ, ps.unexpected("a length between 1 and 1048576")
			}
			ps.p++
			typ.Len = v
			if err := ps.expectOp(")"); err != nil {
				return typ, err
			}
		} else if !strings.HasPrefix(t.text, "VAR") {
			typ.Len = 1
		} else {
			return typ, ps.unexpected("( length ) after " + t.text)
		}
	case "BOOLEAN":
		typ.Kind = value.KindBool
	case "TIMESTAMP", "TIME":
		typ.Kind = value.KindTime
		if t.text == "TIME" {
			typ.Kind = value.KindTimeOfDay
		}
		if err := ps.skipPrecision(); err != nil {
			return typ, err
		}
	case "DATE":
		typ.Kind = value.KindDate
	case "INTERVAL":
		q, err := ps.qualifier()
		if err != nil {
			return typ, err
		}
		typ = value.IntervalType(q)
	default:
		return typ, t.pos.Errorf("unsupported type %s", t.text)
	}
	return typ, nil
}

func (ps *parser) selectStmt() (*Select, error) {
	s := &Select{Pos: ps.peek().pos}
	if err := ps.expectKw("SELECT"); err != nil {
		return nil, err
	}
	if err := ps.expectKw("STREAM"); err != nil {
		return nil, err
	}
	if ps.isKw("DISTINCT") {
		s.Distinct, s.DistinctPos = true, ps.next().pos
	} else {
		ps.acceptKw("ALL") // the default
	}
	items, err := ps.selectItems()
	if err != nil {
		return nil, err
	}
	s.Items = items
	if err := ps.expectKw("FROM"); err != nil {
		return nil, err
	}
	if err := ps.fromItem(s); err != nil {
		return nil, err
	}
	if s.Join, err = ps.join(s); err != nil {
		return nil, err
	}
	for s.Join != nil { // a chain: each JOIN joins the result so far
		j, err := ps.join(s)
		if err != nil {
			return nil, err
		}
		if j == nil {
			break
		}
		s.Chain = append(s.Chain, j)
	}
	if err := ps.unsupportedClause(); err != nil {
		return nil, err
	}
	if ps.acceptKw("WHERE") {
		if s.Where, err = ps.expr(); err != nil {
			return nil, err
		}
	}
	if err := ps.windowClause(s); err != nil {
		return nil, err
	}
	if s.Stagger, err = ps.stagger(); err != nil {
		return nil, err
	}
	if ps.acceptKw("GROUP") {
		if err := ps.expectKw("BY"); err != nil {
			return nil, err
		}
		if s.GroupBy, err = ps.exprList(); err != nil {
			return nil, err
		}
	}
	if ps.isKw("HAVING") {
		if len(s.GroupBy) == 0 {
			return nil, ps.unexpected("GROUP BY before HAVING")
		}
		ps.p++
		if s.Having, err = ps.expr(); err != nil {
			return nil, err
		}
	}
	if err := ps.windowClause(s); err != nil {
		return nil, err
	}
	if ps.isKw("WINDOWED") {
		return nil, ps.peek().pos.Errorf("WINDOWED BY STAGGER goes after WHERE, without GROUP BY")
	}
	return s, ps.unsupportedClause()
}

// clauseWords end a FROM item or a SELECT item: never taken as an alias,
// so that the construct they start is named.
var clauseWords = map[string]bool{
	"JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "CROSS": true, "NATURAL": true,
	"WINDOW": true, "WINDOWED": true, "UNION": true, "EXCEPT": true, "INTERSECT": true, "ORDER": true, "OVER": true,
	"ON": true, "USING": true, "OUTER": true,
}

// unsupportedSource names a FROM item the engine does not run: a
// parenthesised item that is not a subquery.
func (ps *parser) unsupportedSource() error {
	if t := ps.peek(); t.kind == tOp && t.text == "(" {
		return t.pos.Unsupported("subquery")
	}
	return nil
}

// unsupportedClause names a clause of the KDA reference that may follow
// FROM, WHERE, GROUP BY or HAVING and that the engine does not run.
func (ps *parser) unsupportedClause() error {
	t := ps.peek()
	if t.kind == tOp && t.text == "," {
		return t.pos.Errorf("a comma join goes right after FROM's stream, before WHERE")
	}
	if t.kind != tIdent {
		return nil
	}
	switch t.text {
	case "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS":
		return t.pos.Errorf("JOIN goes right after FROM's stream, before WHERE")
	case "NATURAL":
		return t.pos.Unsupported("NATURAL JOIN")
	case "WINDOWED":
		return nil // WINDOWED BY STAGGER, after WHERE
	case "ORDER":
		return nil // a pump's ORDER BY, after its last SELECT (orderBy)
	case "UNION":
		if ps.isUnionAll() {
			return nil // the pump's next SELECT
		}
		return t.pos.Errorf("UNION without ALL cannot combine streams: the KDA reference allows only UNION ALL between streams")
	case "EXCEPT", "INTERSECT":
		return t.pos.Errorf("%s cannot combine streams: the KDA reference allows only UNION ALL between streams", t.text)
	}
	return nil
}

// selectItems parses the comma-separated SELECT list.
func (ps *parser) selectItems() ([]SelectItem, error) {
	var items []SelectItem
	for {
		it := SelectItem{Pos: ps.peek().pos}
		if ps.isOp("*") {
			ps.p++
			it.Star = true
		} else {
			e, err := ps.expr()
			if err != nil {
				return nil, err
			}
			it.Expr = e
			if it.Alias, err = ps.optAlias("column alias"); err != nil {
				return nil, err
			}
		}
		items = append(items, it)
		if !ps.isOp(",") {
			return items, nil
		}
		ps.p++
	}
}

// optAlias parses an optional [AS] alias; "" when there is none.
func (ps *parser) optAlias(what string) (string, error) {
	if ps.acceptKw("AS") {
		alias, _, err := ps.ident(what)
		return alias, err
	}
	if t := ps.peek(); t.kind == tQIdent || t.kind == tIdent && !reserved[t.text] && !clauseWords[t.text] {
		ps.p++
		return t.text, nil
	}
	return "", nil
}

// ParseType parses a column type as SQL spells it ("VARCHAR(4)", "REAL",
// "DECIMAL(8,2)", "TIMESTAMP"), the SqlType of a KDA input schema. Errors
// are *SQLError with columns counted in s.
func ParseType(s string) (value.Type, error) {
	ps := &parser{lx: lexer{src: s, line: 1, col: 1}}
	typ, err := ps.columnType()
	if err == nil && ps.peek().kind != tEOF {
		err = ps.unexpected("end of the type")
	}
	if ps.lexErr != nil {
		return typ, ps.lexErr
	}
	return typ, err
}
