package engine

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/kda/internal/value"
)

const orderTestSQL = `CREATE STREAM "O" (K VARCHAR(4), N BIGINT);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM K, X FROM "IN" ORDER BY FLOOR(ROWTIME TO MINUTE), X DESC;`

// TestOrderByLimit: a leading value's rows over the sorter's limit come
// out sorted in runs of the limit, with one error_stream row saying so.
func TestOrderByLimit(t *testing.T) {
	e, got := newTableTestEngine(t, orderTestSQL)
	e.pumpNames["P"].order.s.limit = 3
	var msgs []string
	if err := e.Subscribe(ErrorStream, func(r Row) { msgs = append(msgs, r.Values[3].S) }); err != nil {
		t.Fatal(err)
	}
	insertTableTestRows(t, e, `{"K":"a","X":1}`, `{"K":"b","X":2}`, `{"K":"c","X":3}`, `{"K":"d","X":4}`,
		`{"K":"e","X":5}`, `{"K":"f","X":6}`, `{"K":"g","X":7}`)
	e.Flush()
	want := "error_stream 3000 'Evaluation_Error'\nO 3000 'c' 3\nO 3000 'b' 2\nO 3000 'a' 1\n" +
		"O 6000 'f' 6\nO 6000 'e' 5\nO 6000 'd' 4\nO 7000 'g' 7\n"
	if got.String() != want {
		t.Fatalf("got\n%swant\n%s", got, want)
	}
	if len(msgs) != 1 || msgs[0] != "ORDER BY at 2:65 gathered 3 rows for one value of its leading expression: they come out sorted in runs of 3" {
		t.Fatalf("error_stream: %q", msgs)
	}
}

// TestOrderByState: the gathered rows travel with MarshalState, and a
// state that does not fit the sorter is a *StateError that leaves the
// engine as it was.
func TestOrderByState(t *testing.T) {
	e, _ := newTableTestEngine(t, orderTestSQL)
	insertTableTestRows(t, e, `{"K":"a","X":1}`, `{"K":"b","X":2}`)
	state := e.MarshalState()
	s := e.pumpNames["P"].order.s
	tail := s.appendState(nil)
	if !bytes.HasSuffix(state, tail) || len(s.rows) != 2 {
		t.Fatalf("the sorter's state %q is not the end of %q", tail, state)
	}
	head := state[:len(state)-len(tail)]
	e2 := restoreAndInsert(t, orderTestSQL, state, `{"K":"c","X":3}`, 70_000, "O 2000 'b' 2\nO 2000 'a' 1\n")
	minute := value.Value{K: value.KindTime}
	row := func(rt int64, lead value.Value, vals ...value.Value) sortRow {
		return sortRow{rt: rt, vals: append([]value.Value{lead, value.IntValue(1)}, vals...)}
	}
	ok := []value.Value{value.StringValue("a"), value.IntValue(1)}
	for reason, rows := range map[string][]sortRow{
		"another leading value":      {row(1000, minute, ok...), row(1000, value.Value{K: value.KindTime, I: 60_000}, ok...)},
		"is later than the latest":   {row(9000, minute, ok...)},
		`has BIGINT in column "K"`:   {row(1000, minute, value.IntValue(1), value.IntValue(1))},
		"rows gathered for ORDER BY": make([]sortRow, s.limit),
	} {
		bad := &sorter{has: true, cur: minute, maxRT: 2000, rows: rows}
		for i := range bad.rows {
			if bad.rows[i].vals == nil {
				bad.rows[i] = row(1000, minute, ok...)
			}
		}
		b := bad.appendState(append([]byte(nil), head...))
		before := e2.MarshalState()
		var se *StateError
		if err := e2.RestoreState(b); !errors.As(err, &se) || !strings.Contains(err.Error(), reason) {
			t.Errorf("%s: %v", reason, err)
		}
		if !bytes.Equal(e2.MarshalState(), before) {
			t.Errorf("%s: a failed restore changed the state", reason)
		}
	}
}
