package kda

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

const joinChainSQL = `CREATE STREAM "K1" (tk VARCHAR(4), oid BIGINT, amount DOUBLE, ksec VARCHAR(16), rank INTEGER, ssec VARCHAR(16), region VARCHAR(8));
CREATE PUMP "P1" AS INSERT INTO "K1"
SELECT STREAM * FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) LEFT JOIN SECTORS AS s ON k.sector = s.sector;
CREATE STREAM "K2" (oid BIGINT, rank INTEGER, region VARCHAR(8));
CREATE PUMP "P2" AS INSERT INTO "K2"
SELECT STREAM o.oid, k.rank, region FROM "ORDERS" AS o, TICKERS AS k, SECTORS AS s
WHERE o.ticker = k.ticker AND k.sector = s.sector AND o.amount > k.rank;
CREATE STREAM "K3" (oid BIGINT, tid BIGINT, ort TIMESTAMP, trt TIMESTAMP, rt TIMESTAMP, rank INTEGER);
CREATE PUMP "P3" AS INSERT INTO "K3"
SELECT STREAM o.oid, t.tid, o.ROWTIME, t.ROWTIME, ROWTIME, k.rank
FROM "ORDERS" OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS o
JOIN "TRADES" OVER (RANGE INTERVAL '5' SECOND PRECEDING) AS t ON o.oid = t.oid
LEFT JOIN TICKERS AS k ON t.ticker = k.ticker AND o.amount < k.rank;
CREATE STREAM "K4" (oid BIGINT, rank INTEGER, tid BIGINT, ort TIMESTAMP);
CREATE PUMP "P4" AS INSERT INTO "K4"
SELECT STREAM o.oid, k.rank, t.tid, o.ROWTIME
FROM "ORDERS" OVER (RANGE INTERVAL '4' SECOND PRECEDING) AS o JOIN TICKERS AS k USING (ticker)
JOIN "TRADES" AS t ON o.oid = t.oid AND t.amount > k.rank;
CREATE STREAM "K5" (sector VARCHAR(16), tk VARCHAR(4), oid BIGINT, amount DOUBLE, rank INTEGER, region VARCHAR(8));
CREATE PUMP "P5" AS INSERT INTO "K5"
SELECT STREAM * FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) JOIN SECTORS USING (sector);
CREATE STREAM "K6" (oid BIGINT, rank INTEGER);
CREATE PUMP "P6" AS INSERT INTO "K6"
SELECT STREAM o.oid, k.rank FROM "ORDERS" AS o, TICKERS AS k LEFT JOIN SECTORS AS s ON k.sector = s.sector
WHERE o.ticker = k.ticker AND s.region IS NULL;
CREATE STREAM "K7" (oid BIGINT, rank INTEGER, region VARCHAR(8));
CREATE PUMP "P7" AS INSERT INTO "K7"
SELECT STREAM q.oid, q.rank, q.region FROM (SELECT STREAM o.oid AS oid, k.rank AS rank, s.region AS region
  FROM "ORDERS" AS o JOIN TICKERS AS k ON o.ticker = k.ticker JOIN SECTORS AS s ON k.sector = s.sector WHERE o.amount > k.rank) AS q;`

type chainTicker struct {
	tk, sector string
	rank       int64
}

type chainSector struct{ sector, region string }

var (
	chainTickers = []chainTicker{{"AMZN", "Tech", 40}, {"XOM", "Energy", 60}, {"AMZN", "Retail", 70}, {"WAS", "Unknown", 50}}
	chainSectors = []chainSector{{"Tech", "US"}, {"Energy", "EU"}, {"Retail", "US"}, {"Energy", "ASIA"}}
)

// chainTables are TICKERS and SECTORS as reference tables.
func chainTables(o *EngineOptions) {
	tk := Table{Name: "TICKERS", Columns: []Column{{Name: "TICKER", Type: Varchar(4)}, {Name: "SECTOR", Type: Varchar(16)}, {Name: "RANK", Type: Integer}}}
	for _, k := range chainTickers {
		tk.Rows = append(tk.Rows, []Value{StringValue(k.tk), StringValue(k.sector), IntValue(k.rank)})
	}
	sc := Table{Name: "SECTORS", Columns: []Column{{Name: "SECTOR", Type: Varchar(16)}, {Name: "REGION", Type: Varchar(8)}}}
	for _, s := range chainSectors {
		sc.Rows = append(sc.Rows, []Value{StringValue(s.sector), StringValue(s.region)})
	}
	o.Tables = []Table{tk, sc}
}

// TestJoinChainsMatchBruteForce: chains of JOINs, left-associative —
// a stream with two reference tables (JOIN … USING then LEFT JOIN … ON,
// SELECT * with each side's columns in order; a three-way comma join with
// WHERE, the WHERE's conjuncts over the first two sides moved into their
// JOIN; USING twice, the second over the first's result; a comma join
// then a LEFT JOIN with a WHERE over both; a chain inside a FROM
// subquery), a join of two
// streams then a reference table (a.ROWTIME and b.ROWTIME through the
// chain) and a reference table then a stream (the enriched rows in the
// stream's RANGE window) — agree with a brute force, in one part and
// across 7 and 60 restored invocations.
func TestJoinChainsMatchBruteForce(t *testing.T) {
	evs := randomJoinEvents(21, 2000, 1200, 20, nil)
	ts := func(ms int64) Value { return TimeValue(time.UnixMilli(ms)) }
	per := make([][][]string, len(evs))
	for k := range per {
		per[k] = make([][]string, 7)
	}
	for k, ev := range evs {
		if ev.right {
			continue
		}
		for _, tk := range chainTickers {
			if tk.tk != ev.tk {
				continue
			}
			matched := false
			for _, s := range chainSectors {
				if s.sector != tk.sector {
					continue
				}
				matched = true
				per[k][0] = append(per[k][0], fmtRow("K1", ev.ms, StringValue(ev.tk), IntValue(ev.id), FloatValue(ev.amt), StringValue(tk.sector), IntValue(tk.rank), StringValue(s.sector), StringValue(s.region)))
				if ev.amt > float64(tk.rank) {
					per[k][1] = append(per[k][1], fmtRow("K2", ev.ms, IntValue(ev.id), IntValue(tk.rank), StringValue(s.region)))
					per[k][6] = append(per[k][6], fmtRow("K7", ev.ms, IntValue(ev.id), IntValue(tk.rank), StringValue(s.region)))
				}
				per[k][4] = append(per[k][4], fmtRow("K5", ev.ms, StringValue(s.sector), StringValue(ev.tk), IntValue(ev.id), FloatValue(ev.amt), IntValue(tk.rank), StringValue(s.region)))
			}
			if !matched {
				per[k][0] = append(per[k][0], fmtRow("K1", ev.ms, StringValue(ev.tk), IntValue(ev.id), FloatValue(ev.amt), StringValue(tk.sector), IntValue(tk.rank), Value{}, Value{}))
				per[k][5] = append(per[k][5], fmtRow("K6", ev.ms, IntValue(ev.id), IntValue(tk.rank)))
			}
		}
	}
	// P3: the pairs of the two windows, each with its TICKERS rows or NULL.
	win5 := joinWin{5000, -1}
	bruteJoin(evs, win5, win5, false, func(o, t joinEvent) bool { return o.id == t.oid },
		func(k int, o joinEvent, tr *joinEvent, rt int64) {
			row := func(rank Value) {
				per[k][2] = append(per[k][2], fmtRow("K3", rt, IntValue(o.id), IntValue(tr.id), ts(o.ms), ts(tr.ms), ts(rt), rank))
			}
			n := 0
			for _, tk := range chainTickers {
				if tk.tk == tr.tk && o.amt < float64(tk.rank) {
					row(IntValue(tk.rank))
					n++
				}
			}
			if n == 0 {
				row(Value{})
			}
		})
	// P4: a trade meets the enriched orders of the last 4 seconds.
	for k, ev := range evs {
		if !ev.right {
			continue
		}
		for _, o := range (joinWin{4000, -1}).window(evs, k, false) {
			for _, tk := range chainTickers {
				if tk.tk == o.tk && o.id == ev.oid && ev.amt > float64(tk.rank) {
					per[k][3] = append(per[k][3], fmtRow("K4", ev.ms, IntValue(o.id), IntValue(tk.rank), IntValue(ev.id), ts(o.ms)))
				}
			}
		}
	}
	var want []string
	counts := make([]int, 7)
	for _, lines := range per {
		for p, l := range lines {
			want = append(want, l...)
			counts[p] += len(l)
		}
	}
	for p, n := range counts {
		if n < 150 {
			t.Fatalf("pump %d: only %d rows", p+1, n)
		}
	}
	var feed []feedRow
	for _, ev := range evs {
		feed = append(feed, ev.feed())
	}
	sameRuns(t, joinChainSQL, joinInputs, []string{"K1", "K2", "K3", "K4", "K5", "K6", "K7"}, feed, want, chainTables)
	t.Logf("rows per pump: %v", counts)
}

// TestJoinChainErrors: what a chain cannot do fails at compile time
// with the reason.
func TestJoinChainErrors(t *testing.T) {
	stream := `CREATE STREAM "OUT" (a BIGINT); CREATE PUMP "P" AS INSERT INTO "OUT" SELECT STREAM o.oid `
	for sql, want := range map[string]string{
		stream + `FROM "ORDERS" OVER (RANGE INTERVAL '1' SECOND PRECEDING) AS o JOIN "TRADES" OVER (ROWS 2 PRECEDING) AS t ON o.oid = t.oid JOIN "ORDERS" OVER (ROWS 1 PRECEDING) AS u ON u.oid = t.oid`: "a JOIN of a third stream (the pairs of the first two have no window of their own to join over) is not supported yet",
		stream + `FROM "ORDERS" OVER (ROWS 3 PRECEDING) AS o JOIN TICKERS AS k USING (ticker) JOIN "TRADES" AS t ON o.oid = t.oid`:                                                                       "a ROWS window on a stream joined to a reference table before a JOIN of two streams (use RANGE) is not supported yet",
		stream + `FROM "ORDERS" AS o JOIN TICKERS AS k ON o.ticker = k.ticker JOIN SECTORS AS s USING (ticker)`:                                                                                          "USING column \"TICKER\" is not in the JOINs before it, or in more than one of them (use ON)",
		stream + `FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) RIGHT JOIN SECTORS AS s ON k.sector = s.sector`:                                                                                    "RIGHT JOIN of a reference table",
		stream + `FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) JOIN SECTORS AS s ON sector = s.region`:                                                                                            "column \"SECTOR\" is in both",
		stream + `FROM "ORDERS" AS o JOIN TICKERS AS k ON o.ticker = k.ticker JOIN SECTORS AS s ON ticker = s.sector`:                                                                                    "unknown column \"TICKER\" in the JOINs before it, or in more than one of their sides: qualify it",
		stream + `FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) JOIN SECTORS AS s ON k.nope = s.sector`:                                                                                            "unknown column \"NOPE\" in \"K\"",
		stream + `FROM (SELECT STREAM * FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) JOIN SECTORS USING (sector)) AS o`:                                                                           "SELECT * over a chain of JOINs in a subquery or a CURSOR (name the columns) is not supported yet",
		stream + `FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) NATURAL JOIN SECTORS`:                                                                                                              "NATURAL JOIN is not supported yet",
		stream + `FROM "ORDERS" AS o JOIN TICKERS AS k USING (ticker) WHERE o.oid > 1 JOIN SECTORS AS s ON TRUE`:                                                                                         "JOIN goes right after FROM's stream, before WHERE",
	} {
		_, err := NewEngine(sql, joinInputs, chainTables)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant …%s…", sql, err, want)
		}
	}
}

// BenchmarkReferenceJoinChain: BenchmarkReferenceJoin's records through
// a chain of two reference tables (1,000 companies, then their 10
// sectors), one output row per record.
func BenchmarkReferenceJoinChain(b *testing.B) {
	sql := `CREATE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), company VARCHAR(64), region VARCHAR(8), price DOUBLE);
CREATE PUMP "P" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, c.company, s.region, price FROM "SOURCE_SQL_STREAM_001"
LEFT JOIN COMPANIES AS c ON ticker_symbol = c.ticker LEFT JOIN SECTORS AS s ON c.sector = s.sector;`
	companies := Table{Name: "COMPANIES", Columns: []Column{{Name: "TICKER", Type: Varchar(4)}, {Name: "COMPANY", Type: Varchar(64)}, {Name: "SECTOR", Type: Varchar(16)}}}
	sectors := Table{Name: "SECTORS", Columns: []Column{{Name: "SECTOR", Type: Varchar(16)}, {Name: "REGION", Type: Varchar(8)}}}
	tickers := make([]string, 1000)
	for i := range tickers {
		tickers[i] = fmt.Sprintf("T%03d", i)
		companies.Rows = append(companies.Rows, []Value{StringValue(tickers[i]), StringValue("Company number " + tickers[i]), StringValue(fmt.Sprintf("S%d", i%10))})
	}
	for i := range 10 {
		sectors.Rows = append(sectors.Rows, []Value{StringValue(fmt.Sprintf("S%d", i)), StringValue([]string{"US", "EU"}[i%2])})
	}
	benchJoinJSON(b, sql, tickers, companies, sectors)
}
