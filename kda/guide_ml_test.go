package kda

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// replayGuideML replays testdata/guide/ml/<records> through the example
// dir's application.json and returns its DESTINATION_SQL_STREAM rows.
func replayGuideML(t *testing.T, dir, records string) []map[string]any {
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
	return rows
}

// TestGuideMLExamples runs the developer guide's machine learning
// examples (testdata/guide/ml, inputs and expectations from
// ml_reference.py): the anomalies injected into the demo stream get the
// top ANOMALY_SCOREs, the explanation names the injected column as the
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
			rows := replayGuideML(t, dir, "anomaly_records.json")
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
				if !top[a.Index] {
					t.Errorf("injected record %d (%s %s, score %.2f) is not among the top %d scores (the %dth is %.2f)",
						a.Index, a.Column, a.Direction, score(a.Index), len(injected), len(injected), score(order[len(injected)-1]))
				}
				if dir != "anomaly_explanation" {
					continue
				}
				var ex map[string]attribution
				if err := json.Unmarshal([]byte(rows[a.Index]["ANOMALY_EXPLANATION"].(string)), &ex); err != nil {
					t.Fatal(err)
				}
				strongest, best := "", -1.0
				for col, at := range ex {
					if s := must(strconv.ParseFloat(at.Score, 64)); s > best {
						strongest, best = col, s
					}
				}
				if strongest != a.Column || ex[a.Column].Direction != a.Direction {
					t.Errorf("record %d, %s %s injected: %s", a.Index, a.Column, a.Direction, rows[a.Index]["ANOMALY_EXPLANATION"])
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
		rows := replayGuideML(t, "hotspots", "hotspot_records.json")
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
