package kda

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
)

// TestPredicatesAndNumericFunctions: IS [NOT] TRUE/FALSE/UNKNOWN, IS [NOT]
// DISTINCT FROM, LIKE … ESCAPE, NULLIF, MOD, POWER, EXP, LN, LOG10,
// EXTRACT and CURRENT_TIMESTAMP/LOCALTIMESTAMP.
func TestPredicatesAndNumericFunctions(t *testing.T) {
	b, i, d, ts := "BOOLEAN", "BIGINT", "DOUBLE", "TIMESTAMP"
	runFnCases(t, []fnCase{
		{`N > 1 IS TRUE`, b, `{"N":2}`, `true`},
		{`N > 1 IS TRUE`, b, `{"N":null}`, `false`},
		{`N > 1 IS NOT TRUE`, b, `{"N":null}`, `true`},
		{`N > 1 IS FALSE`, b, `{"N":0}`, `true`},
		{`N > 1 IS NOT FALSE`, b, `{"N":null}`, `true`},
		{`N > 1 IS UNKNOWN`, b, `{"N":null}`, `true`},
		{`N > 1 IS NOT UNKNOWN`, b, `{"N":5}`, `true`},
		{`N IS DISTINCT FROM 3`, b, `{"N":null}`, `true`},
		{`N IS DISTINCT FROM NULL`, b, `{"N":null}`, `false`},
		{`N IS NOT DISTINCT FROM 3`, b, `{"N":3}`, `true`},
		{`N IS DISTINCT FROM 3.0`, b, `{"N":3}`, `false`},
		{`S LIKE 'a!%b' ESCAPE '!'`, b, `{"S":"a%b"}`, `true`},
		{`S LIKE 'a!%b' ESCAPE '!'`, b, `{"S":"axb"}`, `false`},
		{`S LIKE '!_%!!' ESCAPE '!'`, b, `{"S":"_x.y!"}`, `true`},
		{`S NOT LIKE '%.%' ESCAPE '\'`, b, `{"S":"a.b"}`, `false`},
		{`S LIKE 'a_' ESCAPE '!'`, b, `{"S":null}`, `null`},
		{`NULLIF(N, 0)`, i, `{"N":0}`, `null`},
		{`NULLIF(N, 0)`, i, `{"N":4}`, `4`},
		{`NULLIF(S, 'x')`, "VARCHAR(4)", `{"S":"y"}`, `"y"`},
		{`MOD(N, 3)`, i, `{"N":-7}`, `-1`},
		{`MOD(N, 0)`, i, `{"N":7}`, `error: division by zero`},
		{`POWER(N, 0.5)`, d, `{"N":16}`, `4.0`},
		{`POWER(2, N)`, d, `{"N":10}`, `1024.0`},
		{`EXP(N)`, d, `{"N":0}`, `1.0`},
		{`LN(N)`, d, `{"N":1}`, `0.0`},
		{`LOG10(N)`, d, `{"N":1000}`, `3.0`},
		{`LN(N)`, d, `{"N":0}`, `error: LN of a number not above 0`},
		{`LOG10(N)`, d, `{"N":null}`, `null`},
		{`EXTRACT(YEAR FROM T)`, i, `{"T":"2016-09-23 04:29:26.234"}`, `2016`},
		{`EXTRACT(MONTH FROM T) * 100 + EXTRACT(DAY FROM T)`, i, `{"T":"2016-09-23 04:29:26.234"}`, `923`},
		{`EXTRACT(HOUR FROM T)`, i, `{"T":"2016-09-23 04:29:26.234"}`, `4`},
		{`EXTRACT(MINUTE FROM T)`, i, `{"T":"2016-09-23 04:29:26.234"}`, `29`},
		{`EXTRACT(SECOND FROM T)`, d, `{"T":"2016-09-23 04:29:26.234"}`, `26.234`},
		{`EXTRACT(MINUTE FROM T)`, i, `{"T":null}`, `null`},
		{`CURRENT_TIMESTAMP`, ts, "", `"2026-12-03 10:00:00.000"`},
		{`LOCALTIMESTAMP`, ts, "", `"2026-12-03 10:00:00.000"`},
	})
}

// TestVarianceInTumblingWindows: STDDEV_POP, STDDEV_SAMP, VAR_POP and
// VAR_SAMP of a tumbling window agree with a two-pass computation, in one
// part and across restored invocations.
func TestVarianceInTumblingWindows(t *testing.T) {
	const sql = `CREATE STREAM "V" (ticker VARCHAR(4), n BIGINT, sp DOUBLE, ss DOUBLE, vp DOUBLE, vs DOUBLE);
CREATE PUMP "P" AS INSERT INTO "V"
SELECT STREAM ticker_symbol, COUNT(price), STDDEV_POP(price), STDDEV_SAMP(price), VAR_POP(price), VAR_SAMP(price)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '5' SECOND);`
	rows := demoRows(9, 2500)
	var want []string
	type grp struct {
		tk string
		xs []float64
	}
	var order []*grp
	byTk := map[string]*grp{}
	win := int64(-1)
	flush := func() {
		for _, g := range order {
			vals := []Value{StringValue(g.tk), IntValue(int64(len(g.xs)))}
			n := float64(len(g.xs))
			mean, ss := 0.0, 0.0
			for _, x := range g.xs {
				mean += x
			}
			mean /= n
			for _, x := range g.xs {
				ss += (x - mean) * (x - mean)
			}
			v := func(den float64, sqrt bool) Value {
				if den <= 0 {
					return Value{}
				}
				if sqrt {
					return FloatValue(math.Sqrt(ss / den))
				}
				return FloatValue(ss / den)
			}
			vals = append(vals, v(n, true), v(n-1, true), v(n, false), v(n-1, false))
			want = append(want, fmtRow("V", (win+1)*5000, vals...))
		}
		order, byTk = nil, map[string]*grp{}
	}
	for _, r := range rows {
		if w := r.ms / 5000; w != win {
			if win >= 0 {
				flush()
			}
			win = w
		}
		g := byTk[r.ticker]
		if g == nil {
			g = &grp{tk: r.ticker}
			byTk[r.ticker] = g
			order = append(order, g)
		}
		if !r.noPrice {
			g.xs = append(g.xs, r.price)
		}
	}
	flush()
	// Welford's and the two-pass sums agree to rounding: compare parsed.
	for _, parts := range []int{1, 9} {
		got := splitRun(t, sql, []Input{demoInput}, []string{"V"}, feedDemo(rows), parts)
		if len(got) != len(want) {
			t.Fatalf("%d parts: %d rows, want %d", parts, len(got), len(want))
		}
		for k := range want {
			if !sameNumbers(got[k], want[k]) {
				t.Fatalf("%d parts: row %d\n got %s\nwant %s", parts, k, got[k], want[k])
			}
		}
	}
}

// sameNumbers compares two fmtRow lines, numbers to 1e-9 relative.
func sameNumbers(got, want string) bool {
	gi, wi := strings.IndexByte(got, '['), strings.IndexByte(want, '[')
	if gi < 0 || wi < 0 || got[:gi] != want[:wi] {
		return false
	}
	var g, w []any
	if json.Unmarshal([]byte(got[gi:]), &g) != nil || json.Unmarshal([]byte(want[wi:]), &w) != nil || len(g) != len(w) {
		return false
	}
	gm, wm := map[string]any{}, map[string]any{}
	for k := range g {
		gm[fmt.Sprint(k)], wm[fmt.Sprint(k)] = g[k], w[k]
	}
	return sameRow(gm, wm)
}
