package tickers

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var start = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

func TestRun(t *testing.T) {
	res, err := Run(context.Background(), Records(120, 2026, start))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"DESTINATION_SQL_STREAM", "ALERT_STREAM", "error_stream"}; !reflect.DeepEqual(res.Streams, want) {
		t.Fatalf("streams %v, want %v", res.Streams, want)
	}
	if n := len(res.Rows["error_stream"]); n != 0 {
		t.Fatalf("error_stream: %v", res.Rows["error_stream"])
	}
	// The summaries count every record once.
	trades := 0
	for _, line := range res.Rows["DESTINATION_SQL_STREAM"] {
		var r struct {
			TRADES               int
			MIN_PRICE, MAX_PRICE float64
			AVG_PRICE            float64
		}
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatal(err)
		}
		if r.MIN_PRICE > r.AVG_PRICE || r.AVG_PRICE > r.MAX_PRICE {
			t.Errorf("avg outside min..max: %s", line)
		}
		trades += r.TRADES
	}
	if trades != 120 {
		t.Fatalf("summaries count %d trades, want 120", trades)
	}
	if len(res.Rows["ALERT_STREAM"]) == 0 {
		t.Fatal("no alerts: the generator's jumps should trip some")
	}
	// Replaying again gives the same rows.
	again, err := Run(context.Background(), Records(120, 2026, start))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Rows, again.Rows) {
		t.Fatal("a second replay differs")
	}
	var b strings.Builder
	res.Print(&b)
	if !strings.Contains(b.String(), "ALERT_STREAM: ") {
		t.Fatalf("Print: %s", b.String())
	}
}
