package kda

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// feedRow is one row inserted into an input stream at ms.
type feedRow struct {
	stream string
	ms     int64
	vals   []Value
}

// splitRun inserts rows into a fresh engine per part (restored from the
// state the previous part saved, as a Lambda's cold starts are) and returns
// every row of streams as "stream rowtime [values]", after a final Flush.
func splitRun(t *testing.T, sql string, inputs []Input, streams []string, rows []feedRow, parts int, opts ...func(*EngineOptions)) []string {
	t.Helper()
	var out []string
	var state []byte
	var e *Engine
	for i := range parts {
		e = must(NewEngine(sql, inputs, opts...))
		for _, s := range streams {
			must(0, e.Subscribe(s, func(r Row) { out = append(out, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
		}
		if state != nil {
			if err := e.RestoreState(state); err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
		}
		for _, r := range rows[i*len(rows)/parts : (i+1)*len(rows)/parts] {
			must(0, e.Insert(r.stream, r.vals, time.UnixMilli(r.ms)))
		}
		state = e.State()
	}
	e.Flush()
	return out
}

func fmtRow(stream string, rt int64, vals ...Value) string {
	b := fmt.Appendf(nil, "%s %d [", stream, rt)
	for i, v := range vals {
		if i > 0 {
			b = append(b, ',')
		}
		b = v.AppendJSON(b)
	}
	return string(append(b, ']'))
}

// sameRuns checks that 1, 7 and 60 parts give the rows want.
func sameRuns(t *testing.T, sql string, inputs []Input, streams []string, rows []feedRow, want []string, opts ...func(*EngineOptions)) {
	t.Helper()
	for _, parts := range []int{1, 7, 60} {
		got := splitRun(t, sql, inputs, streams, rows, parts, opts...)
		if len(got) != len(want) {
			t.Fatalf("%d parts: %d rows, the brute force %d", parts, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%d parts: row %d\n got %s\nwant %s", parts, i, got[i], want[i])
			}
		}
	}
}

type demoRow struct {
	ms             int64
	ticker, sector string
	change, price  float64
	noPrice        bool
}

// demoRows are n demo rows a few hundred ms apart, with few distinct
// sectors and prices so that DISTINCT has duplicates to drop.
func demoRows(seed uint64, n int) []demoRow {
	rng := rand.New(rand.NewPCG(seed, 7))
	tickers := []string{"AMZN", "XOM", "WAS", "QXZ"}
	sectors := []string{"TECHNOLOGY", "ENERGY", "RETAIL"}
	ms := int64(1_700_000_000_000)
	var rows []demoRow
	for range n {
		ms += rng.Int64N(600)
		rows = append(rows, demoRow{ms: ms, ticker: tickers[rng.IntN(len(tickers))], sector: sectors[rng.IntN(len(sectors))],
			change: float64(rng.IntN(5)) - 2, price: float64(50 + rng.IntN(6)), noPrice: rng.IntN(12) == 0})
	}
	return rows
}

func (r demoRow) feed() feedRow {
	price := FloatValue(r.price)
	if r.noPrice {
		price = Value{}
	}
	return feedRow{DefaultInputStream, r.ms, []Value{StringValue(r.ticker), StringValue(r.sector), FloatValue(r.change), price}}
}

func feedDemo(rows []demoRow) []feedRow {
	var out []feedRow
	for _, r := range rows {
		out = append(out, r.feed())
	}
	return out
}

const distinctSQL = `CREATE STREAM "D" (w TIMESTAMP, ticker VARCHAR(4), sector VARCHAR(16));
CREATE PUMP "P1" AS INSERT INTO "D"
SELECT STREAM DISTINCT STEP(ROWTIME BY INTERVAL '10' SECOND), ticker_symbol, sector
FROM "SOURCE_SQL_STREAM_001" WHERE change <> 2;
CREATE STREAM "G" (ticker VARCHAR(4), n BIGINT, sectors BIGINT, prices BIGINT, sp DOUBLE, ap DOUBLE, mx DOUBLE);
CREATE PUMP "P2" AS INSERT INTO "G"
SELECT STREAM ticker_symbol, COUNT(*), COUNT(DISTINCT sector), COUNT(DISTINCT price), SUM(DISTINCT price),
  AVG(DISTINCT price), MAX(DISTINCT price)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE);`

// TestDistinctMatchesBruteForce: SELECT STREAM DISTINCT and aggregates
// with DISTINCT in a tumbling window agree with a brute-force scan of
// random rows, in one part and across restored invocations.
func TestDistinctMatchesBruteForce(t *testing.T) {
	rows := demoRows(5, 3000)
	var want []string
	// SELECT STREAM DISTINCT: a row is new within its 10-second step.
	seen := map[string]bool{}
	var cur int64 = -1
	var groups []string // the tumbling output, emitted as each minute closes
	type agg struct {
		n       int64
		sectors map[string]bool
		prices  map[float64]bool
	}
	var minute int64 = -1
	var order []string
	aggs := map[string]*agg{}
	closeMinute := func() {
		for _, tk := range order {
			a := aggs[tk]
			vals := []Value{StringValue(tk), IntValue(a.n), IntValue(int64(len(a.sectors))), IntValue(int64(len(a.prices)))}
			if len(a.prices) == 0 {
				vals = append(vals, Value{}, Value{}, Value{})
			} else {
				ps := make([]float64, 0, len(a.prices))
				for p := range a.prices {
					ps = append(ps, p)
				}
				slices.Sort(ps)
				sum := 0.0
				for _, p := range ps {
					sum += p
				}
				vals = append(vals, FloatValue(sum), FloatValue(sum/float64(len(ps))), FloatValue(ps[len(ps)-1]))
			}
			groups = append(groups, fmtRow("G", (minute+1)*60000, vals...))
		}
		order, aggs = nil, map[string]*agg{}
	}
	for _, r := range rows {
		if m := r.ms / 60000; m != minute {
			if minute >= 0 {
				closeMinute()
				want = append(want, groups...)
				groups = nil
			}
			minute = m
		}
		a := aggs[r.ticker]
		if a == nil {
			a = &agg{sectors: map[string]bool{}, prices: map[float64]bool{}}
			aggs[r.ticker] = a
			order = append(order, r.ticker)
		}
		a.n++
		a.sectors[r.sector] = true
		if !r.noPrice {
			a.prices[r.price] = true
		}
		if r.change == 2 {
			continue
		}
		step := r.ms / 10000 * 10000
		if step != cur {
			cur, seen = step, map[string]bool{}
		}
		k := r.ticker + "/" + r.sector
		if !seen[k] {
			seen[k] = true
			want = append(want, fmtRow("D", r.ms, TimeValue(time.UnixMilli(step)), StringValue(r.ticker), StringValue(r.sector)))
		}
	}
	closeMinute()
	want = append(want, groups...)
	if n := len(want); n < 500 {
		t.Fatalf("only %d rows", n)
	}
	sameRuns(t, distinctSQL, []Input{demoInput}, []string{"D", "G"}, feedDemo(rows), want)
}

func TestDistinctErrors(t *testing.T) {
	const from = ` FROM "SOURCE_SQL_STREAM_001"`
	stream := `CREATE STREAM "o" (a VARCHAR(4), n BIGINT); CREATE PUMP "p" AS INSERT INTO "o" `
	for sql, want := range map[string]string{
		stream + `SELECT STREAM DISTINCT ticker_symbol, 1` + from:                                          "needs a monotonic item",
		stream + `SELECT STREAM ticker_symbol, SUM(DISTINCT price) OVER (ROWS UNBOUNDED PRECEDING)` + from: "DISTINCT needs a bounded window",
		stream + `SELECT STREAM ticker_symbol, UPPER(DISTINCT ticker_symbol)` + from:                       "DISTINCT in UPPER(…): only the aggregates",
		stream + `SELECT STREAM ticker_symbol, LAG(DISTINCT price) OVER (ROWS 2 PRECEDING)` + from:         "DISTINCT in LAG(…): only the aggregates",
	} {
		_, err := NewEngine(sql, []Input{demoInput})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  %v, want %q", sql, err, want)
		}
		var ue *UnsupportedError
		if err == nil {
			continue
		}
		if strings.Contains(err.Error(), "is not supported yet") != errors.As(err, &ue) || want == "needs a monotonic item" && ue != nil {
			t.Errorf("%s: %v: UnsupportedError %v", sql, err, ue)
		}
	}
}

// TestDistinctWithWindows: SELECT STREAM DISTINCT over a GROUP BY drops
// the duplicates among the rows one window emits, and over OVER the
// duplicates among the rows of one value of its monotonic item; with
// ROWTIME and another monotonic item, ROWTIME does not count (the
// reference's unique products a day); as a brute force finds them, and
// the same in 1, 7 and 60 restored parts.
func TestDistinctWithWindows(t *testing.T) {
	sql := `CREATE STREAM "C" (n BIGINT);
CREATE PUMP "P1" AS INSERT INTO "C"
SELECT STREAM DISTINCT COUNT(*) FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE);
CREATE STREAM "M" (w TIMESTAMP, ticker VARCHAR(4), mx DOUBLE);
CREATE PUMP "P2" AS INSERT INTO "M"
SELECT STREAM DISTINCT STEP(ROWTIME BY INTERVAL '10' SECOND), ticker_symbol,
  MAX(price) OVER (PARTITION BY ticker_symbol RANGE INTERVAL '10' SECOND PRECEDING)
FROM "SOURCE_SQL_STREAM_001";
CREATE STREAM "R" (t TIMESTAMP, ticker VARCHAR(4), m TIMESTAMP);
CREATE PUMP "P3" AS INSERT INTO "R"
SELECT STREAM DISTINCT ROWTIME, ticker_symbol, FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE) FROM "SOURCE_SQL_STREAM_001";`
	rows := demoRows(9, 3000)
	var want, counts []string
	var minute, step int64 = -1, -1
	var order []string
	n := map[string]int64{}
	closeMinute := func() {
		seen := map[int64]bool{}
		for _, tk := range order {
			if !seen[n[tk]] {
				seen[n[tk]] = true
				counts = append(counts, fmtRow("C", (minute+1)*60000, IntValue(n[tk])))
			}
		}
		order, n = nil, map[string]int64{}
	}
	seen, tickers := map[string]bool{}, map[string]bool{}
	for i, r := range rows {
		if m := r.ms / 60000; m != minute {
			if minute >= 0 {
				closeMinute()
				want = append(want, counts...)
				counts = nil
			}
			minute = m
		}
		if n[r.ticker] == 0 {
			order = append(order, r.ticker)
		}
		// "R": ROWTIME does not count for duplicates, the minute bounds them.
		mStart := r.ms / 60000 * 60000
		if len(tickers) == 0 || !tickers["@"+fmt.Sprint(mStart)] {
			tickers = map[string]bool{"@" + fmt.Sprint(mStart): true}
		}
		rrow := fmtRow("R", r.ms, TimeValue(time.UnixMilli(r.ms)), StringValue(r.ticker), TimeValue(time.UnixMilli(mStart)))
		n[r.ticker]++
		mx := Value{}
		for j := 0; j <= i; j++ {
			if q := rows[j]; q.ticker == r.ticker && q.ms >= r.ms-10_000 && !q.noPrice && (mx.IsNull() || q.price > mx.Float()) {
				mx = FloatValue(q.price)
			}
		}
		if s := r.ms / 10000 * 10000; s != step {
			step, seen = s, map[string]bool{}
		}
		k := fmtRow("", 0, StringValue(r.ticker), mx)
		if !seen[k] {
			seen[k] = true
			want = append(want, fmtRow("M", r.ms, TimeValue(time.UnixMilli(step)), StringValue(r.ticker), mx))
		}
		if !tickers[r.ticker] {
			tickers[r.ticker] = true
			want = append(want, rrow)
		}
	}
	closeMinute()
	want = append(want, counts...)
	sameRuns(t, sql, []Input{demoInput}, []string{"C", "M", "R"}, feedDemo(rows), want)
}
