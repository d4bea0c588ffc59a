package syntax

import (
	"errors"
	"strings"
	"testing"
)

const seedSQL = `CREATE OR REPLACE STREAM "anomaly_data_stream" ("sensor_id" INTEGER, "current_temperature" INTEGER, "location" VARCHAR(16));
CREATE OR REPLACE PUMP "anomaly_pump" AS INSERT INTO "anomaly_data_stream"
SELECT STREAM "sensor_id", "current_temperature", "location" FROM "SOURCE_SQL_STREAM_001" WHERE "current_temperature" > 100;`

// TestUnsupportedFunctionsAreNamed: every reference function the engine
// lacks is named, not "unknown".
func TestUnsupportedFunctionsAreNamed(t *testing.T) {
	const from = `FROM "SOURCE_SQL_STREAM_001"`
	stream := `CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" `
	for name := range unsupportedFunctions {
		sql := stream + `SELECT STREAM ` + name + `("sensor_id") ` + from
		_, err := ParseSQL(sql)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || ue.Construct != name {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func FuzzParseSQL(f *testing.F) {
	f.Add(seedSQL)
	f.Add(`CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM (SELECT t.x FROM t WHERE t.k = s.k) + 1 FROM (SELECT STREAM * FROM a UNION ALL SELECT STREAM * FROM b ORDER BY ROWTIME, 2 DESC NULLS FIRST) AS s;`)
	f.Add(`CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM DISTINCT MONOTONIC("id"), ANY ("x" > 1) OVER W, STDDEV_POP(DISTINCT "x") OVER (ROWS BETWEEN 5 PRECEDING AND CURRENT ROW), LAG("x", 2) OVER (RANGE UNBOUNDED PRECEDING), COUNT(*) OVER (RANGE CURRENT ROW) FROM "s" WINDOW W AS (PARTITION BY "k" ROWS UNBOUNDED PRECEDING); CREATE PUMP "q" AS INSERT INTO "o" SELECT STREAM EVERY("b") FROM "s" GROUP BY MONOTONIC("id"), "k";`)
	f.Add(`SELECT STREAM AVG(x) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND 2 FOLLOWING) FROM s`)
	f.Add(`CREATE STREAM "o" ("t" VARCHAR(4), "n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM * FROM TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" WHERE "PRICE" > -1.5), 'TICKER_SYMBOL', 5, 60,)) AS t WHERE t."n" > 1;`)
	f.Add(`SELECT STREAM * FROM TABLE(COUNT_DISTINCT_ITEMS_TUMBLING(CURSOR(SELECT STREAM * FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM a FROM (SELECT STREAM a FROM s) x))), 'a', 60))`)
	f.Add(`CREATE PUMP "p" AS INSERT INTO "s" ("a") SELECT STREAM CAST(x AS VARCHAR(3)) || 'it''s' FROM y WHERE NOT a IS NULL; -- c`)
	f.Add(`CREATE STREAM s (a DECIMAL(10,2), b DOUBLE PRECISION, c CHAR); /* x */`)
	f.Add(`CREATE OR REPLACE FUNCTION get_fraction(IN degrees DOUBLE, "s" VARCHAR(4)) RETURNS DOUBLE LANGUAGE SQL SPECIFIC gf NOT DETERMINISTIC CONTAINS SQL READS SQL DATA RETURNS NULL ON NULL INPUT RETURN degrees - FLOOR(degrees); CREATE FUNCTION group_rank(c CURSOR, r VARCHAR(128)) RETURNS TABLE(c.*, "groupRank" INTEGER) LANGUAGE JAVA PARAMETER STYLE SYSTEM DEFINED JAVA NO SQL EXTERNAL NAME 'class x.y'; CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM "f"(1) FROM s;`)
	f.Add(`CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM (a, b) NOT IN (SELECT DISTINCT x, y + 1 FROM t AS r WHERE r.z = s.a), NOT EXISTS (SELECT * FROM t WHERE t.x IN (SELECT y FROM u)) FROM s WHERE a IN (SELECT STREAM a FROM s);`)
	f.Add(`CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM PERIOD(a, b) CONTAINS t, (a, b) OVERLAPS (c, d) IMMEDIATELY PRECEDES PERIOD(d, e), (a, b) STRICTLY LEADS (c, d), 1 leads FROM s;`)
	f.Add(`CREATE STREAM s (d DATE, t TIME(3), ts TIMESTAMP); CREATE PUMP p AS INSERT INTO s SELECT STREAM DATE '2026-01-02' + INTERVAL '1-2' YEAR TO MONTH, TIME '12:00:00' - INTERVAL -'1:30' HOUR TO MINUTE, CAST((ROWTIME - ts) DAY(3) TO SECOND(3) AS VARCHAR(20)), CURRENT_DATE, LOCALTIME FROM x;`)
	f.Add("\"")
	f.Add("FLOOR(ROWTIME TO MINUTE)")
	f.Add(`CREATE STREAM "o" ("a" VARCHAR(4)); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM CASE "sensor_id" WHEN 1 THEN 'a' ELSE COALESCE("location", 'b') END FROM "SOURCE_SQL_STREAM_001" WHERE "location" NOT LIKE '%_x' AND "sensor_id" NOT IN (1, 2) AND "current_temperature" BETWEEN 1 AND 2;`)
	f.Add(strings.Repeat("(", MaxExprDepth+1))
	f.Add(`CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM ` + strings.Repeat("NOT ", 200) + strings.Repeat("-", 200) + "1 + 1 + 1" + ` FROM "SOURCE_SQL_STREAM_001";`)
	f.Add(`CREATE STREAM "o" ("n" BOOLEAN); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM (("sensor_id" BETWEEN 1 AND 2) BETWEEN FALSE AND TRUE) IN (TRUE, NULL) FROM "SOURCE_SQL_STREAM_001" WHERE "location" NOT SIMILAR TO 'x';`)
	f.Add(`CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM COUNT(DISTINCT x) OVER w FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM s))) s LEFT JOIN t ON TRUE WINDOW w AS (RANGE INTERVAL '1' MINUTE PRECEDING) UNION ALL SELECT STREAM 1 FROM u;`)
	f.Add(`CREATE STREAM "o" ("a" DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM NTH_VALUE(x, 2) OVER W, SUBSTRING(s SIMILAR 'a#"b#"c' ESCAPE '#'), TRIM(LEADING 'x' FROM s), POSITION('a' IN s), REGEX_LOG_PARSE(s, '(a)').COLUMN1 FROM s WHERE s SIMILAR TO 'a%' WINDOW W AS (ROWS 2 PRECEDING);`)
	f.Add(`CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM a, COUNT(*) FROM s JOIN t AS r ON s.a = r.b WINDOWED BY STAGGER (PARTITION BY a RANGE INTERVAL '1' MINUTE) UNION ALL SELECT STREAM 1, 2 FROM u;`)
	f.Add(`CREATE STREAM "o" ("t" TIMESTAMP, "a" VARCHAR(8), "n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM DISTINCT FLOOR(ROWTIME TO MINUTE), "location", "sensor_id" FROM "SOURCE_SQL_STREAM_001" UNION ALL SELECT STREAM STEP(ROWTIME BY INTERVAL '1' SECOND), "location", COUNT(DISTINCT "sensor_id") FROM "SOURCE_SQL_STREAM_001" GROUP BY "location", STEP(ROWTIME BY INTERVAL '1' SECOND);`)
	f.Add(`CREATE STREAM "o" ("a" BIGINT, "t" TIMESTAMP); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM b."sensor_id", a.ROWTIME FROM "SOURCE_SQL_STREAM_001" OVER W AS a JOIN "SOURCE_SQL_STREAM_001" OVER (ROWS 2 PRECEDING) AS b ON a."location" = b."location" AND a."sensor_id" < b."sensor_id" WINDOW W AS (RANGE INTERVAL '1' SECOND PRECEDING);`)
	f.Add(`CREATE STREAM "o" ("b" BOOLEAN, "n" BIGINT, "d" DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM ("sensor_id" > 1) IS NOT TRUE AND "location" IS DISTINCT FROM 'UK' AND "location" NOT LIKE 'U!%' ESCAPE '!', NULLIF(MOD("sensor_id", 3), 0) + EXTRACT(MINUTE FROM CURRENT_TIMESTAMP), POWER(LN(EXP(1.5)), 2) + LOG10(10) FROM "SOURCE_SQL_STREAM_001" WHERE "sensor_id" IS NOT UNKNOWN UNION ALL SELECT STREAM FALSE, COUNT(*), STDDEV_SAMP("sensor_id") + VAR_POP("sensor_id") FROM "SOURCE_SQL_STREAM_001" GROUP BY STEP(ROWTIME BY INTERVAL '1' SECOND);`)
	f.Fuzz(func(t *testing.T, src string) {
		s, err := ParseSQL(src)
		if err != nil {
			var se *SQLError
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		for _, st := range s.Stmts {
			if cp, ok := st.(*CreatePump); ok {
				for _, it := range cp.Select.Items {
					if it.Expr != nil {
						_ = it.Expr.String()
					}
				}
			}
		}
	})
}

// BenchmarkEngineSeedPumps measures the seed's two pumps on one goroutine:
// JSON records in, JSON rows out to both output streams (the work a KDA
// application does between its Kinesis source and Firehose destinations),
// and typed rows in with no output encoding.
