package kda

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestGuideExamples replays the demo stream (testdata/guide/records.json)
// through the developer guide's example applications
// (testdata/guide/*/application.json, SQL in app.sql) and compares each
// one's DESTINATION_SQL_STREAM with the rows testdata/guide/reference.py
// computed independently from the documented semantics (expected.jsonl;
// regenerate with `python3 reference.py` there). Numbers agree to 1e-9
// relative; everything else exactly; error_stream stays empty.
func TestGuideExamples(t *testing.T) {
	f := must(os.Open("testdata/guide/records.json"))
	defer f.Close()
	recs := must(ReadRecords(f))
	dirs := must(filepath.Glob("testdata/guide/*/application.json"))
	if len(dirs) < 3 {
		t.Fatalf("found %d examples", len(dirs))
	}
	for _, appPath := range dirs {
		dir := filepath.Dir(appPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			app := must(ParseApplication(must(os.ReadFile(appPath))))
			outs := map[string]*bytes.Buffer{}
			_, err := Replay(context.Background(), app, recs, func(stream string) (io.Writer, error) {
				outs[stream] = &bytes.Buffer{}
				return outs[stream], nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if b := outs[ErrorStream]; b != nil && b.Len() > 0 {
				t.Fatalf("error_stream: %s", firstLine(b.Bytes()))
			}
			got := jsonLines(t, outs["DESTINATION_SQL_STREAM"].Bytes())
			want := jsonLines(t, must(os.ReadFile(filepath.Join(dir, "expected.jsonl"))))
			if len(got) != len(want) {
				t.Fatalf("%d rows, the reference %d", len(got), len(want))
			}
			for i := range want {
				if !sameRow(got[i], want[i]) {
					t.Fatalf("row %d:\n got %v\nwant %v", i+1, got[i], want[i])
				}
			}
			t.Logf("%d input rows, %d output rows agree with the reference", len(recs), len(got))
		})
	}
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i]
	}
	return b
}

func jsonLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var rows []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		rows = append(rows, m)
	}
	return rows
}

// sameRow compares two rows, numbers to 1e-9 relative.
func sameRow(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		y, ok := b[k]
		if !ok {
			return false
		}
		fx, xnum := x.(float64)
		fy, ynum := y.(float64)
		if xnum && ynum {
			if math.Abs(fx-fy) > 1e-9*math.Max(1, math.Abs(fy)) {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}
