package engine

import (
	"slices"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// IN and EXISTS subqueries: x [NOT] IN (SELECT a FROM t [WHERE …]),
// (x, y) [NOT] IN (SELECT a, b FROM t …) and [NOT] EXISTS (SELECT … FROM
// t …), where t is a reference table. A reference table does not change
// while the engine runs, so a subquery that reads only its table is
// evaluated once, at compile time, into a hash set (a semi-join); one
// that also reads the stream's row (correlated: WHERE t.a = s.x) runs for
// each row over the table, or over the rows a hash index on t.a gives for
// s.x when its WHERE has such an equality. A subquery over a stream cannot be evaluated (the
// stream never ends) and fails at compile time. x IN (…) is SQL's: TRUE
// when a row of the subquery equals x, else NULL when x or a compared
// value is NULL, else FALSE.

// subqueryKinds are the kinds IN compares each column in: DOUBLE when
// the sides mix numbers.
func subqueryKinds(e *syntax.Subquery, xs, items []cexpr) ([]value.Kind, error) {
	kinds := make([]value.Kind, len(xs))
	for i := range xs {
		a, b := xs[i].typ, items[i].typ
		if !comparable(a, b) {
			return nil, e.P.Errorf("IN compares %s with the subquery's %s (column %d)", a, b, i+1)
		}
		kinds[i] = a
		switch {
		case a == value.KindNull:
			kinds[i] = b
		case a != b && b != value.KindNull:
			kinds[i] = value.KindFloat
		}
	}
	return kinds, nil
}

func (s *scope) compileSubquery(e *syntax.Subquery) (cexpr, error) {
	q := e.Query
	what := "IN"
	switch {
	case e.Exists:
		what = "EXISTS"
	case e.Scalar:
		what = "scalar"
	}
	switch {
	case s.eng == nil:
		return cexpr{}, e.P.Errorf("%s (SELECT …) is not allowed here: only a pump's conditions and expressions read tables", what)
	case s.defining != nil && !s.defining.readsData:
		return cexpr{}, e.P.Errorf("function %s reads table %q: declare it READS SQL DATA", s.defining.name, q.From)
	}
	t := s.eng.tables[q.From]
	if t == nil {
		if _, ok := s.eng.streams[q.From]; ok && e.Scalar {
			return cexpr{}, q.FromPos.Unsupported("a scalar subquery over a stream (a stream never ends, so the subquery's one row " +
				"cannot be decided; the subquery may read a reference table)")
		} else if ok {
			return cexpr{}, q.FromPos.Unsupported(what + " (SELECT … FROM a stream) (a stream never ends, so " + what +
				" cannot be decided; the subquery may read a reference table)")
		}
		return cexpr{}, q.FromPos.Errorf("unknown reference table %q in the %s subquery (tables: %s)", q.From, what, s.eng.tableNames())
	}
	if e.Scalar {
		return s.compileScalar(e, t) // scalarsub.go
	}
	xs, err := s.compileInValues(e)
	if err != nil {
		return cexpr{}, err
	}
	ref := &refScope{t: t, alias: q.Alias}
	qualifyTableCols(q, t)
	// Uncorrelated: the subquery reads its table alone.
	only := &scope{stream: q.From, alias: q.Alias, idx: map[string]int{}, ref: ref, now: s.now, udfs: s.udfs, eng: s.eng,
		defining: s.defining, calls: s.calls}
	if where, items, err := only.compileTableQuery(q, e.Exists); err == nil && !readsRowtime(q) {
		s.calls = only.calls // the functions a function's body calls, for cycles
		rows, err := tableQueryRows(t, where, items)
		if err != nil {
			return cexpr{}, e.P.Errorf("%s subquery: %v", what, err)
		}
		if e.Exists {
			v := value.BoolValue((len(rows) > 0) != e.Not)
			return cexpr{typ: value.KindBool, lit: &v, fn: func(*env) (value.Value, error) { return v, nil }}, nil
		}
		kinds, err := subqueryKinds(e, xs, items)
		if err != nil {
			return cexpr{}, err
		}
		return inSet(xs, kinds, rows, e.Not), nil
	}
	// Correlated: the table's row is the env's ref while the subquery
	// runs, as in a JOIN.
	if s.agg {
		return cexpr{}, e.P.Unsupported(what + " (SELECT …) reading the stream's columns in a GROUP BY window's SELECT list or HAVING (use it in WHERE)")
	}
	cs := *s
	cs.ref, cs.slide, cs.windows, cs.streamJoin = ref, nil, nil, false
	where, items, err := cs.compileTableQuery(q, e.Exists)
	if err != nil {
		return cexpr{}, err
	}
	s.calls = cs.calls
	var kinds []value.Kind
	if !e.Exists {
		if kinds, err = subqueryKinds(e, xs, items); err != nil {
			return cexpr{}, err
		}
	}
	ix, err := cs.equalityIndex(q, t)
	if err != nil {
		return cexpr{}, err
	}
	return correlated(t, ix, where, items, xs, kinds, e.Exists, e.Not), nil
}

// compileInValues compiles the values before IN (none for EXISTS), one
// for each column the subquery selects.
func (s *scope) compileInValues(e *syntax.Subquery) ([]cexpr, error) {
	if e.Exists {
		return nil, nil
	}
	lhs := []syntax.Expr{e.X}
	if r, ok := e.X.(*syntax.Row); ok {
		lhs = r.Items
	}
	q := e.Query
	if len(q.Items) != len(lhs) || slices.ContainsFunc(q.Items, func(it syntax.SelectItem) bool { return it.Star }) {
		return nil, q.P.Errorf("the IN subquery must select %d column(s), one for each value before IN", len(lhs))
	}
	xs := make([]cexpr, len(lhs))
	for i, x := range lhs {
		c, err := s.compile(x)
		if err != nil {
			return nil, err
		}
		xs[i] = c
	}
	return xs, nil
}

// compileTableQuery compiles a subquery's WHERE and items in s (whose ref
// is its table).
func (s *scope) compileTableQuery(q *syntax.TableQuery, exists bool) (evalFn, []cexpr, error) {
	var where evalFn
	if q.Where != nil {
		w, err := compileCondition(s, q.Where, "WHERE")
		if err != nil {
			return nil, nil, err
		}
		where = w
	}
	var items []cexpr
	for _, it := range q.Items {
		if it.Star || exists {
			continue // EXISTS reads no column
		}
		c, err := s.compile(it.Expr)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, c)
	}
	return where, items, nil
}

// tableQueryRows evaluates an uncorrelated subquery: its items for each
// table row its WHERE keeps.
func tableQueryRows(t *table, where evalFn, items []cexpr) ([][]value.Value, error) {
	var out [][]value.Value
	v := &env{}
	for _, row := range t.rows {
		v.ref = row
		if keep, err := kept(where, v); err != nil || !keep {
			if err != nil {
				return nil, err
			}
			continue
		}
		vals := make([]value.Value, len(items))
		for i, it := range items {
			x, err := it.fn(v)
			if err != nil {
				return nil, err
			}
			vals[i] = x
		}
		out = append(out, vals)
	}
	return out, nil
}

// kept reports whether the subquery's WHERE (nil: none) keeps the table
// row in v.ref.
func kept(where evalFn, v *env) (bool, error) {
	if where == nil {
		return true, nil
	}
	ok, err := where(v)
	return err == nil && ok.K == value.KindBool && ok.I == 1, err
}

// inResult is x IN rows for one probe: true, false or NULL; not negates.
func inResult(found, unknown, not bool) value.Value {
	switch {
	case found:
		return value.BoolValue(!not)
	case unknown:
		return value.Value{}
	}
	return value.BoolValue(not)
}

// rowMatch compares a probe with a subquery row: equal, or unknown (no
// column differs but one is NULL).
func rowMatch(probe, row []value.Value) (equal, unknown bool) {
	for i, a := range probe {
		b := row[i]
		if a.K == value.KindNull || b.K == value.KindNull {
			unknown = true
			continue
		}
		if compareValues(a, b) != 0 {
			return false, false
		}
	}
	return !unknown, unknown
}

// inSet is IN over an uncorrelated subquery's rows: a hash lookup for a
// probe without NULLs, and a scan of the rows with NULLs (or of all rows,
// for a probe with one) to tell FALSE from NULL.
func inSet(xs []cexpr, kinds []value.Kind, rows [][]value.Value, not bool) cexpr {
	set := map[string]bool{}
	var withNull [][]value.Value
	var key []byte
	for _, r := range rows {
		for i := range r {
			r[i] = widen(r[i], kinds[i])
		}
		if slices.ContainsFunc(r, value.Value.IsNull) {
			withNull = append(withNull, r)
			continue
		}
		set[string(appendKey(key[:0], r))] = true
	}
	probe := make([]value.Value, len(xs))
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		hasNull := false
		for i, x := range xs {
			a, err := x.fn(v)
			if err != nil {
				return a, err
			}
			probe[i] = widen(a, kinds[i])
			hasNull = hasNull || a.K == value.KindNull
		}
		if len(rows) == 0 {
			return value.BoolValue(not), nil
		}
		scan := withNull
		if hasNull {
			scan = rows
		} else {
			key = appendKey(key[:0], probe)
			if set[string(key)] {
				return value.BoolValue(!not), nil
			}
		}
		unknown := false
		for _, r := range scan {
			eq, unk := rowMatch(probe, r)
			if eq {
				return value.BoolValue(!not), nil
			}
			unknown = unknown || unk
		}
		return inResult(false, unknown, not), nil
	}}
}

// correlated is IN or EXISTS over a subquery that reads the stream's row:
// the table (or the rows of ix that match the row) scanned for each row,
// stopping at the first match.
func correlated(t *table, ix *rowIndex, where evalFn, items, xs []cexpr, kinds []value.Kind, exists, not bool) cexpr {
	probe := make([]value.Value, len(xs))
	vals := make([]value.Value, len(items))
	candidates := candidateRows(ix, len(t.rows))
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		for i, x := range xs {
			a, err := x.fn(v)
			if err != nil {
				return a, err
			}
			probe[i] = widen(a, kinds[i])
		}
		rows, err := candidates(v)
		if err != nil {
			return value.Value{}, err
		}
		saved := v.ref
		defer func() { v.ref = saved }()
		found, unknown := false, false
		for _, r := range rows {
			row := t.rows[r]
			v.ref = row
			if keep, err := kept(where, v); err != nil || !keep {
				if err != nil {
					return value.Value{}, err
				}
				continue
			}
			if exists {
				found = true
				break
			}
			for i, it := range items {
				x, err := it.fn(v)
				if err != nil {
					return x, err
				}
				vals[i] = widen(x, kinds[i])
			}
			eq, unk := rowMatch(probe, vals)
			if eq {
				found = true
				break
			}
			unknown = unknown || unk
		}
		return inResult(found, unknown, not), nil
	}}
}

// tableNames lists the reference tables, for an unknown one.
func (e *Engine) tableNames() string {
	var names []string
	for n := range e.tables {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// readsRowtime reports whether a subquery reads the row's ROWTIME or the
// clock, which make it correlated even when it reads no column.
func readsRowtime(q *syntax.TableQuery) bool {
	var walk func(x syntax.Expr) bool
	walk = func(x syntax.Expr) bool {
		switch x := x.(type) {
		case *syntax.ColRef:
			return x.Name == "ROWTIME"
		case *syntax.Call:
			if x.Name == "CURRENT_ROW_TIMESTAMP" || x.Name == "CURRENT_TIMESTAMP" || x.Name == "LOCALTIMESTAMP" {
				return true
			}
		}
		return slices.ContainsFunc(syntax.Children(x), walk)
	}
	xs := []syntax.Expr{}
	if q.Where != nil {
		xs = append(xs, q.Where)
	}
	for _, it := range q.Items {
		if it.Expr != nil {
			xs = append(xs, it.Expr)
		}
	}
	return slices.ContainsFunc(xs, walk)
}

// qualifyTableCols qualifies the subquery's unqualified names of its
// table's columns: in SQL a subquery's own table comes first, so SECTOR
// there is the table's even when the stream has a SECTOR too.
func qualifyTableCols(q *syntax.TableQuery, t *table) {
	var walk func(x syntax.Expr)
	walk = func(x syntax.Expr) {
		if c, ok := x.(*syntax.ColRef); ok {
			if _, in := t.idx[c.Name]; in && c.Qual == "" && c.Name != "ROWTIME" {
				c.Qual = t.name
			}
			return
		}
		for _, k := range syntax.Children(x) {
			walk(k)
		}
	}
	if q.Where != nil {
		walk(q.Where)
	}
	for _, it := range q.Items {
		if it.Expr != nil {
			walk(it.Expr)
		}
	}
}

// rowIndex indexes a table's rows by one column, for a correlated
// subquery whose WHERE has a conjunct table.column = expression of the
// row: only the rows whose column equals the expression can pass the
// WHERE, which is still evaluated on them.
type rowIndex struct {
	byKey map[string][]int
	x     cexpr
	kind  value.Kind // the kind both sides are compared in
	key   []byte
}

// equalityIndex finds the first such conjunct of q's WHERE and indexes t
// on its column; nil when there is none.
func (s *scope) equalityIndex(q *syntax.TableQuery, t *table) (*rowIndex, error) {
	if q.Where == nil {
		return nil, nil
	}
	for _, c := range conjuncts(q.Where, nil) {
		b, ok := c.(*syntax.Binary)
		if !ok || b.Op != "=" {
			continue
		}
		for _, side := range [2][2]syntax.Expr{{b.L, b.R}, {b.R, b.L}} {
			col, ok := side[0].(*syntax.ColRef)
			if !ok || s.usesTable(side[1]) {
				continue
			}
			i, found, err := s.tableCol(col)
			if err != nil || !found {
				continue
			}
			x, err := s.compile(side[1])
			if err != nil {
				return nil, err
			}
			kind := t.cols[i].Type.Kind
			if x.typ != kind && x.typ != value.KindNull {
				if !numeric(kind) || !numeric(x.typ) {
					continue // compiling the WHERE reports it
				}
				kind = value.KindFloat
			}
			ix := &rowIndex{byKey: map[string][]int{}, x: x, kind: kind}
			for r, row := range t.rows {
				if v := row[i]; v.K != value.KindNull {
					k := string(appendKey(nil, []value.Value{widen(v, kind)}))
					ix.byKey[k] = append(ix.byKey[k], r)
				}
			}
			return ix, nil
		}
	}
	return nil, nil
}

// candidateRows returns, for a row, the table rows a correlated subquery
// reads: ix's matches, or all n rows without an index.
func candidateRows(ix *rowIndex, n int) func(*env) ([]int, error) {
	if ix != nil {
		return ix.lookup
	}
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return func(*env) ([]int, error) { return all, nil }
}

// lookup returns the rows whose column equals the expression on v's row.
func (ix *rowIndex) lookup(v *env) ([]int, error) {
	a, err := ix.x.fn(v)
	if err != nil || a.K == value.KindNull {
		return nil, err
	}
	ix.key = appendKey(ix.key[:0], []value.Value{widen(a, ix.kind)})
	return ix.byKey[string(ix.key)], nil
}
