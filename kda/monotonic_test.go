package kda

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var lineItems = Input{Columns: []Column{{Name: "ORDER_ID", Type: Bigint}, {Name: "ITEM", Type: Varchar(8)}, {Name: "QTY", Type: Bigint}}}

// monotonicSQL groups line items by a declared-monotonic order id: "O"
// alone (the order id is the window), "Q" with a 10-second STEP over
// ROWTIME as well (either closes the window).
const monotonicSQL = `CREATE STREAM "O" (order_id BIGINT, item VARCHAR(8), n BIGINT, qty BIGINT, big BOOLEAN, all_big BOOLEAN);
CREATE PUMP "P1" AS INSERT INTO "O"
SELECT STREAM MONOTONIC(order_id), item, COUNT(*), SUM(qty), ANY(qty > 2), EVERY(qty > 2)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY MONOTONIC(order_id), item;
CREATE STREAM "Q" (order_id BIGINT, n BIGINT);
CREATE PUMP "P2" AS INSERT INTO "Q"
SELECT STREAM MONOTONIC(order_id), COUNT(*)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY MONOTONIC(order_id), STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND);`

func lineItem(ms int64, order any, item string, qty int64) feedRow {
	o := Value{}
	if id, ok := order.(int); ok {
		o = IntValue(int64(id))
	}
	return feedRow{DefaultInputStream, ms, []Value{o, StringValue(item), IntValue(qty)}}
}

// TestMonotonicGroupBy: the reference's example — line items of orders
// 1000, 1001, 1005 in a row, then one of 1001 — groups each order's items
// when the next order starts, with that row's ROWTIME; the item of 1001
// that comes back, and one without an order id, go to the error_stream
// and count nowhere; Flush emits the last order with the last ROWTIME.
// With a STEP over ROWTIME too, the window also closes at its end. The
// same rows come out in 1, 7 and 60 parts restored from the state.
func TestMonotonicGroupBy(t *testing.T) {
	const t0 = 1_700_000_000_000
	rows := []feedRow{
		lineItem(t0, 1000, "apple", 3), lineItem(t0+1000, 1000, "pear", 1), lineItem(t0+2000, 1000, "apple", 5),
		lineItem(t0+3000, 1001, "fig", 2),
		lineItem(t0+4000, 1005, "apple", 4), lineItem(t0+5000, 1001, "fig", 9), lineItem(t0+6000, nil, "kiwi", 1),
		lineItem(t0+12_000, 1005, "pear", 7), lineItem(t0+13_000, 1005, "pear", 8),
	}
	want := []string{
		// Order 1000 closes when 1001 arrives at +3 s.
		`O 1700000003000 [1000,"apple",2,8,true,true]`, `O 1700000003000 [1000,"pear",1,1,false,false]`,
		`Q 1700000003000 [1000,3]`,
		`O 1700000004000 [1001,"fig",1,2,false,false]`, `Q 1700000004000 [1001,1]`,
		// The step [0 s, 10 s) closes at +12 s with order 1005's first item.
		`Q 1700000010000 [1005,1]`,
		// Flush: 1005's items with the last ROWTIME.
		`O 1700000013000 [1005,"apple",1,4,true,true]`, `O 1700000013000 [1005,"pear",2,15,true,true]`,
		`Q 1700000020000 [1005,2]`,
	}
	sameRuns(t, monotonicSQL, []Input{lineItems}, []string{"O", "Q"}, rows, want)

	errs := errorRows(t, monotonicSQL, []Input{lineItems}, rows)
	// Each bad row once per pump that groups by the order id.
	if len(errs) != 4 {
		t.Fatalf("error_stream: %q", errs)
	}
	for i, w := range []string{"was ascending and went from 1005 to 1001: the row is dropped", "is NULL: a value declared monotonic"} {
		if !strings.Contains(errs[2*i], w) || !strings.Contains(errs[2*i], "MONOTONIC at 5:10 ") {
			t.Errorf("error row %d: %s, want %q", 2*i, errs[2*i], w)
		}
	}
}

// TestMonotonicDescending: a descending MONOTONIC key closes the window
// as it goes down; going up again is an error.
func TestMonotonicDescending(t *testing.T) {
	sql := `CREATE STREAM "O" (order_id BIGINT, n BIGINT);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM MONOTONIC(order_id), COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY MONOTONIC(order_id);`
	rows := []feedRow{lineItem(1000, 987, "a", 1), lineItem(2000, 987, "b", 1), lineItem(3000, 974, "a", 1),
		lineItem(4000, 823, "a", 1), lineItem(5000, 973, "a", 1), lineItem(6000, 823, "a", 1)}
	want := []string{`O 3000 [987,2]`, `O 4000 [974,1]`, `O 6000 [823,2]`}
	sameRuns(t, sql, []Input{lineItems}, []string{"O"}, rows, want)
	errs := errorRows(t, sql, []Input{lineItems}, rows)
	if len(errs) != 1 || !strings.Contains(errs[0], "was descending and went from 823 to 973") {
		t.Fatalf("error_stream: %q", errs)
	}
}

// TestBooleanAggregates: ANY and EVERY in tumbling and stagger windows
// (NULL arguments skipped, NULL for a group without values), as the
// reference's examples use them.
func TestBooleanAggregates(t *testing.T) {
	sql := `CREATE STREAM "T" (ticker VARCHAR(4), cheap BOOLEAN, all_cheap BOOLEAN);
CREATE PUMP "P1" AS INSERT INTO "T"
SELECT STREAM ticker_symbol, ANY (price < 60), EVERY (price < 60) FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE);
CREATE STREAM "S" (ticker VARCHAR(4), up BOOLEAN, all_up BOOLEAN);
CREATE PUMP "P2" AS INSERT INTO "S"
SELECT STREAM ticker_symbol, ANY(change > 0), EVERY(change > 0) FROM "SOURCE_SQL_STREAM_001"
WINDOWED BY STAGGER (PARTITION BY ticker_symbol RANGE INTERVAL '1' MINUTE);`
	demo := func(ms int64, tk string, change float64, price any) feedRow {
		p := Value{}
		if f, ok := price.(float64); ok {
			p = FloatValue(f)
		}
		return feedRow{DefaultInputStream, ms, []Value{StringValue(tk), StringValue("TECH"), FloatValue(change), p}}
	}
	rows := []feedRow{demo(0, "AMZN", 1, 55.0), demo(1000, "AMZN", -1, 65.0), demo(2000, "XOM", 2, 50.0),
		demo(3000, "XOM", 1, 52.0), demo(4000, "IBM", 1, nil), demo(61_000, "AMZN", 1, 70.0)}
	want := []string{
		`T 60000 ["AMZN",true,false]`, `T 60000 ["XOM",true,true]`, `T 60000 ["IBM",null,null]`,
		`S 60000 ["AMZN",true,false]`,
		// Flush.
		`T 120000 ["AMZN",false,false]`, `S 62000 ["XOM",true,true]`, `S 64000 ["IBM",true,true]`, `S 121000 ["AMZN",true,true]`,
	}
	got := splitRun(t, sql, []Input{demoInput}, []string{"T", "S"}, rows, 1)
	if !slices.Equal(got, want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	sameRuns(t, sql, []Input{demoInput}, []string{"T", "S"}, rows, want)
	if _, err := NewEngine(strings.Replace(sql, "ANY (price < 60)", "ANY(price)", 1), []Input{demoInput}); err == nil || !strings.Contains(err.Error(), "ANY needs a BOOLEAN") {
		t.Fatalf("ANY of a number: %v", err)
	}
}

// TestDistinctMonotonic: MONOTONIC(…) is the monotonic item SELECT STREAM
// DISTINCT needs: the rows seen are forgotten when it moves on, and a
// value against its direction goes to the error_stream.
func TestDistinctMonotonic(t *testing.T) {
	sql := `CREATE STREAM "O" (order_id BIGINT, item VARCHAR(8));
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM DISTINCT MONOTONIC(order_id), item FROM "SOURCE_SQL_STREAM_001";`
	rows := []feedRow{lineItem(1000, 7, "a", 1), lineItem(2000, 7, "a", 1), lineItem(3000, 7, "b", 1),
		lineItem(4000, 8, "a", 1), lineItem(5000, 7, "c", 1), lineItem(6000, 8, "a", 1), lineItem(7000, 9, "a", 1)}
	want := []string{`O 1000 [7,"a"]`, `O 3000 [7,"b"]`, `O 4000 [8,"a"]`, `O 7000 [9,"a"]`}
	sameRuns(t, sql, []Input{lineItems}, []string{"O"}, rows, want)
	errs := errorRows(t, sql, []Input{lineItems}, rows)
	if len(errs) != 1 || !strings.Contains(errs[0], "was ascending and went from 8 to 7") {
		t.Fatalf("error_stream: %q", errs)
	}
}

// errorRows runs rows through sql and returns the error_stream's rows.
func errorRows(t *testing.T, sql string, inputs []Input, rows []feedRow) []string {
	t.Helper()
	e := must(NewEngine(sql, inputs))
	errs := collect(t, e, ErrorStream)
	for _, r := range rows {
		must(0, e.Insert(r.stream, r.vals, time.UnixMilli(r.ms)))
	}
	return *errs
}
