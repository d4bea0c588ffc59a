package kda

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"testing"
)

// TestGuideExamples replays the demo stream (testdata/guide/records.json)
// (or an example's own records.json, with its reference tables as local
// files) through the developer guide's example applications
// (testdata/guide/*/application.json, SQL in app.sql) and compares each
// one's DESTINATION_SQL_STREAM with the rows testdata/guide/reference.py
// computed independently from the documented semantics (expected.jsonl;
// regenerate with `python3 reference.py` there). Numbers agree to 1e-9
// relative; everything else exactly; error_stream stays empty except in
// the error-stream example, whose rows match the reference's columns.
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
			recs := recs
			if f, err := os.Open(filepath.Join(dir, "records.json")); err == nil {
				recs = must(ReadRecords(f)) // an input of the example's own
				f.Close()
			}
			// A reference table's S3 object is the key's base name in dir.
			refs := map[string]string{}
			for _, r := range app.References {
				refs[r.Table] = filepath.Join(dir, path.Base(r.Key))
			}
			outs := map[string]*bytes.Buffer{}
			_, err := Replay(context.Background(), app, recs, func(stream string) (io.Writer, error) {
				outs[stream] = &bytes.Buffer{}
				return outs[stream], nil
			}, func(o *ReplayOptions) { o.References = refs })
			if err != nil {
				t.Fatal(err)
			}
			got := jsonLines(t, outs["DESTINATION_SQL_STREAM"].Bytes())
			want := jsonLines(t, must(os.ReadFile(filepath.Join(dir, "expected.jsonl"))))
			compareRows(t, "DESTINATION_SQL_STREAM", got, want, sameRow)
			gotErr := jsonLines(t, outs[ErrorStream].Bytes())
			wantErr, err := os.ReadFile(filepath.Join(dir, "expected_error_stream.jsonl"))
			switch {
			case err == nil:
				compareRows(t, ErrorStream, gotErr, jsonLines(t, wantErr), hasColumns)
			case len(gotErr) > 0:
				t.Fatalf("error_stream: %v", gotErr[0])
			}
			t.Logf("%d input rows; %d output rows and %d error_stream rows agree with the reference", len(recs), len(got), len(gotErr))
		})
	}
}

func compareRows(t *testing.T, stream string, got, want []map[string]any, same func(got, want map[string]any) bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, the reference %d", stream, len(got), len(want))
	}
	for i := range want {
		if !same(got[i], want[i]) {
			t.Fatalf("%s row %d:\n got %v\nwant %v", stream, i+1, got[i], want[i])
		}
	}
}

// hasColumns reports whether got has want's columns with its values (the
// reference leaves out error_stream's MESSAGE and DATA_ROW).
func hasColumns(got, want map[string]any) bool {
	sub := map[string]any{}
	for k := range want {
		if v, ok := got[k]; ok {
			sub[k] = v
		}
	}
	return sameRow(sub, want)
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
