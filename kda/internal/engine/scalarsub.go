package engine

import (
	"fmt"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Scalar subqueries: (SELECT x FROM t [AS a] [WHERE …]) as a value, over a
// reference table t, with SQL's semantics: NULL when no table row passes
// the WHERE, x of the row when one does, and an Evaluation_Error (the
// stream's row goes to the error_stream) naming the subquery's line:col
// when more than one does. Like IN's (insubquery.go), one that reads only
// its table is evaluated once, at compile time; one that reads the
// stream's row (correlated) runs for each row over the table, or over the
// rows a hash index gives when its WHERE has a conjunct t.col = row
// expression.

// compileScalar compiles the scalar subquery e over table t.
func (s *scope) compileScalar(e *syntax.Subquery, t *table) (cexpr, error) {
	q := e.Query
	if len(q.Items) != 1 || q.Items[0].Star {
		return cexpr{}, q.P.Errorf("a scalar subquery selects one column, not %s", itemsText(q.Items))
	}
	ref := &refScope{t: t, alias: q.Alias}
	qualifyTableCols(q, t)
	only := &scope{stream: q.From, alias: q.Alias, idx: map[string]int{}, ref: ref, now: s.now, udfs: s.udfs, eng: s.eng,
		defining: s.defining, calls: s.calls}
	if where, items, err := only.compileTableQuery(q, false); err == nil && !readsRowtime(q) {
		s.calls = only.calls // the functions a function's body calls, for cycles
		rows, err := tableQueryRows(t, where, items)
		if err != nil {
			return cexpr{}, e.P.Errorf("scalar subquery: %v", err)
		}
		var v value.Value
		switch len(rows) {
		case 0:
		case 1:
			v = rows[0][0]
		default:
			tooMany := scalarTooMany(e, len(rows))
			return cexpr{typ: items[0].typ, fn: func(*env) (value.Value, error) { return value.Value{}, tooMany }}, nil
		}
		return cexpr{typ: items[0].typ, fn: func(*env) (value.Value, error) { return v, nil }}, nil
	}
	if s.agg {
		return cexpr{}, e.P.Unsupported("a scalar subquery reading the stream's columns in a GROUP BY window's SELECT list or HAVING (use it in WHERE or a subquery in FROM)")
	}
	// Correlated: the table's row is the env's ref while the subquery
	// runs, as in a JOIN.
	cs := *s
	cs.ref, cs.slide, cs.windows, cs.streamJoin = ref, nil, nil, false
	where, items, err := cs.compileTableQuery(q, false)
	if err != nil {
		return cexpr{}, err
	}
	s.calls = cs.calls
	ix, err := cs.equalityIndex(q, t)
	if err != nil {
		return cexpr{}, err
	}
	candidates := candidateRows(ix, len(t.rows))
	x := items[0]
	return cexpr{typ: x.typ, fn: func(v *env) (value.Value, error) {
		rows, err := candidates(v)
		if err != nil {
			return value.Value{}, err
		}
		saved := v.ref
		defer func() { v.ref = saved }()
		var out value.Value
		n := 0
		for _, r := range rows {
			v.ref = t.rows[r]
			if keep, err := kept(where, v); err != nil || !keep {
				if err != nil {
					return value.Value{}, err
				}
				continue
			}
			if n++; n == 1 {
				val, err := x.fn(v)
				if err != nil {
					return val, err
				}
				out = val
			}
		}
		if n > 1 {
			return value.Value{}, scalarTooMany(e, n)
		}
		return out, nil
	}}, nil
}

// scalarTooMany is the error of a scalar subquery that found n rows.
func scalarTooMany(e *syntax.Subquery, n int) error {
	return &EvalError{fmt.Sprintf("the scalar subquery at %d:%d found %d rows: it may give at most one", e.P.Line, e.P.Col, n)}
}

// itemsText describes a SELECT list for a message: "*" or "n columns".
func itemsText(items []syntax.SelectItem) string {
	if len(items) == 1 {
		return "*"
	}
	return fmt.Sprintf("%d columns", len(items))
}
