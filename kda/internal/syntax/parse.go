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

// lexer splits SQL text into tokens as the parser asks for them, so a
// parse that fails early (too deep, say) has not built tokens for the rest.
// Unquoted identifiers and keywords are upper-cased (SQL folds them);
// "quoted" identifiers keep their case.
type lexer struct {
	src          string
	i, line, col int
	parens       int // open parentheses: deeper than MaxExprDepth fails here
}

func (lx *lexer) adv(n int) {
	for k := 0; k < n; k++ {
		if lx.src[lx.i] == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
		lx.i++
	}
}

// next returns the next token, tEOF at the end.
func (lx *lexer) next() (token, error) {
	src := lx.src
	adv := lx.adv
	for lx.i < len(src) {
		i := lx.i
		c := src[i]
		pos := Pos{lx.line, lx.col}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			adv(1)
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for lx.i < len(src) && src[lx.i] != '\n' {
				adv(1)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return token{}, pos.Errorf("unterminated comment")
			}
			adv(end + 4)
		case c == '"' || c == '\'':
			return lx.quoted(c, pos)
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := numberEnd(src, i)
			adv(j - i)
			return token{kind: tNumber, text: src[i:j], pos: pos}, nil
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '$') {
				j++
			}
			adv(j - i)
			return token{kind: tIdent, text: strings.ToUpper(src[i:j]), pos: pos}, nil
		default:
			return lx.operator(pos)
		}
	}
	return token{kind: tEOF, pos: Pos{lx.line, lx.col}}, nil
}

// quoted lexes a string literal (quote ') or a quoted identifier (quote
// "), at pos; a doubled quote stands for itself.
func (lx *lexer) quoted(quote byte, pos Pos) (token, error) {
	src := lx.src
	lx.adv(1)
	start, seg := lx.i, lx.i
	var doubled []byte // only for a literal with a doubled quote; else text is a substring of src
	for {
		if lx.i >= len(src) {
			if quote == '"' {
				return token{}, pos.Errorf("unterminated quoted identifier")
			}
			return token{}, pos.Errorf("unterminated string literal")
		}
		if src[lx.i] == quote {
			if lx.i+1 < len(src) && src[lx.i+1] == quote {
				doubled = append(doubled, src[seg:lx.i+1]...)
				lx.adv(2)
				seg = lx.i
				continue
			}
			break
		}
		lx.adv(1)
	}
	text := src[start:lx.i]
	if doubled != nil {
		text = string(append(doubled, src[seg:lx.i]...))
	}
	lx.adv(1)
	if quote == '"' {
		if text == "" {
			return token{}, pos.Errorf("empty quoted identifier")
		}
		return token{kind: tQIdent, text: text, pos: pos}, nil
	}
	return token{kind: tString, text: text, pos: pos}, nil
}

// numberEnd returns the end of the number starting at src[i]: digits and
// dots, then an optional exponent.
func numberEnd(src string, i int) int {
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
	return j
}

// operator lexes a one- or two-character operator at pos, counting
// parentheses against MaxExprDepth.
func (lx *lexer) operator(pos Pos) (token, error) {
	src, i := lx.src, lx.i
	c := src[i]
	op := string(c)
	if i+1 < len(src) {
		switch two := src[i : i+2]; two {
		case "<=", ">=", "<>", "!=", "||":
			op = two
		}
	}
	if !strings.Contains("=<>!|+-*/%(),;.", op[:1]) || op == "!" || op == "|" {
		return token{}, pos.Errorf("unexpected character %q", c)
	}
	switch op {
	case "(":
		if lx.parens++; lx.parens > MaxExprDepth {
			return token{}, pos.TooDeep()
		}
	case ")":
		lx.parens--
	}
	lx.adv(len(op))
	return token{kind: tOp, text: op, pos: pos}, nil
}

// Script is a parsed KDA SQL application: its statements in order.
type Script struct {
	Stmts []Stmt
}

// Stmt is a statement: a *CreateStream or a *CreatePump.
type Stmt interface {
	// StmtPos is where the statement starts.
	StmtPos() Pos
}

// CreateStream is CREATE [OR REPLACE] STREAM name (columns).
type CreateStream struct {
	Pos       Pos
	OrReplace bool
	Name      string
	Columns   []value.Column
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

func (s *CreateStream) StmtPos() Pos { return s.Pos }
func (s *CreatePump) StmtPos() Pos   { return s.Pos }

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
	ExprPos() Pos
	String() string
}

// Literal is a constant.
type Literal struct {
	P Pos
	V value.Value
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
	Type value.Type
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

// Between is x [NOT] BETWEEN lo AND hi; x is evaluated once.
type Between struct {
	P         Pos
	X, Lo, Hi Expr
	Not       bool
}

// In is x [NOT] IN (list…); x is evaluated once, the list left to right
// until a match.
type In struct {
	P    Pos
	X    Expr
	List []Expr
	Not  bool
}

func (e *Literal) ExprPos() Pos { return e.P }
func (e *ColRef) ExprPos() Pos  { return e.P }
func (e *Binary) ExprPos() Pos  { return e.P }
func (e *Unary) ExprPos() Pos   { return e.P }
func (e *Call) ExprPos() Pos    { return e.P }
func (e *Step) ExprPos() Pos    { return e.P }
func (e *Cast) ExprPos() Pos    { return e.P }
func (e *IsNull) ExprPos() Pos  { return e.P }
func (e *Like) ExprPos() Pos    { return e.P }
func (e *Case) ExprPos() Pos    { return e.P }
func (e *Between) ExprPos() Pos { return e.P }
func (e *In) ExprPos() Pos      { return e.P }

func (e *Literal) String() string { return exprString(e) }
func (e *ColRef) String() string  { return exprString(e) }
func (e *Binary) String() string  { return exprString(e) }
func (e *Unary) String() string   { return exprString(e) }
func (e *Call) String() string    { return exprString(e) }
func (e *Step) String() string    { return exprString(e) }
func (e *Cast) String() string    { return exprString(e) }
func (e *IsNull) String() string  { return exprString(e) }
func (e *Like) String() string    { return exprString(e) }
func (e *Case) String() string    { return exprString(e) }
func (e *Between) String() string { return exprString(e) }
func (e *In) String() string      { return exprString(e) }

// exprString prints e into one builder, in time linear in its size
// (concatenating the children's strings at every level was quadratic).
func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

func writeExpr(b *strings.Builder, e Expr) {
	switch e := e.(type) {
	case *Literal:
		b.WriteString(e.V.SQL())
	case *ColRef:
		if e.Name == "ROWTIME" {
			b.WriteString("ROWTIME") // qualified or not, there is one ROWTIME per row
			return
		}
		b.WriteString(strconv.Quote(e.Name))
	case *Binary:
		b.WriteByte('(')
		writeExpr(b, e.L)
		b.WriteString(" " + e.Op + " ")
		writeExpr(b, e.R)
		b.WriteByte(')')
	case *Unary:
		b.WriteString("(" + e.Op + " ")
		writeExpr(b, e.X)
		b.WriteByte(')')
	case *Call:
		b.WriteString(e.Name + "(")
		if e.Star {
			b.WriteByte('*')
		}
		writeList(b, e.Args)
		b.WriteByte(')')
	case *Step:
		b.WriteString("STEP(")
		writeExpr(b, e.X)
		b.WriteString(" BY " + strconv.FormatInt(e.Millis, 10) + "ms)")
	case *Cast:
		b.WriteString("CAST(")
		writeExpr(b, e.X)
		b.WriteString(" AS " + e.Type.String() + ")")
	case *IsNull:
		b.WriteByte('(')
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" IS NOT NULL)")
		} else {
			b.WriteString(" IS NULL)")
		}
	case *Like:
		b.WriteByte('(')
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" LIKE " + value.Value{K: value.KindString, S: e.Pattern}.SQL() + ")")
	case *Case:
		writeCase(b, e)
	case *Between:
		b.WriteByte('(')
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		writeExpr(b, e.Lo)
		b.WriteString(" AND ")
		writeExpr(b, e.Hi)
		b.WriteByte(')')
	case *In:
		b.WriteByte('(')
		writeExpr(b, e.X)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		writeList(b, e.List)
		b.WriteString("))")
	default:
		b.WriteString(fmt.Sprintf("%T", e))
	}
}

// writeList writes xs separated by commas.
func writeList(b *strings.Builder, xs []Expr) {
	for i, x := range xs {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, x)
	}
}

func writeCase(b *strings.Builder, e *Case) {
	b.WriteString("CASE")
	if e.Operand != nil {
		b.WriteByte(' ')
		writeExpr(b, e.Operand)
	}
	for _, w := range e.Whens {
		b.WriteString(" WHEN ")
		writeExpr(b, w.Cond)
		b.WriteString(" THEN ")
		writeExpr(b, w.Result)
	}
	if e.Else != nil {
		b.WriteString(" ELSE ")
		writeExpr(b, e.Else)
	}
	b.WriteString(" END")
}

// Children returns e's direct subexpressions.
func Children(e Expr) []Expr {
	switch e := e.(type) {
	case *Binary:
		return []Expr{e.L, e.R}
	case *Unary:
		return []Expr{e.X}
	case *Call:
		return e.Args
	case *Step:
		return []Expr{e.X}
	case *Cast:
		return []Expr{e.X}
	case *IsNull:
		return []Expr{e.X}
	case *Like:
		return []Expr{e.X}
	case *Case:
		out := make([]Expr, 0, 2*len(e.Whens)+2)
		if e.Operand != nil {
			out = append(out, e.Operand)
		}
		for _, w := range e.Whens {
			out = append(out, w.Cond, w.Result)
		}
		if e.Else != nil {
			out = append(out, e.Else)
		}
		return out
	case *Between:
		return []Expr{e.X, e.Lo, e.Hi}
	case *In:
		return append([]Expr{e.X}, e.List...)
	}
	return nil
}

// checkDepth fails if e's tree is deeper than MaxExprDepth, counting d for
// e itself. Operator chains build deep trees without deep parsing, so the
// parser's own nesting count does not cover them.
func checkDepth(e Expr, d int) error {
	if d > MaxExprDepth {
		return e.ExprPos().TooDeep()
	}
	for _, c := range Children(e) {
		if err := checkDepth(c, d+1); err != nil {
			return err
		}
	}
	return nil
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
	}
	return nil, ps.unexpected("STREAM or PUMP")
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
		typ, err := ps.typ()
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
	return cp, nil
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
	case "VARCHAR", "CHAR":
		typ.Kind = value.KindString
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
		typ.Kind = value.KindBool
	case "TIMESTAMP":
		typ.Kind = value.KindTime
	case "DATE", "TIME", "INTERVAL", "BINARY", "VARBINARY":
		return typ, t.pos.Unsupported("type " + t.text)
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
		return nil, ps.peek().pos.Unsupported("DISTINCT")
	}
	ps.acceptKw("ALL") // the default
	items, err := ps.selectItems()
	if err != nil {
		return nil, err
	}
	s.Items = items
	if err := ps.expectKw("FROM"); err != nil {
		return nil, err
	}
	if err := ps.unsupportedSource(); err != nil {
		return nil, err
	}
	if s.From, s.FromPos, err = ps.ident("source stream name"); err != nil {
		return nil, err
	}
	if s.Alias, err = ps.optAlias("stream alias"); err != nil {
		return nil, err
	}
	if err := ps.unsupportedClause(); err != nil {
		return nil, err
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
	return s, ps.unsupportedClause()
}

// clauseWords end a FROM item or a SELECT item: never taken as an alias,
// so that the construct they start is named.
var clauseWords = map[string]bool{
	"JOIN": true, "INNER": true, "LEFT": true, "RIGHT": true, "FULL": true, "CROSS": true, "NATURAL": true,
	"WINDOW": true, "WINDOWED": true, "UNION": true, "EXCEPT": true, "INTERSECT": true, "ORDER": true, "OVER": true,
}

// unsupportedSource names a FROM item other than a stream: a subquery or
// TABLE(…) (how RANDOM_CUT_FOREST and the other table functions are used).
func (ps *parser) unsupportedSource() error {
	t := ps.peek()
	switch {
	case t.kind == tOp && t.text == "(":
		return t.pos.Unsupported("subquery")
	case t.kind == tIdent && t.text == "TABLE" && ps.tok(1).kind == tOp && ps.tok(1).text == "(":
		if f := ps.tok(2); f.kind == tIdent && (unsupportedFunctions[f.text] || f.text == "CURSOR") {
			return f.pos.Unsupported(f.text)
		}
		return t.pos.Unsupported("TABLE(…) in FROM")
	}
	return nil
}

// unsupportedClause names a clause of the KDA reference that may follow
// FROM, WHERE, GROUP BY or HAVING and that the engine does not run.
func (ps *parser) unsupportedClause() error {
	t := ps.peek()
	if t.kind == tOp && t.text == "," {
		return t.pos.Unsupported("JOIN")
	}
	if t.kind != tIdent {
		return nil
	}
	switch t.text {
	case "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL":
		return t.pos.Unsupported("JOIN")
	case "WINDOW":
		return t.pos.Unsupported("WINDOW clause")
	case "WINDOWED":
		return t.pos.Unsupported("WINDOWED BY STAGGER")
	case "ORDER":
		return t.pos.Unsupported("ORDER BY")
	case "UNION":
		if nt := ps.tok(1); nt.kind == tIdent && nt.text == "ALL" {
			return t.pos.Unsupported("UNION ALL")
		}
		return t.pos.Unsupported("UNION")
	case "EXCEPT", "INTERSECT":
		return t.pos.Unsupported(t.text)
	}
	return nil
}

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
		if nt := ps.tok(1); nt.kind == tIdent && (nt.text == "BETWEEN" || nt.text == "IN" || nt.text == "LIKE" || nt.text == "SIMILAR") {
			ps.p++
			not = true
		}
	}
	if x, ok, err := ps.predicate(t, l, not); ok || err != nil {
		return x, err
	}
	if ps.isKw("IS") {
		ps.p++
		not := ps.acceptKw("NOT")
		if nt := ps.peek(); nt.kind == tIdent {
			switch nt.text {
			case "TRUE", "FALSE", "UNKNOWN":
				return nil, t.pos.Unsupported("IS [NOT] " + nt.text)
			case "DISTINCT":
				return nil, t.pos.Unsupported("IS [NOT] DISTINCT FROM")
			}
		}
		if err := ps.expectKw("NULL"); err != nil {
			return nil, err
		}
		return &IsNull{P: t.pos, X: l, Not: not}, nil
	}
	return l, nil
}

// predicate parses [NOT] BETWEEN, IN or LIKE after l, whose operator
// token is t; ok is false when none follows.
func (ps *parser) predicate(t token, l Expr, not bool) (x Expr, ok bool, err error) {
	switch {
	case ps.isKw("SIMILAR"):
		return nil, true, t.pos.Unsupported("SIMILAR TO")
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
			return nil, true, ps.peek().pos.Unsupported("subquery")
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
		if ps.isKw("ESCAPE") {
			return nil, true, ps.peek().pos.Unsupported("LIKE … ESCAPE")
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
			return nil, ps.peek().pos.Unsupported("subquery")
		}
		e, err := ps.expr()
		if err != nil {
			return nil, err
		}
		return e, ps.expectOp(")")
	case tQIdent:
		return ps.colRef()
	case tIdent:
		return ps.identExpr(t)
	}
	return nil, ps.unexpected("an expression")
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
		return nil, t.pos.Unsupported("EXISTS")
	case nt.kind == tString && (t.text == "TIMESTAMP" || t.text == "DATE" || t.text == "TIME" || t.text == "INTERVAL"):
		return nil, t.pos.Unsupported(t.text + " literal")
	case t.text == "CURSOR" && nt.kind == tOp && nt.text == "(":
		return nil, t.pos.Unsupported("CURSOR")
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
		return ps.call()
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
	return &Step{P: pos, X: x, Millis: n * unit}, ps.expectOp(")")
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
	if ps.isKw("DISTINCT") {
		return nil, ps.peek().pos.Unsupported("DISTINCT")
	}
	switch {
	case ps.isOp("*"):
		ps.p++
		c.Star = true
	case ps.isOp(")"):
	default:
		var err error
		if c.Args, err = ps.exprList(); err != nil {
			return nil, err
		}
	}
	if err := ps.expectOp(")"); err != nil {
		return nil, err
	}
	if ps.isKw("OVER") {
		return nil, ps.peek().pos.Unsupported("OVER (sliding windows)")
	}
	return c, nil
}
