package kda

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// replayGuideML replays testdata/guide/ml/<records> through the example
// dir's application.json and returns its records and its
// DESTINATION_SQL_STREAM rows.
func replayGuideML(t *testing.T, dir, records string) ([]KinesisRecord, []map[string]any) {
	t.Helper()
	f := must(os.Open(filepath.Join("testdata/guide/ml", records)))
	defer f.Close()
	recs := must(ReadRecords(f))
	app := must(ParseApplication(must(os.ReadFile(filepath.Join("testdata/guide/ml", dir, "application.json")))))
	outs := map[string]*bytes.Buffer{}
	if _, err := Replay(context.Background(), app, recs, func(stream string) (io.Writer, error) {
		outs[stream] = &bytes.Buffer{}
		return outs[stream], nil
	}); err != nil {
		t.Fatal(err)
	}
	if errs := outs[ErrorStream]; errs != nil && errs.Len() > 0 {
		t.Fatalf("error_stream: %.300s", errs)
	}
	rows := jsonLines(t, outs["DESTINATION_SQL_STREAM"].Bytes())
	if len(rows) != len(recs) {
		t.Fatalf("%d rows for %d records", len(rows), len(recs))
	}
	return recs, rows
}

// sortedSeconds checks the guide's second pump, ORDER BY
// FLOOR("TEMP_STREAM".ROWTIME TO SECOND), ANOMALY_SCORE DESC: the rows of
// each second are that second's records, scores descending, all with the
// ROWTIME of the second's last record. It returns each record's row.
func sortedSeconds(t *testing.T, recs []KinesisRecord, rows []map[string]any) []int {
	t.Helper()
	key := func(m map[string]any) string {
		return fmt.Sprintf("%v/%.2f/%.2f", m["TICKER_SYMBOL"], m["CHANGE"], m["PRICE"])
	}
	score := func(i int) float64 { return rows[i]["ANOMALY_SCORE"].(float64) }
	at := make([]int, len(recs))
	seconds := 0
	for i := 0; i < len(recs); seconds++ {
		sec, j := recs[i].ArrivalTime.Unix(), i
		for j < len(recs) && recs[j].ArrivalTime.Unix() == sec {
			j++
		}
		byKey := map[string][]int{}
		for k := i; k < j; k++ {
			if k > i && score(k) > score(k-1) {
				t.Fatalf("second %d: row %d scores %.3f after %.3f", sec, k, score(k), score(k-1))
			}
			if rows[k]["ROWTIME"] != rows[j-1]["ROWTIME"] || i > 0 && rows[k]["ROWTIME"] == rows[i-1]["ROWTIME"] {
				t.Fatalf("second %d: row %d has ROWTIME %v, the second's rows %v", sec, k, rows[k]["ROWTIME"], rows[j-1]["ROWTIME"])
			}
			byKey[key(rows[k])] = append(byKey[key(rows[k])], k)
		}
		for k := i; k < j; k++ {
			var m map[string]any
			must(0, json.Unmarshal(recs[k].Data, &m))
			rs := byKey[key(m)]
			if len(rs) == 0 {
				t.Fatalf("record %d (%s) is not among the rows of its second", k, recs[k].Data)
			}
			at[k], byKey[key(m)] = rs[0], rs[1:]
		}
		i = j
	}
	moved := 0
	for k, r := range at {
		if r != k {
			moved++
		}
	}
	if moved == 0 {
		t.Fatal("no row moved: the rows are in arrival order")
	}
	t.Logf("%d records in %d seconds, each second's rows by descending score (%d not where they arrived)", len(recs), seconds, moved)
	return at
}

// TestGuideMLExamples runs the developer guide's machine learning
// examples (testdata/guide/ml, inputs and expectations from
// ml_reference.py): the anomalies injected into the demo stream get the
// top ANOMALY_SCOREs, each second's rows come out by descending score
// (the guide's ORDER BY), the explanation names the injected column as the
// strongest in the injected direction, and HOTSPOTS finds the generated
// hot squares.
func TestGuideMLExamples(t *testing.T) {
	var injected []struct {
		Index     int
		Column    string
		Direction string
	}
	if err := json.Unmarshal(must(os.ReadFile("testdata/guide/ml/expected_anomalies.json")), &injected); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"anomaly", "anomaly_explanation"} {
		t.Run(dir, func(t *testing.T) {
			recs, rows := replayGuideML(t, dir, "anomaly_records.json")
			row := sortedSeconds(t, recs, rows)
			order := make([]int, len(rows))
			for i := range order {
				order[i] = i
			}
			score := func(i int) float64 { return rows[i]["ANOMALY_SCORE"].(float64) }
			slices.SortStableFunc(order, func(a, b int) int {
				if score(a) > score(b) {
					return -1
				} else if score(a) < score(b) {
					return 1
				}
				return 0
			})
			top := map[int]bool{}
			for _, i := range order[:len(injected)] {
				top[i] = true
			}
			for _, a := range injected {
				r := row[a.Index]
				if !top[r] {
					t.Errorf("injected record %d (%s %s, score %.2f) is not among the top %d scores (the %dth is %.2f)",
						a.Index, a.Column, a.Direction, score(r), len(injected), len(injected), score(order[len(injected)-1]))
				}
				if dir != "anomaly_explanation" {
					continue
				}
				var ex map[string]attribution
				if err := json.Unmarshal([]byte(rows[r]["ANOMALY_EXPLANATION"].(string)), &ex); err != nil {
					t.Fatal(err)
				}
				strongest, best := "", -1.0
				for col, at := range ex {
					if s := must(strconv.ParseFloat(at.Score, 64)); s > best {
						strongest, best = col, s
					}
				}
				if strongest != a.Column || ex[a.Column].Direction != a.Direction {
					t.Errorf("record %d, %s %s injected: %s", a.Index, a.Column, a.Direction, rows[r]["ANOMALY_EXPLANATION"])
				}
			}
			t.Logf("%d rows; the %d injected anomalies score %.1f and more, the rest at most %.1f",
				len(rows), len(injected), score(order[len(injected)-1]), score(order[len(injected)]))
		})
	}
	t.Run("hotspots", func(t *testing.T) {
		var squares [][4]float64
		if err := json.Unmarshal(must(os.ReadFile("testdata/guide/ml/expected_hotspots.json")), &squares); err != nil {
			t.Fatal(err)
		}
		_, rows := replayGuideML(t, "hotspots", "hotspot_records.json")
		const radius = 0.2
		for _, r := range rows[len(rows)-10:] {
			var res hotspotsResult
			if err := json.Unmarshal([]byte(r["HOTSPOTS_RESULT"].(string)), &res); err != nil {
				t.Fatal(err)
			}
			if len(res.Hotspots) != len(squares) {
				t.Fatalf("%d hotspots, want %d: %s", len(res.Hotspots), len(squares), r["HOTSPOTS_RESULT"])
			}
			for _, sq := range squares {
				found := false
				for _, h := range res.Hotspots {
					inside := h.Min[0] >= sq[0]-radius && h.Min[1] >= sq[1]-radius && h.Max[0] <= sq[2]+radius && h.Max[1] <= sq[3]+radius
					covers := h.Min[0] <= sq[0]+0.1 && h.Min[1] <= sq[1]+0.1 && h.Max[0] >= sq[2]-0.1 && h.Max[1] >= sq[3]-0.1
					found = found || inside && covers && h.Density > 10
				}
				if !found {
					t.Fatalf("no hotspot for the square %v: %s", sq, r["HOTSPOTS_RESULT"])
				}
			}
		}
		t.Logf("%d rows; the last ones' hotspots: %s", len(rows), rows[len(rows)-1]["HOTSPOTS_RESULT"])
	})
}
