package engine

import (
	"fmt"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

func (e *Engine) addPump(st *syntax.CreatePump) error {
	if err := e.checkDeclaredCalls(st); err != nil { // udf.go
		return err
	}
	if old := e.pumpNames[st.Name]; old != nil {
		if !st.OrReplace {
			return st.Pos.Errorf("pump %q already exists", st.Name)
		}
		// Replacing is rare; a lookup by name keeps many pumps linear.
		for _, o := range append([]*pump{old}, old.arms...) {
			e.pumps = slices.DeleteFunc(e.pumps, func(p *pump) bool { return p == o })
			o.src.pumps = slices.DeleteFunc(o.src.pumps, func(p *pump) bool { return p == o })
			if o.sjoin != nil {
				o.sjoin.right.pumps = slices.DeleteFunc(o.sjoin.right.pumps, func(p *pump) bool { return p == o })
			}
		}
		delete(e.pumpNames, st.Name)
	}
	// Each SELECT of a UNION ALL is an arm of the pump, inserting into its
	// target: the arms run as pumps of their own streams.
	var arms []*pump
	ob := e.newOrderSpec(st)
	for sel := st.Select; sel != nil; sel = sel.UnionAll {
		tables, err := e.compileTableSources(st, sel)
		if err != nil {
			return err
		}
		arms = append(arms, tables...)
		if sel.Sub != nil {
			// A subquery is a pump of its own into a hidden stream,
			// which this SELECT reads.
			sub, err := e.compileSubquery(st, sel)
			if err != nil {
				return err
			}
			arms = append(arms, sub...)
		}
		chain, err := e.compileChain(st, sel) // chain.go
		if err != nil {
			return err
		}
		arms = append(arms, chain...)
		p, err := e.compilePump(st, sel, ob)
		if err != nil {
			return err
		}
		arms = append(arms, p)
	}
	for _, p := range arms {
		p.src.pumps = append(p.src.pumps, p)
		if p.sjoin != nil && p.sjoin.right != p.src {
			p.sjoin.right.pumps = append(p.sjoin.right.pumps, p)
		}
		e.pumps = append(e.pumps, p)
	}
	if err := e.checkCycles(st, arms); err != nil {
		return err
	}
	main := arms[len(arms)-1]
	main.arms = arms[:len(arms)-1]
	if ob != nil {
		main.order.owner = true // after every arm in e.pumps: it closes the sorter
	}
	e.pumpNames[st.Name] = main
	return nil
}

// compilePump compiles one SELECT of pump st.
func (e *Engine) compilePump(st *syntax.CreatePump, sel *syntax.Select, ob *orderSpec) (*pump, error) {
	src, dst, err := e.pumpStreams(st, sel)
	if err != nil {
		return nil, err
	}
	p := &pump{name: st.Name, src: src, dst: dst, now: e.opts.Now}
	sc, err := p.compileFilters(e, sel)
	if err != nil {
		return nil, err
	}
	items, err := p.compileItems(sel, sc)
	if err != nil {
		return nil, err
	}
	if sc.slide != nil && len(sc.slide.aggs) > 0 {
		p.slide = sc.slide
	}
	target, err := insertTargets(st, sel, dst, len(items))
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		ct := dst.cols[target[i]].Type
		if !assignable(it.c.typ, ct.Kind) {
			return nil, it.pos.Errorf("cannot insert %s into column %q %s", it.c.typ, dst.cols[target[i]].Name, ct)
		}
		p.projs = append(p.projs, it.c.fn)
		p.types = append(p.types, ct)
		p.direct = append(p.direct, it.src)
		conv := true
		if it.src >= 0 {
			// A column copied into a type at least as wide needs no check.
			st := src.cols[it.src].Type
			conv = !(st.Kind == ct.Kind && st.Len <= ct.Len && (st.Kind != value.KindInt || st.Bits <= ct.Bits))
		}
		p.convert = append(p.convert, conv)
	}
	p.target = target
	p.out = make([]value.Value, len(dst.cols))
	if sel.Distinct {
		if err := p.compileDistinct(sel, target); err != nil {
			return nil, err
		}
	}
	if ob != nil {
		if err := p.compileOrder(ob, sel, sc, target); err != nil {
			return nil, err
		}
		if sc.slide != nil && len(sc.slide.aggs) > 0 {
			p.slide = sc.slide // a sort key OVER a window
		}
	}
	return p, nil
}

// pumpStreams returns the streams a pump reads and writes, refusing a
// target it may not write.
func (e *Engine) pumpStreams(st *syntax.CreatePump, sel *syntax.Select) (src, dst *stream, err error) {
	src, ok := e.streams[sel.From]
	if !ok {
		return nil, nil, sel.FromPos.Errorf("unknown stream %q%s", sel.From, e.sqlCaseHint(sel.From))
	}
	dst, ok = e.streams[st.Target]
	switch {
	case !ok:
		return nil, nil, st.TargetPos.Errorf("unknown stream %q%s", st.Target, e.sqlCaseHint(st.Target))
	case dst.input:
		return nil, nil, st.TargetPos.Errorf("cannot insert into input stream %q", st.Target)
	case dst == e.errStream:
		return nil, nil, st.TargetPos.Errorf("cannot insert into %q", ErrorStream)
	case e.reaches(dst, src):
		return nil, nil, st.TargetPos.Errorf("pump %q would make a cycle: %q already feeds %q", st.Name, st.Target, sel.From)
	}
	return src, dst, nil
}

// compileFilters compiles WHERE, the GROUP BY window and HAVING into p,
// and returns the scope the projections are compiled in.
func (p *pump) compileFilters(e *Engine, sel *syntax.Select) (*scope, error) {
	sel = crossWhere(sel)
	src := p.src
	sc := &scope{stream: src.name, alias: sel.Alias, cols: src.cols, idx: src.idx, now: p.now, udfs: e.funcs.udfs, eng: e, chain: src.chain}
	right, streamJoin := (*stream)(nil), false
	if sel.Join != nil {
		right, streamJoin = e.streams[sel.Join.Table]
	}
	switch {
	case streamJoin:
		if err := e.compileStreamJoin(p, sel, sc, right); err != nil {
			return nil, err
		}
	case sel.Over != nil || sel.OverName != "":
		return nil, sel.FromPos.Errorf("OVER after a stream in FROM is the window of a JOIN of two streams")
	case sel.Join != nil && sel.Join.Right:
		// A table row that pairs with no stream row would come out with
		// NULLs when it can pair no more, and a table never leaves a
		// window: there is no time at which it could.
		kind := "RIGHT JOIN"
		if sel.Join.Left {
			kind = "FULL JOIN"
		}
		return nil, sel.Join.P.Unsupported(kind + " of a reference table (a table row that never pairs has no time at which to come out: the table never leaves a window; use LEFT JOIN with the stream first)")
	case sel.Join != nil && (sel.Join.Over != nil || sel.Join.OverName != ""):
		return nil, sel.Join.TablePos.Errorf("OVER after a reference table: only a joined stream has a window")
	case sel.Join != nil:
		if err := e.compileJoin(p, sel, sc); err != nil {
			return nil, err
		}
	}
	if sel.Where != nil {
		w, err := compileCondition(sc, sel.Where, "WHERE")
		if err != nil {
			return nil, err
		}
		p.where = w
	}
	if sel.Stagger != nil && len(sel.GroupBy) > 0 {
		return nil, sel.GroupBy[0].ExprPos().Errorf("WINDOWED BY STAGGER groups by its PARTITION BY: remove GROUP BY")
	}
	if len(sel.GroupBy) == 0 && sel.Stagger == nil {
		sc.slide, sc.windows = &slide{}, sel.Windows
		return sc, nil
	}
	win, err := newWindow(sel, sc)
	if err != nil {
		return nil, err
	}
	p.win = win
	sc = &scope{stream: src.name, alias: sel.Alias, cols: src.cols, idx: src.idx,
		agg: true, keys: &win.groupBy, aggs: &win.aggs, now: p.now, ref: sc.ref, streamJoin: sc.streamJoin,
		using: sc.using, usingMode: sc.usingMode, udfs: e.funcs.udfs, eng: e, chain: sc.chain}
	if sel.Having != nil {
		if win.having, err = compileCondition(sc, sel.Having, "HAVING"); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// compileCondition compiles the BOOLEAN condition of a WHERE or HAVING
// clause.
func compileCondition(sc *scope, x syntax.Expr, clause string) (evalFn, error) {
	c, err := sc.compile(x)
	if err != nil {
		return nil, err
	}
	if c.typ != value.KindBool && c.typ != value.KindNull {
		return nil, x.ExprPos().Errorf("%s needs a BOOLEAN condition, got %s", clause, c.typ)
	}
	return c.fn, nil
}

// projection is a compiled SELECT item.
type projection struct {
	c   cexpr
	pos syntax.Pos
	src int // source column index for a plain column reference, else -1
}

// compileItems expands * and compiles the SELECT items.
func (p *pump) compileItems(sel *syntax.Select, sc *scope) ([]projection, error) {
	var items []projection
	for _, it := range sel.Items {
		if it.Star {
			if p.win != nil {
				return nil, it.Pos.Errorf("SELECT * cannot be used with GROUP BY")
			}
			if sel.Join != nil && sc.ref != nil {
				star, err := p.compileItems(&syntax.Select{Items: starItems(sel, sc, it.Pos)}, sc)
				if err != nil {
					return nil, err
				}
				items = append(items, star...)
				continue
			}
			for i, c := range p.src.starCols() {
				items = append(items, projection{cexpr{typ: c.Type.Kind, fn: colFn(i)}, it.Pos, i})
			}
			continue
		}
		c, err := sc.compile(it.Expr)
		if err != nil {
			return nil, err
		}
		srcIdx := -1
		if cr, ok := it.Expr.(*syntax.ColRef); ok && p.win == nil && cr.Name != "ROWTIME" && (cr.Qual != "" || !sc.using[cr.Name] || sc.usingMode == usingLeft) {
			if _, inTable, _ := sc.tableCol(cr); !inTable {
				if k, err := sc.col(cr); err == nil {
					srcIdx = k
				}
			}
		}
		items = append(items, projection{c, it.Pos, srcIdx})
	}
	return items, nil
}

// insertTargets maps each of n SELECT items to its column of dst: the
// columns INSERT names, else all of them in order.
func insertTargets(st *syntax.CreatePump, sel *syntax.Select, dst *stream, n int) ([]int, error) {
	target := make([]int, n)
	if len(st.Columns) == 0 {
		if len(dst.cols) != n {
			return nil, sel.Pos.Errorf("stream %q has %d columns but SELECT gives %d", dst.name, len(dst.cols), n)
		}
		for i := range target {
			target[i] = i
		}
		return target, nil
	}
	if len(st.Columns) != n {
		return nil, sel.Pos.Errorf("INSERT names %d columns but SELECT gives %d", len(st.Columns), n)
	}
	named := make(map[string]bool, len(st.Columns))
	for i, name := range st.Columns {
		k, ok := dst.idx[name]
		if !ok {
			return nil, st.TargetPos.Errorf("stream %q has no column %q", dst.name, name)
		}
		if named[name] {
			return nil, st.TargetPos.Errorf("INSERT names column %q twice", name)
		}
		named[name] = true
		target[i] = k
	}
	return target, nil
}

func colFn(i int) evalFn { return func(v *env) (value.Value, error) { return v.row[i], nil } }

func assignable(from, to value.Kind) bool {
	return from == value.KindNull || from == to || numeric(from) && numeric(to) && to != value.KindNull
}

// compileSubquery compiles FROM (SELECT STREAM …) alias of sel: its own
// pumps (compileArms) into a hidden stream named after the pump and
// alias, which sel then reads.
func (e *Engine) compileSubquery(st *syntax.CreatePump, sel *syntax.Select) ([]*pump, error) {
	pumps, dst, err := e.compileArms(st, sel.Sub, sel.SubCols, "the subquery", st.Name+"$"+sel.Alias)
	if err != nil {
		return nil, err
	}
	sel.From = dst.name
	if sel.Alias == "" {
		sel.Alias = dst.name
	}
	return pumps, nil
}

// subqueryColumns are the hidden stream's columns for sub's items (*
// expanded), with the items that fill them (a row-valued call expanded
// into its fields): their aliases, the names given (an alias's column
// list), or EXPR$i; a row-valued item REC of a log parsing function gives
// columns REC.COLUMN1 …; a column keeps its type.
func subqueryColumns(names []string, sub *syntax.Select, sc *scope, src *stream) ([]value.Column, []syntax.SelectItem, error) {
	if len(names) > len(sub.Items) {
		return nil, nil, sub.Pos.Errorf("the subquery alias names %d columns but the subquery gives %d", len(names), len(sub.Items))
	}
	var cols []value.Column
	var items []syntax.SelectItem
	for i, it := range sub.Items {
		name := it.Alias
		if i < len(names) {
			name = names[i]
		}
		if c, ok := it.Expr.(*syntax.Call); ok && syntax.RowFunctions[c.Name] && c.Over == nil {
			rf, err := sc.compileRowCall(c)
			if err != nil {
				return nil, nil, err
			}
			if name == "" {
				name = fmt.Sprintf("EXPR$%d", i)
			}
			for _, rc := range rf.cols {
				cols = append(cols, value.Column{Name: name + "." + rc.Name, Type: rc.Type})
				items = append(items, syntax.SelectItem{Pos: it.Pos, Expr: &syntax.Field{P: it.Pos, X: c, Name: rc.Name}})
			}
			continue
		}
		x, err := sc.compile(it.Expr)
		if err != nil {
			return nil, nil, err
		}
		typ := kindType(x.typ)
		if cr, ok := it.Expr.(*syntax.ColRef); ok {
			if k, inTable, _ := sc.tableCol(cr); inTable {
				typ = sc.ref.t.cols[k].Type
			} else if k, inStream := src.idx[cr.Name]; inStream && cr.Name != "ROWTIME" {
				typ = src.cols[k].Type
			}
			if name == "" {
				name = cr.Name
			}
		}
		if name == "" {
			name = fmt.Sprintf("EXPR$%d", i)
		}
		cols = append(cols, value.Column{Name: name, Type: typ})
		items = append(items, it)
	}
	return cols, items, nil
}

// kindType is the column type holding values of kind k.
func kindType(k value.Kind) value.Type {
	switch k {
	case value.KindInt:
		return value.Bigint
	case value.KindFloat:
		return value.Double
	case value.KindString:
		return value.Varchar(1 << 20)
	case value.KindBool:
		return value.Boolean
	case value.KindTime:
		return value.Timestamp
	case value.KindDate, value.KindTimeOfDay:
		return value.Type{Kind: k}
	case value.KindBinary:
		return value.Type{Kind: k, Len: 1 << 20}
	case value.KindInterval, value.KindMonths:
		return value.IntervalType(value.Qualifier{}.Resolve(k))
	}
	return value.Varchar(1 << 20) // the NULL literal
}
