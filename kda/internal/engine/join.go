package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Table is a reference table: rows a pump's stream can JOIN, as KDA loads
// a reference data source from S3.
type Table struct {
	Name    string
	Columns []value.Column
	Rows    [][]value.Value
}

// DecodeTable reads a reference table's rows: CSV rows split by the
// format's delimiters, or JSON objects one after the other, mapped onto
// cols as an input stream's records are. A row that does not fit is an
// error naming it (1-based).
func DecodeTable(f Format, cols []value.Column, data []byte) ([][]value.Value, error) {
	cols = append([]value.Column(nil), cols...)
	var rows [][]value.Value
	if f.Type == FormatCSV {
		d, err := newCSVDecoder(f, cols)
		if err != nil {
			return nil, err
		}
		out := make([]value.Value, len(cols))
		var first error
		d.rows(data, out, func(row []value.Value, raw string, err error) {
			if first != nil {
				return
			}
			if err != nil {
				first = fmt.Errorf("row %d (%s): %w", len(rows)+1, truncateRunes(raw, 64), err)
				return
			}
			rows = append(rows, append([]value.Value(nil), row...))
		})
		return rows, first
	}
	d, err := newDecoder(cols)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	out := make([]value.Value, len(cols))
	for {
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", len(rows)+1, err)
		}
		if err := d.decode(raw, out); err != nil {
			return nil, fmt.Errorf("row %d: %w", len(rows)+1, err)
		}
		rows = append(rows, append([]value.Value(nil), out...))
	}
}

// table is a reference table with its column index.
type table struct {
	name string
	cols []value.Column
	idx  map[string]int
	rows [][]value.Value
}

// join is a pump's JOIN with a reference table: an equality index on the
// ON condition's key columns (all rows when there are none) and the rest of
// the condition as a filter.
type join struct {
	t        *table
	left     bool
	keyFns   []evalFn // stream side of each key equality
	keyKinds []value.Kind
	residual evalFn // nil: none
	// byString indexes a single VARCHAR key by value; byKey other keys by
	// appendKey.
	byString map[string][]int
	byKey    map[string][]int
	all      []int
	nulls    []value.Value
	keys     []value.Value
	keyBuf   []byte
	matches  [][]value.Value
}

// refScope is the table side of a join while compiling.
type refScope struct {
	t     *table
	alias string
}

// tableCol resolves c to a column of the joined table: found reports
// whether it names one.
func (s *scope) tableCol(c *syntax.ColRef) (int, bool, error) {
	r := s.ref
	if r == nil || c.Name == "ROWTIME" {
		return 0, false, nil
	}
	qualified := c.Qual != "" && (c.Qual == r.t.name || c.Qual == r.alias)
	if c.Qual != "" && !qualified {
		return 0, false, nil
	}
	if !qualified && s.using[c.Name] {
		return 0, false, nil // compileUsing reads it
	}
	i, ok := r.t.idx[c.Name]
	if !ok {
		if qualified {
			return 0, false, c.P.Errorf("unknown column %q in table %q", c.Name, r.t.name)
		}
		return 0, false, nil
	}
	if !qualified {
		if _, inStream := s.idx[c.Name]; inStream && s.chain != nil {
			return 0, false, c.P.Errorf("column %q is in both the JOINs before it and table %q: qualify it", c.Name, r.t.name)
		} else if inStream {
			return 0, false, c.P.Errorf("column %q is in both stream %q and table %q: qualify it", c.Name, s.stream, r.t.name)
		}
	}
	return i, true, nil
}

// usesTable reports whether x reads a column of the joined table.
func (s *scope) usesTable(x syntax.Expr) bool {
	if c, ok := x.(*syntax.ColRef); ok {
		_, found, err := s.tableCol(c)
		return found || err != nil
	}
	for _, k := range syntax.Children(x) {
		if s.usesTable(k) {
			return true
		}
	}
	return false
}

// conjuncts flattens a AND b AND ….
func conjuncts(x syntax.Expr, out []syntax.Expr) []syntax.Expr {
	if b, ok := x.(*syntax.Binary); ok && b.Op == "AND" {
		return conjuncts(b.R, conjuncts(b.L, out))
	}
	return append(out, x)
}

// compileJoin compiles a pump's JOIN: the ON condition's equalities between
// a table column and a stream expression become the index key.
func (e *Engine) compileJoin(p *pump, sel *syntax.Select, sc *scope) error {
	j := sel.Join
	t, ok := e.tables[j.Table]
	if !ok {
		if _, isStream := e.streams[j.Table]; isStream {
			return j.TablePos.Unsupported("JOIN of two streams")
		}
		return j.TablePos.Errorf("unknown table %q (reference tables come from the application's ReferenceDataSources)", j.Table)
	}
	sc.ref = &refScope{t: t, alias: j.Alias}
	jn := &join{t: t, left: j.Left, nulls: make([]value.Value, len(t.cols))}
	var keyCols []int
	var rest []syntax.Expr
	if err := sc.setUsing(j); err != nil {
		return err
	}
	for _, c := range conjuncts(joinOn(j), nil) {
		b, ok := c.(*syntax.Binary)
		if !ok || b.Op != "=" {
			rest = append(rest, c)
			continue
		}
		tc, ts := b.L, b.R
		if !isTableCol(sc, tc) {
			tc, ts = ts, tc
		}
		col, isCol := tc.(*syntax.ColRef)
		i, found, err := 0, false, error(nil)
		if isCol {
			i, found, err = sc.tableCol(col)
		}
		if err != nil {
			return err
		}
		if !found || sc.usesTable(ts) {
			rest = append(rest, c)
			continue
		}
		x, err := sc.compile(ts)
		if err != nil {
			return err
		}
		if !comparable(x.typ, t.cols[i].Type.Kind) {
			return b.P.Errorf("cannot compare %s with %s", x.typ, t.cols[i].Type.Kind)
		}
		kind := x.typ
		if kind != t.cols[i].Type.Kind {
			kind = value.KindFloat // a mix of numbers compares as DOUBLE
		}
		jn.keyFns = append(jn.keyFns, x.fn)
		jn.keyKinds = append(jn.keyKinds, kind)
		keyCols = append(keyCols, i)
	}
	if len(rest) > 0 {
		cond := rest[0]
		for _, r := range rest[1:] {
			cond = &syntax.Binary{P: r.ExprPos(), Op: "AND", L: cond, R: r}
		}
		f, err := compileCondition(sc, cond, "ON")
		if err != nil {
			return err
		}
		jn.residual = f
	}
	jn.index(keyCols)
	p.join = jn
	return nil
}

// isTableCol reports whether x is a plain column of the joined table.
func isTableCol(sc *scope, x syntax.Expr) bool {
	c, ok := x.(*syntax.ColRef)
	if !ok {
		return false
	}
	_, found, _ := sc.tableCol(c)
	return found
}

// index builds the key index over the table's rows; a row with a NULL key
// never matches.
func (j *join) index(keyCols []int) {
	j.keys = make([]value.Value, len(keyCols))
	if len(keyCols) == 0 {
		for i := range j.t.rows {
			j.all = append(j.all, i)
		}
		return
	}
	j.byString, j.byKey = map[string][]int{}, map[string][]int{}
rows:
	for r, row := range j.t.rows {
		for k, c := range keyCols {
			v := row[c]
			if v.K == value.KindNull {
				continue rows
			}
			j.keys[k] = widen(v, j.keyKinds[k])
		}
		if len(j.keys) == 1 && j.keys[0].K == value.KindString {
			j.byString[j.keys[0].S] = append(j.byString[j.keys[0].S], r)
			continue
		}
		key := string(appendKey(nil, j.keys))
		j.byKey[key] = append(j.byKey[key], r)
	}
}

// lookup returns the table rows joined to the row in v: those whose keys
// equal its key values and that pass the rest of ON.
func (j *join) lookup(v *env) ([][]value.Value, error) {
	var cand []int
	if len(j.keyFns) == 0 {
		cand = j.all
	} else {
		for k, f := range j.keyFns {
			x, err := f(v)
			if err != nil {
				return nil, err
			}
			if x.K == value.KindNull {
				return nil, nil
			}
			j.keys[k] = widen(x, j.keyKinds[k])
		}
		if len(j.keys) == 1 && j.keys[0].K == value.KindString {
			cand = j.byString[j.keys[0].S]
		} else {
			j.keyBuf = appendKey(j.keyBuf[:0], j.keys)
			cand = j.byKey[string(j.keyBuf)]
		}
	}
	j.matches = j.matches[:0]
	for _, r := range cand {
		row := j.t.rows[r]
		if j.residual != nil {
			v.ref = row
			ok, err := j.residual(v)
			v.ref = nil
			if err != nil {
				return nil, err
			}
			if ok.K != value.KindBool || ok.I == 0 {
				continue
			}
		}
		j.matches = append(j.matches, row)
	}
	return j.matches, nil
}

// newTable checks a reference table's columns and rows.
func newTable(t Table) (*table, error) {
	if t.Name == "" {
		return nil, errors.New("a reference table has no name")
	}
	tb := &table{name: t.Name, cols: t.Columns, idx: map[string]int{}}
	for i, c := range t.Columns {
		if _, dup := tb.idx[c.Name]; dup || c.Name == "" {
			return nil, fmt.Errorf("table %q: empty or duplicate column %q", t.Name, c.Name)
		}
		tb.idx[c.Name] = i
	}
	for r, row := range t.Rows {
		if len(row) != len(t.Columns) {
			return nil, fmt.Errorf("table %q row %d: %d values for %d columns", t.Name, r+1, len(row), len(t.Columns))
		}
		conv := make([]value.Value, len(row))
		for i, v := range row {
			c, err := assign(v, t.Columns[i].Type)
			if err != nil {
				return nil, fmt.Errorf("table %q row %d column %q: %v", t.Name, r+1, t.Columns[i].Name, err)
			}
			conv[i] = c
		}
		tb.rows = append(tb.rows, conv)
	}
	return tb, nil
}
