package kda

import (
	"cmp"
	"slices"
	"strings"
	"testing"
	"time"
)

// The subquery forms of FROM beyond a plain SELECT list: SELECT STREAM *,
// UNION ALL and ORDER BY inside the subquery.
const subqueryFormsSQL = `CREATE STREAM "O1" (ticker VARCHAR(4), sector VARCHAR(16), change DOUBLE, price DOUBLE);
CREATE PUMP "P1" AS INSERT INTO "O1"
SELECT STREAM * FROM (SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" WHERE price > 50) AS t WHERE t.change > 0;
CREATE STREAM "O3" (ticker VARCHAR(4), v DOUBLE);
CREATE PUMP "P3" AS INSERT INTO "O3"
SELECT STREAM u.tk, u.v FROM (
  SELECT STREAM ticker_symbol AS tk, price AS v FROM "SOURCE_SQL_STREAM_001" WHERE change > 0
  UNION ALL
  SELECT STREAM 'LOW', change FROM "SOURCE_SQL_STREAM_001" WHERE change <= 0) AS u
WHERE u.v IS NOT NULL;
CREATE STREAM "O4" (ticker VARCHAR(4), price DOUBLE);
CREATE PUMP "P4" AS INSERT INTO "O4"
SELECT STREAM ticker_symbol, price FROM (
  SELECT STREAM ticker_symbol, price FROM "SOURCE_SQL_STREAM_001"
  ORDER BY STEP(ROWTIME BY INTERVAL '10' SECOND), price DESC NULLS LAST, ticker_symbol) AS o;`

// TestSubqueryFormsMatchBruteForce: SELECT STREAM * (its source's columns,
// ROWTIME carried), UNION ALL and a streaming ORDER BY inside a FROM
// subquery agree with a brute-force computation over random rows, in one
// part and across restored invocations (the ORDER BY's gathered rows in
// the state).
func TestSubqueryFormsMatchBruteForce(t *testing.T) {
	rows := demoRows(16, 3000)
	var o1, o3 []string
	for _, r := range rows {
		if !r.noPrice && r.price > 50 && r.change > 0 {
			o1 = append(o1, fmtRow("O1", r.ms, StringValue(r.ticker), StringValue(r.sector), FloatValue(r.change), FloatValue(r.price)))
		}
		switch {
		case r.change > 0 && !r.noPrice:
			o3 = append(o3, fmtRow("O3", r.ms, StringValue(r.ticker), FloatValue(r.price)))
		case r.change <= 0:
			o3 = append(o3, fmtRow("O3", r.ms, StringValue("LOW"), FloatValue(r.change)))
		}
	}
	// ORDER BY: each 10-second step's rows by price descending (NULLs
	// last), then ticker, ties in arrival order, at the step's last ROWTIME.
	var o4 []string
	for lo := 0; lo < len(rows); {
		hi := lo
		for hi < len(rows) && rows[hi].ms/10_000 == rows[lo].ms/10_000 {
			hi++
		}
		step := slices.Clone(rows[lo:hi])
		slices.SortStableFunc(step, func(a, b demoRow) int {
			if a.noPrice != b.noPrice {
				if a.noPrice {
					return 1
				}
				return -1
			}
			if c := cmp.Compare(b.price, a.price); c != 0 && !a.noPrice {
				return c
			}
			return strings.Compare(a.ticker, b.ticker)
		})
		for _, r := range step {
			price := FloatValue(r.price)
			if r.noPrice {
				price = Value{}
			}
			o4 = append(o4, fmtRow("O4", rows[hi-1].ms, StringValue(r.ticker), price))
		}
		lo = hi
	}
	for _, c := range []struct {
		stream string
		want   []string
	}{{"O1", o1}, {"O3", o3}, {"O4", o4}} {
		if len(c.want) < 100 {
			t.Fatalf("%s: only %d rows", c.stream, len(c.want))
		}
		sameRuns(t, subqueryFormsSQL, []Input{demoInput}, []string{c.stream}, feedDemo(rows), c.want)
	}
}

// TestSubqueryStarOverJoin: SELECT STREAM * over a JOIN inside a FROM
// subquery gives the stream's columns, then the table's that the stream
// lacks, each with its type.
func TestSubqueryStarOverJoin(t *testing.T) {
	const sql = `CREATE STREAM "O" (ticker VARCHAR(4), price DOUBLE, company VARCHAR(16), since INTEGER);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM t.ticker_symbol, t.price, t.company, t.since
FROM (SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" AS s LEFT JOIN COMPANIES AS c ON s.ticker_symbol = c.ticker_symbol) AS t
WHERE t.price > 10;`
	tbl := Table{Name: "COMPANIES", Columns: []Column{{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "COMPANY", Type: Varchar(16)}, {Name: "SINCE", Type: Integer}},
		Rows: [][]Value{{StringValue("A"), StringValue("Acme"), IntValue(1990)}, {StringValue("B"), StringValue("Beta"), IntValue(2001)}}}
	e := must(NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{tbl} }))
	out := collect(t, e, "O")
	for i, r := range []struct {
		tk    string
		price float64
	}{{"A", 20}, {"B", 5}, {"C", 30}, {"B", 11}} {
		must(0, e.Insert(DefaultInputStream, []Value{StringValue(r.tk), StringValue("S"), FloatValue(0), FloatValue(r.price)}, time.UnixMilli(int64(1000+i))))
	}
	want := []string{`{"TICKER":"A","PRICE":20.0,"COMPANY":"Acme","SINCE":1990}`, `{"TICKER":"C","PRICE":30.0,"COMPANY":null,"SINCE":null}`,
		`{"TICKER":"B","PRICE":11.0,"COMPANY":"Beta","SINCE":2001}`}
	if !slices.Equal(*out, want) {
		t.Fatalf("got %v\nwant %v", *out, want)
	}
}

// TestSubqueryFormErrors: the subquery forms' mistakes fail at compile
// time with their line:col.
func TestSubqueryFormErrors(t *testing.T) {
	const from = ` FROM "SOURCE_SQL_STREAM_001"`
	stream := `CREATE STREAM "o" (a VARCHAR(4), p DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM *`
	for _, c := range []struct{ sql, want string }{
		{stream + ` FROM (SELECT STREAM ticker_symbol, price` + from + ` UNION ALL SELECT STREAM ticker_symbol` + from + `) AS u`,
			"sql 1:176: the SELECTs of the subquery's UNION ALL give 2 and 1 columns"},
		{stream + ` FROM (SELECT STREAM ticker_symbol, price` + from + ` UNION ALL SELECT STREAM price, ticker_symbol` + from + `) AS u`,
			"sql 1:176: column 1 of the subquery's UNION ALL is VARCHAR(4) in the first SELECT and DOUBLE in this one"},
		{stream + ` FROM (SELECT STREAM *, price` + from + `) AS u`, `the subquery gives two columns named "PRICE": give them aliases`},
		{stream + ` FROM (SELECT STREAM *` + from + ` GROUP BY ticker_symbol, STEP(ROWTIME BY INTERVAL '1' MINUTE)) AS u`, "sql 1:116: SELECT * cannot be used with GROUP BY"},
		{stream + ` FROM (SELECT STREAM *` + from + `) AS u`, `stream "o" has 2 columns but SELECT gives 4`},
	} {
		_, err := NewEngine(c.sql, []Input{demoInput})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n  %v\n want %q", c.sql, err, c.want)
		}
	}
}
