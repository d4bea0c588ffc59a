package kda

import (
	"cmp"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// orderSQL sorts the demo stream five ways: plain rows by a column in and
// one out of the SELECT list, a tumbling GROUP BY by its aggregates, an
// ordinal and an alias with NULLS FIRST, a UNION ALL by an expression
// over its names, and the reference's DISTINCT example.
const orderSQL = `CREATE STREAM "O1" (ticker VARCHAR(4), price DOUBLE, change DOUBLE);
CREATE PUMP "P1" AS INSERT INTO "O1"
SELECT STREAM ticker_symbol, price, change FROM "SOURCE_SQL_STREAM_001"
ORDER BY FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO SECOND), price DESC, 1 ASC;
CREATE STREAM "O2" (ticker VARCHAR(4), n BIGINT, hi DOUBLE);
CREATE PUMP "P2" AS INSERT INTO "O2"
SELECT STREAM ticker_symbol, COUNT(*), MAX(price) FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE)
ORDER BY FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE), COUNT(*) DESC, MAX(price) NULLS FIRST;
CREATE STREAM "O3" (w TIMESTAMP, ticker VARCHAR(4), sector VARCHAR(16));
CREATE PUMP "P3" AS INSERT INTO "O3"
SELECT STREAM STEP(ROWTIME BY INTERVAL '2' SECOND) AS w, ticker_symbol AS tk, sector FROM "SOURCE_SQL_STREAM_001"
WHERE change <> 0
ORDER BY 1, price ASC NULLS FIRST, tk DESC, change;
CREATE STREAM "O4" (k VARCHAR(16), v DOUBLE);
CREATE PUMP "P4" AS INSERT INTO "O4"
SELECT STREAM ticker_symbol AS k, price AS v FROM "SOURCE_SQL_STREAM_001" WHERE price > 52
UNION ALL
SELECT STREAM sector, change FROM "SOURCE_SQL_STREAM_001" WHERE change > 0
ORDER BY STEP(ROWTIME BY INTERVAL '1' SECOND), -v, k DESC;
CREATE STREAM "O5" (t TIMESTAMP, ticker VARCHAR(4));
CREATE PUMP "P5" AS INSERT INTO "O5"
SELECT STREAM DISTINCT ROWTIME, ticker_symbol FROM "SOURCE_SQL_STREAM_001" ORDER BY ROWTIME, ticker_symbol;`

// obRow is an output row for the brute force: its ROWTIME, its leading
// value, its values and the sort keys outside them.
type obRow struct {
	rt, lead int64
	vals     []Value
	extra    []Value
}

// bruteOrder groups consecutive rows of one leading value, sorts each
// group stably with cmp and gives its rows the group's latest ROWTIME.
func bruteOrder(stream string, rows []obRow, cmp func(a, b obRow) int) []string {
	var out []string
	for i := 0; i < len(rows); {
		j, latest := i, rows[i].rt
		for ; j < len(rows) && rows[j].lead == rows[i].lead; j++ {
			latest = max(latest, rows[j].rt)
		}
		g := slices.Clone(rows[i:j])
		slices.SortStableFunc(g, cmp)
		for _, r := range g {
			out = append(out, fmtRow(stream, latest, r.vals...))
		}
		i = j
	}
	return out
}

// cmpValue orders two values of one kind, NULLs first or last.
func cmpValue(a, b Value, desc, nullsFirst bool) int {
	switch an, bn := a.IsNull(), b.IsNull(); {
	case an && bn:
		return 0
	case an || bn:
		if an == nullsFirst {
			return -1
		}
		return 1
	}
	c := cmp.Compare(a.Float(), b.Float())
	if a.K == KindString {
		c = strings.Compare(a.S, b.S)
	}
	if desc {
		return -c
	}
	return c
}

// TestOrderByMatchesBruteForce: streaming ORDER BY over plain rows, a
// GROUP BY, a UNION ALL and DISTINCT gives the rows of a brute-force sort
// of each leading value's rows, in one part and across 7 and 60 restored
// engines.
func TestOrderByMatchesBruteForce(t *testing.T) {
	rows := demoRows(16, 3000)
	price := func(r demoRow) Value {
		if r.noPrice {
			return Value{}
		}
		return FloatValue(r.price)
	}
	var o1, o3, o4, o5 []obRow
	seen := map[int64]map[string]bool{}
	for _, r := range rows {
		o1 = append(o1, obRow{rt: r.ms, lead: r.ms / 1000, vals: []Value{StringValue(r.ticker), price(r), FloatValue(r.change)}})
		if r.change != 0 {
			w := TimeValue(time.UnixMilli(r.ms / 2000 * 2000))
			o3 = append(o3, obRow{rt: r.ms, lead: r.ms / 2000, vals: []Value{w, StringValue(r.ticker), StringValue(r.sector)},
				extra: []Value{price(r), FloatValue(r.change)}})
		}
		if !r.noPrice && r.price > 52 {
			o4 = append(o4, obRow{rt: r.ms, lead: r.ms / 1000, vals: []Value{StringValue(r.ticker), FloatValue(r.price)}})
		}
		if r.change > 0 {
			o4 = append(o4, obRow{rt: r.ms, lead: r.ms / 1000, vals: []Value{StringValue(r.sector), FloatValue(r.change)}})
		}
		if seen[r.ms] == nil {
			seen[r.ms] = map[string]bool{}
		}
		if !seen[r.ms][r.ticker] {
			seen[r.ms][r.ticker] = true
			o5 = append(o5, obRow{rt: r.ms, lead: r.ms, vals: []Value{TimeValue(time.UnixMilli(r.ms)), StringValue(r.ticker)}})
		}
	}
	// O2: a row per ticker and minute at the minute's end, in first-seen
	// order before sorting.
	var o2 []obRow
	type group struct {
		n  int64
		hi Value
	}
	var order []string
	groups := map[string]*group{}
	minute := rows[0].ms / 60000
	closeMinute := func() {
		for _, tk := range order {
			g := groups[tk]
			o2 = append(o2, obRow{rt: (minute + 1) * 60000, lead: minute, vals: []Value{StringValue(tk), IntValue(g.n), g.hi}})
		}
		order, groups = nil, map[string]*group{}
	}
	for _, r := range rows {
		if m := r.ms / 60000; m != minute {
			closeMinute()
			minute = m
		}
		g := groups[r.ticker]
		if g == nil {
			g = &group{}
			groups[r.ticker] = g
			order = append(order, r.ticker)
		}
		g.n++
		if p := price(r); !p.IsNull() && (g.hi.IsNull() || p.F > g.hi.F) {
			g.hi = p
		}
	}
	closeMinute()

	want := map[string][]string{
		"O1": bruteOrder("O1", o1, func(a, b obRow) int {
			return cmp.Or(cmpValue(a.vals[1], b.vals[1], true, true), cmpValue(a.vals[0], b.vals[0], false, false))
		}),
		"O2": bruteOrder("O2", o2, func(a, b obRow) int {
			return cmp.Or(cmpValue(a.vals[1], b.vals[1], true, true), cmpValue(a.vals[2], b.vals[2], false, true))
		}),
		"O3": bruteOrder("O3", o3, func(a, b obRow) int {
			return cmp.Or(cmpValue(a.extra[0], b.extra[0], false, true), cmpValue(a.vals[1], b.vals[1], true, true),
				cmpValue(a.extra[1], b.extra[1], false, false))
		}),
		"O4": bruteOrder("O4", o4, func(a, b obRow) int {
			return cmp.Or(cmpValue(a.vals[1], b.vals[1], true, true), cmpValue(a.vals[0], b.vals[0], true, true))
		}),
		"O5": bruteOrder("O5", o5, func(a, b obRow) int { return cmpValue(a.vals[1], b.vals[1], false, false) }),
	}
	streams := []string{"O1", "O2", "O3", "O4", "O5"}
	for _, parts := range []int{1, 7, 60} {
		got := splitRun(t, orderSQL, []Input{demoInput}, streams, feedDemo(rows), parts)
		for _, s := range streams {
			var gs []string
			for _, r := range got {
				if strings.HasPrefix(r, s+" ") {
					gs = append(gs, r)
				}
			}
			if len(want[s]) < 50 || len(gs) != len(want[s]) {
				t.Fatalf("%d parts, %s: %d rows, the brute force %d", parts, s, len(gs), len(want[s]))
			}
			for i := range gs {
				if gs[i] != want[s][i] {
					t.Fatalf("%d parts, %s: row %d\n got %s\nwant %s", parts, s, i, gs[i], want[s][i])
				}
			}
		}
	}
}

// TestOrderByEmitsWhenTimeMovesOn: a leading STEP's rows come out once
// ROWTIME reaches the step's end (Advance, or a later record), a GROUP
// BY's as its window closes, not only when a row of the next value comes.
func TestOrderByEmitsWhenTimeMovesOn(t *testing.T) {
	e := must(NewEngine(orderSQL, []Input{demoInput}))
	var got []string
	for _, s := range []string{"O1", "O2"} {
		must(0, e.Subscribe(s, func(r Row) { got = append(got, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
	}
	t0 := time.UnixMilli(1_700_000_040_000)
	for i, p := range []float64{3, 9, 5} {
		must(0, e.Insert(DefaultInputStream, []Value{StringValue("A"), StringValue("S"), FloatValue(1), FloatValue(p)}, t0.Add(time.Duration(i*100)*time.Millisecond)))
	}
	if len(got) != 0 {
		t.Fatalf("rows before the second ended: %q", got)
	}
	e.Advance(t0.Add(999 * time.Millisecond))
	if len(got) != 0 {
		t.Fatalf("rows before the second ended: %q", got)
	}
	e.Advance(t0.Add(time.Second))
	want := []string{`O1 1700000040200 ["A",9.0,1.0]`, `O1 1700000040200 ["A",5.0,1.0]`, `O1 1700000040200 ["A",3.0,1.0]`}
	if !slices.Equal(got, want) {
		t.Fatalf("at the second's end:\n got %q\nwant %q", got, want)
	}
	got = nil
	e.Advance(t0.Add(time.Minute - time.Millisecond))
	if len(got) != 0 {
		t.Fatalf("rows before the minute ended: %q", got)
	}
	e.Advance(t0.Add(time.Minute))
	if want := []string{`O2 1700000100000 ["A",3,9.0]`}; !slices.Equal(got, want) {
		t.Fatalf("at the minute's end:\n got %q\nwant %q", got, want)
	}
}

// TestOrderByErrors: a leading expression that is not monotonic, a bad
// ordinal or column, and ORDER BY where the engine does not sort fail at
// compile time with their position.
func TestOrderByErrors(t *testing.T) {
	const from = ` FROM "SOURCE_SQL_STREAM_001"`
	stream := `CREATE STREAM "o" (a VARCHAR(4), p DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM ticker_symbol, price`
	for _, c := range []struct{ sql, want, unsupported string }{
		{stream + from + ` ORDER BY ticker_symbol`, `sql 1:153: a streaming ORDER BY needs a monotonic leading expression (ROWTIME, or STEP or FLOOR of ROWTIME); "TICKER_SYMBOL" is not`, ""},
		{stream + from + ` ORDER BY price DESC, ROWTIME`, `sql 1:153: a streaming ORDER BY needs a monotonic leading expression`, ""},
		{stream + from + ` ORDER BY 2, ROWTIME`, `sql 1:153: a streaming ORDER BY needs a monotonic leading expression (ROWTIME, or STEP or FLOOR of ROWTIME); 2 is not`, ""},
		{`CREATE STREAM "o" (a VARCHAR(4), p DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM a.ticker_symbol, b.price FROM "SOURCE_SQL_STREAM_001" OVER (ROWS 2 PRECEDING) AS a JOIN "SOURCE_SQL_STREAM_001" AS b ON a.sector = b.sector ORDER BY a.ROWTIME`,
			`sql 1:243: a streaming ORDER BY needs a monotonic leading expression (ROWTIME, or STEP or FLOOR of ROWTIME); "A".ROWTIME, one side's, is not (the pair's ROWTIME is)`, ""},
		{stream + from + ` ORDER BY ROWTIME, 3`, `sql 1:162: ORDER BY 3: the SELECT list has 2 items`, ""},
		{stream + from + ` ORDER BY ROWTIME, nope`, `sql 1:162: unknown column "NOPE"`, ""},
		{stream + from + ` ORDER BY ROWTIME NULLS price`, `expected FIRST or LAST after NULLS`, ""},
		{stream + from + ` ORDER BY ROWTIME UNION ALL SELECT STREAM 'a', 1.0` + from, `expected ; or end of input, found UNION`, ""},
		{stream + ` FROM (SELECT STREAM ticker_symbol, price` + from + ` ORDER BY ticker_symbol) AS s`, `sql 1:194: a streaming ORDER BY needs a monotonic leading expression (ROWTIME, or STEP or FLOOR of ROWTIME); "TICKER_SYMBOL" is not`, ""},
		{stream + ` FROM (SELECT STREAM ticker_symbol, price` + from + ` ORDER BY ROWTIME, 3) AS s`, `sql 1:203: ORDER BY 3: the SELECT list has 2 items`, ""},
		{`CREATE STREAM "o" (a VARCHAR(4), n BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM *` + from + ` ORDER BY price), 'TICKER_SYMBOL', 3, 10))`,
			`a streaming ORDER BY needs a monotonic leading expression (ROWTIME, or STEP or FLOOR of ROWTIME); "PRICE" is not`, ""},
	} {
		_, err := NewEngine(c.sql, []Input{demoInput})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n  %v\n want %q", c.sql, err, c.want)
			continue
		}
		var ue *UnsupportedError
		if errors.As(err, &ue) != (c.unsupported != "") || ue != nil && ue.Construct != c.unsupported {
			t.Errorf("%s: %v: UnsupportedError %v, want %q", c.sql, err, ue, c.unsupported)
		}
	}
}

// TestOrderByJoin: the pairs of a JOIN of two streams sorted by a key of
// each side.
func TestOrderByJoin(t *testing.T) {
	e := must(NewEngine(`CREATE STREAM "O" (A DOUBLE, B DOUBLE);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM a.price, b.price
FROM "SOURCE_SQL_STREAM_001" OVER (RANGE INTERVAL '1' SECOND PRECEDING) AS a JOIN "SOURCE_SQL_STREAM_001" AS b ON a.sector = b.sector
ORDER BY FLOOR(ROWTIME TO SECOND), a.price DESC, b.change;`, []Input{demoInput}))
	var got []string
	must(0, e.Subscribe("O", func(r Row) { got = append(got, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
	t0 := time.UnixMilli(1_700_000_000_000)
	for i, p := range []float64{1, 3, 2} {
		must(0, e.Insert(DefaultInputStream, []Value{StringValue("A"), StringValue("S"), FloatValue(float64(-i)), FloatValue(p)}, t0.Add(time.Duration(i*400)*time.Millisecond)))
	}
	e.Flush()
	// Each row pairs with itself and the earlier ones of its second.
	want := []string{`O 1700000000800 [3.0,2.0]`, `O 1700000000800 [3.0,3.0]`, `O 1700000000800 [2.0,2.0]`,
		`O 1700000000800 [1.0,2.0]`, `O 1700000000800 [1.0,3.0]`, `O 1700000000800 [1.0,1.0]`}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestOrderByWindowKey: a sort key may be a sliding window's aggregate
// that the SELECT list does not have.
func TestOrderByWindowKey(t *testing.T) {
	e := must(NewEngine(`CREATE STREAM "O" (T VARCHAR(4), P DOUBLE);
CREATE PUMP "P" AS INSERT INTO "O" SELECT STREAM ticker_symbol, price FROM "SOURCE_SQL_STREAM_001"
ORDER BY ROWTIME, AVG(price) OVER (RANGE INTERVAL '1' MINUTE PRECEDING) DESC;`, []Input{demoInput}))
	var got []string
	must(0, e.Subscribe("O", func(r Row) { got = append(got, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
	t0 := time.UnixMilli(1_700_000_000_000)
	for i, p := range []float64{0, 7, 1, 4} { // averages 0, 3.5, 2.67, 3
		must(0, e.Insert(DefaultInputStream, []Value{StringValue("A"), StringValue("S"), FloatValue(1), FloatValue(p)}, t0.Add(time.Duration(i/2*300)*time.Millisecond)))
	}
	e.Flush()
	want := []string{`O 1700000000000 ["A",7.0]`, `O 1700000000000 ["A",0.0]`, `O 1700000000300 ["A",4.0]`, `O 1700000000300 ["A",1.0]`}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}
