package kda

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var joinInputs = []Input{
	{Name: "ORDERS", Columns: []Column{{Name: "OID", Type: Bigint}, {Name: "TICKER", Type: Varchar(4)}, {Name: "AMOUNT", Type: Double}}},
	{Name: "TRADES", Columns: []Column{{Name: "TID", Type: Bigint}, {Name: "OID", Type: Bigint}, {Name: "TICKER", Type: Varchar(4)}, {Name: "AMOUNT", Type: Double}}},
}

const streamJoinSQL = `CREATE STREAM "J1" (rt TIMESTAMP, ort TIMESTAMP, trt TIMESTAMP, oid BIGINT, tid BIGINT, amount DOUBLE);
CREATE PUMP "P1" AS INSERT INTO "J1"
SELECT STREAM ROWTIME, o.ROWTIME, t.ROWTIME, o.oid, t.tid, t.amount
FROM "ORDERS" AS o JOIN "TRADES" OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS t ON o.oid = t.oid;
CREATE STREAM "J2" (oid BIGINT, tid BIGINT, oa DOUBLE, ta DOUBLE);
CREATE PUMP "P2" AS INSERT INTO "J2"
SELECT STREAM o.oid, t.tid, o.amount, t.amount
FROM "ORDERS" OVER (RANGE INTERVAL '3' SECOND PRECEDING) AS o
INNER JOIN "TRADES" OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS t
ON o.ticker = t.ticker AND t.amount > o.amount WHERE o.oid <> 7;
CREATE STREAM "J3" (oid BIGINT, tid BIGINT, trt TIMESTAMP);
CREATE PUMP "P3" AS INSERT INTO "J3"
SELECT STREAM o.oid, t.tid, t.ROWTIME
FROM "ORDERS" AS o LEFT OUTER JOIN "TRADES" OVER W AS t ON t.oid = o.oid
WINDOW W AS (ROWS 3 PRECEDING);
CREATE STREAM "J4" (tid BIGINT, oid BIGINT);
CREATE PUMP "P4" AS INSERT INTO "J4"
SELECT STREAM t.tid, o.oid
FROM "ORDERS" OVER W AS o JOIN "TRADES" AS t ON t.amount < o.amount AND t.ticker = 'XOM'
WINDOW W AS (ROWS 2 PRECEDING);
CREATE STREAM "J5" (a BIGINT, b BIGINT, art TIMESTAMP);
CREATE PUMP "P5" AS INSERT INTO "J5"
SELECT STREAM a.oid, b.oid, a.ROWTIME
FROM "ORDERS" OVER (RANGE INTERVAL '2' SECOND PRECEDING) AS a JOIN "ORDERS" AS b ON a.ticker = b.ticker;
CREATE STREAM "J6" (oid BIGINT, tid BIGINT);
CREATE PUMP "P6" AS INSERT INTO "J6"
SELECT STREAM o.oid, t.tid
FROM "ORDERS" OVER (RANGE INTERVAL '4' SECOND PRECEDING) AS o LEFT JOIN "TRADES" OVER (ROWS 1 PRECEDING) AS t ON o.oid = t.oid;
CREATE STREAM "J7" (oid BIGINT, tid BIGINT);
CREATE PUMP "P7" AS INSERT INTO "J7"
SELECT STREAM o.oid, t.tid
FROM "ORDERS" OVER (ROWS 2 PRECEDING) AS o LEFT JOIN "TRADES" OVER (RANGE INTERVAL '3' SECOND PRECEDING) AS t
ON o.oid = t.oid AND t.amount > 50;
CREATE STREAM "J8" (ticker VARCHAR(4), n BIGINT, last_trade TIMESTAMP);
CREATE PUMP "P8" AS INSERT INTO "J8"
SELECT STREAM o.ticker, COUNT(*), MAX(t.ROWTIME)
FROM "ORDERS" AS o JOIN "TRADES" OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS t ON o.oid = t.oid
GROUP BY o.ticker, STEP(ROWTIME BY INTERVAL '10' SECOND);
CREATE STREAM "J9" (oid BIGINT, tid BIGINT);
CREATE PUMP "P9" AS INSERT INTO "J9"
SELECT STREAM o.oid, t.tid
FROM "ORDERS" OVER (ROWS 2 PRECEDING) AS o RIGHT JOIN "TRADES" OVER (RANGE INTERVAL '2' SECOND PRECEDING) AS t ON o.oid = t.oid;
CREATE STREAM "J10" (oid BIGINT, tid BIGINT, ort TIMESTAMP, trt TIMESTAMP);
CREATE PUMP "P10" AS INSERT INTO "J10"
SELECT STREAM o.oid, t.tid, o.ROWTIME, t.ROWTIME
FROM "ORDERS" OVER (RANGE INTERVAL '3' SECOND PRECEDING) AS o
FULL OUTER JOIN "TRADES" OVER (ROWS 3 PRECEDING) AS t ON o.oid = t.oid AND o.ticker = t.ticker;`

type joinEvent struct {
	right bool
	ms    int64
	id    int64 // OID of an order, TID of a trade
	oid   int64 // a trade's order
	tk    string
	amt   float64
}

func (ev joinEvent) feed() feedRow {
	if ev.right {
		return feedRow{"TRADES", ev.ms, []Value{IntValue(ev.id), IntValue(ev.oid), StringValue(ev.tk), FloatValue(ev.amt)}}
	}
	return feedRow{"ORDERS", ev.ms, []Value{IntValue(ev.id), StringValue(ev.tk), FloatValue(ev.amt)}}
}

// joinWin is one side's window in the brute force: RANGE ms, ROWS n, or
// neither (only the current row).
type joinWin struct {
	rangeMs int64
	rows    int // -1: not ROWS
}

var noWin = joinWin{rangeMs: -1, rows: -1}

// window returns the events of one side before event k in that side's
// window at event k's time.
func (w joinWin) window(evs []joinEvent, k int, right bool) []joinEvent {
	var side []joinEvent
	for _, ev := range evs[:k] {
		if ev.right == right {
			side = append(side, ev)
		}
	}
	switch {
	case w.rows >= 0:
		if len(side) > w.rows+1 {
			side = side[len(side)-w.rows-1:]
		}
		return side
	case w.rangeMs >= 0:
		var out []joinEvent
		for _, ev := range side {
			if ev.ms >= evs[k].ms-w.rangeMs {
				out = append(out, ev)
			}
		}
		return out
	}
	return nil
}

// bruteJoin pairs each event with the other side's window, oldest first,
// emitting emit(arrival, order, trade, ROWTIME); a LEFT JOIN's unmatched order comes
// with a nil trade.
func bruteJoin(evs []joinEvent, lw, rw joinWin, left bool, on func(o, t joinEvent) bool, emit func(k int, o joinEvent, t *joinEvent, rt int64)) {
	for k, ev := range evs {
		if ev.right {
			for _, o := range lw.window(evs, k, false) {
				if on(o, ev) {
					emit(k, o, &ev, ev.ms)
				}
			}
			continue
		}
		matched := false
		for _, t := range rw.window(evs, k, true) {
			if on(ev, t) {
				matched = true
				emit(k, ev, &t, ev.ms)
			}
		}
		if left && !matched {
			emit(k, ev, nil, ev.ms)
		}
	}
}

// randomJoinEvents are n orders and trades from seed: a quarter of them at
// the time of the one before, the others up to gap ms later; order ids
// and trades' orders below ids; tweak (if not nil) changes each event.
func randomJoinEvents(seed uint64, n int, gap, ids int64, tweak func(*rand.Rand, *joinEvent)) []joinEvent {
	rng := rand.New(rand.NewPCG(16, seed))
	tickers := []string{"AMZN", "XOM", "WAS"}
	var evs []joinEvent
	ms := int64(1_700_000_000_000)
	for i := range n {
		if rng.IntN(4) > 0 {
			ms += rng.Int64N(gap)
		}
		ev := joinEvent{right: rng.IntN(2) == 0, ms: ms, id: int64(i), oid: rng.Int64N(ids), tk: tickers[rng.IntN(3)], amt: float64(rng.IntN(100))}
		if !ev.right {
			ev.id = rng.Int64N(ids)
		}
		if tweak != nil {
			tweak(rng, &ev)
		}
		evs = append(evs, ev)
	}
	return evs
}

// runJoinEvents checks that each pump gave at least 150 rows in the brute
// force, and that evs through sql give its rows want on streams in one
// part and across restored invocations.
func runJoinEvents(t *testing.T, sql string, streams []string, evs []joinEvent, counts []int, want []string) {
	t.Helper()
	for p, n := range counts {
		if n < 150 {
			t.Fatalf("pump %d: only %d rows", p+1, n)
		}
	}
	var feed []feedRow
	for _, ev := range evs {
		feed = append(feed, ev.feed())
	}
	sameRuns(t, sql, joinInputs, streams, feed, want)
}

// TestStreamJoinsMatchBruteForce: joins of two streams with RANGE, ROWS
// and no windows, INNER, LEFT (with and without a left window), RIGHT and
// FULL, keyed and not, a self-join and a GROUP BY over the pairs, agree with a brute-force
// pairing of random rows, in one part and across restored invocations.
func TestStreamJoinsMatchBruteForce(t *testing.T) {
	evs := randomJoinEvents(5, 2500, 1500, 25, nil)
	ts := func(ms int64) Value { return TimeValue(time.UnixMilli(ms)) }
	var want []string
	// Rows come out per arriving row, pump by pump: collect each pump's
	// rows per event, then interleave them in pump order.
	per := make([][][]string, len(evs))
	for k := range per {
		per[k] = make([][]string, 10)
	}
	at := func(p int) func(k int, o joinEvent, tr *joinEvent, rt int64) {
		return func(k int, o joinEvent, tr *joinEvent, rt int64) {
			var line string
			switch p {
			case 0:
				line = fmtRow("J1", rt, ts(rt), ts(o.ms), ts(tr.ms), IntValue(o.id), IntValue(tr.id), FloatValue(tr.amt))
			case 1:
				line = fmtRow("J2", rt, IntValue(o.id), IntValue(tr.id), FloatValue(o.amt), FloatValue(tr.amt))
			case 2:
				if tr == nil {
					line = fmtRow("J3", rt, IntValue(o.id), Value{}, Value{})
				} else {
					line = fmtRow("J3", rt, IntValue(o.id), IntValue(tr.id), ts(tr.ms))
				}
			case 3:
				line = fmtRow("J4", rt, IntValue(tr.id), IntValue(o.id))
			}
			per[k][p] = append(per[k][p], line)
		}
	}
	bruteJoin(evs, noWin, joinWin{5000, -1}, false, func(o, t joinEvent) bool { return o.id == t.oid }, at(0))
	bruteJoin(evs, joinWin{3000, -1}, joinWin{5000, -1}, false, func(o, t joinEvent) bool { return o.tk == t.tk && t.amt > o.amt && o.id != 7 }, at(1))
	bruteJoin(evs, noWin, joinWin{-1, 3}, true, func(o, t joinEvent) bool { return o.id == t.oid }, at(2))
	bruteJoin(evs, joinWin{-1, 2}, noWin, false, func(o, t joinEvent) bool { return t.amt < o.amt && t.tk == "XOM" }, at(3))
	// The self-join: each order meets the orders of the last 2 seconds
	// of its ticker, itself included, when it arrives.
	for k, b := range evs {
		if b.right {
			continue
		}
		for j, a := range evs[:k+1] {
			if !a.right && a.ms >= b.ms-2000 && a.tk == b.tk {
				per[k][4] = append(per[k][4], fmtRow("J5", b.ms, IntValue(a.id), IntValue(b.id), ts(evs[j].ms)))
			}
		}
	}
	// The outer joins with windows: a row of a kept side that never pairs
	// comes out with NULLs for the other side when it leaves its window —
	// before everything else at the first arrival past its RANGE (the
	// engine advances to it; the left side's rows first), after its pump's
	// pairs at the arrival on its side that pushes it out of a ROWS window
	// — or at the final Flush. pre gets the RANGE ones at an arrival.
	pre := make([][]string, len(evs))
	var flushed []string
	outer := func(p int, lw, rw joinWin, on func(o, t joinEvent) bool, keep [2]bool, pre [][]string, line func(o, t *joinEvent, rt int64) string) {
		matched := map[int]bool{}
		idx := map[joinEvent]int{}
		for k, ev := range evs {
			idx[ev] = k
		}
		bruteJoin(evs, lw, rw, false, on, func(k int, o joinEvent, tr *joinEvent, rt int64) {
			matched[idx[o]], matched[idx[*tr]] = true, true
			per[k][p] = append(per[k][p], line(&o, tr, rt))
		})
		later := make([][]string, len(evs))
		var flush []string
		for side, w := range []joinWin{lw, rw} {
			right := side == 1
			if !keep[side] {
				continue
			}
			sidePre := make([][]string, len(evs))
			for j, ev := range evs {
				if ev.right != right || matched[j] {
					continue
				}
				null := func(rt int64) string {
					if right {
						return line(nil, &ev, rt)
					}
					return line(&ev, nil, rt)
				}
				done, seen := false, 0
				for k := j + 1; k < len(evs) && !done; k++ {
					switch {
					case w.rows < 0 && evs[k].ms > ev.ms+w.rangeMs:
						sidePre[k] = append(sidePre[k], null(ev.ms+w.rangeMs))
						done = true
					case w.rows >= 0 && evs[k].right == right:
						if seen++; seen == w.rows+1 {
							later[k] = append(later[k], null(evs[k].ms))
							done = true
						}
					}
				}
				switch {
				case done:
				case w.rows < 0:
					flush = append(flush, null(ev.ms+w.rangeMs))
				default:
					flush = append(flush, null(evs[len(evs)-1].ms))
				}
			}
			for k := range evs {
				pre[k] = append(pre[k], sidePre[k]...)
			}
		}
		for k := range evs {
			per[k][p] = append(per[k][p], later[k]...)
		}
		flushed = append(flushed, flush...)
	}
	idOrNull := func(e *joinEvent) Value {
		if e == nil {
			return Value{}
		}
		return IntValue(e.id)
	}
	leftOuter := func(p int, lw, rw joinWin, on func(o, t joinEvent) bool) {
		name := fmt.Sprintf("J%d", p+1)
		outer(p, lw, rw, on, [2]bool{true, false}, pre, func(o, t *joinEvent, rt int64) string {
			return fmtRow(name, rt, idOrNull(o), idOrNull(t))
		})
	}
	leftOuter(5, joinWin{4000, -1}, joinWin{-1, 1}, func(o, t joinEvent) bool { return o.id == t.oid })
	leftOuter(6, joinWin{-1, 2}, joinWin{3000, -1}, func(o, t joinEvent) bool { return o.id == t.oid && t.amt > 50 })
	// A tumbling window over the join's pairs: per 10 seconds of the
	// pair's ROWTIME and order ticker, closed (after P6's expired rows) at
	// the first arrival at or past its end, or at the Flush.
	type grp struct {
		tk   string
		n    int64
		last int64
	}
	preGroups := make([][]string, len(evs))
	win, end := int64(-1), 0
	var order []*grp
	// closeAt closes the window at the first arrival at or past its end.
	closeAt := func() {
		for end < len(evs) && evs[end].ms < (win+1)*10000 {
			end++
		}
		k := end
		var lines []string
		for _, g := range order {
			lines = append(lines, fmtRow("J8", (win+1)*10000, StringValue(g.tk), IntValue(g.n), ts(g.last)))
		}
		if k < len(evs) {
			preGroups[k] = append(preGroups[k], lines...)
		} else {
			flushed = append(flushed, lines...)
		}
		order = nil
	}
	bruteJoin(evs, noWin, joinWin{5000, -1}, false, func(o, t joinEvent) bool { return o.id == t.oid }, func(k int, o joinEvent, tr *joinEvent, rt int64) {
		if w := rt / 10000; w != win {
			if win >= 0 {
				closeAt()
			}
			win = w
		}
		for _, g := range order {
			if g.tk == o.tk {
				g.n++
				g.last = max(g.last, tr.ms)
				return
			}
		}
		order = append(order, &grp{o.tk, 1, tr.ms})
	})
	closeAt()
	// RIGHT and FULL JOIN: the same for the trades, and both.
	post := make([][]string, len(evs))
	outer(8, joinWin{-1, 2}, joinWin{2000, -1}, func(o, t joinEvent) bool { return o.id == t.oid }, [2]bool{false, true}, post,
		func(o, t *joinEvent, rt int64) string { return fmtRow("J9", rt, idOrNull(o), idOrNull(t)) })
	rtOrNull := func(e *joinEvent) Value {
		if e == nil {
			return Value{}
		}
		return ts(e.ms)
	}
	outer(9, joinWin{3000, -1}, joinWin{-1, 3}, func(o, t joinEvent) bool { return o.id == t.oid && o.tk == t.tk }, [2]bool{true, true}, post,
		func(o, t *joinEvent, rt int64) string {
			return fmtRow("J10", rt, idOrNull(o), idOrNull(t), rtOrNull(o), rtOrNull(t))
		})
	counts := make([]int, 10)
	for k := range per {
		want = append(want, pre[k]...)
		want = append(want, preGroups[k]...)
		want = append(want, post[k]...)
		counts[7] += len(preGroups[k])
		for p, lines := range per[k] {
			want = append(want, lines...)
			counts[p] += len(lines)
		}
	}
	want = append(want, flushed...)
	runJoinEvents(t, streamJoinSQL, []string{"J1", "J2", "J3", "J4", "J5", "J6", "J7", "J8", "J9", "J10"}, evs, counts, want)
	nulls := 0
	for _, l := range want {
		if strings.HasSuffix(l, ",null]") {
			nulls++
		}
	}
	if nulls < 100 || len(flushed) == 0 {
		t.Fatalf("%d outer join rows with NULLs, %d at Flush", nulls, len(flushed))
	}
	t.Logf("rows per pump: %v; %d outer join rows with NULLs, %d at Flush", counts, nulls, len(flushed))
}

// TestStreamJoinErrors: what the joins of two streams refuse, and why
// (the join forms' cases too: a CROSS or comma join without a window,
// USING without distinct side names or with a column a side lacks,
// PARTITION BY reading the other side, NATURAL JOIN and a third stream).
func TestStreamJoinErrors(t *testing.T) {
	stream := `CREATE STREAM "o" (a BIGINT); CREATE PUMP "p" AS INSERT INTO "o" `
	for sql, want := range map[string]string{
		stream + `SELECT STREAM o.oid FROM "ORDERS" AS o JOIN "TRADES" AS t ON o.oid = t.oid`:                                                                          "needs a window on at least one side",
		stream + `SELECT STREAM o.oid FROM "ORDERS" AS o JOIN "TRADES" OVER nope AS t ON TRUE`:                                                                         `unknown window "NOPE"`,
		stream + `SELECT STREAM oid FROM "ORDERS" OVER (ROWS 2 PRECEDING)`:                                                                                             "window of a JOIN of two streams",
		stream + `SELECT STREAM oid FROM "ORDERS" AS o JOIN "TRADES" OVER (ROWS 2 PRECEDING) AS t ON o.oid = t.oid`:                                                    `column "OID" is in both`,
		stream + `SELECT STREAM o.oid FROM "ORDERS" AS o JOIN "TRADES" OVER (ROWS 2 PRECEDING) AS t ON o.ticker = t.tid`:                                               "cannot compare",
		`CREATE PUMP "p" AS INSERT INTO "TRADES" SELECT STREAM o.oid, o.oid, o.ticker, o.amount FROM "ORDERS" AS o JOIN "TRADES" OVER (ROWS 2 PRECEDING) AS t ON TRUE`: "cannot insert into input stream",
		stream + `SELECT STREAM oid FROM "ORDERS" CROSS JOIN "TRADES"`:                                                                                                 "needs a window on at least one side",
		stream + `SELECT STREAM 1 FROM "ORDERS", "TRADES"`:                                                                                                             "needs a window on at least one side",
		stream + `SELECT STREAM oid FROM "ORDERS" JOIN "ORDERS" OVER (ROWS 1 PRECEDING) USING (oid)`:                                                                   "needs different names for its two sides",
		stream + `SELECT STREAM oid FROM (SELECT STREAM oid FROM "ORDERS") JOIN "TRADES" OVER (ROWS 1 PRECEDING) AS t USING (oid)`:                                     "needs the subquery's alias",
		stream + `SELECT STREAM oid FROM "ORDERS" AS o JOIN "TRADES" OVER (ROWS 1 PRECEDING) AS t USING (tid)`:                                                         `USING column "TID" is not in stream "ORDERS"`,
		stream + `SELECT STREAM o.oid FROM "ORDERS" AS o JOIN "TRADES" OVER (PARTITION BY o.ticker ROWS 1 PRECEDING) AS t ON TRUE`:                                     "reads the other side",
		stream + `SELECT STREAM o.oid FROM "ORDERS" AS o JOIN "TRADES" OVER (PARTITION BY nope ROWS 1 PRECEDING) AS t ON o.oid = t.oid`:                                `unknown column "NOPE"`,
		stream + `SELECT STREAM o.oid FROM "ORDERS" AS o NATURAL JOIN "TRADES" OVER (ROWS 1 PRECEDING) AS t`:                                                           "NATURAL JOIN is not supported yet",
		stream + `SELECT STREAM o.oid FROM "ORDERS" AS o JOIN "TRADES" OVER (ROWS 1 PRECEDING) AS t USING (oid) JOIN "TRADES" AS u ON TRUE`:                            "a JOIN of a third stream (the pairs of the first two have no window of their own to join over) is not supported yet",
	} {
		_, err := NewEngine(sql, joinInputs)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n  %v, want %q", sql, err, want)
		}
		var ue *UnsupportedError
		if strings.Contains(want, "not supported yet") != errors.As(err, &ue) {
			t.Errorf("%s: %v: UnsupportedError %v", sql, err, ue)
		}
	}
}

// joinStateSQL adds DISTINCT, a distinct and a variance aggregate and a
// partitioned join window to the joins, so that one state holds every kind of window this file and
// distinct_test.go add.
const joinStateSQL = streamJoinSQL + `
CREATE STREAM "D" (w TIMESTAMP, tk VARCHAR(4));
CREATE PUMP "PD" AS INSERT INTO "D" SELECT STREAM DISTINCT STEP(ROWTIME BY INTERVAL '5' SECOND), ticker FROM "ORDERS";
CREATE STREAM "G" (tk VARCHAR(4), n BIGINT, sd DOUBLE);
CREATE PUMP "PG" AS INSERT INTO "G" SELECT STREAM ticker, COUNT(DISTINCT oid), STDDEV_SAMP(amount)
FROM "ORDERS" GROUP BY ticker, STEP(ROWTIME BY INTERVAL '5' SECOND);
CREATE STREAM "JP" (oid BIGINT, tid BIGINT);
CREATE PUMP "PJP" AS INSERT INTO "JP" SELECT STREAM o.oid, t.tid
FROM "ORDERS" OVER (PARTITION BY ticker ROWS 1 PRECEDING) AS o LEFT JOIN "TRADES" OVER (RANGE INTERVAL '2' SECOND PRECEDING) AS t ON o.oid = t.oid;`

// joinEvents are n random orders and trades.
func joinEvents(n int) []feedRow {
	rng := rand.New(rand.NewPCG(3, 4))
	ms := int64(1_700_000_000_000)
	var out []feedRow
	for i := range n {
		ms += rng.Int64N(1200)
		ev := joinEvent{right: rng.IntN(2) == 0, ms: ms, id: int64(i), oid: rng.Int64N(9), tk: []string{"AMZN", "XOM"}[rng.IntN(2)], amt: float64(rng.IntN(100))}
		if !ev.right {
			ev.id = rng.Int64N(9)
		}
		out = append(out, ev.feed())
	}
	return out
}

func joinStateAfter(t testing.TB, rows []feedRow) []byte {
	e := must(NewEngine(joinStateSQL, joinInputs))
	for _, r := range rows {
		must(0, e.Insert(r.stream, r.vals, time.UnixMilli(r.ms)))
	}
	return e.State()
}

// TestJoinAndDistinctStateErrors: the same input gives the same state
// bytes, and a truncated one is a *StateError that leaves the engine as
// it was.
func TestJoinAndDistinctStateErrors(t *testing.T) {
	rows := joinEvents(400)
	good := joinStateAfter(t, rows)
	if !bytes.Equal(good, joinStateAfter(t, rows)) {
		t.Fatal("equal inputs gave different state bytes")
	}
	for cut := len(good) - 1; cut > len(good)/2; cut -= 97 {
		e := must(NewEngine(joinStateSQL, joinInputs))
		before := e.State()
		var se *StateError
		if err := e.RestoreState(good[:cut]); !errors.As(err, &se) {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if !bytes.Equal(e.State(), before) {
			t.Fatalf("cut at %d: the failed restore changed the engine", cut)
		}
	}
}

// FuzzRestoreJoinState: any bytes restore into the joins', DISTINCT's and
// the distinct and variance aggregates' state or fail with a *StateError,
// never panic; a state that restores keeps running.
func FuzzRestoreJoinState(f *testing.F) {
	rows := joinEvents(300)
	fuzzRestore(f, func() *Engine { return must(NewEngine(joinStateSQL, joinInputs)) },
		[][]byte{joinStateAfter(f, rows), joinStateAfter(f, rows[:9])},
		func(e *Engine) {
			for _, r := range rows[:60] {
				must(0, e.Insert(r.stream, r.vals, time.UnixMilli(r.ms)))
			}
		})
}

// BenchmarkStreamJoin joins each trade with the orders of the last minute
// of its order id (1,000 input rows a second, half of them orders, each
// order traded about once within the minute), on one goroutine; rows are
// input rows (orders and trades) per second.
func BenchmarkStreamJoin(b *testing.B) {
	sql := `CREATE STREAM "J" (oid BIGINT, oa DOUBLE, ta DOUBLE);
CREATE PUMP "P" AS INSERT INTO "J"
SELECT STREAM o.oid, o.amount, t.amount
FROM "TRADES" AS t JOIN "ORDERS" OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS o ON o.oid = t.oid;`
	e := must(NewEngine(sql, joinInputs))
	var buf []byte
	must(0, e.Subscribe("J", func(r Row) { buf = r.AppendJSON(buf[:0]) }))
	rng := rand.New(rand.NewPCG(5, 6))
	order := []Value{IntValue(0), StringValue("AMZN"), FloatValue(0)}
	trade := []Value{IntValue(0), IntValue(0), StringValue("AMZN"), FloatValue(0)}
	t0 := time.UnixMilli(1_700_000_000_000)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		if i%2 == 0 {
			order[0], order[2] = IntValue(int64(i/2)), FloatValue(float64(i%1000))
			_ = e.Insert("ORDERS", order, at)
			continue
		}
		trade[1], trade[3] = IntValue(int64(i/2)-rng.Int64N(30_000)), FloatValue(float64(i%777))
		_ = e.Insert("TRADES", trade, at)
	}
	reportRate(b, float64(b.N), "rows", cpu0)
}
