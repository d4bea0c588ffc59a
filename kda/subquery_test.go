package kda

import (
	"slices"
	"testing"
	"time"
)

// TestSubqueryInFrom: FROM (SELECT STREAM …) AS T, including the
// reference's REGEX_LOG_PARSE example (T.REC.COLUMN1 of a row-valued
// column), the developer guide's W3C_LOG_PARSE example (AS l(r) and
// l.r.COLUMN1), a WHERE on the subquery's columns and a sliding window
// inside the subquery.
func TestSubqueryInFrom(t *testing.T) {
	sql := `CREATE STREAM "MATCHES" (match1 VARCHAR(1024), match2 VARCHAR(1024));
CREATE PUMP "P1" AS INSERT INTO "MATCHES"
SELECT STREAM T.REC.COLUMN1, T.REC.COLUMN2
FROM (SELECT STREAM sector, REGEX_LOG_PARSE(sector, '.*([E].).*([R].*)') AS rec FROM "SOURCE_SQL_STREAM_001") AS T;
CREATE STREAM "HIGH" (ticker VARCHAR(4), avg_price DOUBLE);
CREATE PUMP "P2" AS INSERT INTO "HIGH"
SELECT STREAM t, ap FROM (
  SELECT STREAM ticker_symbol AS t, AVG(price) OVER (PARTITION BY ticker_symbol ROWS 1 PRECEDING) AS ap
  FROM "SOURCE_SQL_STREAM_001") AS s
WHERE ap > 100;`
	e, err := NewEngine(sql, []Input{demoInput})
	if err != nil {
		t.Fatal(err)
	}
	matches, high := collect(t, e, "MATCHES"), collect(t, e, "HIGH")
	for _, rec := range []string{
		`{"TICKER_SYMBOL":"XOM","SECTOR":"ENERGY","CHANGE":1,"PRICE":90}`,
		`{"TICKER_SYMBOL":"XOM","SECTOR":"ENERGY","CHANGE":1,"PRICE":130}`,
		`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":1,"PRICE":99}`,
	} {
		must(0, e.InsertJSON(DefaultInputStream, []byte(rec), time.Time{}))
	}
	if want := []string{`{"MATCH1":"EN","MATCH2":"RGY"}`, `{"MATCH1":"EN","MATCH2":"RGY"}`, `{"MATCH1":null,"MATCH2":null}`}; !slices.Equal(*matches, want) {
		t.Fatalf("MATCHES %v, want %v", *matches, want)
	}
	if want := []string{`{"TICKER":"XOM","AVG_PRICE":110.0}`}; !slices.Equal(*high, want) {
		t.Fatalf("HIGH %v, want %v", *high, want)
	}

	w3c := `CREATE STREAM "DESTINATION_SQL_STREAM" (host VARCHAR(24), datetime VARCHAR(32), request VARCHAR(64), response INTEGER, bytes INTEGER);
CREATE PUMP "myPUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM l.r.COLUMN1, l.r.COLUMN4, l.r.COLUMN5, CAST(l.r.COLUMN6 AS INTEGER), CAST(l.r.COLUMN7 AS INTEGER)
FROM (SELECT STREAM W3C_LOG_PARSE("log", 'COMMON') FROM "SOURCE_SQL_STREAM_001") AS l(r);`
	e, err = NewEngine(w3c, []Input{{Columns: []Column{{Name: "log", Type: Varchar(256), Mapping: "$.Log"}}}})
	if err != nil {
		t.Fatal(err)
	}
	out := collect(t, e, "DESTINATION_SQL_STREAM")
	must(0, e.InsertJSON(DefaultInputStream, []byte(`{"Log":"192.168.254.30 - John [24/May/2004:22:01:02 -0700] \"GET /icons/apache_pba.gif HTTP/1.1\" 304 0"}`), time.Time{}))
	if want := []string{`{"HOST":"192.168.254.30","DATETIME":"[24/May/2004:22:01:02 -0700]","REQUEST":"GET /icons/apache_pba.gif HTTP/1.1","RESPONSE":304,"BYTES":0}`}; !slices.Equal(*out, want) {
		t.Fatalf("got %v, want %v", *out, want)
	}
}
