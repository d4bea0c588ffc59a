package kda

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateStateGolden = flag.Bool("update-state-golden", false, "rewrite testdata/state/*.bin from the current encoder")

// goldenApp is an application, its input, and the record after which its
// golden state was saved.
type goldenApp struct {
	name   string
	engine func() *Engine
	feed   func(e *Engine, lo, hi int)
	n, cut int
}

func goldenApps() []goldenApp {
	recs := stateEvents(600)
	demoFeed := func(e *Engine, lo, hi int) {
		for _, r := range recs[lo:hi] {
			must(0, e.InsertJSON(DefaultInputStream, r.Kinesis.Data, r.Kinesis.ApproximateArrivalTimestamp.Time))
		}
	}
	rows := joinEvents(500)
	// The applications are frozen in testdata/state/*.sql: the test SQL
	// beside the other tests grows with the engine.
	app := func(name string, inputs []Input) func() *Engine {
		sql := string(must(os.ReadFile(filepath.Join("testdata", "state", name+".sql"))))
		return func() *Engine { return must(NewEngine(sql, inputs)) }
	}
	return []goldenApp{
		{"windows", app("windows", []Input{demoInput}), demoFeed, 600, 300},
		{"ml", app("ml", []Input{demoInput}), demoFeed, 600, 300},
		{"join", app("join", joinInputs), func(e *Engine, lo, hi int) {
			for _, r := range rows[lo:hi] {
				must(0, e.Insert(r.stream, r.vals, time.UnixMilli(r.ms)))
			}
		}, 500, 250},
	}
}

// TestGoldenStates: states saved by an earlier build (testdata/state,
// written before the decoders moved to package statebin, each with its
// application and the first records of stateEvents or joinEvents) still
// restore; the same records give the same bytes, and the restored engine
// writes them again and goes on to the same rows as one that never
// stopped. A deliberate change of the encoding bumps the engine's state
// version and rewrites the files with -update-state-golden.
func TestGoldenStates(t *testing.T) {
	for _, app := range goldenApps() {
		t.Run(app.name, func(t *testing.T) {
			path := filepath.Join("testdata", "state", app.name+".bin")
			run := func(e *Engine) *strings.Builder {
				var out strings.Builder
				for _, s := range append(e.e.CreatedStreams(), ErrorStream) {
					must(0, e.Subscribe(s, func(r Row) { fmt.Fprintf(&out, "%s %d %s\n", r.Stream, r.Rowtime, r.AppendJSON(nil)) }))
				}
				return &out
			}
			whole := app.engine()
			app.feed(whole, 0, app.cut)
			if *updateStateGolden {
				if err := os.WriteFile(path, whole.State(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole.State(), golden) {
				t.Errorf("the same input gives other state bytes than %s (%d bytes, %d in the file)", path, len(whole.State()), len(golden))
			}
			restored := app.engine()
			if err := restored.RestoreState(golden); err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if !bytes.Equal(restored.State(), golden) {
				t.Fatalf("%s restored writes other bytes", path)
			}
			want, got := run(whole), run(restored)
			app.feed(whole, app.cut, app.n)
			app.feed(restored, app.cut, app.n)
			whole.Flush()
			restored.Flush()
			if want.Len() == 0 || got.String() != want.String() {
				t.Fatalf("after the restore %d bytes of rows, %d without a restart", got.Len(), want.Len())
			}
		})
	}
}
