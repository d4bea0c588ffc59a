package syntax

import (
	"strconv"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// Script is a parsed KDA SQL application: its statements in order.
type Script struct {
	Stmts []Stmt
}

// Stmt is a statement: a *CreateStream, a *CreatePump or a
// *CreateFunction.
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
	// OrderBy is the ORDER BY after the last SELECT (of a UNION ALL, the
	// whole union's), at OrderPos; nil without one.
	OrderBy  []OrderItem
	OrderPos Pos
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
	Windows []NamedWindow
	Join    *Join
	// Chain are the JOINs after Join, left-associative: each joins the
	// result so far with its table or stream.
	Chain []*Join
	// UnionAll is the next SELECT of a UNION ALL, or nil.
	UnionAll *Select
	// Sub is the subquery of FROM (SELECT STREAM …) [AS] alias [(cols)],
	// From then empty; SubCols are the alias's column names.
	// The subquery's UnionAll are its other SELECTs, its OrderBy (at
	// OrderPos) its ORDER BY.
	Sub     *Select
	SubCols []string
	// Table is FROM TABLE(fn(CURSOR(…), …)) [AS] alias, From then empty.
	Table *TableCall
	// Stagger is WINDOWED BY STAGGER (PARTITION BY … RANGE INTERVAL …),
	// or nil.
	Stagger *WindowSpec
	// Distinct is SELECT STREAM DISTINCT, at DistinctPos.
	Distinct    bool
	DistinctPos Pos
	// Over is the window of the FROM stream in a stream-to-stream JOIN
	// (FROM s OVER (…) AS a, or OVER name), or nil.
	Over     *WindowSpec
	OverName string
	// OrderBy is the ORDER BY of a subquery or a CURSOR's query, on its
	// first SELECT; a pump's is CreatePump.OrderBy.
	OrderBy  []OrderItem
	OrderPos Pos
}

// Join is [INNER] JOIN, LEFT, RIGHT or FULL [OUTER] JOIN of the FROM
// stream with a table (or stream) ON a condition.
type Join struct {
	P        Pos
	Left     bool
	Right    bool // RIGHT JOIN; FULL JOIN sets Left and Right
	Table    string
	TablePos Pos
	Alias    string
	On       Expr // nil for a CROSS JOIN or a comma join
	// Cross is CROSS JOIN or FROM a, b: every pair, no ON.
	Cross bool
	// Using are the columns of JOIN … USING (c, …); On is then their
	// equalities, qualified with each side's alias or name.
	Using []string
	// TableFn is JOIN TABLE(fn(CURSOR(…), …)): the function's output, a
	// stream, is the joined side; Table is then empty until the engine
	// names that stream.
	TableFn *TableCall
	// Over is the window of the joined stream in a stream-to-stream JOIN
	// (JOIN s OVER (…) AS b, or OVER name), or nil.
	Over     *WindowSpec
	OverName string
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

// Literal is a constant; Qual is an INTERVAL literal's qualifier.
type Literal struct {
	P    Pos
	V    value.Value
	Qual value.Qualifier
}

// ColRef is a column reference, optionally qualified by a stream name or
// alias. ROWTIME is a ColRef named ROWTIME.
type ColRef struct {
	P          Pos
	Qual, Name string
}

// Binary is a binary operator: OR AND = <> < <= > >= + - * / % ||. A
// "-" with a Qual is the difference of two datetimes as an interval,
// (a - b) DAY TO SECOND.
type Binary struct {
	P    Pos
	Op   string
	L, R Expr
	Qual value.Qualifier
}

// Unary is NOT x or -x.
type Unary struct {
	P  Pos
	Op string
	X  Expr
}

// Call is a function or aggregate call; Star for COUNT(*). A call with
// OVER has Over (inline) or OverName (a WINDOW clause's name) set.
type Call struct {
	P        Pos
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool // an aggregate's DISTINCT: f(DISTINCT x)
	Over     *WindowSpec
	OverName string
}

// WindowSpec is a sliding window: [PARTITION BY …] RANGE INTERVAL 'n' unit
// PRECEDING (Millis) or ROWS n PRECEDING (Rows, with Size the n).
type WindowSpec struct {
	P           Pos
	PartitionBy []Expr
	Rows        bool
	Size        int64 // milliseconds for RANGE, rows for ROWS
	// Unbounded: UNBOUNDED PRECEDING, every row of the partition so far
	// (Size is then 0).
	Unbounded bool
}

// NamedWindow is one WINDOW name AS (spec) of a SELECT.
type NamedWindow struct {
	Name string
	Spec *WindowSpec
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

// Field is a column of a row-valued call: REGEX_LOG_PARSE(…).COLUMN1.
type Field struct {
	P    Pos
	X    *Call
	Name string
}

func (e *Field) ExprPos() Pos   { return e.P }
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

func (e *Field) String() string   { return exprString(e) }
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

// sql is the literal as SQL, an interval with its own qualifier.
func (e *Literal) sql() string {
	if e.Qual.From == value.UnitNone {
		return e.V.SQL()
	}
	return "INTERVAL '" + string(value.AppendInterval(nil, e.V, e.Qual)) + "' " + e.Qual.String()
}

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
		b.WriteString(e.sql())
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
		if e.Qual.From != value.UnitNone {
			b.WriteString(" " + e.Qual.String())
		}
	case *Unary:
		b.WriteString("(" + e.Op + " ")
		writeExpr(b, e.X)
		b.WriteByte(')')
	case *Call:
		writeCall(b, e)
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
	case *Field:
		writeExpr(b, e.X)
		b.WriteString("." + e.Name)
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
		writeOther(b, e) // subquery.go
	}
}

// writeCall writes a call with its OVER.
func writeCall(b *strings.Builder, e *Call) {
	b.WriteString(e.Name + "(")
	if e.Distinct {
		b.WriteString("DISTINCT ")
	}
	if e.Star {
		b.WriteByte('*')
	}
	writeList(b, e.Args)
	b.WriteByte(')')
	switch {
	case e.OverName != "":
		b.WriteString(" OVER " + strconv.Quote(e.OverName))
	case e.Over != nil:
		b.WriteString(" OVER (")
		writeWindowSpec(b, e.Over)
		b.WriteByte(')')
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

func writeWindowSpec(b *strings.Builder, w *WindowSpec) {
	if len(w.PartitionBy) > 0 {
		b.WriteString("PARTITION BY ")
		writeList(b, w.PartitionBy)
		b.WriteByte(' ')
	}
	if w.Rows {
		b.WriteString("ROWS " + strconv.FormatInt(w.Size, 10) + " PRECEDING")
	} else {
		b.WriteString("RANGE " + strconv.FormatInt(w.Size, 10) + "ms PRECEDING")
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
	case *Field:
		return []Expr{e.X}
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
	case *Row:
		return e.Items
	case *Temporal:
		return []Expr{e.L, e.R}
	case *Subquery:
		if e.X != nil {
			return []Expr{e.X} // the subquery's own expressions read its table
		}
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
