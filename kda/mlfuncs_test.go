package kda

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/internal/awstest"
)

// anomalyRecords are n demo records (CHANGE around 0, PRICE around 100)
// with k anomalies injected after the first 1000: PRICE far above the
// bulk (even ones) or CHANGE far below it (odd ones). It returns the
// records and which indexes are injected, and which column each one's
// anomaly is in and its direction.
func anomalyRecords(n, k int, seed uint64) ([][]byte, map[int]string) {
	rng := rand.New(rand.NewPCG(seed, 5))
	tickers := []string{"AMZN", "XOM", "WAS", "QXZ", "NFLX"}
	injected := map[int]string{}
	for len(injected) < k {
		i := 1000 + rng.IntN(n-1000)
		if _, dup := injected[i]; !dup {
			injected[i] = [...]string{"PRICE HIGH", "CHANGE LOW"}[len(injected)%2]
		}
	}
	recs := make([][]byte, n)
	for i := range recs {
		change, price := rng.NormFloat64(), 100+10*rng.NormFloat64()
		switch injected[i] {
		case "PRICE HIGH":
			price += 300
		case "CHANGE LOW":
			change -= 30
		}
		recs[i] = fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"TECHNOLOGY","CHANGE":%.3f,"PRICE":%.2f}`, tickers[rng.IntN(len(tickers))], change, price)
	}
	return recs, injected
}

// runRows inserts recs a second apart and returns every row of stream.
func runRows(t *testing.T, e *Engine, stream string, recs [][]byte) []Row {
	t.Helper()
	var rows []Row
	must(0, e.Subscribe(stream, func(r Row) { rows = append(rows, r.Clone()) }))
	t0 := time.UnixMilli(1_700_000_000_000)
	for i, r := range recs {
		must(0, e.InsertJSON(DefaultInputStream, r, t0.Add(time.Duration(i)*time.Second)))
	}
	e.Flush()
	return rows
}

// topIndexes returns the indexes of the k largest values of col.
func topIndexes(rows []Row, col, k int) []int {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		x, y := rows[a].Values[col].Float(), rows[b].Values[col].Float()
		switch {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	return idx[:k]
}

const rcfSQL = `CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (TICKER_SYMBOL VARCHAR(4), CHANGE DOUBLE, PRICE DOUBLE, ANOMALY_SCORE DOUBLE);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM TICKER_SYMBOL, CHANGE, PRICE, ANOMALY_SCORE
FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));`

// TestRandomCutForestSQL: through SQL with KDA's defaults, the injected
// anomalies get the highest ANOMALY_SCOREs, every row comes out once at
// its ROWTIME, and a replay gives the same scores.
func TestRandomCutForestSQL(t *testing.T) {
	recs, injected := anomalyRecords(3000, 10, 1)
	run := func() []Row {
		return runRows(t, must(NewEngine(rcfSQL, []Input{demoInput})), "DESTINATION_SQL_STREAM", recs)
	}
	rows := run()
	if len(rows) != len(recs) {
		t.Fatalf("%d rows for %d records", len(rows), len(recs))
	}
	if rows[0].Values[3].Float() != 0 || rows[5].Rowtime != 1_700_000_005_000 {
		t.Fatalf("first score %v, ROWTIME of row 5 %d", rows[0].Values[3], rows[5].Rowtime)
	}
	for _, i := range topIndexes(rows[1000:], 3, len(injected)) {
		if _, ok := injected[1000+i]; !ok {
			t.Errorf("row %d (%s) is among the top %d scores but not injected", 1000+i, rows[1000+i].AppendJSON(nil), len(injected))
		}
	}
	again := run()
	for i := range rows {
		if rows[i].Values[3] != again[i].Values[3] {
			t.Fatalf("row %d scores %v, then %v in a replay", i, rows[i].Values[3], again[i].Values[3])
		}
	}
}

type attribution struct {
	Direction string `json:"DIRECTION"`
	Strength  string `json:"STRENGTH"`
	Score     string `json:"ATTRIBUTION_SCORE"`
}

// TestRandomCutForestWithExplanationSQL: ANOMALY_EXPLANATION names every
// numeric column; the attributions sum to ANOMALY_SCORE; for each
// injected anomaly the injected column is the strongest, in the injected
// direction.
func TestRandomCutForestWithExplanationSQL(t *testing.T) {
	sql := `CREATE OR REPLACE STREAM "D" (PRICE DOUBLE, ANOMALY_SCORE DOUBLE, ANOMALY_EXPLANATION VARCHAR(512));
CREATE OR REPLACE PUMP "P" AS INSERT INTO "D"
SELECT STREAM PRICE, ANOMALY_SCORE, ANOMALY_EXPLANATION
FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 100, 256, 100000, 1, true));`
	recs, injected := anomalyRecords(2500, 8, 2)
	rows := runRows(t, must(NewEngine(sql, []Input{demoInput})), "D", recs)
	for i, r := range rows {
		var ex map[string]attribution
		if err := json.Unmarshal([]byte(r.Values[2].S), &ex); err != nil || len(ex) != 2 {
			t.Fatalf("row %d: ANOMALY_EXPLANATION %s: %v", i, r.Values[2].S, err)
		}
		sum := 0.0
		for _, a := range ex {
			sum += must(strconv.ParseFloat(a.Score, 64))
		}
		if score := r.Values[1].F; math.Abs(sum-score) > 1e-3 {
			t.Fatalf("row %d: attributions sum to %v, ANOMALY_SCORE %v", i, sum, score)
		}
		want, ok := injected[i]
		if !ok {
			continue
		}
		col, dir, _ := strings.Cut(want, " ")
		other := map[string]string{"PRICE": "CHANGE", "CHANGE": "PRICE"}[col]
		if a, b := must(strconv.ParseFloat(ex[col].Score, 64)), must(strconv.ParseFloat(ex[other].Score, 64)); !(a > 5*b) || ex[col].Direction != dir {
			t.Errorf("row %d, %s injected: %s", i, want, r.Values[2].S)
		}
	}
	without := strings.Replace(sql, ", 100, 256, 100000, 1, true", "", 1)
	rows = runRows(t, must(NewEngine(without, []Input{demoInput})), "D", recs[:300])
	if s := rows[299].Values[2].S; strings.Contains(s, "DIRECTION") || !strings.Contains(s, `"PRICE":{"ATTRIBUTION_SCORE":"`) {
		t.Fatalf("without directionality: %s", s)
	}
}

var xyInput = Input{Columns: []Column{{Name: "ID", Type: Varchar(8)}, {Name: "X", Type: Double}, {Name: "Y", Type: Integer}}}

type hotspotsResult struct {
	Hotspots []struct {
		Density float64   `json:"density"`
		Min     []float64 `json:"minValues"`
		Max     []float64 `json:"maxValues"`
	} `json:"hotspots"`
}

// TestHotspotsSQL: HOTSPOTS over a uniform background with two dense
// regions reports those two, their boxes around them, densest first.
func TestHotspotsSQL(t *testing.T) {
	sql := `CREATE OR REPLACE STREAM "D" (ID VARCHAR(8), HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP "P" AS INSERT INTO "D"
SELECT STREAM ID, HOTSPOTS_RESULT FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 500, 4.0, 20));`
	rng := rand.New(rand.NewPCG(7, 7))
	var recs [][]byte
	for i := range 1500 {
		x, y := rng.Float64()*1000, rng.IntN(1000)
		switch i % 4 {
		case 1:
			x, y = 200+rng.Float64()*5, 300+rng.IntN(5)
		case 2:
			x, y = 700+rng.Float64()*10, 800+rng.IntN(10)
		}
		recs = append(recs, fmt.Appendf(nil, `{"ID":"r%d","X":%.3f,"Y":%d}`, i, x, y))
	}
	rows := runRows(t, must(NewEngine(sql, []Input{xyInput})), "D", recs)
	var res hotspotsResult
	if err := json.Unmarshal([]byte(rows[len(rows)-1].Values[1].S), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Hotspots) != 2 {
		t.Fatalf("%d hotspots: %s", len(res.Hotspots), rows[len(rows)-1].Values[1].S)
	}
	for i, want := range [][4]float64{{200, 300, 205, 305}, {700, 800, 710, 810}} {
		h := res.Hotspots[i]
		if math.Abs(h.Min[0]-want[0]) > 1 || math.Abs(h.Min[1]-want[1]) > 1 || math.Abs(h.Max[0]-want[2]) > 1 || math.Abs(h.Max[1]-want[3]) > 1 || h.Density < 100 {
			t.Errorf("hotspot %d: %+v, want a box about %v", i, h, want)
		}
	}
	if first := rows[0].Values[1].S; first != `{"hotspots":[]}` {
		t.Fatalf("first row: %s", first)
	}
}

// TestMLFunctionArguments: wrong arguments fail at compile time naming
// the function, the argument and its line:col.
func TestMLFunctionArguments(t *testing.T) {
	cur := `CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")`
	for _, c := range []struct{ call, want string }{
		{`RANDOM_CUT_FOREST(` + cur + `, 0)`, "RANDOM_CUT_FOREST argument 2 (numberOfTrees): must be from 1 to 1000, got 0"},
		{`RANDOM_CUT_FOREST(` + cur + `, 100, 256, 100000, 1, TRUE)`, "RANDOM_CUT_FOREST: takes a CURSOR and 0 to 4 arguments"},
		{`RANDOM_CUT_FOREST(` + cur + `, 100, 0)`, "argument 3 (subSampleSize): must be from 1 to 65536, got 0"},
		{`RANDOM_CUT_FOREST(` + cur + `, 100, 256, 0.5)`, "argument 4 (timeDecay): must be an integer"},
		{`RANDOM_CUT_FOREST(` + cur + `, 100, 256, 100000, 0)`, "argument 5 (shingleSize): must be from 1"},
		{`RANDOM_CUT_FOREST_WITH_EXPLANATION(` + cur + `, 100, 256, 100000, 1, 5)`, "RANDOM_CUT_FOREST_WITH_EXPLANATION argument 6 (withDirectionality)"},
		{`HOTSPOTS(` + cur + `, 100)`, "HOTSPOTS: takes a CURSOR and 3 arguments (windowSize, scanRadius, minimumNumberOfPointsInAHotspot), got 1"},
		{`HOTSPOTS(` + cur + `, 100, -1, 3)`, "HOTSPOTS argument 3 (scanRadius): must be from"},
		{`HOTSPOTS(` + cur + `, 100, 1.5, 1)`, "HOTSPOTS argument 4 (minimumNumberOfPointsInAHotspot): must be from 2 to 100, got 1"},
		{`RANDOM_CUT_FOREST(CURSOR(SELECT STREAM TICKER_SYMBOL FROM "SOURCE_SQL_STREAM_001"))`, "RANDOM_CUT_FOREST: the cursor has no numeric column"},
	} {
		sql := `CREATE STREAM "D" (S DOUBLE);
CREATE PUMP "P" AS INSERT INTO "D" SELECT STREAM 1.0 FROM TABLE(` + c.call + `);`
		_, err := NewEngine(sql, []Input{demoInput})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "sql 2:") {
			t.Errorf("%s:\n got %v\nwant …%s…", c.call, err, c.want)
		}
	}
}

// mlStateSQL runs the three functions side by side: RANDOM_CUT_FOREST
// with KDA's defaults, the explanation with a shingle and a short decay
// (so that trees evict across invocations), and HOTSPOTS.
const mlStateSQL = `CREATE STREAM "A" (T VARCHAR(4), PRICE DOUBLE, S DOUBLE);
CREATE PUMP "PA" AS INSERT INTO "A" SELECT STREAM TICKER_SYMBOL, PRICE, ANOMALY_SCORE
FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001")));
CREATE STREAM "B" (S DOUBLE, E VARCHAR(1000));
CREATE PUMP "PB" AS INSERT INTO "B" SELECT STREAM ANOMALY_SCORE, ANOMALY_EXPLANATION
FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM CHANGE, PRICE FROM "SOURCE_SQL_STREAM_001"), 30, 64, 500, 2, TRUE));
CREATE STREAM "H" (R VARCHAR(10000));
CREATE PUMP "PH" AS INSERT INTO "H" SELECT STREAM HOTSPOTS_RESULT
FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM CHANGE, PRICE FROM "SOURCE_SQL_STREAM_001"), 200, 3.0, 8));`

// mlStatefulRun feeds recs in the given number of invocations, saving the
// state in store after each; a fresh engine restored from the store
// serves an invocation when coldStart says so (always the first).
func mlStatefulRun(t *testing.T, store StateStore, key string, recs [][]byte, arrivals []time.Time, invocations int, coldStart func(int) bool) (string, int) {
	t.Helper()
	ctx := context.Background()
	var out strings.Builder
	var e *Engine
	size := 0
	for i := range invocations {
		if e == nil || coldStart(i) {
			e = must(NewEngine(mlStateSQL, []Input{demoInput}))
			for _, s := range []string{"A", "B", "H", ErrorStream} {
				must(0, e.Subscribe(s, func(r Row) { fmt.Fprintf(&out, "%s %d %s\n", r.Stream, r.Rowtime, r.AppendJSON(nil)) }))
			}
			must(e.LoadState(ctx, store, key))
		}
		for j := i * len(recs) / invocations; j < (i+1)*len(recs)/invocations; j++ {
			must(0, e.InsertJSON(DefaultInputStream, recs[j], arrivals[j]))
		}
		must(0, e.SaveState(ctx, store, key))
		size = max(size, len(e.State()))
	}
	e.Flush()
	return out.String(), size
}

// mlStateInput is stateEvents' data and arrival times.
func mlStateInput() ([][]byte, []time.Time) {
	var recs [][]byte
	var arrivals []time.Time
	for _, r := range stateEvents(1500) {
		recs = append(recs, r.Kinesis.Data)
		arrivals = append(arrivals, r.Kinesis.ApproximateArrivalTimestamp.Time)
	}
	return recs, arrivals
}

// TestMLStateSplits: the three functions give byte-identical rows whether
// the input comes in 1, 10 or 100 invocations, each a cold start
// restored from the state, or in 10 warm ones with a restart.
func TestMLStateSplits(t *testing.T) {
	recs, arrivals := mlStateInput()
	store := &MemoryCheckpoints{}
	want, size := mlStatefulRun(t, store, "one", recs, arrivals, 1, func(int) bool { return true })
	if n := strings.Count(want, "\n"); n != 3*len(recs) {
		t.Fatalf("%d rows, want %d", n, 3*len(recs))
	}
	if !strings.Contains(want, `density`) || strings.Contains(want, ErrorStream) {
		i := max(strings.Index(want, ErrorStream), 0)
		t.Fatalf("no hotspot, or rows in the error_stream: %.600s", want[i:])
	}
	for _, c := range []struct {
		name  string
		n     int
		fresh func(int) bool
	}{
		{"10 cold", 10, func(int) bool { return true }},
		{"100 cold", 100, func(int) bool { return true }},
		{"10 warm, restart at 6", 10, func(i int) bool { return i == 6 }},
	} {
		got, _ := mlStatefulRun(t, store, c.name, recs, arrivals, c.n, c.fresh)
		if got != want {
			gl, wl := strings.Split(got, "\n"), strings.Split(want, "\n")
			for i := range min(len(gl), len(wl)) {
				if gl[i] != wl[i] {
					t.Fatalf("%s: row %d\n got %s\nwant %s", c.name, i, gl[i], wl[i])
				}
			}
			t.Fatalf("%s: %d rows, want %d", c.name, len(gl), len(wl))
		}
	}
	t.Logf("state of the three functions after %d records: %d bytes", len(recs), size)
}

// BenchmarkRandomCutForest is the RCF benchmark: RANDOM_CUT_FOREST
// with KDA's defaults (100 trees of 256 points) over the demo stream's
// JSON records (CHANGE and PRICE numeric), one scored row out per record,
// on one goroutine; the forest is in its steady state (trees full) before
// the timer starts.
func BenchmarkRandomCutForest(b *testing.B) {
	recs, _ := anomalyRecords(10_000, 5, 3)
	benchRows(b, must(NewEngine(rcfSQL, []Input{demoInput})), "DESTINATION_SQL_STREAM", recs, 5000)
}

// benchRows is the body of the table-function benchmarks: recs in turn, a
// millisecond apart, warm of them before the timer and b.N timed, each
// giving one row of stream (written as JSON); rows/s and rows/cpu-s.
func benchRows(b *testing.B, e *Engine, stream string, recs [][]byte, warm int) {
	var buf []byte
	rows := 0
	must(0, e.Subscribe(stream, func(r Row) { buf = r.AppendJSON(buf[:0]); rows++ }))
	t0 := time.UnixMilli(1_700_000_000_000)
	for i := range warm {
		_ = e.InsertJSON(DefaultInputStream, recs[i%len(recs)], t0.Add(time.Duration(i)*time.Millisecond))
	}
	rows = 0
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := range b.N {
		_ = e.InsertJSON(DefaultInputStream, recs[(warm+i)%len(recs)], t0.Add(time.Duration(warm+i)*time.Millisecond))
	}
	reportRate(b, float64(b.N), "rows", cpu0)
	if rows != b.N {
		b.Fatalf("%d output rows for %d records", rows, b.N)
	}
}

// TestMLStateDynamoDB: the state of the three functions (over one
// DynamoDB item with KDA's default forest) kept in DynamoDB across 10
// cold invocations gives the rows of one run.
func TestMLStateDynamoDB(t *testing.T) {
	recs, arrivals := mlStateInput()
	want, size := mlStatefulRun(t, &MemoryCheckpoints{}, "k", recs, arrivals, 1, func(int) bool { return true })
	if size <= MaxDynamoDBStateBytes {
		t.Fatalf("the state is %d bytes: not over one item", size)
	}
	d := awstest.DynamoDB(t)
	store := must(NewDynamoDBCheckpoints(d, newCheckpointTable(t, d, "mlstate"), "ml"))
	if got, _ := mlStatefulRun(t, store, "k", recs, arrivals, 10, func(int) bool { return true }); got != want {
		t.Fatal("rows differ with the state in DynamoDB")
	}
}

// mlFuzzSQL is mlStateSQL with small models, so that its states make
// quick fuzz seeds.
const mlFuzzSQL = `CREATE STREAM "A" (S DOUBLE, E VARCHAR(1000));
CREATE PUMP "PA" AS INSERT INTO "A" SELECT STREAM ANOMALY_SCORE, ANOMALY_EXPLANATION
FROM TABLE(RANDOM_CUT_FOREST_WITH_EXPLANATION(CURSOR(SELECT STREAM CHANGE, PRICE FROM "SOURCE_SQL_STREAM_001"), 3, 8, 20, 2, TRUE));
CREATE STREAM "H" (R VARCHAR(10000));
CREATE PUMP "PH" AS INSERT INTO "H" SELECT STREAM HOTSPOTS_RESULT
FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM CHANGE, PRICE FROM "SOURCE_SQL_STREAM_001"), 20, 3.0, 3));`

// FuzzRestoreMLState: engine states holding a forest and a hotspots
// window either restore or fail with a *StateError that leaves the
// engine as it was; a restored engine keeps running.
func FuzzRestoreMLState(f *testing.F) {
	recs, arrivals := mlStateInput()
	newEngine := func() *Engine { return must(NewEngine(mlFuzzSQL, []Input{demoInput})) }
	e := newEngine()
	var seeds [][]byte
	for i := range 60 {
		must(0, e.InsertJSON(DefaultInputStream, recs[i], arrivals[i]))
		if i%20 == 3 {
			seeds = append(seeds, e.State())
		}
	}
	fuzzRestore(f, newEngine, seeds, func(e *Engine) {
		for i := range 10 {
			must(0, e.InsertJSON(DefaultInputStream, recs[i], arrivals[len(arrivals)-1]))
		}
	})
}

// BenchmarkHotspots: HOTSPOTS over a window of 1,000 2-D points (a
// uniform background and, every third record, one of two dense balls; the
// defaults measured before: scanRadius 3, 12 points) from JSON records
// through SQL, one HOTSPOTS_RESULT row out per record (written as JSON),
// on one goroutine;
// the window is full before the timer starts.
func BenchmarkHotspots(b *testing.B) {
	sql := `CREATE OR REPLACE STREAM "D" (ID VARCHAR(8), HOTSPOTS_RESULT VARCHAR(10000));
CREATE OR REPLACE PUMP "P" AS INSERT INTO "D"
SELECT STREAM ID, HOTSPOTS_RESULT FROM TABLE(HOTSPOTS(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 1000, 3.0, 12));`
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([][]byte, 4096)
	for i := range recs {
		x, y := rng.Float64()*100, rng.Float64()*100
		if i%3 == 0 {
			c := [][2]float64{{20, 20}, {40, 70}}[rng.IntN(2)]
			x, y = c[0]+rng.Float64()*3-1.5, c[1]+rng.Float64()*3-1.5
		}
		recs[i] = fmt.Appendf(nil, `{"ID":"r%d","X":%.4f,"Y":%d}`, i, x, int(y))
	}
	benchRows(b, must(NewEngine(sql, []Input{xyInput})), "D", recs, 1000)
}
