package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// testSeq is a table function for the framework's tests:
// TEST_SEQ(CURSOR(…), 'column', step, scale [, negate]) emits each cursor
// row with SEQ, a running count of the rows times step that survives
// MarshalState, and SCALED, the named column times scale (negated when
// negate is TRUE).
type testSeq struct {
	col    int
	step   int64
	scale  float64
	negate bool
	seq    int64
	out    []value.Value
}

func init() { registerTableFunc("TEST_SEQ", newTestSeq) }

func newTestSeq(a *TableArgs) ([]value.Column, TableFunc, error) {
	if err := a.Count(3, "columnName", "step", "scale", "negate"); err != nil {
		return nil, nil, err
	}
	t := &testSeq{}
	var err error
	if t.col, err = a.Column(0, "columnName"); err != nil {
		return nil, nil, err
	}
	if t.step, err = a.Int(1, "step", 1, 100); err != nil {
		return nil, nil, err
	}
	if t.scale, err = a.Float(2, "scale", -10, 10); err != nil {
		return nil, nil, err
	}
	if len(a.Args) > 3 {
		if t.negate, err = a.Bool(3, "negate"); err != nil {
			return nil, nil, err
		}
	}
	cols := append(append([]value.Column(nil), a.Input...), value.Column{Name: "SEQ", Type: value.Bigint}, value.Column{Name: "SCALED", Type: value.Double})
	t.out = make([]value.Value, len(cols))
	return cols, t, nil
}

func (t *testSeq) Push(row []value.Value, rt int64, emit Emit) error {
	x := row[t.col]
	if x.K != value.KindInt && x.K != value.KindFloat {
		return &EvalError{"TEST_SEQ: not a number"}
	}
	t.seq += t.step
	copy(t.out, row)
	f := x.Float() * t.scale
	if t.negate {
		f = -f
	}
	t.out[len(row)], t.out[len(row)+1] = value.IntValue(t.seq), value.FloatValue(f)
	emit(t.out, rt)
	return nil
}

func (t *testSeq) Advance(int64, Emit)      {}
func (t *testSeq) NextClose() (int64, bool) { return 0, false }
func (t *testSeq) AppendState(b []byte) []byte {
	return binary.AppendVarint(b, t.seq)
}

func (t *testSeq) Restore(state []byte) (TableFunc, error) {
	seq, n := binary.Varint(state)
	if n <= 0 || n != len(state) || seq < 0 {
		return nil, fmt.Errorf("bad TEST_SEQ state")
	}
	c := *t
	c.seq, c.out = seq, make([]value.Value, len(t.out))
	return &c, nil
}

var tableTestInput = Input{Name: "IN", Columns: []value.Column{
	{Name: "K", Type: value.Varchar(4), Mapping: "$.K"},
	{Name: "X", Type: value.Bigint, Mapping: "$.X"},
}}

func newTableTestEngine(t *testing.T, sql string) (*Engine, *strings.Builder) {
	t.Helper()
	e, err := New(sql, Options{Inputs: []Input{tableTestInput}, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, s := range []string{"O", ErrorStream} {
		if err := e.Subscribe(s, func(r Row) {
			fmt.Fprintf(&out, "%s %d", r.Stream, r.Rowtime)
			for i, v := range r.Values {
				if r.Stream != ErrorStream || r.Columns[i].Name == "ERROR_NAME" {
					fmt.Fprintf(&out, " %s", v.SQL())
				}
			}
			out.WriteByte('\n')
		}); err != nil {
			t.Fatal(err)
		}
	}
	return e, &out
}

// restoreAndInsert restores state into a new engine of sql, inserts rec at
// ms and checks that the rows out are want.
func restoreAndInsert(t *testing.T, sql string, state []byte, rec string, ms int64, want string) *Engine {
	t.Helper()
	e, got := newTableTestEngine(t, sql)
	if err := e.RestoreState(state); err != nil {
		t.Fatal(err)
	}
	if err := e.InsertRecord("IN", []byte(rec), time.UnixMilli(ms)); err != nil {
		t.Fatal(err)
	}
	if got.String() != want {
		t.Fatalf("after restore:\n%swant\n%s", got, want)
	}
	return e
}

func insertTableTestRows(t *testing.T, e *Engine, rows ...string) {
	t.Helper()
	for i, r := range rows {
		if err := e.InsertRecord("IN", []byte(r), time.UnixMilli(int64(1000*(i+1)))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTableFunctionFramework(t *testing.T) {
	const out = `CREATE STREAM "O" (K VARCHAR(4), N BIGINT, S DOUBLE);`
	rows := []string{`{"K":"a","X":1}`, `{"K":"b","X":-2}`, `{"K":"c","X":3}`}
	for name, c := range map[string]struct{ sql, want string }{
		"star cursor, outer WHERE": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 2, 1.5, TRUE)) AS t WHERE t.SEQ > 2;`,
			"O 2000 'b' 4 3.0\nO 3000 'c' 6 -4.5\n",
		},
		"cursor with WHERE and projection": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM K, X * 10 AS X FROM "IN" WHERE X > 0), 'X', 1, 1,));`,
			"O 1000 'a' 1 10.0\nO 3000 'c' 2 30.0\n",
		},
		"in a subquery, cursor over a subquery": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM (SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM (SELECT STREAM K, X FROM "IN") AS s), 'X', 1, -1))) AS q;`,
			"O 1000 'a' 1 -1.0\nO 2000 'b' 2 2.0\nO 3000 'c' 3 -3.0\n",
		},
		"nested table functions": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM K, SEQ AS X FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 3, 1))), 'X', 1, 2));`,
			"O 1000 'a' 1 6.0\nO 2000 'b' 2 12.0\nO 3000 'c' 3 18.0\n",
		},
		"UNION ALL in the cursor": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM K, X FROM "IN" WHERE X > 0 UNION ALL SELECT STREAM 'neg', X * 100 FROM "IN" WHERE X < 0), 'X', 1, 1));`,
			"O 1000 'a' 1 1.0\nO 2000 'neg' 2 -200.0\nO 3000 'c' 3 3.0\n",
		},
		"UNION ALL of stars in the cursor": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN" UNION ALL SELECT STREAM * FROM "IN" WHERE X > 2), 'X', 1, 1));`,
			"O 1000 'a' 1 1.0\nO 2000 'b' 2 -2.0\nO 3000 'c' 3 3.0\nO 3000 'c' 4 3.0\n",
		},
		"the function's output joined to a stream window": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM s.K, t.SEQ, t.SCALED FROM "IN" AS s
JOIN TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 1, 2)) OVER (ROWS 1 PRECEDING) AS t ON s.K = t.K;`,
			"O 1000 'a' 1 2.0\nO 2000 'b' 2 -4.0\nO 3000 'c' 3 6.0\n",
		},
		"a stream joined to the function's output window": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM t.K, t.SEQ, s.X FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN" WHERE X > 0), 'X', 10, 1)) OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS t
JOIN "IN" AS s ON t.SEQ > s.X;`,
			"O 1000 'a' 10 1.0\nO 2000 'a' 10 -2.0\nO 3000 'a' 10 3.0\nO 3000 'c' 20 3.0\n",
		},
		"row error goes to error_stream": {
			out + `CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM K, CAST(NULL AS BIGINT) AS X FROM "IN" WHERE X = 1), 'X', 1, 1));`,
			"error_stream 1000 'Evaluation_Error'\n",
		},
	} {
		t.Run(name, func(t *testing.T) {
			e, got := newTableTestEngine(t, c.sql)
			insertTableTestRows(t, e, rows...)
			e.Flush()
			if got.String() != c.want {
				t.Fatalf("got\n%swant\n%s", got, c.want)
			}
		})
	}
}

// TestTableFunctionState: the function's state travels with MarshalState,
// and a state it refuses is a *StateError that leaves the engine as it
// was.
func TestTableFunctionState(t *testing.T) {
	const sql = `CREATE STREAM "O" (K VARCHAR(4), N BIGINT, S DOUBLE);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 1, 1));`
	e, _ := newTableTestEngine(t, sql)
	insertTableTestRows(t, e, `{"K":"a","X":1}`, `{"K":"b","X":2}`)
	state := e.MarshalState()
	e2 := restoreAndInsert(t, sql, state, `{"K":"c","X":3}`, 5000, "O 5000 'c' 3 3.0\n")
	// The function pump's state, one byte: SEQ 2; make it a truncated
	// varint.
	bad := bytes.Replace(state, []byte("\x01P\x01\x04"), []byte("\x01P\x01\x80"), 1)
	if bytes.Equal(bad, state) {
		t.Fatalf("no TEST_SEQ state in %q", state)
	}
	before := e2.MarshalState()
	var se *StateError
	if err := e2.RestoreState(bad); !errors.As(err, &se) || !strings.Contains(err.Error(), "TEST_SEQ") {
		t.Fatalf("bad state: %v", err)
	}
	if string(e2.MarshalState()) != string(before) {
		t.Fatal("a failed restore changed the state")
	}
}

func TestTableFunctionErrors(t *testing.T) {
	const head = `CREATE STREAM "O" (K VARCHAR(4), N BIGINT, S DOUBLE);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, SEQ, SCALED FROM `
	for _, c := range []struct {
		from, want  string
		unsupported string
	}{
		{`TABLE(NO_SUCH_FN(CURSOR(SELECT STREAM * FROM "IN")))`, "sql 2:76: unknown table function NO_SUCH_FN", ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X'))`, "sql 2:76: TEST_SEQ: takes a CURSOR and 3 to 4 arguments (columnName, step, scale, negate), got 1", ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'x', 1, 1))`, `sql 2:120: TEST_SEQ argument 2 (columnName): the cursor has no column "x"; names are case-sensitive: write 'X'`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'Y', 1, 1))`, `sql 2:120: TEST_SEQ argument 2 (columnName): the cursor has no column "Y" (it has K, X)`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), X, 1, 1))`, `sql 2:120: TEST_SEQ argument 2: must be a constant, got "X"`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 0, 1))`, `sql 2:125: TEST_SEQ argument 3 (step): must be from 1 to 100, got 0`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 1.5, 1))`, `sql 2:125: TEST_SEQ argument 3 (step): must be an integer, got 1.5`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 1, 'a'))`, `sql 2:128: TEST_SEQ argument 4 (scale): must be a number, got 'a'`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 1, 11))`, `sql 2:128: TEST_SEQ argument 4 (scale): must be from -10 to 10, got 11`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 1, 1, 1))`, `sql 2:131: TEST_SEQ argument 5 (negate): must be TRUE or FALSE, got 1`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "NOPE"), 'X', 1, 1))`, `sql 2:113: unknown stream "NOPE"`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN" UNION ALL SELECT STREAM K FROM "IN"), 'X', 1, 1))`, `sql 2:128: the SELECTs of the CURSOR's UNION ALL give 2 and 1 columns`, ""},
		{`TABLE(TEST_SEQ(CURSOR(SELECT STREAM K, X FROM "IN" UNION ALL SELECT STREAM X, K FROM "IN"), 'X', 1, 1))`, `sql 2:131: column 1 of the CURSOR's UNION ALL is VARCHAR(4) in the first SELECT and BIGINT in this one`, ""},
		{`TABLE(CURSOR(SELECT STREAM * FROM "IN"))`, `sql 2:76: TABLE(CURSOR(…)) names no function`, ""},
		{`TABLE(TEST_SEQ("IN", 'X', 1, 1))`, `sql 2:85: expected CURSOR(SELECT STREAM …) as the first argument of TEST_SEQ`, ""},
		{`"IN" JOIN TABLE(TEST_SEQ(CURSOR(SELECT STREAM * FROM "IN"), 'X', 1, 1)) ON TRUE`, `sql 2:75: a JOIN of two streams needs a window on at least one side: TABLE(TEST_SEQ(…)) OVER`, ""},
		{`"IN" JOIN TABLE(NO_SUCH_FN(CURSOR(SELECT STREAM * FROM "IN"))) OVER (ROWS 1 PRECEDING) ON TRUE`, "sql 2:86: unknown table function NO_SUCH_FN", ""},
		{`"IN" JOIN (SELECT STREAM * FROM "IN") ON TRUE`, "sql 2:80: subquery is not supported yet", "subquery"},
	} {
		_, err := New(head+c.from+";", Options{Inputs: []Input{tableTestInput}, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.from, err, c.want)
			continue
		}
		var ue *syntax.UnsupportedError
		if errors.As(err, &ue) != (c.unsupported != "") || c.unsupported != "" && ue.Construct != c.unsupported {
			t.Errorf("%s: %v is not an UnsupportedError for %q", c.from, err, c.unsupported)
		}
	}
	// The reference's table functions not registered yet are named.
	for name := range syntax.TableFunctions {
		if tableFuncs[name] != nil {
			continue
		}
		_, err := New(head+`TABLE(`+name+`(CURSOR(SELECT STREAM * FROM "IN"), 100, 0.5, 3));`, Options{Inputs: []Input{tableTestInput}, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		var ue *syntax.UnsupportedError
		if !errors.As(err, &ue) || ue.Construct != name || ue.Line != 2 || ue.Col != 76 || !strings.Contains(err.Error(), "sql 2:76: "+name+" is not supported yet") {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, sql := range []string{
		`CREATE STREAM "S" (K VARCHAR(4), X BIGINT, N BIGINT, F DOUBLE); CREATE PUMP "P" AS INSERT INTO "S" SELECT STREAM * FROM TABLE(TEST_SEQ(CURSOR(SELECT STREAM K, X FROM "S"), 'X', 1, 1));`,
		`CREATE STREAM "S" (K VARCHAR(4), X BIGINT); CREATE PUMP "P" AS INSERT INTO "S" SELECT STREAM K, X FROM (SELECT STREAM K, X FROM "S") AS q;`,
	} {
		_, err := New(sql, Options{Inputs: []Input{tableTestInput}, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err == nil || !strings.Contains(err.Error(), `pump "P" would make a cycle: "S" feeds itself through it`) {
			t.Errorf("%s: %v", sql, err)
		}
	}
	_, err := New(`CREATE STREAM "O" (N BIGINT); CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM TOP_K_ITEMS_TUMBLING(X, 1) FROM "IN";`,
		Options{Inputs: []Input{tableTestInput}, Now: time.Now, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err == nil || !strings.Contains(err.Error(), "TOP_K_ITEMS_TUMBLING is a table function: call it in FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(") {
		t.Errorf("scalar call of a table function: %v", err)
	}
}
