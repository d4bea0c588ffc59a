package kda

import (
	"slices"
	"strings"
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

// TestStaggerWindow: WINDOWED BY STAGGER opens a window per partition key
// at its first row and closes it RANGE later, so late rows of an event
// minute still count with it (the developer guide's stagger example), and
// a row after the close opens a new window.
func TestStaggerWindow(t *testing.T) {
	sql := `CREATE STREAM "o" (ticker VARCHAR(4), event_minute TIMESTAMP, n BIGINT, hi DOUBLE);
CREATE PUMP "p" AS INSERT INTO "o"
SELECT STREAM ticker_symbol, FLOOR(event_time TO MINUTE), COUNT(*), MAX(price)
FROM "SOURCE_SQL_STREAM_001"
WINDOWED BY STAGGER (PARTITION BY FLOOR(event_time TO MINUTE), ticker_symbol RANGE INTERVAL '1' MINUTE);`
	in := Input{Columns: []Column{{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "EVENT_TIME", Type: Timestamp}, {Name: "PRICE", Type: Double}}}
	e, err := NewEngine(sql, []Input{in})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	must(0, e.Subscribe("o", func(r Row) { got = append(got, r.Time().Format("15:04:05")+" "+string(r.AppendJSON(nil))) }))
	at := func(hms string) time.Time { return must(time.Parse("2006-01-02 15:04:05", "2026-01-01 "+hms)) }
	for _, r := range []struct{ arrival, rec string }{
		{"10:00:20", `{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 10:00:10","PRICE":1}`},
		{"10:00:30", `{"TICKER_SYMBOL":"IBM","EVENT_TIME":"2026-01-01 10:00:25","PRICE":5}`},
		{"10:00:50", `{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 10:00:45","PRICE":3}`},
		{"10:01:10", `{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 10:00:58","PRICE":2}`}, // late, same window
		{"10:01:15", `{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 10:01:05","PRICE":9}`}, // next minute: its own window
		{"10:01:25", `{"TICKER_SYMBOL":"AMZN","EVENT_TIME":"2026-01-01 10:00:59","PRICE":7}`}, // after the close: a new window
	} {
		must(0, e.InsertJSON(DefaultInputStream, []byte(r.rec), at(r.arrival)))
	}
	e.Advance(at("10:05:00"))
	want := []string{
		`10:01:20 {"TICKER":"AMZN","EVENT_MINUTE":"2026-01-01 10:00:00.000","N":3,"HI":3.0}`,
		`10:01:30 {"TICKER":"IBM","EVENT_MINUTE":"2026-01-01 10:00:00.000","N":1,"HI":5.0}`,
		`10:02:15 {"TICKER":"AMZN","EVENT_MINUTE":"2026-01-01 10:01:00.000","N":1,"HI":9.0}`,
		`10:02:25 {"TICKER":"AMZN","EVENT_MINUTE":"2026-01-01 10:00:00.000","N":1,"HI":7.0}`,
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%v\nwant\n%v", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for sql, msg := range map[string]string{
		`CREATE STREAM "o" (n BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE) GROUP BY ticker_symbol;`: "remove GROUP BY",
		`CREATE STREAM "o" (n DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM price FROM "SOURCE_SQL_STREAM_001" WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE);`:                           `column "PRICE" must appear in GROUP BY`,
	} {
		if _, err := NewEngine(sql, []Input{in}); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("err %v, want %q", err, msg)
		}
	}
}
