package kda

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/lakekit/lakekit/internal/awstest"
)

// stateSQL has a window of each kind whose state spans invocations:
// sliding (RANGE and ROWS, partitioned and not, with running sums,
// variance, DISTINCT and ANY/EVERY), UNBOUNDED PRECEDING, tumbling on
// ROWTIME, stagger, a tumbling window on an event time, GROUP BY
// MONOTONIC(…), SELECT STREAM DISTINCT of a GROUP BY, the tumbling
// table functions TOP_K_ITEMS_TUMBLING and COUNT_DISTINCT_ITEMS_TUMBLING,
// the rows a streaming ORDER BY gathers (of a GROUP BY, of plain rows, of a
// subquery's UNION ALL and of a CURSOR),
// and GROUP_RANK over a GROUP BY and over the records (the last record's
// group always waits in the state for the next ROWTIME).
const stateSQL = slideSQL + `
CREATE STREAM "T" (ticker VARCHAR(4), n BIGINT, s DOUBLE, mn DOUBLE, mx DOUBLE, a DOUBLE);
CREATE PUMP "P3" AS INSERT INTO "T"
SELECT STREAM ticker_symbol, COUNT(*), SUM(price), MIN(price), MAX(price), AVG(change)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '20' SECOND);
CREATE STREAM "S" (ticker VARCHAR(4), n BIGINT, hi DOUBLE);
CREATE PUMP "P4" AS INSERT INTO "S"
SELECT STREAM ticker_symbol, COUNT(*), MAX(price)
FROM "SOURCE_SQL_STREAM_001"
WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '15' SECOND);
CREATE STREAM "K" (ticker VARCHAR(4), n BIGINT);
CREATE PUMP "P5" AS INSERT INTO "K"
SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), 'TICKER_SYMBOL', 3, 10));
CREATE STREAM "D" (n BIGINT);
CREATE PUMP "P6" AS INSERT INTO "D"
SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" WHERE sector <> 'SKIP'), 'PRICE', 20));
CREATE STREAM "OG" (ticker VARCHAR(4), n BIGINT, hi DOUBLE);
CREATE PUMP "P7" AS INSERT INTO "OG"
SELECT STREAM ticker_symbol, COUNT(*), MAX(price) FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE)
ORDER BY FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE), COUNT(*) DESC;
CREATE STREAM "OS" (ticker VARCHAR(4), price DOUBLE);
CREATE PUMP "P8" AS INSERT INTO "OS" SELECT STREAM ticker_symbol, price FROM "SOURCE_SQL_STREAM_001"
ORDER BY STEP(ROWTIME BY INTERVAL '5' SECOND), price DESC, ticker_symbol;
CREATE STREAM "V" (ticker VARCHAR(4), sd DOUBLE, vs DOUBLE, dn BIGINT, ds DOUBLE, up BOOLEAN, down BOOLEAN);
CREATE PUMP "P9" AS INSERT INTO "V"
SELECT STREAM ticker_symbol, STDDEV_POP(price) OVER W, VAR_SAMP(change) OVER (ROWS 40 PRECEDING),
  COUNT(DISTINCT ticker_symbol) OVER (ROWS 30 PRECEDING), SUM(DISTINCT price) OVER W, ANY(change > 1.5) OVER W, EVERY(change < 1) OVER W
FROM "SOURCE_SQL_STREAM_001" WINDOW W AS (PARTITION BY ticker_symbol RANGE INTERVAL '10' SECOND PRECEDING);
CREATE STREAM "U" (ticker VARCHAR(4), n BIGINT, mn DOUBLE, mx DOUBLE, fv DOUBLE, nth DOUBLE, lag2 DOUBLE, sd DOUBLE, a DOUBLE);
CREATE PUMP "P10" AS INSERT INTO "U"
SELECT STREAM ticker_symbol, COUNT(*) OVER X, MIN(price) OVER X, MAX(price) OVER X, FIRST_VALUE(price) OVER X,
  NTH_VALUE(price, 50) OVER X, LAG(price, 2) OVER X, STDDEV_SAMP(price) OVER X, AVG(change) OVER (RANGE UNBOUNDED PRECEDING)
FROM "SOURCE_SQL_STREAM_001" WINDOW X AS (PARTITION BY ticker_symbol ROWS UNBOUNDED PRECEDING);
CREATE STREAM "M" (w TIMESTAMP, ticker VARCHAR(4), n BIGINT, up BOOLEAN);
CREATE PUMP "P11" AS INSERT INTO "M"
SELECT STREAM MONOTONIC(STEP(ROWTIME BY INTERVAL '5' SECOND)), ticker_symbol, COUNT(*), EVERY(change > -1.5)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY MONOTONIC(STEP(ROWTIME BY INTERVAL '5' SECOND)), ticker_symbol;
CREATE STREAM "N" (n BIGINT);
CREATE PUMP "P12" AS INSERT INTO "N"
SELECT STREAM DISTINCT COUNT(*) FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '20' SECOND);
CREATE STREAM "G" (ticker VARCHAR(4), n BIGINT, r INTEGER);
CREATE PUMP "P13" AS INSERT INTO "G"
SELECT STREAM * FROM TABLE(GROUP_RANK(CURSOR(SELECT STREAM ticker_symbol, COUNT(*) AS n FROM "SOURCE_SQL_STREAM_001"
  GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '5' SECOND)), 'N', 'R', 'desc', 'asc', 0, 3));
CREATE STREAM "H" (ticker VARCHAR(4), price DOUBLE, r INTEGER);
CREATE PUMP "P14" AS INSERT INTO "H"
SELECT STREAM * FROM TABLE(GROUP_RANK(CURSOR(SELECT STREAM ticker_symbol, price FROM "SOURCE_SQL_STREAM_001"), 'PRICE', 'R', 'asc', 'desc', 100, 0));
CREATE STREAM "OQ" (ticker VARCHAR(4), price DOUBLE);
CREATE PUMP "P15" AS INSERT INTO "OQ"
SELECT STREAM ticker_symbol, price FROM (
  SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" WHERE change > 0
  UNION ALL SELECT STREAM ticker_symbol, 'LOW', change, price * 2 FROM "SOURCE_SQL_STREAM_001" WHERE change <= 0
  ORDER BY STEP(ROWTIME BY INTERVAL '5' SECOND), price DESC, ticker_symbol) AS q;
CREATE STREAM "OC" (ticker VARCHAR(4), n BIGINT);
CREATE PUMP "P16" AS INSERT INTO "OC"
SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001"
  ORDER BY STEP(ROWTIME BY INTERVAL '3' SECOND), ticker_symbol DESC), 'TICKER_SYMBOL', 2, 10));`

var stateStreams = []string{"W", "R", "T", "S", "K", "D", "OG", "OS", "V", "U", "M", "N", "G", "H", "OQ", "OC"}

// stateEvents are n demo records, a few a second, some without a price.
func stateEvents(n int) []events.KinesisEventRecord {
	rng := rand.New(rand.NewPCG(16, 3))
	tickers := []string{"AMZN", "XOM", "WAS", "QXZ", "NFLX"}
	var out []events.KinesisEventRecord
	ms := int64(1_700_000_000_000)
	for i := range n {
		ms += rng.Int64N(700)
		tk := tickers[rng.IntN(len(tickers))]
		price := fmt.Sprintf(`,"PRICE":%.2f`, 50+rng.Float64()*100)
		if rng.IntN(10) == 0 {
			price = ""
		}
		data := fmt.Sprintf(`{"TICKER_SYMBOL":%q,"SECTOR":"TECHNOLOGY","CHANGE":%.2f%s}`, tk, rng.Float64()*4-2, price)
		seq := fmt.Sprintf("4959%08d", i)
		out = append(out, events.KinesisEventRecord{
			EventID:        "shardId-000000000000:" + seq,
			EventSourceArn: "arn:aws:kinesis:us-east-1:000000000000:stream/demo",
			Kinesis: events.KinesisRecord{SequenceNumber: seq, PartitionKey: tk, Data: []byte(data),
				ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: time.UnixMilli(ms)}},
		})
	}
	return out
}

// statefulRun feeds recs to the application through the Lambda handler in
// the given number of invocations, saving the window state after each.
// A fresh engine restored from the store serves an invocation when
// coldStart says so (always for the first). It returns every output row,
// stream, ROWTIME and JSON, after a final Flush.
func statefulRun(t *testing.T, store StateStore, key string, recs []events.KinesisEventRecord, invocations int, coldStart func(i int) bool) string {
	t.Helper()
	ctx := context.Background()
	var out bytes.Buffer
	var e *Engine
	for i := range invocations {
		if e == nil || coldStart(i) {
			e = must(NewEngine(stateSQL, []Input{demoInput}))
			for _, s := range stateStreams {
				must(0, e.Subscribe(s, func(r Row) { fmt.Fprintf(&out, "%s %d %s\n", r.Stream, r.Rowtime, r.AppendJSON(nil)) }))
			}
			if _, err := e.LoadState(ctx, store, key); err != nil {
				t.Fatal(err)
			}
		}
		lo, hi := i*len(recs)/invocations, (i+1)*len(recs)/invocations
		h := NewLambdaHandler(func(_ context.Context, r KinesisRecord) error {
			return e.InsertJSON(DefaultInputStream, r.Data, r.ArrivalTime)
		}, func(o *LambdaOptions) {
			o.AfterBatch = func(ctx context.Context) error { return e.SaveState(ctx, store, key) }
		})
		resp, err := h(ctx, events.KinesisEvent{Records: recs[lo:hi]})
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("invocation %d: %v %v", i, resp, err)
		}
	}
	e.Flush()
	return out.String()
}

// testStateSplits: the same input in 1, 10 and 100 invocations, each a
// cold start restored from the store, and in 10 warm invocations with one
// restart, gives byte-identical rows.
func testStateSplits(t *testing.T, store StateStore) {
	recs := stateEvents(2000)
	want := statefulRun(t, store, "one", recs, 1, func(int) bool { return true })
	if n := strings.Count(want, "\n"); n < 4000 {
		t.Fatalf("only %d rows", n)
	}
	for _, s := range stateStreams {
		if n := strings.Count("\n"+want, "\n"+s+" "); n < 10 {
			t.Fatalf("only %d rows in %q", n, s)
		}
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
		got := statefulRun(t, store, strings.ReplaceAll(c.name, " ", "-"), recs, c.n, c.fresh)
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
}

func TestStateSplitsMemory(t *testing.T) { testStateSplits(t, &MemoryCheckpoints{}) }

func TestStateSplitsDynamoDB(t *testing.T) {
	ctx := context.Background()
	d := awstest.DynamoDB(t)
	table := newCheckpointTable(t, d, "state")
	store := must(NewDynamoDBCheckpoints(d, table, "demo"))
	testStateSplits(t, store)

	// The state item does not disturb the shard checkpoints.
	if s, err := store.Checkpoint(ctx, "one"); err != nil || s != "" {
		t.Fatalf("checkpoint beside state: %q %v", s, err)
	}
	testStateParts(t, store)
	big := make([]byte, MaxDynamoDBStateParts*MaxDynamoDBStateBytes+1)
	var tooLarge *StateTooLargeError
	if err := store.SetState(ctx, "big", big); !errors.As(err, &tooLarge) || tooLarge.Size != len(big) || !strings.Contains(err.Error(), fmt.Sprint(len(big))) {
		t.Fatalf("oversized state: %v", err)
	}
	if b, err := store.State(ctx, "big"); err != nil || b != nil {
		t.Fatalf("oversized state was written: %d bytes, %v", len(b), err)
	}
}

// stateAfter returns the window state of an engine after recs.
func stateAfter(t testing.TB, recs []events.KinesisEventRecord) []byte {
	e := must(NewEngine(stateSQL, []Input{demoInput}))
	for _, r := range recs {
		must(0, e.InsertJSON(DefaultInputStream, r.Kinesis.Data, r.Kinesis.ApproximateArrivalTimestamp.Time))
	}
	return e.State()
}

func TestStateErrors(t *testing.T) {
	good := stateAfter(t, stateEvents(300))
	if again := stateAfter(t, stateEvents(300)); !bytes.Equal(good, again) {
		t.Fatal("equal inputs gave different state bytes")
	}
	other := must(NewEngine(slideSQL, []Input{demoInput}))
	bumped := append([]byte{}, good...)
	bumped[4] = 9
	for name, c := range map[string]struct {
		e     *Engine
		state []byte
		want  string
	}{
		"empty":         {nil, nil, "not a kda window state"},
		"version":       {nil, bumped, "version 9"},
		"truncated":     {nil, good[:len(good)/2], `pump "`},
		"trailing":      {nil, append(append([]byte{}, good...), 0), "bytes after the last pump"},
		"other app":     {other, good, "pumps"},
		"huge count":    {nil, append([]byte("KDAS\x01\x00"), binary.AppendUvarint(nil, 1<<40)...), "header: count 1099511627776 is more than the 0 bytes left hold"},
		"over the size": {nil, make([]byte, MaxStateBytes+1), "over the limit"},
	} {
		e := c.e
		if e == nil {
			e = must(NewEngine(stateSQL, []Input{demoInput}))
		}
		before := e.State()
		err := e.RestoreState(c.state)
		var se *StateError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want a StateError with %q", name, err, c.want)
		}
		if !bytes.Equal(e.State(), before) {
			t.Errorf("%s: the failed restore changed the engine", name)
		}
	}
}

// FuzzRestoreState: any bytes either restore or fail with a *StateError,
// never panic; a state that restores keeps running.
func FuzzRestoreState(f *testing.F) {
	recs := stateEvents(200)
	fuzzRestore(f, func() *Engine { return must(NewEngine(stateSQL, []Input{demoInput})) },
		[][]byte{stateAfter(f, recs), stateAfter(f, recs[:7])},
		func(e *Engine) {
			for _, r := range recs[:50] {
				must(0, e.InsertJSON(DefaultInputStream, r.Kinesis.Data, r.Kinesis.ApproximateArrivalTimestamp.Time))
			}
		})
}

// fuzzRestore is the body of the engine's state fuzz targets: the seeds
// and a fresh engine's state, then any bytes either restore (and the
// engine runs on with feed, then Flush) or fail with a *StateError that
// leaves the engine as it was; never a panic.
//
// Compiling the application is nine tenths of an execution, and nearly
// every input is refused; a refused restore leaves the engine as a fresh
// one (checked), so the next input is restored into the same engine
// (RestoreState commits nothing before it has read the whole state). Only
// an engine that restored, and then ran, is replaced by a new one.
func fuzzRestore(f *testing.F, newEngine func() *Engine, seeds [][]byte, feed func(*Engine)) {
	for _, s := range seeds {
		f.Add(s)
	}
	e := newEngine()
	fresh := e.State()
	f.Add(fresh)
	f.Fuzz(func(t *testing.T, state []byte) {
		if e == nil {
			e = newEngine()
		}
		if err := e.RestoreState(state); err != nil {
			var se *StateError
			if !errors.As(err, &se) || !bytes.Equal(e.State(), fresh) {
				t.Fatalf("%T %v, or the failed restore changed the engine", err, err)
			}
			return
		}
		restored := e
		e = nil
		feed(restored)
		restored.Flush()
	})
}
