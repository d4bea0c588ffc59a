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
