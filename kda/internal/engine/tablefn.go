package engine

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Table functions
//
// A table function is called as KDA documents it:
//
//	SELECT STREAM … FROM TABLE(NAME(CURSOR(SELECT STREAM … FROM "S"), arg, …)) [AS alias]
//
// The engine compiles the cursor's query as a pump into a hidden stream
// (CURSOR(SELECT STREAM * FROM "S") reads "S" itself; a UNION ALL is a
// pump per SELECT), runs the function as a pump of its own from that
// stream into a second hidden stream whose columns the function declares,
// and compiles the outer SELECT to read that stream like any other: WHERE,
// projections, windows and joins all. JOIN TABLE(…) [OVER (…)] [AS t]
// joins that stream as the other side of a JOIN of two streams.
//
// To add a table function NAME:
//
//  1. In a file of this package, write a constructor of type NewTableFunc
//     and register it from an init function:
//
//	func init() { registerTableFunc("NAME", newName) }
//
//  2. The constructor receives the call (*TableArgs): the cursor's output
//     columns (Input) and the literal arguments after the cursor. It checks
//     them with the TableArgs helpers (Count, Int, Float, Bool, String,
//     Column), whose errors name the argument and its line:col, and returns
//     the function's output columns and a TableFunc. For the functions of
//     the KDA reference the output columns are what the reference lists:
//     RANDOM_CUT_FOREST, for example, the Input columns then ANOMALY_SCORE.
//  3. The TableFunc receives every cursor row (Push) and the clock (Advance,
//     NextClose), emits its rows through Emit, and saves and restores its
//     state (AppendState, Restore) so that Engine.MarshalState and
//     RestoreState carry it across Lambda invocations and restarts.
//  4. syntax.TableFunctions lists the reference's table functions: a name
//     there that is not registered fails at compile time as an
//     *syntax.UnsupportedError naming it and its line:col; a name in
//     neither is an unknown table function.
//  5. Test it through the kda package: its output rows, its argument
//     errors, and the state split tests (kda/state_test.go), which check
//     that 1, 10 and 100 invocations and a restart give the same rows.
//
// TEST_SEQ in tablefn_test.go is a minimal function that emits each input
// row with columns of its own (the shape of RANDOM_CUT_FOREST); topk.go and
// distinct.go are tumbling-window functions that emit when a window
// closes.
//
// The engine calls a TableFunc with the engine locked, from one goroutine
// at a time; it need not be safe for concurrent use.

// TableFunc is one call of a table function in a pump: its running state.
type TableFunc interface {
	// Push receives one row of the cursor: values in the order of
	// TableArgs.Input, valid only during the call, at ROWTIME rowtime
	// (Unix milliseconds, never less than the last Push or Advance). It
	// may emit rows. An error sends the row to the error_stream as an
	// Evaluation_Error of the pump; processing goes on.
	Push(row []value.Value, rowtime int64, emit Emit) error
	// Advance tells the function that ROWTIME has reached t: it emits
	// what is due by then, such as the rows of the windows that end at or
	// before t. Before a row arrives at ROWTIME r, Advance(r) has been
	// called if NextClose was at or before r; Engine.Flush calls
	// Advance(math.MaxInt64).
	Advance(t int64, emit Emit)
	// NextClose is the earliest ROWTIME at which Advance would emit, or
	// false when nothing is pending.
	NextClose() (int64, bool)
	// AppendState appends the function's state to b, for
	// Engine.MarshalState. The same input must give the same bytes.
	AppendState(b []byte) []byte
	// Restore returns a new TableFunc of the same call holding the state
	// that AppendState wrote (state is only valid during the call), and
	// leaves the receiver unchanged. State that does not decode, or does
	// not fit the call's arguments, is an error: the engine reports it as
	// a *StateError and keeps its state. Restore reads outside input: it
	// must not panic or allocate beyond what len(state) justifies.
	Restore(state []byte) (TableFunc, error)
}

// Emit inserts one row of the function's output columns, their values of
// the columns' kinds (or NULL), at ROWTIME rowtime. The engine reads row
// only during the call.
type Emit func(row []value.Value, rowtime int64)

// NewTableFunc compiles one call of a table function: it checks the
// arguments and returns the output columns and the function's state.
type NewTableFunc func(call *TableArgs) ([]value.Column, TableFunc, error)

// tableFuncs are the table functions the engine runs, by name.
var tableFuncs = map[string]NewTableFunc{}

// registerTableFunc makes name callable in FROM TABLE(…). It is called
// from init functions; a name registered twice is a programming error.
func registerTableFunc(name string, f NewTableFunc) {
	if _, dup := tableFuncs[name]; dup {
		panic("kda: table function " + name + " registered twice")
	}
	tableFuncs[name] = f
}

// TableArgs is a call of a table function as the constructor sees it.
type TableArgs struct {
	// Name is the function's name, as called.
	Name string
	// Input are the columns of the cursor's rows.
	Input []value.Column
	// Args are the arguments after the cursor, each a constant.
	Args []TableArg
	pos  syntax.Pos // the function's name
}

// TableArg is one constant argument of a table function.
type TableArg struct {
	V   value.Value
	Pos syntax.Pos
}

// Errorf is a compile error at the function's name.
func (a *TableArgs) Errorf(format string, args ...any) error {
	return a.pos.Errorf("%s: %s", a.Name, fmt.Sprintf(format, args...))
}

// ArgErrorf is a compile error about argument i (0 is the first after the
// cursor) called name, at the argument.
func (a *TableArgs) ArgErrorf(i int, name, format string, args ...any) error {
	p := a.pos
	if i < len(a.Args) {
		p = a.Args[i].Pos
	}
	return p.Errorf("%s argument %d (%s): %s", a.Name, i+2, name, fmt.Sprintf(format, args...))
}

// Count checks that the call has at least min and at most len(names)
// arguments after the cursor; names are the arguments' names in the
// reference's signature, which the error shows.
func (a *TableArgs) Count(min int, names ...string) error {
	if n := len(a.Args); n < min || n > len(names) {
		want := fmt.Sprint(len(names))
		if min < len(names) {
			want = fmt.Sprintf("%d to %d", min, len(names))
		}
		return a.Errorf("takes a CURSOR and %s arguments (%s), got %d", want, strings.Join(names, ", "), n)
	}
	return nil
}

// Int is argument i, an integer constant from lo to hi.
func (a *TableArgs) Int(i int, name string, lo, hi int64) (int64, error) {
	v := a.Args[i].V
	if v.K != value.KindInt {
		return 0, a.ArgErrorf(i, name, "must be an integer, got %s", v.SQL())
	}
	if v.I < lo || v.I > hi {
		return 0, a.ArgErrorf(i, name, "must be from %d to %d, got %d", lo, hi, v.I)
	}
	return v.I, nil
}

// Float is argument i, a numeric constant from lo to hi.
func (a *TableArgs) Float(i int, name string, lo, hi float64) (float64, error) {
	v := a.Args[i].V
	if v.K != value.KindInt && v.K != value.KindFloat {
		return 0, a.ArgErrorf(i, name, "must be a number, got %s", v.SQL())
	}
	if f := v.Float(); f >= lo && f <= hi {
		return f, nil
	}
	return 0, a.ArgErrorf(i, name, "must be from %g to %g, got %s", lo, hi, v.SQL())
}

// Bool is argument i, TRUE or FALSE.
func (a *TableArgs) Bool(i int, name string) (bool, error) {
	v := a.Args[i].V
	if v.K != value.KindBool {
		return false, a.ArgErrorf(i, name, "must be TRUE or FALSE, got %s", v.SQL())
	}
	return v.I == 1, nil
}

// String is argument i, a character string constant.
func (a *TableArgs) String(i int, name string) (string, error) {
	v := a.Args[i].V
	if v.K != value.KindString {
		return "", a.ArgErrorf(i, name, "must be a string in single quotes, got %s", v.SQL())
	}
	return v.S, nil
}

// Column is argument i, a column of Input named in single quotes
// ('TICKER_SYMBOL'), as the reference's table functions take one; it
// returns the column's index in Input.
func (a *TableArgs) Column(i int, name string) (int, error) {
	s, err := a.String(i, name)
	if err != nil {
		return 0, err
	}
	var names []string
	for k, c := range a.Input {
		if c.Name == s {
			return k, nil
		}
		names = append(names, c.Name)
	}
	for _, c := range a.Input {
		if strings.EqualFold(c.Name, s) {
			return 0, a.ArgErrorf(i, name, "the cursor has no column %q; names are case-sensitive: write '%s'", s, c.Name)
		}
	}
	return 0, a.ArgErrorf(i, name, "the cursor has no column %q (it has %s)", s, strings.Join(names, ", "))
}

// tableFn is the pump of a table function: src is the cursor's stream,
// dst the function's output.
type tableFn struct {
	name string
	op   TableFunc
	emit Emit
}

// compileTableSources compiles the table functions that sel reads, itself
// or through its subqueries, in FROM or as a JOIN's side, innermost first,
// and points each SELECT (or JOIN) with a TABLE(…) at its function's
// output stream.
func (e *Engine) compileTableSources(st *syntax.CreatePump, sel *syntax.Select) ([]*pump, error) {
	var chain []*syntax.Select
	for s := sel; s != nil; s = s.Sub {
		chain = append(chain, s)
	}
	var pumps []*pump
	for i := len(chain) - 1; i >= 0; i-- {
		s := chain[i]
		if s.Table != nil && s.From == "" {
			ps, name, err := e.compileTable(st, s.Table)
			if err != nil {
				return nil, err
			}
			pumps, s.From = append(pumps, ps...), name
		}
		for _, j := range append([]*syntax.Join{s.Join}, s.Chain...) {
			if j != nil && j.TableFn != nil && j.Table == "" {
				ps, name, err := e.compileTable(st, j.TableFn)
				if err != nil {
					return nil, err
				}
				pumps, j.Table = append(pumps, ps...), name
			}
		}
	}
	return pumps, nil
}

// compileTable compiles TABLE(fn(CURSOR(…), …)): the cursor's pumps and
// the function's, and the name of the stream of its output.
func (e *Engine) compileTable(st *syntax.CreatePump, tc *syntax.TableCall) ([]*pump, string, error) {
	newFn, ok := tableFuncs[tc.Name]
	if !ok {
		if syntax.TableFunctions[tc.Name] {
			return nil, "", tc.NamePos.Unsupported(tc.Name)
		}
		return nil, "", tc.NamePos.Errorf("unknown table function %s", tc.Name)
	}
	args := &TableArgs{Name: tc.Name, pos: tc.NamePos}
	for _, x := range tc.Args {
		lit, ok := x.(*syntax.Literal)
		if !ok {
			return nil, "", x.ExprPos().Errorf("%s argument %d: must be a constant, got %s", tc.Name, len(args.Args)+2, x)
		}
		args.Args = append(args.Args, TableArg{V: lit.V, Pos: lit.P})
	}
	pumps, src, err := e.compileCursor(st, tc)
	if err != nil {
		return nil, "", err
	}
	args.Input = append([]value.Column(nil), src.cols...)
	cols, op, err := newFn(args)
	if err != nil {
		return nil, "", err
	}
	name := st.Name + "$" + tc.Name
	for e.streams[name] != nil {
		name += "$"
	}
	dst := e.addStream(name, cols)
	p := &pump{name: st.Name, src: src, dst: dst, now: e.opts.Now}
	p.fn = &tableFn{name: tc.Name, op: op, emit: func(row []value.Value, rt int64) { e.insert(dst, row, rt) }}
	return append(pumps, p), name, nil
}

// compileCursor compiles the cursor's query and returns its pumps and the
// stream of its rows: the source stream itself for SELECT STREAM * FROM s.
func (e *Engine) compileCursor(st *syntax.CreatePump, tc *syntax.TableCall) ([]*pump, *stream, error) {
	cur := tc.Cursor
	if cur.UnionAll == nil && cur.OrderBy == nil && len(cur.Items) == 1 && cur.Items[0].Star && cur.Where == nil &&
		cur.Join == nil && len(cur.GroupBy) == 0 && cur.Stagger == nil && len(cur.Windows) == 0 && !cur.Distinct {
		pumps, src, err := e.cursorSource(st, cur)
		return pumps, src, err
	}
	return e.compileArms(st, cur, nil, "the CURSOR", st.Name+"$CURSOR")
}

// cursorSource compiles the table functions, the subquery and the JOIN
// chain that a SELECT of a cursor or a subquery reads, and returns their
// pumps and its source stream.
func (e *Engine) cursorSource(st *syntax.CreatePump, cur *syntax.Select) ([]*pump, *stream, error) {
	pumps, err := e.compileTableSources(st, cur)
	if err != nil {
		return nil, nil, err
	}
	if cur.Sub != nil {
		inner, err := e.compileSubquery(st, cur)
		if err != nil {
			return nil, nil, err
		}
		pumps = append(pumps, inner...)
		cur.Sub = nil
	}
	chain, err := e.compileChain(st, cur) // chain.go
	if err != nil {
		return nil, nil, err
	}
	pumps = append(pumps, chain...)
	src, ok := e.streams[cur.From]
	if !ok {
		return nil, nil, cur.FromPos.Errorf("unknown stream %q%s", cur.From, e.sqlCaseHint(cur.From))
	}
	return pumps, src, nil
}

// expandStar replaces the * of a cursor's or a subquery's SELECT list:
// the source's columns, then those of a JOINed reference table or stream
// that the source lacks (a USING column, or the key of ON s.k = t.k,
// once). grouped: the SELECT has a GROUP BY window, where * is an error.
func (e *Engine) expandStar(cur *syntax.Select, src *stream, grouped bool) error {
	var items []syntax.SelectItem
	for _, it := range cur.Items {
		if !it.Star {
			items = append(items, it)
			continue
		}
		if grouped {
			return it.Pos.Errorf("SELECT * cannot be used with GROUP BY")
		}
		if src.chain != nil {
			return it.Pos.Unsupported("SELECT * over a chain of JOINs in a subquery or a CURSOR (name the columns)")
		}
		for _, c := range src.cols {
			items = append(items, syntax.SelectItem{Pos: it.Pos, Expr: &syntax.ColRef{P: it.Pos, Qual: cmp.Or(cur.Alias, cur.From), Name: c.Name}})
		}
		j := cur.Join
		if j == nil {
			continue
		}
		var right []value.Column
		if t := e.tables[j.Table]; t != nil {
			right = t.cols
		} else if s := e.streams[j.Table]; s != nil {
			right = s.cols
		}
		qual := cmp.Or(j.Alias, j.Table)
		for _, c := range right {
			if _, dup := src.idx[c.Name]; !dup {
				items = append(items, syntax.SelectItem{Pos: it.Pos, Expr: &syntax.ColRef{P: it.Pos, Qual: qual, Name: c.Name}})
			}
		}
	}
	cur.Items = items
	return nil
}

// compileArms compiles a cursor's or a subquery's query (what, for
// messages) — first and the other SELECTs of its UNION ALL, each with the
// subqueries and table functions it reads, and its ORDER BY — as a pump
// per SELECT into one new hidden stream named after name. The stream's
// columns are the first SELECT's (named by names, else by its items),
// each of a type that holds every SELECT's values (the longer VARCHAR,
// BIGINT for INTEGER and BIGINT, DOUBLE for a mix of numbers).
func (e *Engine) compileArms(st *syntax.CreatePump, first *syntax.Select, names []string, what, name string) ([]*pump, *stream, error) {
	var pumps []*pump
	var cols []value.Column
	for arm := first; arm != nil; arm = arm.UnionAll {
		ps, src, err := e.cursorSource(st, arm)
		if err != nil {
			return nil, nil, err
		}
		pumps = append(pumps, ps...)
		probe := &pump{name: st.Name, src: src, now: e.opts.Now}
		sc, err := probe.compileFilters(e, arm)
		if err != nil {
			return nil, nil, err
		}
		if err := e.expandStar(arm, src, probe.win != nil); err != nil {
			return nil, nil, err
		}
		var ac []value.Column
		ac, arm.Items, err = subqueryColumns(names, arm, sc, src)
		if err != nil {
			return nil, nil, err
		}
		if cols == nil {
			cols, names = ac, nil
			continue
		}
		if len(ac) != len(cols) {
			return nil, nil, arm.Pos.Errorf("the SELECTs of %s's UNION ALL give %d and %d columns", what, len(cols), len(ac))
		}
		for i, c := range ac {
			t, ok := unionType(cols[i].Type, c.Type)
			if !ok {
				return nil, nil, arm.Pos.Errorf("column %d of %s's UNION ALL is %s in the first SELECT and %s in this one", i+1, what, cols[i].Type, c.Type)
			}
			cols[i].Type = t
		}
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c.Name] {
			return nil, nil, first.Pos.Errorf("%s gives two columns named %q: give them aliases", what, c.Name)
		}
		seen[c.Name] = true
	}
	for e.streams[name] != nil {
		name += "$"
	}
	dst := e.addStream(name, cols)
	// Its ORDER BY sorts the rows of every SELECT, as a pump's does.
	ob := e.newOrderSpec(&syntax.CreatePump{Pos: st.Pos, Name: st.Name, Target: name, OrderBy: first.OrderBy, OrderPos: first.OrderPos})
	var last *pump
	for arm := first; arm != nil; arm = arm.UnionAll {
		p, err := e.compilePump(&syntax.CreatePump{Pos: st.Pos, Name: st.Name, Target: name, TargetPos: arm.FromPos, Select: arm}, arm, ob)
		if err != nil {
			return nil, nil, err
		}
		pumps, last = append(pumps, p), p
	}
	if ob != nil {
		last.order.owner = true // after the other arms in e.pumps: it closes the sorter
	}
	return pumps, dst, nil
}

// unionType is a column type that holds values of types a and b.
func unionType(a, b value.Type) (value.Type, bool) {
	switch {
	case a.Kind == b.Kind:
		return value.Type{Kind: a.Kind, Bits: max(a.Bits, b.Bits), Len: max(a.Len, b.Len)}, true
	case numeric(a.Kind) && numeric(b.Kind):
		return value.Double, true
	}
	return a, false
}

// tablesNextClose is the earliest NextClose of the table functions.
func (e *Engine) tablesNextClose() int64 {
	next := int64(math.MaxInt64)
	for _, p := range e.pumps {
		if p.fn == nil {
			continue
		}
		if end, ok := p.fn.op.NextClose(); ok && end < next {
			next = end
		}
	}
	return next
}

// checkCycles refuses a pump whose arms, now linked, feed their own
// source: a subquery or a table function reads its source through hidden
// streams, which pumpStreams could not follow before they were linked. The
// engine being compiled is then discarded, so nothing is unlinked.
func (e *Engine) checkCycles(st *syntax.CreatePump, arms []*pump) error {
	for _, p := range arms {
		if e.reaches(p.dst, p.src) {
			return st.TargetPos.Errorf("pump %q would make a cycle: %q feeds itself through it", st.Name, st.Target)
		}
	}
	return nil
}

// pushTable runs a cursor row through a table function.
func (e *Engine) pushTable(p *pump, v *env) {
	if err := p.fn.op.Push(v.row, v.rowtime, p.fn.emit); err != nil {
		e.pumpError(p, v, err)
	}
	if end, ok := p.fn.op.NextClose(); ok && end < e.nextClose {
		e.nextClose = end
	}
}

// appendState appends the function's state, length-prefixed.
func (t *tableFn) appendState(b []byte) []byte {
	st := t.op.AppendState(nil)
	b = binary.AppendUvarint(b, uint64(len(st)))
	return append(b, st...)
}

// tableFn reads a table function's state into a new TableFunc.
func (d *stateDecoder) tableFn(t *tableFn) TableFunc {
	raw := d.bytes(d.count(1))
	if d.err != nil {
		return nil
	}
	op, err := t.op.Restore(raw)
	if err != nil {
		d.fail(t.name + ": " + err.Error())
		return nil
	}
	return op
}
