package kda

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

const joinFormsSQL = `CREATE STREAM "U1" (oid BIGINT, tk VARCHAR(4), oa DOUBLE, tid BIGINT, ta DOUBLE);
CREATE PUMP "P1" AS INSERT INTO "U1"
SELECT STREAM * FROM "ORDERS" AS o JOIN "TRADES" OVER (RANGE INTERVAL '10' SECOND PRECEDING) AS t USING (oid, ticker);
CREATE STREAM "U2" (oid BIGINT, tk VARCHAR(4), tid BIGINT);
CREATE PUMP "P2" AS INSERT INTO "U2"
SELECT STREAM oid, o.ticker, t.tid FROM "ORDERS" OVER (ROWS 2 PRECEDING) AS o RIGHT JOIN "TRADES" AS t USING (oid);
CREATE STREAM "C1" (oid BIGINT, tid BIGINT);
CREATE PUMP "P3" AS INSERT INTO "C1"
SELECT STREAM o.oid, t.tid FROM "ORDERS" AS o CROSS JOIN "TRADES" OVER (ROWS 1 PRECEDING) AS t;
CREATE STREAM "C2" (oid BIGINT, tid BIGINT);
CREATE PUMP "P4" AS INSERT INTO "C2"
SELECT STREAM o.oid, t.tid FROM "ORDERS" AS o, "TRADES" OVER (RANGE INTERVAL '8' SECOND PRECEDING) AS t
WHERE o.oid = t.oid AND t.amount > o.amount;
CREATE STREAM "W1" (oid BIGINT, tid BIGINT);
CREATE PUMP "P5" AS INSERT INTO "W1"
SELECT STREAM o.oid, t.tid FROM "ORDERS" OVER (PARTITION BY ticker ROWS 1 PRECEDING) AS o JOIN "TRADES" AS t ON o.amount < t.amount;
CREATE STREAM "W2" (oid BIGINT, tid BIGINT);
CREATE PUMP "P6" AS INSERT INTO "W2"
SELECT STREAM o.oid, t.tid FROM "ORDERS" OVER W AS o LEFT JOIN "TRADES" OVER (RANGE INTERVAL '2' SECOND PRECEDING) AS t ON o.oid = t.oid
WINDOW W AS (PARTITION BY ticker ROWS 1 PRECEDING);
CREATE STREAM "W3" (tid BIGINT, oid BIGINT);
CREATE PUMP "P7" AS INSERT INTO "W3"
SELECT STREAM t.tid, o.oid FROM "TRADES" OVER (PARTITION BY oid ROWS 0 PRECEDING) AS t JOIN "ORDERS" AS o ON t.oid = o.oid;
CREATE STREAM "U3" (oid BIGINT, tk VARCHAR(4), tid BIGINT);
CREATE PUMP "P8" AS INSERT INTO "U3"
SELECT STREAM oid, o.ticker, t.tid FROM "ORDERS" AS o FULL JOIN "TRADES" OVER (ROWS 0 PRECEDING) AS t USING (oid);`

// TestJoinFormsMatchBruteForce: JOIN … USING (SELECT * with the USING
// columns once; RIGHT JOIN's unqualified USING column from the right
// side, FULL JOIN's from whichever side is there), CROSS JOIN, a comma
// join with WHERE, and PARTITION BY in a ROWS join window (INNER, LEFT
// with rows pushed out of their partition, and a latest-row-per-key
// lookup) agree with a brute force, in one part and across restored
// invocations.
func TestJoinFormsMatchBruteForce(t *testing.T) {
	evs := randomJoinEvents(16, 2400, 900, 20, func(rng *rand.Rand, ev *joinEvent) {
		if ev.right && rng.IntN(3) == 0 {
			ev.oid = 100 + rng.Int64N(300) // rare keys: P7's partitions
		}
	})
	const pumps = 8
	per := make([][][]string, len(evs))
	for k := range per {
		per[k] = make([][]string, pumps)
	}
	var flushed []string
	id := func(e *joinEvent) Value {
		if e == nil {
			return Value{}
		}
		return IntValue(e.id)
	}
	// P1: USING (oid, ticker), SELECT *.
	bruteJoin(evs, noWin, joinWin{10000, -1}, false, func(o, t joinEvent) bool { return o.id == t.oid && o.tk == t.tk },
		func(k int, o joinEvent, tr *joinEvent, rt int64) {
			per[k][0] = append(per[k][0], fmtRow("U1", rt, IntValue(o.id), StringValue(o.tk), FloatValue(o.amt), IntValue(tr.id), FloatValue(tr.amt)))
		})
	// P2: RIGHT JOIN USING (oid): a trade meets the last 3 orders; one
	// that meets none comes out at once, its own oid as OID.
	for k, ev := range evs {
		if !ev.right {
			continue
		}
		n := 0
		for _, o := range (joinWin{-1, 2}).window(evs, k, false) {
			if o.id == ev.oid {
				per[k][1] = append(per[k][1], fmtRow("U2", ev.ms, IntValue(o.id), StringValue(o.tk), IntValue(ev.id)))
				n++
			}
		}
		if n == 0 {
			per[k][1] = append(per[k][1], fmtRow("U2", ev.ms, IntValue(ev.oid), Value{}, IntValue(ev.id)))
		}
	}
	// P3, P4: CROSS JOIN and a comma join with WHERE.
	bruteJoin(evs, noWin, joinWin{-1, 1}, false, func(o, t joinEvent) bool { return true },
		func(k int, o joinEvent, tr *joinEvent, rt int64) {
			per[k][2] = append(per[k][2], fmtRow("C1", rt, IntValue(o.id), IntValue(tr.id)))
		})
	bruteJoin(evs, noWin, joinWin{8000, -1}, false, func(o, t joinEvent) bool { return o.id == t.oid && t.amt > o.amt },
		func(k int, o joinEvent, tr *joinEvent, rt int64) {
			per[k][3] = append(per[k][3], fmtRow("C2", rt, IntValue(o.id), IntValue(tr.id)))
		})
	// partWindow is the rows of one side before event k, the latest n+1
	// of each partition, in arrival order.
	partWindow := func(k int, right bool, n int, part func(joinEvent) string) []int {
		seen := map[string]int{}
		var out []int
		for j := k - 1; j >= 0; j-- {
			if ev := evs[j]; ev.right == right {
				if p := part(ev); seen[p] <= n {
					seen[p]++
					out = append(out, j)
				}
			}
		}
		slices.Reverse(out)
		return out
	}
	byTicker := func(ev joinEvent) string { return ev.tk }
	// P5: each trade meets the last 2 orders of each ticker.
	for k, ev := range evs {
		if ev.right {
			for _, j := range partWindow(k, false, 1, byTicker) {
				if o := evs[j]; o.amt < ev.amt {
					per[k][4] = append(per[k][4], fmtRow("W1", ev.ms, IntValue(o.id), IntValue(ev.id)))
				}
			}
		}
	}
	// P6: LEFT JOIN; an order that never pairs comes out when the second
	// later order of its ticker pushes it out, after that arrival's
	// pairs, or at the Flush.
	matched := map[int]bool{}
	for k, ev := range evs {
		if ev.right {
			for _, j := range partWindow(k, false, 1, byTicker) {
				if o := evs[j]; o.id == ev.oid {
					matched[j] = true
					per[k][5] = append(per[k][5], fmtRow("W2", ev.ms, IntValue(o.id), IntValue(ev.id)))
				}
			}
			continue
		}
		for _, tr := range (joinWin{2000, -1}).window(evs, k, true) {
			if tr.oid == ev.id {
				matched[k] = true
				per[k][5] = append(per[k][5], fmtRow("W2", ev.ms, IntValue(ev.id), IntValue(tr.id)))
			}
		}
	}
	var later = make([][]string, len(evs))
	for j, o := range evs {
		if o.right || matched[j] {
			continue
		}
		seen, done := 0, false
		for k := j + 1; k < len(evs) && !done; k++ {
			if !evs[k].right && evs[k].tk == o.tk {
				if seen++; seen == 2 {
					later[k] = append(later[k], fmtRow("W2", evs[k].ms, id(&o), Value{}))
					done = true
				}
			}
		}
		if !done {
			flushed = append(flushed, fmtRow("W2", evs[len(evs)-1].ms, id(&o), Value{}))
		}
	}
	for k := range evs {
		per[k][5] = append(per[k][5], later[k]...)
	}
	// P7: each order meets the latest trade of its oid.
	for k, ev := range evs {
		if !ev.right {
			for _, j := range partWindow(k, true, 0, func(ev joinEvent) string { return fmt.Sprint(ev.oid) }) {
				if tr := evs[j]; tr.oid == ev.id {
					per[k][6] = append(per[k][6], fmtRow("W3", ev.ms, IntValue(tr.id), IntValue(ev.id)))
				}
			}
		}
	}
	// P8: FULL JOIN USING (oid): an order meets the latest trade or comes
	// out at once; a trade that met no order comes out when the next
	// trade pushes it out, or at the Flush, its own oid as OID.
	last, paired := -1, false
	for k, ev := range evs {
		if !ev.right {
			if last >= 0 && evs[last].oid == ev.id {
				paired = true
				per[k][7] = append(per[k][7], fmtRow("U3", ev.ms, IntValue(ev.id), StringValue(ev.tk), IntValue(evs[last].id)))
			} else {
				per[k][7] = append(per[k][7], fmtRow("U3", ev.ms, IntValue(ev.id), StringValue(ev.tk), Value{}))
			}
			continue
		}
		if last >= 0 && !paired {
			per[k][7] = append(per[k][7], fmtRow("U3", ev.ms, IntValue(evs[last].oid), Value{}, IntValue(evs[last].id)))
		}
		last, paired = k, false
	}
	if !paired {
		flushed = append(flushed, fmtRow("U3", evs[len(evs)-1].ms, IntValue(evs[last].oid), Value{}, IntValue(evs[last].id)))
	}
	var want []string
	counts := make([]int, pumps)
	for k := range per {
		for p, lines := range per[k] {
			want = append(want, lines...)
			counts[p] += len(lines)
		}
	}
	want = append(want, flushed...)
	runJoinEvents(t, joinFormsSQL, []string{"U1", "U2", "C1", "C2", "W1", "W2", "W3", "U3"}, evs, counts, want)
	t.Logf("rows per pump: %v; %d at Flush", counts, len(flushed))
}

// TestReferenceJoinForms: JOIN … USING (SELECT * with the USING column
// once, LEFT JOIN's NULLs, SELECT STREAM DISTINCT *), CROSS JOIN (every stream row × every table
// row) and a comma join with WHERE (its equality the hash key) with a
// reference table agree with a brute force over random rows.
func TestReferenceJoinForms(t *testing.T) {
	sql := `CREATE STREAM "U" (tk VARCHAR(4), sector VARCHAR(16), change DOUBLE, price DOUBLE, company VARCHAR(32), rank INTEGER);
CREATE PUMP "P1" AS INSERT INTO "U" SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" JOIN COMPANIES USING (ticker_symbol);
CREATE STREAM "L" (tk VARCHAR(4), company VARCHAR(32));
CREATE PUMP "P2" AS INSERT INTO "L" SELECT STREAM ticker_symbol, c.company FROM "SOURCE_SQL_STREAM_001" AS s LEFT JOIN COMPANIES AS c USING (ticker_symbol);
CREATE STREAM "X" (tk VARCHAR(4), ctk VARCHAR(4), rank INTEGER);
CREATE PUMP "P3" AS INSERT INTO "X" SELECT STREAM s.ticker_symbol, c.ticker_symbol, c.rank FROM "SOURCE_SQL_STREAM_001" AS s CROSS JOIN COMPANIES AS c;
CREATE STREAM "W" (tk VARCHAR(4), company VARCHAR(32), price DOUBLE);
CREATE PUMP "P4" AS INSERT INTO "W" SELECT STREAM s.ticker_symbol, c.company, price FROM "SOURCE_SQL_STREAM_001" AS s, COMPANIES AS c
WHERE s.ticker_symbol = c.ticker_symbol AND price > c.rank;
CREATE STREAM "D" (tk VARCHAR(4), sector VARCHAR(16), change DOUBLE, price DOUBLE, company VARCHAR(32), rank INTEGER, m TIMESTAMP);
CREATE PUMP "P5" AS INSERT INTO "D" SELECT STREAM DISTINCT *, STEP(s.ROWTIME BY INTERVAL '1' MINUTE)
FROM "SOURCE_SQL_STREAM_001" AS s JOIN COMPANIES USING (ticker_symbol);`
	type company struct {
		tk, name string
		rank     int64
	}
	companies := []company{{"AMZN", "Amazon", 52}, {"XOM", "Exxon", 50}, {"AMZN", "Amazon again", 54}, {"WAS", "Was Inc.", 51}}
	tbl := Table{Name: "COMPANIES", Columns: []Column{{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "COMPANY", Type: Varchar(32)}, {Name: "RANK", Type: Integer}}}
	for _, c := range companies {
		tbl.Rows = append(tbl.Rows, []Value{StringValue(c.tk), StringValue(c.name), IntValue(c.rank)})
	}
	e := must(NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{tbl} }))
	var got []string
	for _, s := range []string{"U", "L", "X", "W", "D"} {
		must(0, e.Subscribe(s, func(r Row) { got = append(got, fmtRow(r.Stream, r.Rowtime, r.Values...)) }))
	}
	rows := demoRows(9, 600)
	var want []string
	seen, minute := map[string]bool{}, int64(-1)
	for _, r := range rows {
		if r.ms/60000 != minute {
			seen, minute = map[string]bool{}, r.ms/60000
		}
		f := r.feed()
		must(0, e.Insert(f.stream, f.vals, time.UnixMilli(f.ms)))
		price := f.vals[3]
		var u, l, x, w, d []string
		for _, c := range companies {
			if c.tk == r.ticker {
				u = append(u, fmtRow("U", r.ms, StringValue(r.ticker), StringValue(r.sector), FloatValue(r.change), price, StringValue(c.name), IntValue(c.rank)))
				vals := []Value{StringValue(r.ticker), StringValue(r.sector), FloatValue(r.change), price, StringValue(c.name), IntValue(c.rank)}
				if key := fmtRow("", 0, vals...); !seen[key] {
					seen[key] = true
					d = append(d, fmtRow("D", r.ms, append(vals, TimeValue(time.UnixMilli(minute*60000)))...))
				}
				l = append(l, fmtRow("L", r.ms, StringValue(r.ticker), StringValue(c.name)))
				if !r.noPrice && r.price > float64(c.rank) {
					w = append(w, fmtRow("W", r.ms, StringValue(r.ticker), StringValue(c.name), price))
				}
			}
			x = append(x, fmtRow("X", r.ms, StringValue(r.ticker), StringValue(c.tk), IntValue(c.rank)))
		}
		if len(l) == 0 {
			l = append(l, fmtRow("L", r.ms, StringValue(r.ticker), Value{}))
		}
		want = append(append(append(append(append(want, u...), l...), x...), w...), d...)
	}
	e.Flush()
	if len(got) != len(want) {
		t.Fatalf("%d rows, the brute force %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("row %d\n got %s\nwant %s", i, got[i], want[i])
		}
	}
}
