package engine

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"
)

// tumblingTableSQL runs both tumbling table functions over "IN".
const tumblingTableSQL = `CREATE STREAM "O" (K VARCHAR(4), N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "IN"), 'K', 2, 2));
CREATE STREAM "D" (N BIGINT);
CREATE PUMP "Q" AS INSERT INTO "D" SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "IN"), 'X', 3));`

func newTumblingTableEngine(t testing.TB) *Engine {
	e, err := New(tumblingTableSQL, Options{Inputs: []Input{tableTestInput}, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// tumblingTableState is the state after n rows, the last window open; with
// many, COUNT_DISTINCT_ITEMS_TUMBLING's window holds a sketch.
func tumblingTableState(t testing.TB, n int) []byte {
	e := newTumblingTableEngine(t)
	for i := range n {
		rec := fmt.Appendf(nil, `{"K":"k%d","X":%d}`, i%7, i)
		if i%5 == 0 {
			rec = []byte(`{"K":null,"X":null}`)
		}
		if err := e.InsertRecord("IN", rec, time.UnixMilli(int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	return e.MarshalState()
}

// FuzzTableFunctionState: the tumbling table functions' state is outside
// input; any bytes restore or fail with a *StateError, and a state that
// restores keeps running.
func FuzzTableFunctionState(f *testing.F) {
	f.Add(tumblingTableState(f, 0))
	f.Add(tumblingTableState(f, 12))
	f.Add(tumblingTableState(f, 10_500))
	f.Fuzz(func(t *testing.T, b []byte) {
		e := newTumblingTableEngine(t)
		if err := e.RestoreState(b); err != nil {
			var se *StateError
			if !errors.As(err, &se) {
				t.Fatalf("not a StateError: %v", err)
			}
			return
		}
		for i := range 20 {
			if err := e.InsertRecord("IN", fmt.Appendf(nil, `{"K":"k%d","X":%d}`, i%3, i), time.UnixMilli(int64(20_000+1000*i))); err != nil {
				t.Fatal(err)
			}
		}
		e.Flush()
	})
}
