package kda

import (
	"fmt"
	"strconv"
	"strings"
)

// SQLError is a statement the engine cannot parse or compile. Line and Col
// (1-based; columns count bytes) point at the offending token.
type SQLError struct {
	Line, Col int
	Msg       string
}

func (e *SQLError) Error() string { return fmt.Sprintf("sql %d:%d: %s", e.Line, e.Col, e.Msg) }

// Pos is a position in SQL text.
type Pos struct{ Line, Col int }

func (p Pos) errorf(format string, args ...any) error {
	return &SQLError{Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...)}
}

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQIdent
	tString
	tNumber
	tOp
)

type token struct {
	kind tokKind
	text string // identifiers: unquoted ones upper-cased; strings unescaped
	pos  Pos
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tQIdent:
		return strconv.Quote(t.text)
	case tString:
		return "'" + t.text + "'"
	}
	return t.text
}

// lexSQL splits src into tokens. Unquoted identifiers and keywords are
// upper-cased (SQL folds them); "quoted" identifiers keep their case.
func lexSQL(src string) ([]token, error) {
	var toks []token
	line, col := 1, 1
	i := 0
	adv := func(n int) {
		for k := 0; k < n; k++ {
			if src[i] == '\n' {
				line++
				col = 1
			} else {
				col++
			}
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		pos := Pos{line, col}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			adv(1)
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for i < len(src) && src[i] != '\n' {
				adv(1)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return nil, pos.errorf("unterminated comment")
			}
			adv(end + 4)
		case c == '"' || c == '\'':
			var b strings.Builder
			adv(1)
			for {
				if i >= len(src) {
					if c == '"' {
						return nil, pos.errorf("unterminated quoted identifier")
					}
					return nil, pos.errorf("unterminated string literal")
				}
				if src[i] == c {
					if i+1 < len(src) && src[i+1] == c {
						b.WriteByte(c)
						adv(2)
						continue
					}
					adv(1)
					break
				}
				b.WriteByte(src[i])
				adv(1)
			}
			k := tString
			if c == '"' {
				k = tQIdent
				if b.Len() == 0 {
					return nil, pos.errorf("empty quoted identifier")
				}
			}
			toks = append(toks, token{kind: k, text: b.String(), pos: pos})
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := i
			for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
				j++
			}
			if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
				k := j + 1
				if k < len(src) && (src[k] == '+' || src[k] == '-') {
					k++
				}
				if k < len(src) && src[k] >= '0' && src[k] <= '9' {
					for k < len(src) && src[k] >= '0' && src[k] <= '9' {
						k++
					}
					j = k
				}
			}
			toks = append(toks, token{kind: tNumber, text: src[i:j], pos: pos})
			adv(j - i)
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '$') {
				j++
			}
			toks = append(toks, token{kind: tIdent, text: strings.ToUpper(src[i:j]), pos: pos})
			adv(j - i)
		default:
			op := string(c)
			if i+1 < len(src) {
				switch two := src[i : i+2]; two {
				case "<=", ">=", "<>", "!=", "||":
					op = two
				}
			}
			if !strings.Contains("=<>!|+-*/%(),;.", op[:1]) || op == "!" || op == "|" {
				return nil, pos.errorf("unexpected character %q", c)
			}
			toks = append(toks, token{kind: tOp, text: op, pos: pos})
			adv(len(op))
		}
	}
	toks = append(toks, token{kind: tEOF, pos: Pos{line, col}})
	return toks, nil
}

// Script is a parsed KDA SQL application: its statements in order.
type Script struct {
	Stmts []Stmt
}

// Stmt is a CreateStream or a CreatePump.
type Stmt interface{ stmtPos() Pos }

// CreateStream is CREATE [OR REPLACE] STREAM name (columns).
type CreateStream struct {
	Pos       Pos
	OrReplace bool
	Name      string
	Columns   []Column
}

// CreatePump is CREATE [OR REPLACE] PUMP name AS INSERT INTO target
// [(columns)] SELECT STREAM ….
type CreatePump struct {
	Pos       Pos
	OrReplace bool
	Name      string
	Target    string
	TargetPos Pos
	Columns   []string
	Select    *Select
}

func (s *CreateStream) stmtPos() Pos { return s.Pos }
func (s *CreatePump) stmtPos() Pos   { return s.Pos }

// Select is SELECT STREAM items FROM stream [WHERE cond] [GROUP BY …].
type Select struct {
	Pos     Pos
	Items   []SelectItem
	From    string
	FromPos Pos
	Alias   string
	Where   Expr
	GroupBy []Expr
	Having  Expr
}

// SelectItem is one output expression, or * when Star.
type SelectItem struct {
	Pos   Pos
	Star  bool
	Expr  Expr
	Alias string
}

// Expr is an expression node.
type Expr interface {
	exprPos() Pos
	String() string
}

// Literal is a constant.
type Literal struct {
	P Pos
	V Value
}

// ColRef is a column reference, optionally qualified by a stream name or
// alias. ROWTIME is a ColRef named ROWTIME.
type ColRef struct {
	P          Pos
	Qual, Name string
}

// Binary is a binary operator: OR AND = <> < <= > >= + - * / % ||.
type Binary struct {
	P    Pos
	Op   string
	L, R Expr
}

// Unary is NOT x or -x.
type Unary struct {
	P  Pos
	Op string
	X  Expr
}

// Call is a function or aggregate call; Star for COUNT(*).
type Call struct {
	P    Pos
	Name string
	Args []Expr
	Star bool
}

// Step is STEP(x BY INTERVAL 'n' unit) (also FLOOR(x TO unit)): x rounded
// down to a multiple of Millis.
type Step struct {
	P      Pos
	X      Expr
	Millis int64
}

// Cast is CAST(x AS type).
type Cast struct {
	P    Pos
	X    Expr
	Type Type
}

// IsNull is x IS [NOT] NULL.
type IsNull struct {
	P   Pos
	X   Expr
	Not bool
}

// Like is x [NOT] LIKE 'pattern' (% any run, _ one character).
type Like struct {
	P       Pos
	X       Expr
	Pattern string
	Not     bool
}

// Case is CASE [operand] WHEN … THEN … [ELSE …] END.
type Case struct {
	P       Pos
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr // nil: NULL
}

// When is one WHEN … THEN … arm of a Case.
type When struct{ Cond, Result Expr }

func (e *Like) exprPos() Pos { return e.P }
func (e *Case) exprPos() Pos { return e.P }
func (e *Like) String() string {
	op := " LIKE "
	if e.Not {
		op = " NOT LIKE "
	}
	return "(" + e.X.String() + op + Value{K: KindString, S: e.Pattern}.SQL() + ")"
}
func (e *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	if e.Operand != nil {
		b.WriteString(" " + e.Operand.String())
	}
	for _, w := range e.Whens {
		b.WriteString(" WHEN " + w.Cond.String() + " THEN " + w.Result.String())
	}
	if e.Else != nil {
		b.WriteString(" ELSE " + e.Else.String())
	}
	b.WriteString(" END")
	return b.String()
}

func (e *Literal) exprPos() Pos { return e.P }
func (e *ColRef) exprPos() Pos  { return e.P }
func (e *Binary) exprPos() Pos  { return e.P }
func (e *Unary) exprPos() Pos   { return e.P }
func (e *Call) exprPos() Pos    { return e.P }
func (e *Step) exprPos() Pos    { return e.P }
func (e *Cast) exprPos() Pos    { return e.P }
func (e *IsNull) exprPos() Pos  { return e.P }

func (e *Literal) String() string { return e.V.SQL() }
func (e *ColRef) String() string {
	if e.Name == "ROWTIME" {
		return "ROWTIME" // qualified or not, there is one ROWTIME per row
	}
	return strconv.Quote(e.Name)
}
func (e *Binary) String() string { return "(" + e.L.String() + " " + e.Op + " " + e.R.String() + ")" }
func (e *Unary) String() string  { return "(" + e.Op + " " + e.X.String() + ")" }
func (e *Call) String() string {
	if e.Star {
		return e.Name + "(*)"
	}
	parts := make([]string, len(e.Args))
	for i, a := range e.Args {
		parts[i] = a.String()
	}
	return e.Name + "(" + strings.Join(parts, ", ") + ")"
}
func (e *Step) String() string {
	return fmt.Sprintf("STEP(%s BY %dms)", e.X, e.Millis)
}
func (e *Cast) String() string { return "CAST(" + e.X.String() + " AS " + e.Type.String() + ")" }
func (e *IsNull) String() string {
	if e.Not {
		return "(" + e.X.String() + " IS NOT NULL)"
	}
	return "(" + e.X.String() + " IS NULL)"
}

type parser struct {
	toks []token
	p    int
}

// ParseSQL parses a KDA SQL application script.
func ParseSQL(src string) (*Script, error) {
	toks, err := lexSQL(src)
	if err != nil {
		return nil, err
	}
	ps := &parser{toks: toks}
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
		return nil, Pos{1, 1}.errorf("no statements")
	}
	return s, nil
}

func (ps *parser) peek() token { return ps.toks[ps.p] }
func (ps *parser) next() token {
	t := ps.toks[ps.p]
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
	return t.pos.errorf("expected %s, found %s", want, t)
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
		name, _, err := ps.ident("stream name")
		if err != nil {
			return nil, err
		}
		cs := &CreateStream{Pos: start, OrReplace: orReplace, Name: name}
		if err := ps.expectOp("("); err != nil {
			return nil, err
		}
		for {
			cn, cpos, err := ps.ident("column name")
			if err != nil {
				return nil, err
			}
			typ, err := ps.typ()
			if err != nil {
				return nil, err
			}
			for _, c := range cs.Columns {
				if c.Name == cn {
					return nil, cpos.errorf("duplicate column %q", cn)
				}
			}
			cs.Columns = append(cs.Columns, Column{Name: cn, Type: typ})
			if ps.isOp(",") {
				ps.p++
				continue
			}
			break
		}
		return cs, ps.expectOp(")")
	case ps.acceptKw("PUMP"):
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
				if ps.isOp(",") {
					ps.p++
					continue
				}
				break
			}
			if err := ps.expectOp(")"); err != nil {
				return nil, err
			}
		}
		if cp.Select, err = ps.selectStmt(); err != nil {
			return nil, err
		}
		return cp, nil
	}
	return nil, ps.unexpected("STREAM or PUMP")
}

func (ps *parser) typ() (Type, error) {
	t := ps.peek()
	if t.kind != tIdent {
		return Type{}, ps.unexpected("a column type")
	}
	ps.p++
	var typ Type
	switch t.text {
	case "INTEGER", "INT", "SMALLINT", "TINYINT":
		typ.Kind = KindInt
		typ.Bits = 32
	case "BIGINT":
		typ.Kind = KindInt
		typ.Bits = 64
	case "DOUBLE", "REAL", "FLOAT", "DECIMAL", "NUMERIC":
		typ.Kind = KindFloat
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
	case "VARCHAR", "CHAR":
		typ.Kind = KindString
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
		} else if t.text == "CHAR" {
			typ.Len = 1
		} else {
			return typ, ps.unexpected("( length ) after VARCHAR")
		}
	case "BOOLEAN":
		typ.Kind = KindBool
	case "TIMESTAMP":
		typ.Kind = KindTime
	default:
		return typ, t.pos.errorf("unsupported type %s", t.text)
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
			if ps.acceptKw("AS") {
				if it.Alias, _, err = ps.ident("column alias"); err != nil {
					return nil, err
				}
			} else if t := ps.peek(); t.kind == tQIdent || t.kind == tIdent && !reserved[t.text] {
				it.Alias = t.text
				ps.p++
			}
		}
		s.Items = append(s.Items, it)
		if ps.isOp(",") {
			ps.p++
			continue
		}
		break
	}
	if err := ps.expectKw("FROM"); err != nil {
		return nil, err
	}
	var err error
	if s.From, s.FromPos, err = ps.ident("source stream name"); err != nil {
		return nil, err
	}
	if ps.acceptKw("AS") {
		if s.Alias, _, err = ps.ident("stream alias"); err != nil {
			return nil, err
		}
	} else if t := ps.peek(); t.kind == tQIdent || t.kind == tIdent && !reserved[t.text] {
		s.Alias = t.text
		ps.p++
	}
	if ps.acceptKw("WHERE") {
		if s.Where, err = ps.expr(); err != nil {
			return nil, err
		}
	}
	if ps.acceptKw("GROUP") {
		if err := ps.expectKw("BY"); err != nil {
			return nil, err
		}
		for {
			e, err := ps.expr()
			if err != nil {
				return nil, err
			}
			s.GroupBy = append(s.GroupBy, e)
			if ps.isOp(",") {
				ps.p++
				continue
			}
			break
		}
	}
	if ps.isKw("HAVING") {
		if len(s.GroupBy) == 0 {
			return nil, ps.unexpected("GROUP BY before HAVING")
		}
		ps.p++
		var err error
		if s.Having, err = ps.expr(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (ps *parser) expr() (Expr, error) { return ps.orExpr() }

// leftAssoc parses operand {op operand}, left-associative, for one
// precedence level; atOp says whether the next token is one of its
// operators (keywords arrive upper-cased, so the token text is the Op).
func (ps *parser) leftAssoc(operand func() (Expr, error), atOp func() bool) (Expr, error) {
	l, err := operand()
	for err == nil && atOp() {
		t := ps.next()
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
		x, err := ps.notExpr()
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
			return &Binary{P: t.pos, Op: op, L: l, R: r}, nil
		}
	}
	not := false
	if ps.isKw("NOT") {
		if nt := ps.toks[ps.p+1]; nt.kind == tIdent && (nt.text == "BETWEEN" || nt.text == "IN" || nt.text == "LIKE") {
			ps.p++
			not = true
		}
	}
	wrap := func(e Expr) Expr {
		if not {
			return &Unary{P: t.pos, Op: "NOT", X: e}
		}
		return e
	}
	switch {
	case ps.acceptKw("BETWEEN"):
		lo, err := ps.addExpr()
		if err != nil {
			return nil, err
		}
		if err := ps.expectKw("AND"); err != nil {
			return nil, err
		}
		hi, err := ps.addExpr()
		if err != nil {
			return nil, err
		}
		return wrap(&Binary{P: t.pos, Op: "AND", L: &Binary{P: t.pos, Op: ">=", L: l, R: lo}, R: &Binary{P: t.pos, Op: "<=", L: l, R: hi}}), nil
	case ps.acceptKw("IN"):
		if err := ps.expectOp("("); err != nil {
			return nil, err
		}
		var or Expr
		for {
			v, err := ps.expr()
			if err != nil {
				return nil, err
			}
			eq := &Binary{P: v.exprPos(), Op: "=", L: l, R: v}
			if or == nil {
				or = eq
			} else {
				or = &Binary{P: t.pos, Op: "OR", L: or, R: eq}
			}
			if ps.isOp(",") {
				ps.p++
				continue
			}
			break
		}
		return wrap(or), ps.expectOp(")")
	case ps.acceptKw("LIKE"):
		pt := ps.peek()
		if pt.kind != tString {
			return nil, ps.unexpected("a pattern string after LIKE")
		}
		ps.p++
		return &Like{P: t.pos, X: l, Pattern: pt.text, Not: not}, nil
	}
	if ps.isKw("IS") {
		ps.p++
		not := ps.acceptKw("NOT")
		if err := ps.expectKw("NULL"); err != nil {
			return nil, err
		}
		return &IsNull{P: t.pos, X: l, Not: not}, nil
	}
	return l, nil
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
		x, err := ps.unary()
		if err != nil {
			return nil, err
		}
		if t.text == "+" {
			return x, nil
		}
		if lit, ok := x.(*Literal); ok && (lit.V.K == KindInt && lit.V.I != -1<<63 || lit.V.K == KindFloat) {
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
		if !strings.ContainsAny(t.text, ".eE") {
			if v, err := strconv.ParseInt(t.text, 10, 64); err == nil {
				return &Literal{P: t.pos, V: IntValue(v)}, nil
			}
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, t.pos.errorf("bad number %s", t.text)
		}
		return &Literal{P: t.pos, V: FloatValue(f)}, nil
	case tString:
		ps.p++
		return &Literal{P: t.pos, V: StringValue(t.text)}, nil
	case tOp:
		if t.text == "(" {
			ps.p++
			e, err := ps.expr()
			if err != nil {
				return nil, err
			}
			return e, ps.expectOp(")")
		}
		return nil, ps.unexpected("an expression")
	case tQIdent:
		return ps.colRef()
	case tIdent:
		switch t.text {
		case "NULL":
			ps.p++
			return &Literal{P: t.pos, V: Value{}}, nil
		case "TRUE", "FALSE":
			ps.p++
			return &Literal{P: t.pos, V: BoolValue(t.text == "TRUE")}, nil
		case "CASE":
			ps.p++
			c := &Case{P: t.pos}
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
		case "CAST":
			ps.p++
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
			return &Cast{P: t.pos, X: x, Type: typ}, ps.expectOp(")")
		case "STEP":
			ps.p++
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
			nt := ps.peek()
			n, err := strconv.ParseInt(strings.TrimSpace(nt.text), 10, 64)
			if nt.kind != tString || err != nil || n < 1 || n > 1_000_000 {
				return nil, ps.unexpected("an interval like '1'")
			}
			ps.p++
			ut := ps.peek()
			unit, ok := intervalUnits[ut.text]
			if ut.kind != tIdent || !ok {
				return nil, ps.unexpected("SECOND, MINUTE, HOUR or DAY")
			}
			ps.p++
			return &Step{P: t.pos, X: x, Millis: n * unit}, ps.expectOp(")")
		}
		if ps.toks[ps.p+1].kind == tOp && ps.toks[ps.p+1].text == "(" {
			return ps.call()
		}
		if reserved[t.text] {
			return nil, ps.unexpected("an expression")
		}
		return ps.colRef()
	}
	return nil, ps.unexpected("an expression")
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
	if ps.isOp("*") {
		ps.p++
		c.Star = true
		return c, ps.expectOp(")")
	}
	if ps.isOp(")") {
		ps.p++
		return c, nil
	}
	for {
		a, err := ps.expr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, a)
		if ps.isOp(",") {
			ps.p++
			continue
		}
		break
	}
	return c, ps.expectOp(")")
}
