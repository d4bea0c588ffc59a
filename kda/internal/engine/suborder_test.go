package engine

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// TestOrderByInCursor: a CURSOR's ORDER BY sorts the rows the table
// function reads (TEST_SEQ numbers them in the order it gets them), in one
// run and across a state restored between every row.
func TestOrderByInCursor(t *testing.T) {
	const sql = `CREATE STREAM "O" (K VARCHAR(4), X BIGINT, SEQ BIGINT);
CREATE PUMP "P" AS INSERT INTO "O"
SELECT STREAM K, X, SEQ FROM TABLE(TEST_SEQ(CURSOR(
  SELECT STREAM K, X FROM "IN" WHERE X <> 3 ORDER BY STEP(ROWTIME BY INTERVAL '1' SECOND), X DESC, K), 'X', 1, 1));`
	type row struct {
		k  string
		x  int64
		ms int64
	}
	rng := rand.New(rand.NewPCG(4, 16))
	var rows []row
	ms := int64(1_700_000_000_000)
	for range 400 {
		ms += rng.Int64N(300)
		rows = append(rows, row{string(rune('A' + rng.IntN(3))), rng.Int64N(6), ms})
	}
	var want strings.Builder
	seq := int64(0)
	for lo := 0; lo < len(rows); {
		hi := lo
		for hi < len(rows) && rows[hi].ms/1000 == rows[lo].ms/1000 {
			hi++
		}
		var kept []row
		var last int64 // the step's latest ROWTIME the sorter saw
		for _, r := range rows[lo:hi] {
			if r.x != 3 {
				kept, last = append(kept, r), r.ms
			}
		}
		slices.SortStableFunc(kept, func(a, b row) int { return cmp.Or(cmp.Compare(b.x, a.x), strings.Compare(a.k, b.k)) })
		for _, r := range kept {
			seq++
			fmt.Fprintf(&want, "O %d '%s' %d %d\n", last, r.k, r.x, seq)
		}
		lo = hi
	}
	for _, restore := range []bool{false, true} {
		e, out := newTableTestEngine(t, sql)
		var got strings.Builder
		for _, r := range rows {
			if restore {
				st := e.MarshalState()
				got.WriteString(out.String())
				e, out = newTableTestEngine(t, sql)
				if err := e.RestoreState(st); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Insert("IN", []value.Value{value.StringValue(r.k), value.IntValue(r.x)}, time.UnixMilli(r.ms)); err != nil {
				t.Fatal(err)
			}
		}
		e.Flush()
		if got.WriteString(out.String()); got.String() != want.String() {
			t.Fatalf("restore %v:\n got %s\nwant %s", restore, got.String(), want.String())
		}
	}
}
