package kda

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// seedSQL is the application code of the seed's post, verbatim.
const seedSQL = `CREATE OR REPLACE STREAM "anomaly_data_stream" (
	"sensor_id" INTEGER,
	"current_temperature" INTEGER, 
	"location" VARCHAR(16));

CREATE OR REPLACE  PUMP "STREAM_PUMP_ANOMALY" AS INSERT INTO "anomaly_data_stream"
SELECT STREAM "sensor_id",
				"current_temperature",
				"location"
FROM "SOURCE_SQL_STREAM_001" WHERE "current_temperature" > 100;

CREATE OR REPLACE STREAM "output_data_stream" (
	"sensor_id" INTEGER,
	"current_temperature" INTEGER, 
	"location" VARCHAR(16));

CREATE OR REPLACE  PUMP "STREAM_PUMP_OUTPUT" AS INSERT INTO "output_data_stream"
SELECT STREAM "sensor_id",
				"current_temperature",
				"location"
FROM "SOURCE_SQL_STREAM_001" WHERE "current_temperature" < 100;
`

var seedInput = Input{Columns: []Column{
	{Name: "sensor_id", Type: Integer, Mapping: "$.sensor_id"},
	{Name: "current_temperature", Type: Integer, Mapping: "$.current_temperature"},
	{Name: "location", Type: Varchar(16), Mapping: "$.location"},
}}

func newSeedEngine(t testing.TB, now func() time.Time) *Engine {
	t.Helper()
	e, err := NewEngine(seedSQL, []Input{seedInput}, func(o *EngineOptions) {
		if now != nil {
			o.Now = now
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// collect subscribes to a stream and keeps JSON copies of its rows.
func collect(t testing.TB, e *Engine, stream string) *[]string {
	t.Helper()
	var rows []string
	if err := e.Subscribe(stream, func(r Row) { rows = append(rows, string(r.AppendJSON(nil))) }); err != nil {
		t.Fatal(err)
	}
	return &rows
}

func TestSeedSQLOnGeneratedData(t *testing.T) {
	e := newSeedEngine(t, nil)
	anomaly, output, errs := collect(t, e, "anomaly_data_stream"), collect(t, e, "output_data_stream"), collect(t, e, ErrorStream)
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 2026 }))
	const n = 20000
	hot, cold, exactly100 := 0, 0, 0
	for range n {
		rec := g.Next()
		var r struct {
			T int `json:"current_temperature"`
		}
		if err := json.Unmarshal(rec, &r); err != nil {
			t.Fatal(err)
		}
		switch {
		case r.T > 100:
			hot++
		case r.T < 100:
			cold++
		default:
			exactly100++
		}
		if err := e.InsertJSON(DefaultInputStream, rec, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(*anomaly) != hot || len(*output) != cold || len(*errs) != 0 {
		t.Fatalf("anomaly %d (want %d), output %d (want %d), errors %d", len(*anomaly), hot, len(*output), cold, len(*errs))
	}
	// The seed's two pumps use > 100 and < 100: a reading of exactly 100
	// reaches neither stream. The generated data has such rows.
	if exactly100 == 0 || hot+cold+exactly100 != n {
		t.Fatalf("expected some rows at exactly 100, got %d", exactly100)
	}
	var first struct {
		SensorID int    `json:"sensor_id"`
		T        int    `json:"current_temperature"`
		Location string `json:"location"`
	}
	if err := json.Unmarshal([]byte((*anomaly)[0]), &first); err != nil || first.T <= 100 || first.Location == "" {
		t.Fatalf("anomaly row %s: %v", (*anomaly)[0], err)
	}
	st := e.Stats()
	if st.Rows[DefaultInputStream] != n || st.Rows["anomaly_data_stream"] != uint64(hot) {
		t.Fatalf("stats %v", st.Rows)
	}
}

const windowSQL = `
CREATE OR REPLACE STREAM "avg_stream" ("location" VARCHAR(16), "window_start" TIMESTAMP, "avg_temp" DOUBLE, "n" BIGINT,
  "lo" INTEGER, "hi" INTEGER, "total" BIGINT);
CREATE OR REPLACE PUMP "AVG_PUMP" AS INSERT INTO "avg_stream"
SELECT STREAM "location", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE),
       AVG("current_temperature"), COUNT(*), MIN("current_temperature"), MAX(current_temperature_x), SUM("current_temperature")
FROM "SOURCE_SQL_STREAM_001"
GROUP BY "location", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);`

func TestTumblingWindowWithControllableClock(t *testing.T) {
	clock := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	e, err := NewEngine(strings.ReplaceAll(windowSQL, "current_temperature_x", `"current_temperature"`), []Input{seedInput}, func(o *EngineOptions) {
		o.Now = func() time.Time { return clock }
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []Row
	if err := e.Subscribe("avg_stream", func(r Row) { got = append(got, r.Clone()) }); err != nil {
		t.Fatal(err)
	}
	put := func(loc string, temp int, at time.Duration) {
		clock = time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC).Add(at)
		if err := e.InsertJSON(DefaultInputStream, fmt.Appendf(nil, `{"sensor_id":1,"current_temperature":%d,"location":%q}`, temp, loc), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	put("AUS", 10, 0)
	put("USA", 100, 5*time.Second)
	put("AUS", 21, 30*time.Second)
	put("AUS", 30, 59*time.Second)
	if len(got) != 0 {
		t.Fatalf("window emitted before it closed: %v", got)
	}
	put("UK", 50, 61*time.Second) // first row of the next window closes the first
	if len(got) != 2 {
		t.Fatalf("after first window: %d rows, want 2", len(got))
	}
	want := []string{
		`{"location":"AUS","window_start":"2026-01-01 10:00:00.000","avg_temp":20.333333333333332,"n":3,"lo":10,"hi":30,"total":61}`,
		`{"location":"USA","window_start":"2026-01-01 10:00:00.000","avg_temp":100.0,"n":1,"lo":100,"hi":100,"total":100}`,
	}
	for i, w := range want {
		if s := string(got[i].AppendJSON(nil)); s != w {
			t.Errorf("row %d:\n got %s\nwant %s", i, s, w)
		}
		if end := got[i].Time(); !end.Equal(time.Date(2026, 1, 1, 10, 1, 0, 0, time.UTC)) {
			t.Errorf("row %d ROWTIME %v, want the window end", i, end)
		}
	}
	// Advance closes the second window without another row.
	e.Advance(time.Date(2026, 1, 1, 10, 1, 59, 0, time.UTC))
	if len(got) != 2 {
		t.Fatalf("window closed early")
	}
	e.Advance(time.Date(2026, 1, 1, 10, 2, 0, 0, time.UTC))
	if len(got) != 3 || got[2].Get("location").S != "UK" || got[2].Get("n").I != 1 {
		t.Fatalf("after Advance: %v", got)
	}
}

func TestErrorStream(t *testing.T) {
	e, err := NewEngine(seedSQL+`
CREATE STREAM "ratio" ("r" INTEGER);
CREATE PUMP "RATIO_PUMP" AS INSERT INTO "ratio" SELECT STREAM 1000 / ("sensor_id" - 7) FROM "SOURCE_SQL_STREAM_001";`, []Input{seedInput})
	if err != nil {
		t.Fatal(err)
	}
	var errs []Row
	if err := e.Subscribe(ErrorStream, func(r Row) { errs = append(errs, r.Clone()) }); err != nil {
		t.Fatal(err)
	}
	ratio := collect(t, e, "ratio")
	bad := []struct{ rec, msg string }{
		{`not json`, "not a JSON object"},
		{`{"sensor_id": "seven", "current_temperature": 1, "location": "UK"}`, `column "sensor_id": string value for INTEGER column`},
		{`{"sensor_id": 1, "current_temperature": 12.5, "location": "UK"}`, `"current_temperature": 12.5 is not an integer`},
		{`{"sensor_id": 1, "current_temperature": 3000000000, "location": "UK"}`, `out of range for INTEGER`},
		{`{"sensor_id": 1, "current_temperature": 1, "location": "A VERY LONG LOCATION NAME"}`, `too long for VARCHAR(16)`},
		{`{"sensor_id": 1, "current_temperature": 1, "location": "UK"`, `invalid JSON`},
		{`{"sensor_id": 1} trailing`, `trailing data`},
	}
	for _, b := range bad {
		if err := e.InsertJSON(DefaultInputStream, []byte(b.rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(errs) != len(bad) {
		t.Fatalf("%d error rows, want %d", len(errs), len(bad))
	}
	for i, b := range bad {
		if msg := errs[i].Get("MESSAGE").S; !strings.Contains(msg, b.msg) {
			t.Errorf("record %q: message %q, want %q", b.rec, msg, b.msg)
		}
		if errs[i].Get("ERROR_NAME").S != ErrorNameInput || errs[i].Get("DATA_ROW").S != b.rec {
			t.Errorf("record %q: error row %s", b.rec, errs[i].AppendJSON(nil))
		}
	}
	// Evaluation error in one pump: the row still reaches the others.
	errs = nil
	if err := e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":7,"current_temperature":120,"location":"UK"}`), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 1 || errs[0].Get("PUMP_NAME").S != "RATIO_PUMP" || errs[0].Get("MESSAGE").S != "division by zero" ||
		errs[0].Get("ERROR_NAME").S != ErrorNameEval {
		t.Fatalf("error rows %v", errs)
	}
	if err := e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":8,"current_temperature":120,"location":"UK","extra":[1,{"a":2}]}`), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(*ratio) != 1 || (*ratio)[0] != `{"r":1000}` {
		t.Fatalf("ratio rows %v", *ratio)
	}
	// Missing fields are NULL: NULL > 100 is unknown, so the row is filtered.
	errs = nil
	if err := e.InsertJSON(DefaultInputStream, []byte(`{"location":"UK"}`), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(errs) != 0 || len(*ratio) != 2 || (*ratio)[1] != `{"r":null}` {
		t.Fatalf("null handling: errors %v ratio %v", errs, *ratio)
	}
}

func TestSQLErrorsPointAtLineAndColumn(t *testing.T) {
	tests := []struct {
		sql       string
		line, col int
		msg       string
	}{
		{`CREATE STREAM "s" ("a" INTEGER`, 1, 31, "expected ')'"},
		{"CREATE STREAM \"s\" (\"a\" INTEGER);\nCREATE PUMP \"p\" AS INSERT INTO \"s\"\nSELECT STREAM \"nope\" FROM \"SOURCE_SQL_STREAM_001\";", 3, 15, `unknown column "nope"`},
		{`CREATE STREAM "s" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "s" SELECT STREAM sensor_id FROM "SOURCE_SQL_STREAM_001";`, 1, 83, `unquoted names are upper-cased`},
		{`CREATE STREAM "s" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "missing" SELECT STREAM 1 FROM "SOURCE_SQL_STREAM_001";`, 1, 65, `unknown stream "missing"`},
		{`CREATE STREAM "s" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "s" SELECT STREAM "location" FROM "SOURCE_SQL_STREAM_001";`, 1, 83, `cannot insert VARCHAR into column "a" INTEGER`},
		{`CREATE STREAM "s" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "s" SELECT STREAM 1 FROM "SOURCE_SQL_STREAM_001" WHERE "location" > 3;`, 1, 131, `cannot compare VARCHAR with BIGINT`},
		{`CREATE STREAM "s" ("a" BIGINT); CREATE PUMP "p" AS INSERT INTO "s" SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001";`, 1, 82, `needs GROUP BY`},
		{`CREATE STREAM "s" ("a" BIGINT); CREATE PUMP "p" AS INSERT INTO "s" SELECT STREAM COUNT(*) FROM "SOURCE_SQL_STREAM_001" GROUP BY "location";`, 1, 129, `needs a window`},
		{`CREATE STREAM "s" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "s" SELECT STREAM "sensor_id" FROM "SOURCE_SQL_STREAM_001" GROUP BY STEP(ROWTIME BY INTERVAL '1' SECOND), "location";`, 1, 83, `must appear in GROUP BY`},
		{`CREATE STREAM "s" ("a" INTEGER); CREATE STREAM "s" ("a" INTEGER);`, 1, 34, `already exists`},
		{`CREATE STREAM "s" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "s" SELECT STREAM "a" FROM "s";`, 1, 65, `cycle`},
		{`CREATE STREAM "s" ("a" VARCHAR(0));`, 1, 32, `length between`},
		{`CREATE STREAM 's' ("a" INTEGER);`, 1, 15, `expected stream name`},
		{"CREATE STREAM \"s\" (\"a\" INTEGER) -- fine\n  /* unterminated", 2, 3, `unterminated comment`},
		{`CREATE STREAM "s" ("a" BLOB);`, 1, 24, `unsupported type BLOB`},
		{``, 1, 1, `no statements`},
	}
	for _, tc := range tests {
		_, err := NewEngine(tc.sql, []Input{seedInput})
		var se *SQLError
		if !errors.As(err, &se) {
			t.Errorf("%s: err %v, want *SQLError", tc.sql, err)
			continue
		}
		if se.Line != tc.line || se.Col != tc.col || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s:\n got %v\nwant %d:%d %s", tc.sql, err, tc.line, tc.col, tc.msg)
		}
	}
}

func TestExpressionsAndChaining(t *testing.T) {
	sql := `
CREATE STREAM "hot" (id INTEGER, f DOUBLE, label VARCHAR(32), flag BOOLEAN, t TIMESTAMP);
CREATE PUMP "P1" AS INSERT INTO "hot" (id, f, label, flag, t)
  SELECT STREAM s."sensor_id" * 2 + 1, "current_temperature" / 4.0, UPPER("location") || '-' || LOWER('X'),
         NOT ("current_temperature" >= 120 OR "location" = 'UK') AND "location" IS NOT NULL, s.ROWTIME
  FROM "SOURCE_SQL_STREAM_001" AS s
  WHERE ("current_temperature" BETWEEN_IS_NOT_SUPPORTED IS NULL OR "current_temperature" <> 101) AND -"sensor_id" < 0;
CREATE STREAM "final" (id INTEGER, label VARCHAR(32), c VARCHAR(8));
CREATE PUMP "P2" AS INSERT INTO "final" SELECT STREAM id, label, CAST(f AS VARCHAR(8)) FROM "hot" WHERE flag = TRUE;`
	_, err := NewEngine(sql, []Input{seedInput})
	if err == nil {
		t.Fatal("BETWEEN_IS_NOT_SUPPORTED parsed")
	}
	sql = strings.ReplaceAll(sql, `"current_temperature" BETWEEN_IS_NOT_SUPPORTED IS NULL`, `"current_temperature" IS NULL`)
	clock := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	e, err := NewEngine(sql, []Input{seedInput}, func(o *EngineOptions) { o.Now = func() time.Time { return clock } })
	if err != nil {
		t.Fatal(err)
	}
	hot, final := collect(t, e, "hot"), collect(t, e, "final")
	for _, rec := range []string{
		`{"sensor_id":3,"current_temperature":110,"location":"usa"}`,
		`{"sensor_id":4,"current_temperature":101,"location":"usa"}`,
		`{"sensor_id":5,"current_temperature":130,"location":"aus"}`,
		`{"sensor_id":0,"current_temperature":10,"location":"aus"}`,
	} {
		if err := e.InsertJSON(DefaultInputStream, []byte(rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	wantHot := []string{
		`{"ID":7,"F":27.5,"LABEL":"USA-x","FLAG":true,"T":"2026-03-04 05:06:07.000"}`,
		`{"ID":11,"F":32.5,"LABEL":"AUS-x","FLAG":false,"T":"2026-03-04 05:06:07.000"}`,
	}
	if strings.Join(*hot, "\n") != strings.Join(wantHot, "\n") {
		t.Fatalf("hot:\n%s\nwant\n%s", strings.Join(*hot, "\n"), strings.Join(wantHot, "\n"))
	}
	if len(*final) != 1 || (*final)[0] != `{"ID":7,"LABEL":"USA-x","C":"27.5"}` {
		t.Fatalf("final %v", *final)
	}
}

func TestDiscoverSchema(t *testing.T) {
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 5 }))
	var samples [][]byte
	for range 100 {
		samples = append(samples, g.Next())
	}
	samples = append(samples, []byte(`{"sensor_id": 1, "current_temperature": 2, "location": "AUS", "meta": {"fw": 1.5, "ok": true, "seen": "2026-01-02T03:04:05Z"}, "tags": ["a"]}`))
	cols, err := DiscoverSchema(samples)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cols {
		got = append(got, fmt.Sprintf("%s %s %s", c.Name, c.Type, c.Mapping))
	}
	want := "current_temperature INTEGER $.current_temperature|location VARCHAR(4) $.location|sensor_id INTEGER $.sensor_id|" +
		"meta_fw DOUBLE $.meta.fw|meta_ok BOOLEAN $.meta.ok|meta_seen TIMESTAMP $.meta.seen|tags VARCHAR(8) $.tags"
	if s := strings.Join(got, "|"); s != want {
		t.Fatalf("got  %s\nwant %s", s, want)
	}
	// The discovered schema drives the engine directly.
	e, err := NewEngine(seedSQL, []Input{{Columns: cols}})
	if err != nil {
		t.Fatal(err)
	}
	anomaly := collect(t, e, "anomaly_data_stream")
	if err := e.InsertJSON(DefaultInputStream, samples[len(samples)-1][:0:0], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":9,"current_temperature":140,"location":"UK","meta":{"fw":2}}`), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(*anomaly) != 1 || (*anomaly)[0] != `{"sensor_id":9,"current_temperature":140,"location":"UK"}` {
		t.Fatalf("anomaly %v", *anomaly)
	}
	if _, err := DiscoverSchema([][]byte{[]byte(`[1]`)}); err == nil {
		t.Fatal("array sample accepted")
	}
}

// fuzzTable is the reference table FuzzNewEngine's SQL may JOIN.
var fuzzTable = Table{Name: "R", Columns: []Column{{Name: "LOC", Type: Varchar(4)}, {Name: "ID", Type: Integer}, {Name: "NAME", Type: Varchar(8)}},
	Rows: [][]Value{{StringValue("UK"), IntValue(0), StringValue("uk")}, {StringValue("UK"), IntValue(5), StringValue("uk5")}}}

func FuzzNewEngine(f *testing.F) {
	f.Add(seedSQL)
	f.Add(windowSQL)
	f.Add(`CREATE PUMP "p" AS INSERT INTO "s" ("a") SELECT STREAM CAST(x AS VARCHAR(3)) || 'it''s' FROM y WHERE NOT a IS NULL; -- c`)
	f.Add(`CREATE STREAM s (a DECIMAL(10,2), b DOUBLE PRECISION, c CHAR); /* x */`)
	f.Add("\"")
	f.Add("FLOOR(ROWTIME TO MINUTE)")
	f.Add(strings.ReplaceAll(windowSQL, "current_temperature_x", `"current_temperature"`) + ` HAVING COUNT(*) > 1`)
	f.Add(`CREATE STREAM "o" ("a" VARCHAR(4)); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM CASE "sensor_id" WHEN 1 THEN 'a' ELSE COALESCE("location", 'b') END FROM "SOURCE_SQL_STREAM_001" WHERE "location" NOT LIKE '%_x' AND "sensor_id" NOT IN (1, 2) AND "current_temperature" BETWEEN 1 AND 2;`)
	f.Add(strings.Repeat("(", MaxExprDepth+1))
	f.Add(`CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM (SELECT t.x FROM "t" AS t WHERE t.k = s."sensor_id") FROM (SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" UNION ALL SELECT STREAM * FROM "SOURCE_SQL_STREAM_001" ORDER BY ROWTIME, 2 DESC) AS s;`)
	f.Add(`CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM ` + strings.Repeat("NOT ", 200) + strings.Repeat("-", 200) + "1 + 1 + 1" + ` FROM "SOURCE_SQL_STREAM_001";`)
	f.Add(`CREATE STREAM "o" ("n" BOOLEAN); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM (("sensor_id" BETWEEN 1 AND 2) BETWEEN FALSE AND TRUE) IN (TRUE, NULL) FROM "SOURCE_SQL_STREAM_001" WHERE "location" NOT SIMILAR TO 'x';`)
	f.Add(`CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM COUNT(DISTINCT x) OVER w FROM TABLE(RANDOM_CUT_FOREST(CURSOR(SELECT STREAM * FROM s))) s LEFT JOIN t ON TRUE WINDOW w AS (RANGE INTERVAL '1' MINUTE PRECEDING) UNION ALL SELECT STREAM 1 FROM u;`)
	f.Add(`CREATE STREAM "o" ("a" VARCHAR(64), "t" TIMESTAMP); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM SUBSTRING("location" SIMILAR 'U#"%#"' ESCAPE '#') || REGEX_REPLACE("location", '(U)', '$1x', 1, 0) || REGEX_LOG_PARSE("location", '(.)(.*)').COLUMN2 || TRIM(LEADING 'U' FROM "location") || INITCAP("location"), CHAR_TO_TIMESTAMP('yyyy', '2020') FROM "SOURCE_SQL_STREAM_001" WHERE "location" SIMILAR TO '(U|K)+' AND POSITION('K' IN "location") > 0;`)
	f.Add(`CREATE STREAM "o" ("a" DOUBLE, "b" INTEGER, "c" DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM AVG("current_temperature") OVER W, LAG("sensor_id", 2, 0) OVER (PARTITION BY "location" ROWS 3 PRECEDING), EXP_AVG("current_temperature", INTERVAL '1' SECOND) OVER W FROM "SOURCE_SQL_STREAM_001" WINDOW W AS (PARTITION BY "location" RANGE INTERVAL '1' MINUTE PRECEDING);`)
	f.Add(`CREATE STREAM "o" ("a" VARCHAR(8)); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM r.NAME FROM "SOURCE_SQL_STREAM_001" AS s LEFT JOIN R AS r ON s."location" = r.LOC AND s."sensor_id" > r.ID;`)
	f.Add(`CREATE STREAM "o" ("a" VARCHAR(8), "n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM T.REC.COLUMN1, T.n FROM (SELECT STREAM REGEX_LOG_PARSE("location", '(.)(.*)') AS rec, COUNT(*) AS n FROM "SOURCE_SQL_STREAM_001" WINDOWED BY STAGGER (PARTITION BY REGEX_LOG_PARSE("location", '(.)(.*)') RANGE INTERVAL '1' SECOND)) AS T;`)
	f.Add(`CREATE STREAM "o" ("t" TIMESTAMP, "a" VARCHAR(8), "n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM DISTINCT FLOOR(ROWTIME TO MINUTE), "location", "sensor_id" FROM "SOURCE_SQL_STREAM_001" UNION ALL SELECT STREAM STEP(ROWTIME BY INTERVAL '1' SECOND), "location", COUNT(DISTINCT "sensor_id") FROM "SOURCE_SQL_STREAM_001" GROUP BY "location", STEP(ROWTIME BY INTERVAL '1' SECOND);`)
	f.Add(`CREATE STREAM "o" ("a" BIGINT, "t" TIMESTAMP); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM b."sensor_id", a.ROWTIME FROM "SOURCE_SQL_STREAM_001" OVER W AS a JOIN "SOURCE_SQL_STREAM_001" OVER (ROWS 2 PRECEDING) AS b ON a."location" = b."location" AND a."sensor_id" < b."sensor_id" WINDOW W AS (RANGE INTERVAL '1' SECOND PRECEDING);`)
	f.Add(`CREATE STREAM "o" ("b" BOOLEAN, "n" BIGINT, "d" DOUBLE); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM ("sensor_id" > 1) IS NOT TRUE AND "location" IS DISTINCT FROM 'UK' AND "location" NOT LIKE 'U!%' ESCAPE '!', NULLIF(MOD("sensor_id", 3), 0) + EXTRACT(MINUTE FROM CURRENT_TIMESTAMP), POWER(LN(EXP(1.5)), 2) + LOG10(10) FROM "SOURCE_SQL_STREAM_001" WHERE "sensor_id" IS NOT UNKNOWN UNION ALL SELECT STREAM FALSE, COUNT(*), STDDEV_SAMP("sensor_id") + VAR_POP("sensor_id") FROM "SOURCE_SQL_STREAM_001" GROUP BY STEP(ROWTIME BY INTERVAL '1' SECOND);`)
	f.Add(`CREATE FUNCTION f(x INTEGER) RETURNS INTEGER RETURNS NULL ON NULL INPUT RETURN x * 2; CREATE FUNCTION g(y VARCHAR(4)) RETURNS BOOLEAN RETURN y IN (SELECT LOC FROM R WHERE ID > 0); CREATE STREAM "o" ("n" INTEGER, "b" BOOLEAN, "r" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM f("sensor_id"), EXISTS (SELECT * FROM R WHERE R.ID = "sensor_id") AND ("sensor_id", "location") NOT IN (SELECT ID, NAME FROM R), "groupRank" FROM TABLE(GROUP_RANK(CURSOR(SELECT STREAM "location", COUNT(*) AS "c" FROM "SOURCE_SQL_STREAM_001" GROUP BY "location", STEP(ROWTIME BY INTERVAL '1' SECOND)), 'c', 'groupRank', 'desc', 'asc', 0, 2));`)
	f.Add(`CREATE STREAM "o" ("b" BOOLEAN); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM (ROWTIME, ROWTIME) OVERLAPS PERIOD(ROWTIME, CURRENT_ROW_TIMESTAMP) IMMEDIATELY PRECEDES (ROWTIME, ROWTIME) CONTAINS ROWTIME FROM "SOURCE_SQL_STREAM_001";`)
	f.Add(`CREATE STREAM "o" ("a" VARCHAR(8), "n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM s."location", t.MOST_FREQUENT_VALUES FROM "SOURCE_SQL_STREAM_001" AS s JOIN TABLE(TOP_K_ITEMS_TUMBLING(CURSOR(SELECT STREAM "location" FROM "SOURCE_SQL_STREAM_001" UNION ALL SELECT STREAM 'x' FROM "SOURCE_SQL_STREAM_001"), 'location', 2, 10)) OVER (RANGE INTERVAL '1' MINUTE PRECEDING) AS t ON s."location" = t."location" ORDER BY FLOOR(ROWTIME TO SECOND), 2 DESC NULLS LAST, s."sensor_id";`)
	f.Add(`CREATE STREAM "o" ("a" DOUBLE, "b" BOOLEAN, "n" BIGINT, "m" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM STDDEV_SAMP(DISTINCT "current_temperature") OVER W, ANY ("sensor_id" > 2) OVER (ROWS BETWEEN 3 PRECEDING AND CURRENT ROW), COUNT(DISTINCT "location") OVER (RANGE CURRENT ROW), LAG("sensor_id", 2) OVER (PARTITION BY "location" ROWS UNBOUNDED PRECEDING) FROM "SOURCE_SQL_STREAM_001" WINDOW W AS (PARTITION BY "location" RANGE INTERVAL '1' MINUTE PRECEDING);`)
	f.Add(`CREATE STREAM "o" ("n" BIGINT, "b" BOOLEAN); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM DISTINCT MONOTONIC("sensor_id"), EVERY("current_temperature" > 0) FROM "SOURCE_SQL_STREAM_001" GROUP BY MONOTONIC("sensor_id"), "location";`)
	f.Fuzz(func(t *testing.T, src string) {
		e, err := NewEngine(src, []Input{seedInput}, func(o *EngineOptions) { o.Tables = []Table{fuzzTable} })
		if err != nil {
			var se *SQLError
			if !errors.As(err, &se) || se.Line < 1 || se.Col < 1 {
				t.Fatalf("bad error %T %v", err, err)
			}
			return
		}
		// A compiled engine must survive a record.
		_ = e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":1,"current_temperature":0,"location":"UK"}`), time.Unix(1, 0))
		e.Flush()
	})
}

// BenchmarkEngineSeedPumps measures the seed's two pumps on one goroutine:
// JSON records in, JSON rows out to both output streams (the work a KDA
// application does between its Kinesis source and Firehose destinations),
// the same with CSV rows out (CSV destinations), and typed rows in with
// no output encoding.
func BenchmarkEngineSeedPumps(b *testing.B) {
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 1 }))
	recs := make([][]byte, 4096)
	vals := make([][]Value, len(recs))
	for i := range recs {
		recs[i] = g.Next()
		var r struct {
			S, T int
			L    string `json:"location"`
		}
		_ = json.Unmarshal(recs[i], &struct {
			S *int    `json:"sensor_id"`
			T *int    `json:"current_temperature"`
			L *string `json:"location"`
		}{&r.S, &r.T, &r.L})
		vals[i] = []Value{IntValue(int64(r.S)), IntValue(int64(r.T)), StringValue(r.L)}
	}
	ts := time.Unix(1_700_000_000, 0)
	// run times insert on the seed engine, sink receiving both outputs.
	run := func(b *testing.B, sink func(Row), insert func(e *Engine, i int)) {
		e := newSeedEngine(b, nil)
		_ = e.Subscribe("anomaly_data_stream", sink)
		_ = e.Subscribe("output_data_stream", sink)
		b.ReportAllocs()
		i := 0
		cpu0 := cpuTime()
		for b.Loop() {
			insert(e, i&4095)
			i++
		}
		reportRate(b, float64(i), "rows", cpu0)
		benchNoErrorRows(b, e)
	}
	fromJSON := func(e *Engine, i int) { _ = e.InsertJSON(DefaultInputStream, recs[i], ts) }
	for _, format := range []string{FormatJSON, FormatCSV} {
		b.Run(strings.ToLower(format), func(b *testing.B) {
			var out []byte
			encode := rowEncoder(format) // as App does
			run(b, func(r Row) { out = encode(r, out[:0]) }, fromJSON)
		})
	}
	b.Run("values", func(b *testing.B) {
		run(b, func(Row) {}, func(e *Engine, i int) { _ = e.Insert(DefaultInputStream, vals[i], ts) })
	})
}

func BenchmarkEngineWindow(b *testing.B) {
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 1 }))
	recs := make([][]byte, 4096)
	for i := range recs {
		recs[i] = g.Next()
	}
	e, err := NewEngine(strings.ReplaceAll(windowSQL, "current_temperature_x", `"current_temperature"`), []Input{seedInput})
	if err != nil {
		b.Fatal(err)
	}
	base := time.Unix(1_700_000_000, 0)
	b.ReportAllocs()
	i := 0
	cpu0 := cpuTime()
	for b.Loop() {
		_ = e.InsertJSON(DefaultInputStream, recs[i&4095], base.Add(time.Duration(i)*time.Microsecond))
		i++
	}
	reportRate(b, float64(i), "rows", cpu0)
	benchNoErrorRows(b, e)
}

// benchNoErrorRows fails a benchmark whose rows went to the error_stream:
// it would have timed the error path, not the pumps.
func benchNoErrorRows(b *testing.B, e *Engine) {
	b.Helper()
	if n := e.Stats().Rows[ErrorStream]; n != 0 {
		b.Fatalf("%d rows went to the %s", n, ErrorStream)
	}
}

func TestInsertTypedValues(t *testing.T) {
	e := newSeedEngine(t, nil)
	anomaly, errs := collect(t, e, "anomaly_data_stream"), collect(t, e, ErrorStream)
	if err := e.Insert(DefaultInputStream, []Value{IntValue(3), FloatValue(120.9), StringValue("UK")}, time.Time{}); err != nil {
		t.Fatal(err)
	}
	_ = e.Insert(DefaultInputStream, []Value{IntValue(3)}, time.Time{})
	_ = e.Insert(DefaultInputStream, []Value{StringValue("x"), IntValue(1), StringValue("UK")}, time.Time{})
	if err := e.Insert("nope", nil, time.Time{}); !errors.Is(err, ErrUnknownStream) {
		t.Fatalf("unknown stream: %v", err)
	}
	if len(*anomaly) != 1 || (*anomaly)[0] != `{"sensor_id":3,"current_temperature":120,"location":"UK"}` || len(*errs) != 2 {
		t.Fatalf("anomaly %v errors %v", *anomaly, *errs)
	}
}

func TestCaseBetweenInLikeCoalesce(t *testing.T) {
	sql := `
CREATE STREAM "classified" ("sensor_id" INTEGER, "band" VARCHAR(8), "x" DOUBLE, "loc" VARCHAR(16));
CREATE PUMP "P" AS INSERT INTO "classified"
SELECT STREAM "sensor_id",
  CASE WHEN "current_temperature" > 100 THEN 'hot' WHEN "current_temperature" BETWEEN 50 AND 100 THEN 'warm' ELSE 'cold' END,
  CASE "location" WHEN 'UK' THEN 1 WHEN 'USA' THEN 2.5 END,
  COALESCE("location", 'unknown')
FROM "SOURCE_SQL_STREAM_001"
WHERE "sensor_id" IN (1, 2, 3, 4) AND "location" NOT LIKE 'A_S%' AND "current_temperature" NOT BETWEEN 10 AND 20;`
	e, err := NewEngine(sql, []Input{seedInput})
	if err != nil {
		t.Fatal(err)
	}
	rows := collect(t, e, "classified")
	for _, rec := range []string{
		`{"sensor_id":1,"current_temperature":120,"location":"UK"}`,
		`{"sensor_id":2,"current_temperature":100,"location":"USA"}`,
		`{"sensor_id":3,"current_temperature":5}`,
		`{"sensor_id":4,"current_temperature":70,"location":"AUS"}`, // NOT LIKE 'A_S%' filters it
		`{"sensor_id":9,"current_temperature":70,"location":"UK"}`,  // not IN
		`{"sensor_id":1,"current_temperature":15,"location":"UK"}`,  // NOT BETWEEN filters it
	} {
		if err := e.InsertJSON(DefaultInputStream, []byte(rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	want := `{"sensor_id":1,"band":"hot","x":1.0,"loc":"UK"}|{"sensor_id":2,"band":"warm","x":2.5,"loc":"USA"}`
	// The row without a location: LIKE on NULL is unknown, so it is filtered too.
	if got := strings.Join(*rows, "|"); got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	for _, bad := range []string{
		`CREATE STREAM "o" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM CASE WHEN 1 THEN 2 END FROM "SOURCE_SQL_STREAM_001";`,
		`CREATE STREAM "o" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM CASE WHEN TRUE THEN 2 ELSE 'x' END FROM "SOURCE_SQL_STREAM_001";`,
		`CREATE STREAM "o" ("a" BOOLEAN); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM "sensor_id" LIKE 'x' FROM "SOURCE_SQL_STREAM_001";`,
		`CREATE STREAM "o" ("a" BOOLEAN); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM "location" LIKE "location" FROM "SOURCE_SQL_STREAM_001";`,
		`CREATE STREAM "o" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM CASE END FROM "SOURCE_SQL_STREAM_001";`,
	} {
		var se *SQLError
		if _, err := NewEngine(bad, []Input{seedInput}); !errors.As(err, &se) {
			t.Errorf("%s: %v, want *SQLError", bad, err)
		}
	}
}

func TestWindowHaving(t *testing.T) {
	sql := `
CREATE STREAM "busy" ("location" VARCHAR(16), "n" BIGINT, "hot" BIGINT);
CREATE PUMP "P" AS INSERT INTO "busy"
SELECT STREAM "location", COUNT(*), SUM(CASE WHEN "current_temperature" > 100 THEN 1 ELSE 0 END)
FROM "SOURCE_SQL_STREAM_001"
GROUP BY "location", FLOOR("SOURCE_SQL_STREAM_001".ROWTIME TO MINUTE)
HAVING COUNT(*) >= 2 AND "location" <> 'USA';`
	e, err := NewEngine(sql, []Input{seedInput})
	if err != nil {
		t.Fatal(err)
	}
	rows := collect(t, e, "busy")
	t0 := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	for i, rec := range []string{
		`{"current_temperature":120,"location":"UK"}`, `{"current_temperature":20,"location":"UK"}`,
		`{"current_temperature":120,"location":"USA"}`, `{"current_temperature":120,"location":"USA"}`,
		`{"current_temperature":120,"location":"AUS"}`,
	} {
		_ = e.InsertJSON(DefaultInputStream, []byte(rec), t0.Add(time.Duration(i)*time.Second))
	}
	e.Flush()
	if got := strings.Join(*rows, "|"); got != `{"location":"UK","n":2,"hot":1}` {
		t.Fatalf("got %s", got)
	}
	if _, err := NewEngine(`CREATE STREAM "o" ("a" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM 1 FROM "SOURCE_SQL_STREAM_001" HAVING 1 = 1;`, []Input{seedInput}); err == nil {
		t.Fatal("HAVING without GROUP BY accepted")
	}
}
