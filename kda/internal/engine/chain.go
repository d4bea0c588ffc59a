package engine

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Chains of JOINs (FROM s JOIN t1 ON … LEFT JOIN t2 ON …) are
// left-associative: the first JOIN is a pump of its own into a hidden
// stream whose rows are its pairs, and the next JOIN joins that stream
// with its table or stream, and so on. A hidden stream's columns are
// named after their side ("T1.X"; a USING column has no side), readable
// qualified with the side's alias or name, or unqualified when one side
// only has the name; SELECT * shows its leading star columns: the USING
// columns once, then each side's others in order. A stream join's
// a.ROWTIME and b.ROWTIME are columns too. Each JOIN's hash index is on
// the equalities of its ON with its own table's columns.

// chainInfo describes a hidden stream of a JOIN chain: each column's side
// qualifier ("" for a USING column) and name within that side, and how
// many leading columns SELECT * shows.
type chainInfo struct {
	quals, bases []string
	star         int
}

// starCols are the columns SELECT * shows of s.
func (s *stream) starCols() []value.Column {
	if s.chain != nil {
		return s.cols[:s.chain.star]
	}
	return s.cols
}

// hiddenCol is one column of a chain's hidden stream while building it.
type hiddenCol struct {
	qual, base string
	star       bool
	expr       syntax.Expr
	typ        value.Type
}

// compileChain turns sel's JOIN chain into the pumps of its hidden
// streams, leaving sel with its last JOIN from the last hidden stream.
// sel's sources (subquery, TABLE(…)) are compiled already.
func (e *Engine) compileChain(st *syntax.CreatePump, sel *syntax.Select) ([]*pump, error) {
	if len(sel.Chain) == 0 {
		return nil, nil
	}
	if err := e.checkChain(sel); err != nil {
		return nil, err
	}
	var pumps []*pump
	for len(sel.Chain) > 0 {
		src, ok := e.streams[sel.From]
		if !ok {
			return nil, sel.FromPos.Errorf("unknown stream %q%s", sel.From, e.sqlCaseHint(sel.From))
		}
		j := sel.Join
		_, streamJoin := e.streams[j.Table]
		inner := &syntax.Select{Pos: sel.Pos, From: sel.From, FromPos: sel.FromPos, Alias: sel.Alias,
			Windows: sel.Windows, Join: j}
		if streamJoin { // the FROM stream's window is this JOIN's
			inner.Over, inner.OverName = sel.Over, sel.OverName
			sel.Over, sel.OverName = nil, ""
		}
		probe := &pump{name: st.Name, src: src, dst: &stream{}, now: e.opts.Now} // dst: a new stream reaches none
		sc, err := probe.compileFilters(e, inner)
		if err != nil {
			return nil, err
		}
		if pushed := pushWhere(sel, sc); pushed != nil {
			jc := *j
			jc.On, inner.Join = pushed, &jc
			if sc, err = probe.compileFilters(e, inner); err != nil {
				return nil, err
			}
		}
		cols := hiddenCols(inner, sc, src, streamJoin)
		items := make([]syntax.SelectItem, len(cols))
		vcols := make([]value.Column, len(cols))
		info := &chainInfo{}
		for i, c := range cols {
			items[i] = syntax.SelectItem{Pos: sel.Pos, Expr: c.expr}
			vcols[i] = value.Column{Name: c.base, Type: c.typ}
			if c.qual != "" {
				vcols[i].Name = c.qual + "." + c.base
			}
			info.quals, info.bases = append(info.quals, c.qual), append(info.bases, c.base)
			if c.star {
				info.star++
			}
		}
		hidden := fmt.Sprintf("%s$JOIN%d", st.Name, len(pumps)+1)
		for e.streams[hidden] != nil {
			hidden += "$"
		}
		hs := e.addStream(hidden, vcols)
		hs.chain = info
		aliasBases(hs)
		inner.Items = items
		p, err := e.compilePump(&syntax.CreatePump{Pos: st.Pos, Name: st.Name, Target: hidden, TargetPos: sel.FromPos, Select: inner}, inner, nil)
		if err != nil {
			return nil, err
		}
		pumps = append(pumps, p)
		next := sel.Chain[0]
		if len(next.Using) > 0 {
			next.On = usingOn(next, hidden)
		}
		sel.From, sel.Alias, sel.Sub, sel.Table, sel.SubCols = hidden, hidden, nil, nil, nil
		sel.Join, sel.Chain = next, sel.Chain[1:]
	}
	return pumps, nil
}

// pushWhere moves the conjuncts of sel's WHERE that read only the sides
// of sel's first JOIN, a CROSS or comma join, into that JOIN's ON (its
// equalities a hash key, as crossWhere does for a single join), and
// returns them; nil when there are none. A WHERE over later RIGHT or
// FULL JOINs stays: it drops their NULL rows.
func pushWhere(sel *syntax.Select, sc *scope) syntax.Expr {
	if !sel.Join.Cross || sel.Where == nil || slices.ContainsFunc(sel.Chain, func(j *syntax.Join) bool { return j.Right }) {
		return nil
	}
	var pushed, kept syntax.Expr
	and := func(a, b syntax.Expr) syntax.Expr {
		if a == nil {
			return b
		}
		return &syntax.Binary{P: b.ExprPos(), Op: "AND", L: a, R: b}
	}
	for _, c := range conjuncts(sel.Where, nil) {
		if x, err := sc.compile(c); err == nil && (x.typ == value.KindBool || x.typ == value.KindNull) {
			pushed = and(pushed, c)
		} else {
			kept = and(kept, c)
		}
	}
	if pushed != nil {
		sel.Where = kept
	}
	return pushed
}

// checkChain refuses the chains the engine cannot run: a third stream,
// and a ROWS window on the FROM stream when a reference JOIN comes before
// the JOIN of two streams.
func (e *Engine) checkChain(sel *syntax.Select) error {
	streams, tables := 1, false
	for _, j := range append([]*syntax.Join{sel.Join}, sel.Chain...) {
		if _, ok := e.streams[j.Table]; !ok {
			tables = true
			continue
		}
		if streams++; streams > 2 {
			return j.TablePos.Unsupported("a JOIN of a third stream (the pairs of the first two have no window of their own to join over)")
		}
		if !tables || sel.Over == nil && sel.OverName == "" {
			continue
		}
		spec, err := joinWindow(sel, sel.Over, sel.OverName, sel.FromPos)
		if err != nil {
			return err
		}
		if spec.rows {
			// A stream row with more or fewer table rows would change
			// which rows a ROWS window holds.
			return sel.FromPos.Unsupported("a ROWS window on a stream joined to a reference table before a JOIN of two streams (use RANGE)")
		}
	}
	return nil
}

// hiddenCols are the columns of the hidden stream of inner's JOIN: its
// USING columns, the left side's columns, the right side's, then the
// left side's columns SELECT * does not show, the USING columns of each
// side, and a stream join's side ROWTIMEs.
func hiddenCols(inner *syntax.Select, sc *scope, src *stream, streamJoin bool) []hiddenCol {
	j := inner.Join
	lq, rq := cmp.Or(inner.Alias, inner.From), cmp.Or(j.Alias, j.Table)
	var star, extra []hiddenCol
	for _, name := range j.Using {
		x, _ := sc.compile(&syntax.ColRef{P: j.P, Name: name})
		lt, rt := src.cols[src.idx[name]].Type, sc.ref.t.cols[sc.ref.t.idx[name]].Type
		typ := kindType(x.typ)
		switch {
		case sc.usingMode == usingRight:
			typ = rt
		case lt.Kind == x.typ:
			typ = lt
			if rt.Kind == lt.Kind {
				typ.Len = max(lt.Len, rt.Len)
			}
		}
		star = append(star, hiddenCol{base: name, star: true, expr: &syntax.ColRef{P: j.P, Name: name}, typ: typ})
	}
	var quals []string
	for i, c := range src.cols {
		h := hiddenCol{qual: lq, base: c.Name, star: true, expr: &syntax.ColRef{P: j.P, Qual: lq, Name: c.Name}, typ: c.Type}
		if src.chain != nil {
			h.qual, h.base, h.star = src.chain.quals[i], src.chain.bases[i], i < src.chain.star
		}
		if h.qual != "" && !slices.Contains(quals, h.qual) {
			quals = append(quals, h.qual)
		}
		if h.star && sc.using[h.base] && src.idx[h.base] == i {
			h.star = false // shown once, as the USING column
		}
		if h.star {
			star = append(star, h)
		} else {
			extra = append(extra, h)
		}
	}
	for _, c := range sc.ref.t.cols {
		h := hiddenCol{qual: rq, base: c.Name, star: !sc.using[c.Name], expr: &syntax.ColRef{P: j.P, Qual: rq, Name: c.Name}, typ: c.Type}
		if h.star {
			star = append(star, h)
		} else {
			extra = append(extra, h)
		}
	}
	if streamJoin {
		for _, q := range quals { // a reference join's sides share the row's ROWTIME
			if _, has := src.idx[q+".ROWTIME"]; !has {
				extra = append(extra, hiddenCol{qual: q, base: "ROWTIME", expr: &syntax.ColRef{P: j.P, Qual: lq, Name: "ROWTIME"}, typ: value.Timestamp})
			}
		}
		extra = append(extra, hiddenCol{qual: rq, base: "ROWTIME", expr: &syntax.ColRef{P: j.P, Qual: rq, Name: "ROWTIME"}, typ: value.Timestamp})
	}
	return append(star, extra...)
}

// aliasBases lets a hidden stream's columns be read by their name within
// their side when no other column has it (a USING column always).
func aliasBases(s *stream) {
	count := map[string]int{}
	for _, b := range s.chain.bases {
		count[b]++
	}
	for i, b := range s.chain.bases {
		if _, taken := s.idx[b]; !taken && b != "ROWTIME" && (count[b] == 1 || s.chain.quals[i] == "") {
			s.idx[b] = i
		}
	}
}

// usingOn is the ON of a chained JOIN … USING: each column's equality
// between the result so far (the hidden stream left) and the joined side.
func usingOn(j *syntax.Join, left string) syntax.Expr {
	right := cmp.Or(j.Alias, j.Table)
	var on syntax.Expr
	for _, name := range j.Using {
		var eq syntax.Expr = &syntax.Binary{P: j.P, Op: "=", L: &syntax.ColRef{P: j.P, Qual: left, Name: name}, R: &syntax.ColRef{P: j.P, Qual: right, Name: name}}
		if on != nil {
			eq = &syntax.Binary{P: j.P, Op: "AND", L: on, R: eq}
		}
		on = eq
	}
	return on
}

// chainRowtime resolves q.ROWTIME to a column of a hidden stream that
// keeps side q's ROWTIME (a stream join's earlier in the chain).
func (s *scope) chainRowtime(c *syntax.ColRef) (int, bool) {
	if s.chain == nil || c.Name != "ROWTIME" || c.Qual == "" {
		return 0, false
	}
	i, ok := s.idx[c.Qual+".ROWTIME"]
	return i, ok
}
