package kda

import (
	"slices"
	"testing"
	"time"
)

// TestTumblingWindowOnEventTime: the developer guide's tumbling window on
// an event timestamp — GROUP BY the STEP of ROWTIME (which closes the
// window) and the STEP (or FLOOR) of the event-time column (which groups
// by it) — gives one row per event-time minute and key.
func TestTumblingWindowOnEventTime(t *testing.T) {
	sql := `CREATE STREAM "o" (ticker VARCHAR(4), event_minute TIMESTAMP, floor_minute TIMESTAMP, n BIGINT);
CREATE PUMP "p" AS INSERT INTO "o"
SELECT STREAM ticker_symbol, STEP(event_time BY INTERVAL '60' SECOND), FLOOR(event_time TO MINUTE), COUNT(*)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '60' SECOND),
  STEP(event_time BY INTERVAL '60' SECOND), FLOOR(event_time TO MINUTE);`
	in := Input{Columns: []Column{{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "EVENT_TIME", Type: Timestamp}}}
	e, err := NewEngine(sql, []Input{in})
	if err != nil {
		t.Fatal(err)
	}
	out := collect(t, e, "o")
	arrival := time.Date(2026, 1, 1, 10, 0, 5, 0, time.UTC)
	for _, rec := range []string{
		`{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 09:58:59.900"}`,
		`{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 09:59:01"}`,
		`{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 09:59:30"}`,
		`{"TICKER_SYMBOL":"IBM","EVENT_TIME":"2026-01-01 09:59:30"}`,
	} {
		must(0, e.InsertJSON(DefaultInputStream, []byte(rec), arrival))
	}
	e.Advance(arrival.Add(time.Minute))
	want := []string{
		`{"TICKER":"AMZN","EVENT_MINUTE":"2026-01-01 09:58:00.000","FLOOR_MINUTE":"2026-01-01 09:58:00.000","N":1}`,
		`{"TICKER":"AMZN","EVENT_MINUTE":"2026-01-01 09:59:00.000","FLOOR_MINUTE":"2026-01-01 09:59:00.000","N":2}`,
		`{"TICKER":"IBM","EVENT_MINUTE":"2026-01-01 09:59:00.000","FLOOR_MINUTE":"2026-01-01 09:59:00.000","N":1}`,
	}
	if !slices.Equal(*out, want) {
		t.Fatalf("got %v\nwant %v", *out, want)
	}
}

// TestUnionAll: a pump's SELECTs joined by UNION ALL each insert their
// rows into the target, from different streams, and OR REPLACE replaces
// every arm.
func TestUnionAll(t *testing.T) {
	sql := `CREATE STREAM "a" (x VARCHAR(4));
CREATE STREAM "o" (x VARCHAR(8));
CREATE PUMP "pa" AS INSERT INTO "a" SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001" WHERE sector = 'ENERGY';
CREATE PUMP "p" AS INSERT INTO "o"
SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001" WHERE sector = 'TECH'
UNION ALL SELECT STREAM 'e:' || x FROM "a"
UNION ALL SELECT STREAM LOWER(ticker_symbol) FROM "SOURCE_SQL_STREAM_001" WHERE price > 100;`
	run := func(sql string) []string {
		e, err := NewEngine(sql, []Input{demoInput})
		if err != nil {
			t.Fatal(err)
		}
		out := collect(t, e, "o")
		for _, rec := range []string{
			`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECH","CHANGE":1,"PRICE":150}`,
			`{"TICKER_SYMBOL":"XOM","SECTOR":"ENERGY","CHANGE":1,"PRICE":80}`,
		} {
			must(0, e.InsertJSON(DefaultInputStream, []byte(rec), time.Time{}))
		}
		return *out
	}
	if got, want := run(sql), []string{`{"X":"AMZN"}`, `{"X":"amzn"}`, `{"X":"e:XOM"}`}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	replaced := sql + `
CREATE OR REPLACE PUMP "p" AS INSERT INTO "o" SELECT STREAM sector FROM "SOURCE_SQL_STREAM_001";`
	if got, want := run(replaced), []string{`{"X":"TECH"}`, `{"X":"ENERGY"}`}; !slices.Equal(got, want) {
		t.Fatalf("after OR REPLACE got %v, want %v", got, want)
	}
}
