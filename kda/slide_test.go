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

// demoInput is the demo stream's schema.
var demoInput = Input{Columns: []Column{
	{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "SECTOR", Type: Varchar(16)},
	{Name: "CHANGE", Type: Double}, {Name: "PRICE", Type: Double},
}}

const slideSQL = `CREATE STREAM "W" (ticker VARCHAR(4), n BIGINT, s DOUBLE, a DOUBLE, mn DOUBLE, mx DOUBLE,
  fv DOUBLE, lv DOUBLE, lag2 DOUBLE, nth2 DOUBLE, ea DOUBLE, cnt BIGINT);
CREATE PUMP "P1" AS INSERT INTO "W"
SELECT STREAM ticker_symbol, COUNT(*) OVER W1, SUM(price) OVER W1, AVG(price) OVER W1, MIN(price) OVER W1,
  MAX(price) OVER W1, FIRST_VALUE(price) OVER W1, LAST_VALUE(price) OVER W1, LAG(price, 2) OVER W1,
  NTH_VALUE(price, 2) OVER W1, EXP_AVG(price, INTERVAL '3' SECOND) OVER W1, COUNT(price) OVER W1
FROM "SOURCE_SQL_STREAM_001"
WHERE sector <> 'SKIP'
WINDOW W1 AS (PARTITION BY ticker_symbol RANGE INTERVAL '10' SECOND PRECEDING);
CREATE STREAM "R" (ticker VARCHAR(4), n BIGINT, s DOUBLE, mn DOUBLE, mx DOUBLE, lag1 DOUBLE);
CREATE PUMP "P2" AS INSERT INTO "R"
SELECT STREAM ticker_symbol, COUNT(*) OVER (PARTITION BY ticker_symbol ROWS 3 PRECEDING),
  SUM(price) OVER (PARTITION BY ticker_symbol ROWS 3 PRECEDING),
  MIN(price) OVER (ROWS 3 PRECEDING), MAX(price) OVER (ROWS 3 PRECEDING),
  LAG(price, 1, -1.0) OVER (PARTITION BY ticker_symbol ROWS 3 PRECEDING)
FROM "SOURCE_SQL_STREAM_001" WHERE sector <> 'SKIP';`

type slideRow struct {
	ticker string
	price  *float64
	rt     int64
}

// windowRow is a row the brute force places in windows.
type windowRow interface {
	partition() string
	rowtime() int64
}

func (r slideRow) partition() string { return r.ticker }
func (r slideRow) rowtime() int64    { return r.rt }

// refWindow returns the rows of rows[:i+1] in row i's window: of its
// partition (unless all), and among the last n+1 rows (n >= 0), within
// rangeMs before it (rangeMs >= 0), or all of them (UNBOUNDED PRECEDING).
func refWindow[R windowRow](rows []R, i int, all bool, rangeMs int64, n int) []R {
	var w []R
	for j := 0; j <= i; j++ {
		if all || rows[j].partition() == rows[i].partition() {
			w = append(w, rows[j])
		}
	}
	switch {
	case n >= 0 && len(w) > n+1:
		w = w[len(w)-n-1:]
	case n < 0 && rangeMs >= 0:
		k := 0
		for k < len(w) && w[k].rowtime() < rows[i].rowtime()-rangeMs {
			k++
		}
		w = w[k:]
	}
	return w
}

// refAggs computes the windowed functions of a window by brute force, as
// JSON values.
func refAggs(w []slideRow, rt int64) map[string]string {
	f := func(x float64) string { return string(FloatValue(x).AppendJSON(nil)) }
	var vals []float64
	for _, r := range w {
		if r.price != nil {
			vals = append(vals, *r.price)
		}
	}
	m := map[string]string{"n": fmt.Sprint(len(w)), "cnt": fmt.Sprint(len(vals)), "s": "null", "a": "null", "mn": "null", "mx": "null", "ea": "null"}
	if len(vals) > 0 {
		sum, mn, mx := 0.0, math.Inf(1), math.Inf(-1)
		for _, v := range vals {
			sum += v
			mn, mx = math.Min(mn, v), math.Max(mx, v)
		}
		m["s"], m["a"], m["mn"], m["mx"] = f(sum), f(sum/float64(len(vals))), f(mn), f(mx)
		var ws, wt float64
		for _, r := range w {
			if r.price != nil {
				k := math.Exp2(-float64((rt - r.rt) / 3000))
				ws, wt = ws+k**r.price, wt+k
			}
		}
		m["ea"] = f(ws / wt)
	}
	at := func(i int) string {
		if i < 0 || i >= len(w) || w[i].price == nil {
			return "null"
		}
		return f(*w[i].price)
	}
	m["fv"], m["lv"], m["lag2"], m["nth2"] = at(0), at(len(w)-1), at(len(w)-3), at(1)
	m["lag1"] = at(len(w) - 2)
	if len(w) < 2 {
		m["lag1"] = "-1.0"
	}
	return m
}

// TestSlidingWindowsMatchBruteForce: every windowed function, on a named
// RANGE window and on inline ROWS windows (partitioned and not), gives for
// each input row what a brute-force scan of its window gives.
func TestSlidingWindowsMatchBruteForce(t *testing.T) {
	e, err := NewEngine(slideSQL, []Input{demoInput})
	if err != nil {
		t.Fatal(err)
	}
	var gotW, gotR []map[string]string
	grab := func(dst *[]map[string]string) func(Row) {
		return func(r Row) {
			m := map[string]string{}
			for i, c := range r.Columns {
				m[strings.ToLower(c.Name)] = string(r.Values[i].AppendJSON(nil))
			}
			*dst = append(*dst, m)
		}
	}
	must(0, e.Subscribe("W", grab(&gotW)))
	must(0, e.Subscribe("R", grab(&gotR)))
	rng := rand.New(rand.NewPCG(1, 2))
	var rows []slideRow
	rt := int64(1_700_000_000_000)
	for i := 0; i < 3000; i++ {
		rt += int64(rng.IntN(1500))
		tk := []string{"AMZN", "XOM", "IBM"}[rng.IntN(3)]
		sector, price := "TECH", fmt.Sprintf("%.2f", 50+rng.Float64()*100)
		var p *float64
		switch rng.IntN(20) {
		case 0:
			price = "null"
		case 1:
			sector = "SKIP"
		}
		if price != "null" {
			var x float64
			fmt.Sscan(price, &x)
			p = &x
		}
		rec := fmt.Sprintf(`{"TICKER_SYMBOL":%q,"SECTOR":%q,"CHANGE":0,"PRICE":%s}`, tk, sector, price)
		must(0, e.InsertJSON(DefaultInputStream, []byte(rec), time.UnixMilli(rt)))
		if sector != "SKIP" {
			rows = append(rows, slideRow{tk, p, rt})
		}
	}
	if len(gotW) != len(rows) || len(gotR) != len(rows) {
		t.Fatalf("%d and %d output rows for %d input rows", len(gotW), len(gotR), len(rows))
	}
	for i := range rows {
		want := refAggs(refWindow(rows, i, false, 10_000, -1), rows[i].rt)
		for _, c := range []string{"n", "s", "a", "mn", "mx", "fv", "lv", "lag2", "nth2", "ea", "cnt"} {
			if !jsonNumEqual(gotW[i][c], want[c]) {
				t.Fatalf("row %d (%+v) W.%s = %s, want %s", i, rows[i], c, gotW[i][c], want[c])
			}
		}
		wr := refAggs(refWindow(rows, i, false, 0, 3), rows[i].rt)
		wa := refAggs(refWindow(rows, i, true, 0, 3), rows[i].rt)
		for c, w := range map[string]string{"n": wr["n"], "s": wr["s"], "lag1": wr["lag1"], "mn": wa["mn"], "mx": wa["mx"]} {
			if !jsonNumEqual(gotR[i][c], w) {
				t.Fatalf("row %d R.%s = %s, want %s", i, c, gotR[i][c], w)
			}
		}
	}
}

// jsonNumEqual compares two JSON values, numbers to 1e-9 relative.
func jsonNumEqual(a, b string) bool {
	if a == b {
		return true
	}
	var x, y float64
	if _, err := fmt.Sscan(a, &x); err != nil {
		return false
	}
	if _, err := fmt.Sscan(b, &y); err != nil {
		return false
	}
	return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y))
}

// TestSlidingWindowErrors: window misuse fails at compile time, naming the
// position; so does FOLLOWING, which a stream cannot have (KDA's
// windows end with the current row), with the reason.
func TestSlidingWindowErrors(t *testing.T) {
	stream := `CREATE STREAM "o" ("n" DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `
	from := ` FROM "SOURCE_SQL_STREAM_001"`
	for sql, want := range map[string]string{
		stream + `AVG(price) OVER W9` + from:                                                                              `unknown window "W9"`,
		stream + `LAG(price)` + from:                                                                                      "LAG needs OVER",
		stream + `1.0` + from + ` WHERE AVG(price) OVER (ROWS 2 PRECEDING) > 1`:                                           "only allowed in the SELECT list",
		stream + `UPPER(sector) OVER (ROWS 2 PRECEDING)` + from:                                                           "UPPER cannot be used with OVER",
		stream + `AVG(sector) OVER (ROWS 2 PRECEDING)` + from:                                                             "AVG needs a number",
		stream + `NTH_VALUE(price, 0) OVER (ROWS 2 PRECEDING)` + from:                                                     "between 1 and",
		stream + `AVG(price) OVER (ROWS 2 FOLLOWING)` + from:                                                              "FOLLOWING cannot be used on a stream: a window ends with the current row",
		stream + `AVG(price) OVER (ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING)` + from:                                      "FOLLOWING cannot be used on a stream",
		stream + `AVG(price) OVER (ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)` + from:                              "FOLLOWING cannot be used on a stream",
		stream + `AVG(price) OVER (RANGE BETWEEN INTERVAL '1' MINUTE PRECEDING AND INTERVAL '1' SECOND FOLLOWING)` + from: "FOLLOWING cannot be used on a stream",
		stream + `AVG(price) OVER (ROWS BETWEEN 4 PRECEDING AND 2 PRECEDING)` + from:                                      "expected CURRENT ROW (a window ends with the current row)",
		stream + `EXP_AVG(price, INTERVAL '1' SECOND) OVER (ROWS UNBOUNDED PRECEDING)` + from:                             "EXP_AVG needs a bounded window",
		stream + `STDDEV_POP(sector) OVER (ROWS 2 PRECEDING)` + from:                                                      "STDDEV_POP needs a number",
		stream + `EVERY(price) OVER (ROWS 2 PRECEDING)` + from:                                                            "EVERY needs a BOOLEAN",
		stream + `AVG(price) OVER W` + from + ` WINDOW W AS (ROWS 1 PRECEDING), W AS (ROWS 2 PRECEDING)`:                  `window "W" is defined twice`,
	} {
		_, err := NewEngine(sql, []Input{demoInput})
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  err %v, want %q", sql, err, want)
		}
	}
}

// BenchmarkSlidingAvg is the benchmark: a 1-minute sliding AVG of
// the price per ticker over the demo stream's JSON records, one output row
// per input row, on one goroutine.
func BenchmarkSlidingAvg(b *testing.B) {
	sql := `CREATE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), avg_price DOUBLE);
CREATE PUMP "P" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, AVG(price) OVER W1 FROM "SOURCE_SQL_STREAM_001"
WINDOW W1 AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE PRECEDING);`
	e, err := NewEngine(sql, []Input{demoInput})
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	rows := 0
	must(0, e.Subscribe("DESTINATION_SQL_STREAM", func(r Row) { buf = r.AppendJSON(buf[:0]); rows++ }))
	tickers := []string{"AMZN", "XOM", "IBM", "AAPL", "MSFT", "NFLX", "TSLA", "GOOG", "META", "ORCL"}
	recs := make([][]byte, 10_000)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range recs {
		recs[i] = fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"TECHNOLOGY","CHANGE":%.2f,"PRICE":%.2f}`,
			tickers[rng.IntN(len(tickers))], rng.Float64()*2-1, 50+rng.Float64()*100)
	}
	// 1,000 records a second: each ticker's window holds about 6,000 rows.
	t0 := time.UnixMilli(1_700_000_000_000)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		_ = e.InsertJSON(DefaultInputStream, recs[i%len(recs)], t0.Add(time.Duration(i)*time.Millisecond))
	}
	reportRate(b, float64(b.N), "rows", cpu0)
	if rows != b.N {
		b.Fatalf("%d output rows for %d records", rows, b.N)
	}
}

// TestWindowStateBoundedWhenKeysChurn: sliding RANGE partitions (of one
// VARCHAR key and of two keys) and stagger windows of keys that stop
// receiving rows leave the state once their window is empty, so the state
// stays the size of the keys of the last window however many keys came
// and went; a key that comes back after its window emptied starts afresh.
func TestWindowStateBoundedWhenKeysChurn(t *testing.T) {
	sql := `CREATE STREAM "A" (ticker VARCHAR(4), a DOUBLE, n BIGINT);
CREATE PUMP "P1" AS INSERT INTO "A"
SELECT STREAM ticker_symbol, AVG(price) OVER W, COUNT(*) OVER (PARTITION BY ticker_symbol, sector RANGE INTERVAL '1' SECOND PRECEDING)
FROM "SOURCE_SQL_STREAM_001" WINDOW W AS (PARTITION BY ticker_symbol RANGE INTERVAL '1' SECOND PRECEDING);
CREATE STREAM "S" (ticker VARCHAR(4), n BIGINT);
CREATE PUMP "P2" AS INSERT INTO "S"
SELECT STREAM ticker_symbol, COUNT(*) FROM "SOURCE_SQL_STREAM_001"
WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '1' SECOND);`
	e, err := NewEngine(sql, []Input{demoInput})
	if err != nil {
		t.Fatal(err)
	}
	var last Row
	var lastAvg float64
	must(0, e.Subscribe("A", func(r Row) { last = r; lastAvg = r.Values[1].F }))
	staggerRows := 0
	must(0, e.Subscribe("S", func(Row) { staggerRows++ }))
	t0 := time.UnixMilli(1_700_000_000_000)
	const gens, keysPerGen = 200, 50
	var sizes []int
	for g := range gens {
		// Each generation's keys get 4 rows over its 0.4 s, then never again.
		for r := range 4 {
			for k := range keysPerGen {
				rec := fmt.Sprintf(`{"TICKER_SYMBOL":"%04x","SECTOR":"S%d","CHANGE":0,"PRICE":%d.1}`, g*keysPerGen+k, r%2, k)
				must(0, e.InsertJSON(DefaultInputStream, []byte(rec), t0.Add(time.Duration(g*400+r*100)*time.Millisecond)))
			}
		}
		sizes = append(sizes, len(e.State()))
	}
	if early, late := slices.Max(sizes[5:10]), slices.Max(sizes[gens-5:]); late > early*3/2 {
		t.Fatalf("state grew with churning keys: %d bytes after 10 generations, %d after %d", early, late, gens)
	}
	// Key 0000 returns after its window emptied: its AVG is its own price.
	must(0, e.InsertJSON(DefaultInputStream, []byte(`{"TICKER_SYMBOL":"0000","SECTOR":"S0","CHANGE":0,"PRICE":0.3}`), t0.Add(gens*400*time.Millisecond)))
	if last.Values[0].S != "0000" || lastAvg != 0.3 || last.Values[2].I != 1 {
		t.Fatalf("returning key: %v", last.Values)
	}
	if want := (gens - 3) * keysPerGen; staggerRows < want {
		t.Fatalf("%d stagger rows, want at least %d", staggerRows, want)
	}
}
