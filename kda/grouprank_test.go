package kda

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGroupRankSortsGroupBy: the reference's use of GROUP_RANK, sorting
// the results of a streaming GROUP BY: the tickers of each 10-second
// window ranked by their count, most first, ties sharing a rank, compared
// with a ranking computed here from the records.
func TestGroupRankSortsGroupBy(t *testing.T) {
	for _, declared := range []bool{false, true} {
		sql := `
CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" ("ticker_symbol" VARCHAR(4), "ticker_count" BIGINT, "groupRank" INTEGER);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM "ticker_symbol", "ticker_count", "groupRank"
FROM TABLE(GROUP_RANK(
    CURSOR(SELECT STREAM "TICKER_SYMBOL" AS "ticker_symbol", COUNT(*) AS "ticker_count"
           FROM "SOURCE_SQL_STREAM_001"
           GROUP BY "TICKER_SYMBOL", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '10' SECOND)),
    'ticker_count', 'groupRank', 'desc', 'asc', 0, 0));`
		if declared {
			// The reference's DDL, as SQLstream declared the UDX.
			sql = `CREATE FUNCTION group_rank(c cursor, rankByColumnName VARCHAR(128),
    rankOutColumnName VARCHAR(128), sortOrder VARCHAR(10), outputOrder VARCHAR(10),
    maxIdle INTEGER, outputMax INTEGER)
  returns table(c.*, "groupRank" INTEGER)
  language java parameter style system defined java no sql
  external name 'class com.sqlstream.plugin.grouprank.GroupRank.group_rank';` + sql
		}
		e := must(NewEngine(sql, []Input{demoInput}))
		out := collect(t, e, "DESTINATION_SQL_STREAM")
		recs := stateEvents(1500)
		type win struct {
			counts map[string]int64
			order  []string
		}
		wins := map[int64]*win{}
		var starts []int64
		for _, r := range recs {
			ms := r.Kinesis.ApproximateArrivalTimestamp.UnixMilli()
			must(0, e.InsertJSON(DefaultInputStream, r.Kinesis.Data, r.Kinesis.ApproximateArrivalTimestamp.Time))
			s := ms / 10_000 * 10_000
			w := wins[s]
			if w == nil {
				w = &win{counts: map[string]int64{}}
				wins[s] = w
				starts = append(starts, s)
			}
			tk := r.Kinesis.PartitionKey
			if w.counts[tk] == 0 {
				w.order = append(w.order, tk)
			}
			w.counts[tk]++
		}
		e.Flush()
		var want []string
		for _, s := range starts {
			w := wins[s]
			type item struct {
				tk   string
				n    int64
				rank int
			}
			var items []item
			for _, tk := range w.order {
				rank := 1
				for _, o := range w.order {
					if w.counts[o] > w.counts[tk] {
						rank++
					}
				}
				items = append(items, item{tk, w.counts[tk], rank})
			}
			slices.SortStableFunc(items, func(a, b item) int { return cmp.Compare(a.rank, b.rank) })
			for _, it := range items {
				want = append(want, fmt.Sprintf(`{"ticker_symbol":%q,"ticker_count":%d,"groupRank":%d}`, it.tk, it.n, it.rank))
			}
		}
		if !slices.Equal(*out, want) {
			t.Fatalf("declared %v: %d rows, want %d\n got %v\nwant %v", declared, len(*out), len(want), head(*out), head(want))
		}
		ties := 0
		for i := 1; i < len(want); i++ {
			if strings.HasSuffix(want[i], want[i-1][strings.LastIndex(want[i-1], ":"):]) {
				ties++
			}
		}
		if ties < 5 {
			t.Fatalf("only %d ties: the input does not test shared ranks", ties)
		}
	}
}

func head(xs []string) []string { return xs[:min(len(xs), 12)] }

// TestGroupRankMatchesBruteForce: random groups of rows at shared
// ROWTIMEs, with NULLs and ties, every sortOrder and outputOrder and
// several outputMax, against RANK() computed by its definition (1 + the
// rows strictly better; NULLs after every value) and the output order
// sorted here.
func TestGroupRankMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	cols := []Column{{Name: "k", Type: Integer}, {Name: "s", Type: Varchar(2)}, {Name: "id", Type: Bigint}}
	type row struct {
		rt   int64
		vals []Value
	}
	var rows []row
	ms := int64(1_700_000_000_000)
	for id := range 400 {
		if rng.IntN(4) == 0 {
			ms += 1 + rng.Int64N(3)
		}
		k, s := IntValue(rng.Int64N(4)), StringValue(string(rune('a'+rng.IntN(3))))
		if rng.IntN(6) == 0 {
			k = Value{}
		}
		if rng.IntN(6) == 0 {
			s = Value{}
		}
		rows = append(rows, row{ms, []Value{k, s, IntValue(int64(id))}})
	}
	for _, c := range []struct {
		col, sort, out string
		max            int
	}{{"k", "asc", "asc", 0}, {"k", "desc", "asc", 0}, {"k", "asc", "desc", 0}, {"s", "DESC", "desc", 3}, {"s", "asc", "asc", 1}, {"k", "desc", "desc", 2}} {
		sql := fmt.Sprintf(`CREATE STREAM "out" ("k" INTEGER, "s" VARCHAR(2), "id" BIGINT, "r" INTEGER);
CREATE PUMP "p" AS INSERT INTO "out" SELECT STREAM * FROM TABLE(GROUP_RANK(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001"), '%s', 'r', '%s', '%s', 1000, %d));`, c.col, c.sort, c.out, c.max)
		e := must(NewEngine(sql, []Input{{Columns: cols}}))
		var got []string
		must(0, e.Subscribe("out", func(r Row) { got = append(got, fmt.Sprintf("%d %s", r.Rowtime, r.AppendJSON(nil))) }))
		for _, r := range rows {
			must(0, e.Insert(DefaultInputStream, r.vals, time.UnixMilli(r.rt)))
		}
		e.Flush()
		ci := 0
		if c.col == "s" {
			ci = 1
		}
		// better: a ranks strictly before b.
		better := func(a, b Value) bool {
			switch {
			case a.IsNull():
				return false
			case b.IsNull():
				return true
			}
			d := cmp.Compare(a.S, b.S)
			if a.K == KindInt {
				d = cmp.Compare(a.I, b.I)
			}
			if strings.EqualFold(c.sort, "desc") {
				return d > 0
			}
			return d < 0
		}
		var want []string
		for lo := 0; lo < len(rows); {
			hi := lo
			for hi < len(rows) && rows[hi].rt == rows[lo].rt {
				hi++
			}
			group := rows[lo:hi]
			ranks := make([]int, len(group))
			idx := make([]int, len(group))
			for i := range group {
				idx[i] = i
				ranks[i] = 1
				for _, o := range group {
					if better(o.vals[ci], group[i].vals[ci]) {
						ranks[i]++
					}
				}
			}
			slices.SortStableFunc(idx, func(i, j int) int {
				if c.out == "desc" {
					return cmp.Compare(ranks[j], ranks[i])
				}
				return cmp.Compare(ranks[i], ranks[j])
			})
			if c.max > 0 && len(idx) > c.max {
				idx = idx[:c.max]
			}
			for _, i := range idx {
				v := group[i].vals
				want = append(want, fmt.Sprintf(`%d {"k":%s,"s":%s,"id":%d,"r":%d}`, group[i].rt, jsonOf(v[0]), jsonOf(v[1]), v[2].I, ranks[i]))
			}
			lo = hi
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%+v: %d rows, want %d\n got %v\nwant %v", c, len(got), len(want), head(got), head(want))
		}
	}
}

func jsonOf(v Value) string {
	switch {
	case v.IsNull():
		return "null"
	case v.K == KindInt:
		return fmt.Sprint(v.I)
	}
	return fmt.Sprintf("%q", v.S)
}

// TestGroupRankErrors: each argument mistake names the argument and its
// line:col; GROUP_RANK as a scalar function says how to call it.
func TestGroupRankErrors(t *testing.T) {
	call := func(args string) string {
		return `CREATE STREAM "o" ("t" VARCHAR(4), "r" INTEGER);
CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM "t", "r" FROM TABLE(GROUP_RANK(CURSOR(SELECT STREAM "TICKER_SYMBOL" AS "t", "PRICE" AS "p", "SECTOR" = 'X' AS "b" FROM "SOURCE_SQL_STREAM_001"), ` + args + `));`
	}
	const decl = `CREATE FUNCTION group_rank(c cursor, rankByColumnName VARCHAR(128), rankOutColumnName VARCHAR(128), sortOrder VARCHAR(10), outputOrder VARCHAR(10), maxIdle INTEGER, outputMax INTEGER)
  returns table(c.*, "groupRank" INTEGER) language java parameter style system defined java no sql external name 'class x';
`
	for _, c := range []struct{ sql, want string }{
		{call(`'p', 'r', 'asc', 'asc', 0`), "2:70: GROUP_RANK: takes a CURSOR and 6 arguments (rankByColumnName, rankOutColumnName, sortOrder, outputOrder, maxIdle, outputMax), got 5"},
		{call(`'P', 'r', 'asc', 'asc', 0, 0`), `GROUP_RANK argument 2 (rankByColumnName): the cursor has no column "P"; names are case-sensitive: write 'p'`},
		{call(`'b', 'r', 'asc', 'asc', 0, 0`), `GROUP_RANK argument 2 (rankByColumnName): cannot rank by BOOLEAN column "b"`},
		{call(`'p', 't', 'asc', 'asc', 0, 0`), `GROUP_RANK argument 3 (rankOutColumnName): the cursor already has a column "t"`},
		{call(`'p', 'r', 'up', 'asc', 0, 0`), `GROUP_RANK argument 4 (sortOrder): must be 'asc' or 'desc', got 'up'`},
		{call(`'p', 'r', 'asc', 1, 0, 0`), `GROUP_RANK argument 5 (outputOrder): must be a string in single quotes, got 1`},
		{call(`'p', 'r', 'asc', 'asc', -1, 0`), `GROUP_RANK argument 6 (maxIdle): must be from 0 to 2147483647, got -1`},
		{call(`'p', 'r', 'asc', 'asc', 0, 'x'`), `GROUP_RANK argument 7 (outputMax): must be an integer, got 'x'`},
		{`CREATE STREAM "o" ("r" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM GROUP_RANK(1) FROM "SOURCE_SQL_STREAM_001";`, "GROUP_RANK is a table function: call it in FROM TABLE(GROUP_RANK(CURSOR(SELECT STREAM …), …))"},
		{`CREATE FUNCTION group_rank(c CURSOR) RETURNS BIGINT LANGUAGE JAVA EXTERNAL NAME 'x';`, "function GROUP_RANK is a table function: declare it as GROUP_RANK(c CURSOR, …) RETURNS TABLE(c.*, …)"},
		{decl + call(`'p', 'rank', 'asc', 'asc', 0, 0`), "sql 4:200: GROUP_RANK's rankOutColumnName 'rank' must be the rank column its CREATE FUNCTION (line 1) returns: groupRank"},
		{decl + call(`'p', 'groupRank', 'asc', 'asc', 0`), "sql 4:70: GROUP_RANK is declared with 7 parameters (line 1) and called with 6 arguments"},
		{`CREATE FUNCTION "my_udx"(c CURSOR) RETURNS TABLE(c.*, "x" INTEGER) LANGUAGE JAVA EXTERNAL NAME 'x';`, "CREATE FUNCTION my_udx … EXTERNAL NAME (a Java UDF or UDX: KDA runs user-defined functions written in SQL only"},
	} {
		_, err := NewEngine(c.sql, []Input{demoInput})
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n got %v\nwant %s", c.sql, err, c.want)
		}
	}
}
