package kda

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestScalarSubqueries: (SELECT x FROM table …) as a value, correlated
// (through a hash index, or a scan) and not, in SELECT and WHERE, agrees
// with the definitions evaluated here over the companies table: NULL when
// no row matches, the row's value when one does, and an error row naming
// the subquery's line:col when more do (TECH has two companies).
func TestScalarSubqueries(t *testing.T) {
	sql := `CREATE STREAM "out" (tk VARCHAR(4), tier INTEGER, t2 VARCHAR(4), c3 INTEGER, c4 BIGINT);
CREATE PUMP "p" AS INSERT INTO "out"
SELECT STREAM ticker_symbol,
  (SELECT c.tier FROM companies AS c WHERE c.ticker = s.ticker_symbol),
  (SELECT ticker FROM companies WHERE sector = s.sector),
  (SELECT tier FROM companies WHERE ticker = 'XOM'),
  (SELECT tier FROM companies WHERE tier > 1 AND UPPER(ticker) = s.ticker_symbol) + 1
FROM "SOURCE_SQL_STREAM_001" AS s;
CREATE STREAM "kept" (tk VARCHAR(4));
CREATE PUMP "q" AS INSERT INTO "kept"
SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001" WHERE price > (SELECT tier FROM companies WHERE ticker = ticker_symbol) * 40;`
	e := must(NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{companies} }))
	var got, gotKept, gotErrs []string
	must(0, e.Subscribe("out", func(r Row) { got = append(got, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
	must(0, e.Subscribe("kept", func(r Row) { gotKept = append(gotKept, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
	must(0, e.Subscribe(ErrorStream, func(r Row) {
		for i, c := range r.Columns {
			if c.Name == "ERROR_MESSAGE" || c.Name == "MESSAGE" {
				gotErrs = append(gotErrs, r.Values[i].S)
			}
		}
	}))
	// The definitions: the table's rows that pass each WHERE.
	matches := func(keep func(r []Value) bool, col int) []Value {
		var out []Value
		for _, r := range companies.Rows {
			if keep(r) {
				out = append(out, r[col])
			}
		}
		return out
	}
	eq := func(a, b Value) bool { return !a.IsNull() && !b.IsNull() && a.S == b.S }
	var want, wantKept []string
	wantErrs := 0
	rng := rand.New(rand.NewPCG(7, 16))
	pick := func(xs ...string) Value {
		if s := xs[rng.IntN(len(xs))]; s != "" {
			return StringValue(s)
		}
		return Value{}
	}
	for i := range 800 {
		tk, sector := pick("AMZN", "XOM", "WAS", "NFLX", "QXZ", ""), pick("RETAIL", "ENERGY", "TECH", "OTHER", "")
		price := FloatValue(float64(rng.IntN(160)))
		ms := int64(1_700_000_000_000 + i)
		must(0, e.Insert(DefaultInputStream, []Value{tk, sector, FloatValue(0), price}, time.UnixMilli(ms)))
		one := func(vs []Value) (Value, bool) {
			switch len(vs) {
			case 0:
				return Value{}, true
			case 1:
				return vs[0], true
			}
			return Value{}, false
		}
		tier, _ := one(matches(func(r []Value) bool { return eq(r[0], tk) }, 2))
		t2, ok := one(matches(func(r []Value) bool { return eq(r[1], sector) }, 0))
		c4, _ := one(matches(func(r []Value) bool { return !r[2].IsNull() && r[2].I > 1 && eq(r[0], tk) }, 2))
		if !c4.IsNull() {
			c4 = IntValue(c4.I + 1)
		}
		if ok {
			want = append(want, fmtRow("out", ms, tk, tier, t2, IntValue(2), c4))
		} else {
			wantErrs++
		}
		if !tier.IsNull() && price.F > float64(tier.I*40) {
			wantKept = append(wantKept, fmtRow("kept", ms, tk))
		}
	}
	if !slices.Equal(got, want) || len(want) < 300 {
		t.Fatalf("out: %d rows, want %d\n got %.400q\nwant %.400q", len(got), len(want), got, want)
	}
	if !slices.Equal(gotKept, wantKept) || len(wantKept) < 50 {
		t.Fatalf("kept: %d rows, want %d\n got %.400q\nwant %.400q", len(gotKept), len(wantKept), gotKept, wantKept)
	}
	if len(gotErrs) != wantErrs || wantErrs < 50 {
		t.Fatalf("%d error rows, want %d", len(gotErrs), wantErrs)
	}
	for _, m := range gotErrs {
		if !strings.Contains(m, "the scalar subquery at 5:3 found 2 rows: it may give at most one") {
			t.Fatalf("error row %q", m)
		}
	}

	// Uncorrelated and matching two rows: every row is an error row.
	e = must(NewEngine(`CREATE STREAM "o" (n INTEGER); CREATE PUMP "p" AS INSERT INTO "o"
SELECT STREAM (SELECT tier FROM companies WHERE tier = 1) FROM "SOURCE_SQL_STREAM_001";`, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{companies} }))
	out, errs := collect(t, e, "o"), collect(t, e, ErrorStream)
	must(0, e.InsertJSON(DefaultInputStream, []byte(`{"TICKER_SYMBOL":"A"}`), time.UnixMilli(1)))
	if len(*out) != 0 || len(*errs) != 1 || !strings.Contains((*errs)[0], "the scalar subquery at 2:15 found 2 rows") {
		t.Fatalf("out %v, errors %v", *out, *errs)
	}
}

// TestScalarSubqueryErrors: a scalar subquery over a stream, or of more
// than one column, fails at compile time naming it and its line:col.
func TestScalarSubqueryErrors(t *testing.T) {
	const head = `CREATE STREAM "o" ("n" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `
	const from = ` FROM "SOURCE_SQL_STREAM_001"`
	for _, c := range []struct{ sql, want, construct string }{
		{head + `(SELECT STREAM tier` + from + `)` + from, "sql 1:84: a scalar subquery (SELECT STREAM …) (a stream never ends", "a scalar subquery (SELECT STREAM …)"},
		{head + `(SELECT 1` + from + `)` + from, "sql 1:98: a scalar subquery over a stream (a stream never ends", "a scalar subquery over a stream"},
		{head + `(SELECT tier, ticker FROM companies)` + from, "sql 1:84: a scalar subquery selects one column, not 2 columns", ""},
		{head + `(SELECT * FROM companies)` + from, "sql 1:84: a scalar subquery selects one column, not *", ""},
		{head + `(SELECT tier FROM companies GROUP BY tier)` + from, "GROUP BY in a scalar subquery is not supported yet", "GROUP BY in a scalar subquery"},
		{head + `(SELECT ticker FROM companies WHERE ticker = ticker_symbol)` + from, `cannot insert VARCHAR into column "n" INTEGER`, ""},
		{head + `COUNT(*) + (SELECT tier FROM companies WHERE ticker = ticker_symbol)` + from + ` GROUP BY ticker_symbol, STEP(ROWTIME BY INTERVAL '1' SECOND)`,
			"a scalar subquery reading the stream's columns in a GROUP BY window's SELECT list or HAVING", "a scalar subquery reading"},
	} {
		_, err := NewEngine(c.sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{companies} })
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n got %v\nwant %s", c.sql, err, c.want)
			continue
		}
		var ue *UnsupportedError
		if errors.As(err, &ue) != (c.construct != "") || ue != nil && !strings.HasPrefix(ue.Construct, c.construct) {
			t.Errorf("%s: %v: UnsupportedError %v, want %q", c.sql, err, ue, c.construct)
		}
	}
}
