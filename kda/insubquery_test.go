package kda

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// companies is the reference table of the IN and EXISTS tests: a NULL
// ticker and a NULL sector make NOT IN and row IN three-valued.
var companies = Table{Name: "COMPANIES",
	Columns: []Column{{Name: "TICKER", Type: Varchar(4)}, {Name: "SECTOR", Type: Varchar(16)}, {Name: "TIER", Type: Integer}},
	Rows: [][]Value{
		{StringValue("AMZN"), StringValue("RETAIL"), IntValue(1)},
		{StringValue("XOM"), StringValue("ENERGY"), IntValue(2)},
		{StringValue("WAS"), Value{}, IntValue(3)},
		{Value{}, StringValue("TECH"), IntValue(1)},
		{StringValue("NFLX"), StringValue("TECH"), Value{}},
	}}

// sqlIn is x IN rows by SQL's definition, written out: TRUE if a row
// equals x in every column, else NULL if a row is not unequal in any
// column (a NULL compared), else FALSE.
func sqlIn(x []Value, rows [][]Value) Value {
	unknown := false
	for _, r := range rows {
		differs, null := false, false
		for i := range x {
			switch {
			case x[i].IsNull() || r[i].IsNull():
				null = true
			case x[i].K == KindString && x[i].S != r[i].S, x[i].K != KindString && x[i].Float() != r[i].Float():
				differs = true
			}
		}
		if !differs && !null {
			return BoolValue(true)
		}
		unknown = unknown || !differs
	}
	if unknown {
		return Value{}
	}
	return BoolValue(false)
}

func sqlNot(v Value) Value {
	if v.IsNull() {
		return v
	}
	return BoolValue(v.I == 0)
}

// TestInAndExistsSubqueries: IN, NOT IN, (a, b) IN and [NOT] EXISTS
// against a reference table, uncorrelated (a hash set built once) and
// correlated (the table scanned per row), with NULLs on both sides and
// numbers of two kinds, against the definitions evaluated here.
func TestInAndExistsSubqueries(t *testing.T) {
	sql := `
CREATE STREAM "out" ("a" BOOLEAN, "b" BOOLEAN, "c" BOOLEAN, "d" BOOLEAN, "e" BOOLEAN, "f" BOOLEAN, "g" BOOLEAN);
CREATE PUMP "p" AS INSERT INTO "out"
SELECT STREAM
  ticker_symbol IN (SELECT ticker FROM companies WHERE tier = 1),
  ticker_symbol NOT IN (SELECT ticker FROM companies),
  (ticker_symbol, sector) IN (SELECT ticker, sector FROM companies),
  EXISTS (SELECT * FROM companies c WHERE c.ticker = ticker_symbol AND c.tier > 1),
  NOT EXISTS (SELECT 1 FROM companies WHERE tier > 5),
  FLOOR(change) IN (SELECT tier - 2 FROM companies c WHERE c.sector = "SOURCE_SQL_STREAM_001".sector),
  (sector, 1) NOT IN (SELECT sector, tier FROM companies WHERE ticker <> 'XOM')
FROM "SOURCE_SQL_STREAM_001";
CREATE STREAM "kept" (ticker VARCHAR(4));
CREATE PUMP "q" AS INSERT INTO "kept"
SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001"
WHERE ticker_symbol IN (SELECT ticker FROM companies) AND NOT EXISTS (SELECT * FROM companies WHERE ticker = ticker_symbol AND sector = 'ENERGY');`
	e := must(NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{companies} }))
	out, kept, errs := collect(t, e, "out"), collect(t, e, "kept"), collect(t, e, ErrorStream)
	rng := rand.New(rand.NewPCG(3, 5))
	pick := func(xs ...string) Value {
		s := xs[rng.IntN(len(xs))]
		if s == "" {
			return Value{}
		}
		return StringValue(s)
	}
	var want, wantKept []string
	rows := companies.Rows
	col := func(i int, keep func(r []Value) bool, f func(r []Value) []Value) [][]Value {
		var out [][]Value
		for _, r := range rows {
			if keep(r) {
				out = append(out, f(r))
			}
		}
		_ = i
		return out
	}
	all := func([]Value) bool { return true }
	for i := range 600 {
		tk, sec := pick("AMZN", "XOM", "WAS", "NFLX", "QXZ", ""), pick("RETAIL", "ENERGY", "TECH", "")
		ch := Value{}
		if rng.IntN(8) > 0 {
			ch = FloatValue(math.Round((rng.Float64()*6-3)*100) / 100)
		}
		must(0, e.Insert(DefaultInputStream, []Value{tk, sec, ch, FloatValue(10)}, time.UnixMilli(int64(1000*i))))
		eq := func(a, b Value) bool { return !a.IsNull() && !b.IsNull() && a.S == b.S }
		a := sqlIn([]Value{tk}, col(0, func(r []Value) bool { return !r[2].IsNull() && r[2].I == 1 }, func(r []Value) []Value { return r[:1] }))
		b := sqlNot(sqlIn([]Value{tk}, col(0, all, func(r []Value) []Value { return r[:1] })))
		c := sqlIn([]Value{tk, sec}, col(0, all, func(r []Value) []Value { return r[:2] }))
		d := BoolValue(slices.ContainsFunc(rows, func(r []Value) bool { return eq(r[0], tk) && !r[2].IsNull() && r[2].I > 1 }))
		fl := ch
		if !ch.IsNull() {
			fl = FloatValue(math.Floor(ch.F))
		}
		f := sqlIn([]Value{fl}, col(0, func(r []Value) bool { return eq(r[1], sec) }, func(r []Value) []Value {
			if r[2].IsNull() {
				return []Value{{}}
			}
			return []Value{IntValue(r[2].I - 2)}
		}))
		g := sqlNot(sqlIn([]Value{sec, IntValue(1)}, col(0, func(r []Value) bool { return !r[0].IsNull() && r[0].S != "XOM" }, func(r []Value) []Value { return []Value{r[1], r[2]} })))
		js := func(v Value) string {
			if v.IsNull() {
				return "null"
			}
			return fmt.Sprint(v.I == 1)
		}
		want = append(want, fmt.Sprintf(`{"a":%s,"b":%s,"c":%s,"d":%s,"e":true,"f":%s,"g":%s}`, js(a), js(b), js(c), js(d), js(f), js(g)))
		if in := sqlIn([]Value{tk}, col(0, all, func(r []Value) []Value { return r[:1] })); !in.IsNull() && in.I == 1 &&
			!slices.ContainsFunc(rows, func(r []Value) bool { return eq(r[0], tk) && eq(r[1], StringValue("ENERGY")) }) {
			wantKept = append(wantKept, fmt.Sprintf(`{"TICKER":%q}`, tk.S))
		}
	}
	if len(*errs) > 0 || !slices.Equal(*out, want) || !slices.Equal(*kept, wantKept) {
		for i := range min(len(*out), len(want)) {
			if (*out)[i] != want[i] {
				t.Errorf("row %d\n got %s\nwant %s", i, (*out)[i], want[i])
				break
			}
		}
		t.Fatalf("%d/%d rows, %d/%d kept, errors %v", len(*out), len(want), len(*kept), len(wantKept), head(*errs))
	}
	for _, s := range []string{`"a":true`, `"a":null`, `"b":false`, `"b":null`, `"c":true`, `"c":false`, `"c":null`, `"f":true`, `"f":null`, `"f":false`, `"g":null`} {
		if !strings.Contains(strings.Join(want, ""), s) {
			t.Errorf("the input never gives %s", s)
		}
	}
}

// TestSubqueryErrors: a subquery over a stream cannot be evaluated, and
// the other mistakes name themselves, each at its line:col.
func TestSubqueryErrors(t *testing.T) {
	const head = `CREATE STREAM "o" ("b" BOOLEAN); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `
	const from = ` FROM "SOURCE_SQL_STREAM_001"`
	for _, c := range []struct{ sql, want, construct string }{
		{head + `ticker_symbol IN (SELECT STREAM ticker_symbol` + from + `)` + from, "sql 1:101: IN (SELECT STREAM …) (a subquery over a stream: a stream never ends, so IN cannot be decided; the subquery may read a reference table, SELECT … FROM \"table\") is not supported yet", "IN (SELECT STREAM …)"},
		{head + `EXISTS (SELECT STREAM *` + from + `)` + from, "sql 1:91: EXISTS (SELECT STREAM …)", "EXISTS (SELECT STREAM …)"},
		{head + `ticker_symbol IN (SELECT ticker_symbol` + from + `)` + from, "sql 1:127: IN (SELECT … FROM a stream) (a stream never ends, so IN cannot be decided; the subquery may read a reference table) is not supported yet", "IN (SELECT … FROM a stream)"},
		{head + `ticker_symbol IN (SELECT ticker FROM companies GROUP BY ticker)` + from, "sql 1:130: GROUP BY in an IN subquery is not supported yet", "GROUP BY in an IN subquery"},
		{head + `ticker_symbol IN (SELECT ticker FROM "companies")` + from, `sql 1:120: unknown reference table "companies" in the IN subquery (tables: COMPANIES)`, ""},
		{head + `ticker_symbol IN (SELECT ticker, tier FROM companies)` + from, "sql 1:101: the IN subquery must select 1 column(s), one for each value before IN", ""},
		{head + `ticker_symbol IN (SELECT tier FROM companies)` + from, "sql 1:97: IN compares VARCHAR with the subquery's BIGINT (column 1)", ""},
		{head + `(ticker_symbol, sector)` + from, "sql 1:83: a row value (\"TICKER_SYMBOL\", \"SECTOR\") is only allowed before IN (SELECT …)", ""},
		{head + `ticker_symbol IN (SELECT ticker FROM companies WHERE nope = 1)` + from, `sql 1:136: unknown column "NOPE" in stream "SOURCE_SQL_STREAM_001"`, ""},
		{head + `COUNT(*) > 1` + from + ` GROUP BY ticker_symbol, STEP(ROWTIME BY INTERVAL '1' SECOND) HAVING EXISTS (SELECT * FROM companies WHERE ticker = ticker_symbol)`, "EXISTS (SELECT …) reading the stream's columns in a GROUP BY window's SELECT list or HAVING (use it in WHERE) is not supported yet", "EXISTS (SELECT …) reading the stream's columns in a GROUP BY window's SELECT list or HAVING (use it in WHERE)"},
	} {
		_, err := NewEngine(c.sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{companies} })
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n got %v\nwant %s", c.sql, err, c.want)
			continue
		}
		var ue *UnsupportedError
		if c.construct != "" && (!errors.As(err, &ue) || !strings.HasPrefix(ue.Construct, c.construct)) {
			t.Errorf("%s: %v is not an UnsupportedError for %s", c.sql, err, c.construct)
		}
	}
}

// TestFunctionsReadingTables: a function declared READS SQL DATA may read
// a reference table, correlated with its parameters or not; one without
// it may not, and a call inside its subquery still counts for cycles.
func TestFunctionsReadingTables(t *testing.T) {
	sql := `
CREATE FUNCTION has_tier(t VARCHAR(4), n INTEGER) RETURNS BOOLEAN CONTAINS SQL READS SQL DATA
  RETURN EXISTS (SELECT * FROM companies WHERE ticker = t AND tier = n);
CREATE FUNCTION known(t VARCHAR(4)) RETURNS BOOLEAN READS SQL DATA RETURN t IN (SELECT ticker FROM companies WHERE ticker IS NOT NULL);
CREATE STREAM "out" ("t" VARCHAR(4), "a" BOOLEAN, "b" BOOLEAN);
CREATE PUMP "p" AS INSERT INTO "out" SELECT STREAM ticker_symbol, has_tier(ticker_symbol, CAST(2 AS INTEGER)), known(ticker_symbol) FROM "SOURCE_SQL_STREAM_001";`
	e := must(NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{companies} }))
	out := collect(t, e, "out")
	for _, tk := range []string{"XOM", "AMZN", "QXZ"} {
		must(0, e.InsertJSON(DefaultInputStream, []byte(`{"TICKER_SYMBOL":"`+tk+`"}`), time.Time{}))
	}
	want := []string{`{"t":"XOM","a":true,"b":true}`, `{"t":"AMZN","a":false,"b":true}`, `{"t":"QXZ","a":false,"b":false}`}
	if !slices.Equal(*out, want) {
		t.Fatalf("got %v, want %v", *out, want)
	}
	for _, c := range []struct{ sql, want string }{
		{`CREATE FUNCTION f(t VARCHAR(4)) RETURNS BOOLEAN CONTAINS SQL RETURN t IN (SELECT ticker FROM companies);`, `sql 1:71: function F reads table "COMPANIES": declare it READS SQL DATA`},
		{`CREATE FUNCTION g(n INTEGER) RETURNS INTEGER RETURN n;
CREATE FUNCTION f(n INTEGER) RETURNS BOOLEAN READS SQL DATA RETURN EXISTS (SELECT * FROM companies WHERE tier = g(n));
CREATE OR REPLACE FUNCTION g(n INTEGER) RETURNS INTEGER RETURN CASE WHEN f(n) THEN 1 ELSE 0 END;`, `sql 3:74: function G would call itself through F → G`},
	} {
		_, err := NewEngine(c.sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{companies} })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n got %v\nwant %s", c.sql, err, c.want)
		}
	}
}
