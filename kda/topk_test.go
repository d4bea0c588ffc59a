package kda

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// tableRows runs sql over the demo stream's rows (ticker, price at
// ROWTIME ms) and returns stream "O"'s rows as "ROWTIME JSON" lines.
func tableRows(t *testing.T, sql string, rows []tableInRow, advance int64) []string {
	t.Helper()
	e := must(NewEngine(sql, []Input{demoInput}))
	var out []string
	must(0, e.Subscribe("O", func(r Row) { out = append(out, fmt.Sprintf("%d %s", r.Rowtime, r.AppendJSON(nil))) }))
	must(0, e.Subscribe(ErrorStream, func(r Row) { t.Errorf("error_stream: %s", r.AppendJSON(nil)) }))
	for _, r := range rows {
		price := "null"
		if !math.IsNaN(r.price) {
			price = fmt.Sprint(r.price)
		}
		must(0, e.InsertJSON(DefaultInputStream, fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"TECH","CHANGE":0,"PRICE":%s}`, r.ticker, price), time.UnixMilli(r.ms)))
	}
	if advance != 0 {
		e.Advance(time.UnixMilli(advance))
	} else {
		e.Flush()
	}
	return out
}

type tableInRow struct {
	ms     int64
	ticker string
	price  float64
}

func TestTopKItemsTumbling(t *testing.T) {
	const sql = `CREATE STREAM "O" ("TICKER_SYMBOL" VARCHAR(4), "MOST_FREQUENT_VALUES" BIGINT);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(
    CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"),
    'TICKER_SYMBOL', -- the column
    2,               -- K
    10               -- seconds
));`
	base := int64(1_700_000_000_000) // a multiple of 10 s
	rows := []tableInRow{
		{base + 100, "B", 1}, {base + 200, "A", 1}, {base + 300, "C", 1}, {base + 400, "A", 1},
		{base + 500, "C", 1}, {base + 9_999, "D", 1},
		// The next window: one row, closed by the Advance to its end.
		{base + 10_000, "D", 1},
	}
	got := tableRows(t, sql, rows, base+20_000)
	// Counts A 2, C 2, B 1, D 1: the two most frequent, a tie in the
	// order the values came; ROWTIME the window's end.
	want := []string{
		fmt.Sprintf(`%d {"TICKER_SYMBOL":"A","MOST_FREQUENT_VALUES":2}`, base+10_000),
		fmt.Sprintf(`%d {"TICKER_SYMBOL":"C","MOST_FREQUENT_VALUES":2}`, base+10_000),
		fmt.Sprintf(`%d {"TICKER_SYMBOL":"D","MOST_FREQUENT_VALUES":1}`, base+20_000),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// By name, from a cursor with a WHERE, into the reference's other
	// destination shape (ITEM VARCHAR(1024), ITEM_COUNT DOUBLE).
	const named = `CREATE STREAM "O" (ITEM VARCHAR(1024), ITEM_COUNT DOUBLE);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM t."TICKER_SYMBOL", t."MOST_FREQUENT_VALUES" FROM TABLE(TOP_K_ITEMS_TUMBLING(
    CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" WHERE "TICKER_SYMBOL" <> 'A'), 'TICKER_SYMBOL', 1, 10)) AS t;`
	got = tableRows(t, named, rows[:6], 0)
	if w := fmt.Sprintf(`%d {"ITEM":"C","ITEM_COUNT":2.0}`, base+10_000); len(got) != 1 || got[0] != w {
		t.Fatalf("by name: %q, want %q", got, w)
	}
}

// TestTopKItemsTumblingOverJoin: CURSOR(SELECT STREAM * …) over a JOIN
// has the reference table's columns too.
func TestTopKItemsTumblingOverJoin(t *testing.T) {
	const sql = `CREATE STREAM "O" (COMPANY VARCHAR(16), N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(
    SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" AS s JOIN COMPANIES AS c ON s.TICKER_SYMBOL = c.TICKER_SYMBOL),
  'COMPANY', 1, 10));`
	tbl := Table{Name: "COMPANIES", Columns: []Column{{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "COMPANY", Type: Varchar(16)}},
		Rows: [][]Value{{StringValue("A"), StringValue("Acme")}, {StringValue("B"), StringValue("Beta")}, {StringValue("C"), StringValue("Beta")}}}
	e := must(NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{tbl} }))
	var got []string
	must(0, e.Subscribe("O", func(r Row) { got = append(got, string(r.AppendJSON(nil))) }))
	for i, tk := range []string{"A", "B", "A", "C", "D"} {
		must(0, e.InsertJSON(DefaultInputStream, fmt.Appendf(nil, `{"TICKER_SYMBOL":%q}`, tk), time.UnixMilli(1_700_000_000_000+int64(i))))
	}
	e.Flush()
	// Acme 2, Beta 2 (B and C): a tie, Acme first.
	if want := `{"COMPANY":"Acme","N":2}`; len(got) != 1 || got[0] != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestTopKItemsTumblingSpaceSaving: beyond max(K, 10,000) distinct values
// in a window, the counters keep every value more frequent than
// rows/10,000.
func TestTopKItemsTumblingSpaceSaving(t *testing.T) {
	const sql = `CREATE STREAM "O" (T VARCHAR(8), N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM "SECTOR" AS T FROM "SOURCE_SQL_STREAM_001"), 'T', 3, 3600));`
	e := must(NewEngine(sql, []Input{demoInput}))
	var got []string
	must(0, e.Subscribe("O", func(r Row) { got = append(got, fmt.Sprint(r.Values[0].S, " ", r.Values[1].I)) }))
	base := time.UnixMilli(1_700_000_000_000 - 1_700_000_000_000%3_600_000)
	// 30,000 one-off values, with HOT1 every 10th row, HOT2 every 20th and
	// HOT3 every 40th: 4,000, 2,000 and 1,000 rows of 37,000.
	n := 0
	for i := range 30_000 {
		for _, hot := range []struct {
			name  string
			every int
		}{{"HOT1", 10}, {"HOT2", 20}, {"HOT3", 40}} {
			if i%(hot.every*3/4) == 0 {
				must(0, e.InsertJSON(DefaultInputStream, fmt.Appendf(nil, `{"SECTOR":%q}`, hot.name), base.Add(time.Duration(n)*time.Millisecond)))
				n++
			}
		}
		must(0, e.InsertJSON(DefaultInputStream, fmt.Appendf(nil, `{"SECTOR":"v%d"}`, i), base.Add(time.Duration(n)*time.Millisecond)))
		n++
	}
	e.Flush()
	if len(got) != 3 {
		t.Fatalf("rows %q", got)
	}
	for i, name := range []string{"HOT1", "HOT2", "HOT3"} {
		if !strings.HasPrefix(got[i], name+" ") {
			t.Fatalf("rows %q: want HOT1, HOT2, HOT3 first", got)
		}
	}
}

func TestCountDistinctItemsTumbling(t *testing.T) {
	const sql = `CREATE STREAM "O" (NUMBER_OF_DISTINCT_ITEMS BIGINT);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(
    CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'PRICE', 5));`
	base := int64(1_700_000_000_000)
	nan := math.NaN()
	rows := []tableInRow{
		{base + 1, "A", 1.5}, {base + 2, "B", 1.5}, {base + 3, "C", 2}, {base + 4, "D", nan}, {base + 4_999, "E", 3},
		{base + 5_000, "A", nan}, // a window of NULLs only: 0
		{base + 12_000, "B", 7},
	}
	got := tableRows(t, sql, rows, 0)
	want := []string{
		fmt.Sprintf(`%d {"NUMBER_OF_DISTINCT_ITEMS":3}`, base+5_000),
		fmt.Sprintf(`%d {"NUMBER_OF_DISTINCT_ITEMS":0}`, base+10_000),
		fmt.Sprintf(`%d {"NUMBER_OF_DISTINCT_ITEMS":1}`, base+15_000),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCountDistinctItemsTumblingLarge: exact up to 10,000 distinct values,
// a HyperLogLog estimate within 2% above; the same whether the window's
// rows come in one engine or across ten restored from the state.
func TestCountDistinctItemsTumblingLarge(t *testing.T) {
	const sql = `CREATE STREAM "O" (N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'SECTOR', 3600));`
	base := 1_700_000_000_000 - 1_700_000_000_000%3_600_000
	run := func(distinct, splits int) []int64 {
		var got []int64
		var state []byte
		rows := 2 * distinct // every value twice
		for s := range splits {
			e := must(NewEngine(sql, []Input{demoInput}))
			must(0, e.Subscribe("O", func(r Row) { got = append(got, r.Values[0].I) }))
			if state != nil {
				must(0, e.RestoreState(state))
			}
			for i := s * rows / splits; i < (s+1)*rows/splits; i++ {
				must(0, e.InsertJSON(DefaultInputStream, fmt.Appendf(nil, `{"SECTOR":"s%d"}`, i%distinct), time.UnixMilli(int64(base+i))))
			}
			state = e.State()
			if s == splits-1 {
				e.Flush()
			}
		}
		return got
	}
	for _, distinct := range []int{10_000, 10_001, 40_000} {
		one := run(distinct, 1)
		if len(one) != 1 {
			t.Fatalf("%d distinct: rows %v", distinct, one)
		}
		if distinct <= 10_000 && one[0] != int64(distinct) {
			t.Errorf("%d distinct: counted %d, want exact", distinct, one[0])
		}
		if rel := math.Abs(float64(one[0])-float64(distinct)) / float64(distinct); rel > 0.02 {
			t.Errorf("%d distinct: estimated %d, %.1f%% off", distinct, one[0], 100*rel)
		}
		if ten := run(distinct, 10); len(ten) != 1 || ten[0] != one[0] {
			t.Errorf("%d distinct: %v in ten invocations, %v in one", distinct, ten, one)
		}
		t.Logf("%d distinct values: %d", distinct, one[0])
	}
}

// TestTableFunctionArgumentErrors: the reference's bounds, each error
// naming the function, the argument and its line:col.
func TestTableFunctionArgumentErrors(t *testing.T) {
	const head = `CREATE STREAM "O" (T VARCHAR(4), N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM * FROM TABLE(`
	const cursor = `CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")`
	for _, c := range []struct{ call, want string }{
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, 'TICKER_SYMBOL', 0, 60)`, "sql 2:155: TOP_K_ITEMS_TUMBLING argument 3 (K): must be from 1 to 100000, got 0"},
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, 'TICKER_SYMBOL', 100001, 60)`, "argument 3 (K): must be from 1 to 100000, got 100001"},
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, 'TICKER_SYMBOL', 5, 0)`, "sql 2:158: TOP_K_ITEMS_TUMBLING argument 4 (windowSize): must be from 1 to 3600, got 0"},
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, 'TICKER_SYMBOL', 5, 3601)`, "argument 4 (windowSize): must be from 1 to 3600, got 3601"},
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, 'TICKER_SYMBOL', 5, 1.5)`, "argument 4 (windowSize): must be an integer, got 1.5"},
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, 'ticker_symbol', 5, 60)`, `sql 2:138: TOP_K_ITEMS_TUMBLING argument 2 (columnName): the cursor has no column "ticker_symbol"; names are case-sensitive: write 'TICKER_SYMBOL'`},
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, TICKER_SYMBOL, 5, 60)`, `TOP_K_ITEMS_TUMBLING argument 2: must be a constant, got "TICKER_SYMBOL"`},
		{`TOP_K_ITEMS_TUMBLING(` + cursor + `, 'TICKER_SYMBOL', 5)`, "TOP_K_ITEMS_TUMBLING: takes a CURSOR and 3 arguments (columnName, K, windowSize), got 2"},
		{`COUNT_DISTINCT_ITEMS_TUMBLING(` + cursor + `, 'PRICE', 3601)`, "sql 2:156: COUNT_DISTINCT_ITEMS_TUMBLING argument 3 (windowSize): must be from 1 to 3600, got 3601"},
		{`COUNT_DISTINCT_ITEMS_TUMBLING(` + cursor + `, 7, 60)`, "COUNT_DISTINCT_ITEMS_TUMBLING argument 2 (columnName): must be a string in single quotes, got 7"},
		{`COUNT_DISTINCT_ITEMS_TUMBLING(` + cursor + `, 'PRICE', 60, 1)`, "COUNT_DISTINCT_ITEMS_TUMBLING: takes a CURSOR and 2 arguments (columnName, windowSize), got 3"},
	} {
		_, err := NewEngine(head+c.call+");", []Input{demoInput})
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.call, err, c.want)
		}
	}
}

// benchTableFunction feeds b.N JSON records, 1,000 a second, through sql
// on one goroutine and reports rows/s; rec makes record i.
func benchTableFunction(b *testing.B, sql string, rec func(i int) []byte) {
	e := must(NewEngine(sql, []Input{demoInput}))
	var buf []byte
	out := 0
	must(0, e.Subscribe("O", func(r Row) { buf = r.AppendJSON(buf[:0]); out++ }))
	recs := make([][]byte, 100_000)
	for i := range recs {
		recs[i] = rec(i)
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		_ = e.InsertJSON(DefaultInputStream, recs[i%len(recs)], t0.Add(time.Duration(i)*time.Millisecond))
	}
	e.Flush()
	reportRate(b, float64(b.N), "rows", cpu0)
	if out == 0 {
		b.Fatal("no output rows")
	}
}

var benchTickers = []string{"AMZN", "XOM", "IBM", "AAPL", "MSFT", "NFLX", "TSLA", "GOOG", "META", "ORCL"}

// BenchmarkTopK: TOP_K_ITEMS_TUMBLING of 5 over a minute, on 10 tickers
// (exact counters) and on 100,000 distinct values (60,000 a window: the
// Space-Saving counters).
func BenchmarkTopK(b *testing.B) {
	const sql = `CREATE STREAM "O" (T VARCHAR(8), N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER_SYMBOL', 5, 60));`
	b.Run("tickers", func(b *testing.B) {
		benchTableFunction(b, sql, func(i int) []byte {
			return fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"TECHNOLOGY","CHANGE":0.5,"PRICE":%d.25}`, benchTickers[(i*7+i/3)%len(benchTickers)], 50+i%100)
		})
	})
	b.Run("distinct", func(b *testing.B) {
		benchTableFunction(b, strings.Replace(sql, "'TICKER_SYMBOL'", "'SECTOR'", 1), func(i int) []byte {
			return fmt.Appendf(nil, `{"TICKER_SYMBOL":"AMZN","SECTOR":"s%d","CHANGE":0.5,"PRICE":%d.25}`, i, 50+i%100)
		})
	})
}

// BenchmarkCountDistinct: COUNT_DISTINCT_ITEMS_TUMBLING of the price over
// 5 seconds (5,000 rows, exact) and over a minute (60,000 distinct
// values: HyperLogLog from the 10,001st).
func BenchmarkCountDistinct(b *testing.B) {
	const sql = `CREATE STREAM "O" (N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'PRICE', %d));`
	rec := func(i int) []byte {
		return fmt.Appendf(nil, `{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":0.5,"PRICE":%d.25}`, i)
	}
	b.Run("exact", func(b *testing.B) { benchTableFunction(b, fmt.Sprintf(sql, 5), rec) })
	b.Run("hll", func(b *testing.B) { benchTableFunction(b, fmt.Sprintf(sql, 60), rec) })
}
