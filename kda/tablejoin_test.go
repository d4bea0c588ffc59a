package kda

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// TestTableFunctionInJoin: a table function's output joined to a
// reference table (FROM TABLE(…) JOIN table) and as the windowed side of
// a JOIN of two streams (FROM stream JOIN TABLE(…) OVER (…)), its cursor a
// UNION ALL.
func TestTableFunctionInJoin(t *testing.T) {
	const sql = `CREATE STREAM "C" (COMPANY VARCHAR(16), N BIGINT);
CREATE PUMP "P1" AS INSERT INTO "C"
SELECT STREAM c.COMPANY, t.MOST_FREQUENT_VALUES
FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER_SYMBOL', 2, 10)) AS t
JOIN COMPANIES AS c ON t.TICKER_SYMBOL = c.TICKER_SYMBOL;
CREATE STREAM "R" (TICKER VARCHAR(4), PRICE DOUBLE, TOP BIGINT);
CREATE PUMP "P2" AS INSERT INTO "R"
SELECT STREAM s.TICKER_SYMBOL, s.PRICE, k.MOST_FREQUENT_VALUES
FROM "SOURCE_SQL_STREAM_001" AS s
LEFT JOIN TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(
    SELECT STREAM TICKER_SYMBOL FROM "SOURCE_SQL_STREAM_001" WHERE PRICE > 10
    UNION ALL SELECT STREAM SECTOR FROM "SOURCE_SQL_STREAM_001" WHERE PRICE <= 10), 'TICKER_SYMBOL', 1, 10))
  OVER (RANGE INTERVAL '10' SECOND PRECEDING) AS k
ON s.TICKER_SYMBOL = k.TICKER_SYMBOL;`
	tbl := Table{Name: "COMPANIES", Columns: []Column{{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "COMPANY", Type: Varchar(16)}},
		Rows: [][]Value{{StringValue("A"), StringValue("Acme")}, {StringValue("B"), StringValue("Beta")}}}
	e := must(NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{tbl} }))
	var got []string
	for _, s := range []string{"C", "R", ErrorStream} {
		must(0, e.Subscribe(s, func(r Row) { got = append(got, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
	}
	t0 := int64(1_700_000_000_000) // a 10-second window's start
	for i, r := range []struct {
		tk    string
		price float64
	}{{"A", 20}, {"B", 20}, {"A", 20}, {"C", 20}, {"A", 5}, {"C", 20}, {"B", 20}, {"S", 20}} {
		sec := int64(i) * 3000 // windows [0, 10 s) and [10 s, 20 s)
		must(0, e.InsertJSON(DefaultInputStream, fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"S","PRICE":%g}`, r.tk, r.price), time.UnixMilli(t0+sec)))
	}
	e.Flush()
	want := []string{
		`R 1700000000000 ["A",20.0,null]`, `R 1700000003000 ["B",20.0,null]`, `R 1700000006000 ["A",20.0,null]`, `R 1700000009000 ["C",20.0,null]`,
		// The first window closes at 10 s: A twice, then B and C once.
		`C 1700000010000 ["Acme",2]`, `C 1700000010000 ["Beta",1]`,
		`R 1700000012000 ["A",5.0,2]`, `R 1700000015000 ["C",20.0,null]`, `R 1700000018000 ["B",20.0,null]`,
		// The second window: A, C and B once each (P1, K 2: the first two
		// seen, C without a company); the cursor's second SELECT gives S
		// (A's sector, its price 5), the first C and B: S is the top one.
		`C 1700000020000 ["Acme",1]`, `R 1700000021000 ["S",20.0,1]`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}
