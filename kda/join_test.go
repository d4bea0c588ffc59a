package kda

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakekit/lakekit/internal/awstest"
)

// TestReferenceJoinFromS3: the application's reference tables load from S3
// (CSV and JSON, per their ReferenceSchema), and JOIN gives one row per
// match: LEFT JOIN keeps unmatched rows with NULLs, INNER drops them, a
// key with two table rows gives two rows, the rest of ON filters, WHERE
// and GROUP BY see table columns.
func TestReferenceJoinFromS3(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	bucket := newBucket(t, c)
	put := func(key, body string) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put("companies.csv", "AMZN,Amazon.com Inc.\nIBM,International Business Machines\nXOM,Exxon Mobil\n")
	put("limits.json", `{"ticker":"AMZN","limit":100}
{"ticker":"AMZN","limit":200}
{"ticker":"IBM","limit":50}`)
	app := must(ParseApplication(editApp(t, func(ad map[string]any) {
		refs := ad["ReferenceDataSourceDescriptions"].([]any)
		ref := refs[0].(map[string]any)
		ref["S3ReferenceDataSourceDescription"].(map[string]any)["BucketARN"] = "arn:aws:s3:::" + bucket
		refs = append(refs, map[string]any{
			"TableName":                        "LIMITS",
			"S3ReferenceDataSourceDescription": map[string]any{"BucketARN": "arn:aws:s3:::" + bucket, "FileKey": "limits.json"},
			"ReferenceSchema": map[string]any{
				"RecordFormat":  map[string]any{"RecordFormatType": "JSON", "MappingParameters": map[string]any{"JSONMappingParameters": map[string]any{"RecordRowPath": "$"}}},
				"RecordColumns": []any{map[string]any{"Name": "TICKER", "Mapping": "$.ticker", "SqlType": "VARCHAR(4)"}, map[string]any{"Name": "LIM", "Mapping": "$.limit", "SqlType": "INTEGER"}},
			},
		})
		ad["ReferenceDataSourceDescriptions"] = refs
		delete(ad, "OutputDescriptions")
		ad["ApplicationCode"] = `CREATE STREAM "NAMED" (t VARCHAR(4), company VARCHAR(64));
CREATE PUMP "P1" AS INSERT INTO "NAMED" SELECT STREAM ticker_symbol, c.company
  FROM "SOURCE_SQL_STREAM_001" AS s JOIN COMPANIES c ON s.ticker_symbol = c.ticker;
CREATE STREAM "OVER_LIMIT" (t VARCHAR(4), lim INTEGER, price REAL);
CREATE PUMP "P2" AS INSERT INTO "OVER_LIMIT" SELECT STREAM ticker_symbol, l.lim, price
  FROM "SOURCE_SQL_STREAM_001" LEFT OUTER JOIN LIMITS AS l ON ticker_symbol = l.ticker AND price > l.lim
  WHERE l.lim IS NOT NULL OR sector = 'ENERGY';
CREATE STREAM "PER_COMPANY" (company VARCHAR(64), n BIGINT);
CREATE PUMP "P3" AS INSERT INTO "PER_COMPANY" SELECT STREAM c.company, COUNT(*)
  FROM "SOURCE_SQL_STREAM_001" LEFT JOIN COMPANIES AS c ON "SOURCE_SQL_STREAM_001".ticker_symbol = c.ticker
  GROUP BY c.company, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);`
	})))
	tables, err := app.LoadReferences(ctx, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := app.NewEngine(func(o *EngineOptions) { o.Tables = tables })
	if err != nil {
		t.Fatal(err)
	}
	named, over, per := collect(t, e, "NAMED"), collect(t, e, "OVER_LIMIT"), collect(t, e, "PER_COMPANY")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, rec := range []string{
		`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":1,"PRICE":150}`,
		`{"TICKER_SYMBOL":"NEW","SECTOR":"ENERGY","CHANGE":1,"PRICE":10}`,
		`{"TICKER_SYMBOL":"IBM","SECTOR":"TECHNOLOGY","CHANGE":1,"PRICE":40}`,
		`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":1,"PRICE":250}`,
	} {
		must(0, e.InsertJSON("SOURCE_SQL_STREAM_001", []byte(rec), t0.Add(time.Duration(i)*time.Second)))
	}
	e.Flush()
	wantNamed := []string{`{"T":"AMZN","COMPANY":"Amazon.com Inc."}`, `{"T":"IBM","COMPANY":"International Business Machines"}`, `{"T":"AMZN","COMPANY":"Amazon.com Inc."}`}
	wantOver := []string{`{"T":"AMZN","LIM":100,"PRICE":150.0}`, `{"T":"NEW","LIM":null,"PRICE":10.0}`, `{"T":"AMZN","LIM":100,"PRICE":250.0}`, `{"T":"AMZN","LIM":200,"PRICE":250.0}`}
	wantPer := []string{`{"COMPANY":"Amazon.com Inc.","N":2}`, `{"COMPANY":null,"N":1}`, `{"COMPANY":"International Business Machines","N":1}`}
	if !slices.Equal(*named, wantNamed) || !slices.Equal(*over, wantOver) || !slices.Equal(*per, wantPer) {
		t.Fatalf("NAMED %v\nOVER_LIMIT %v\nPER_COMPANY %v\nwant %v\n%v\n%v", *named, *over, *per, wantNamed, wantOver, wantPer)
	}
}

// TestJoinErrors: a JOIN of two streams without a window, an unknown table, an ambiguous
// column and a bad reference row fail with what is wrong.
func TestJoinErrors(t *testing.T) {
	tbl := Table{Name: "T", Columns: []Column{{Name: "TICKER_SYMBOL", Type: Varchar(4)}, {Name: "X", Type: Integer}}, Rows: [][]Value{{StringValue("A"), IntValue(1)}}}
	sql := func(join string) string {
		return `CREATE STREAM "o" ("n" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM X FROM "SOURCE_SQL_STREAM_001" ` + join + `;`
	}
	for join, want := range map[string]string{
		`JOIN "SOURCE_SQL_STREAM_001" AS b ON TRUE`:                  "needs a window on at least one side",
		`JOIN NOPE ON TRUE`:                                          `unknown table "NOPE"`,
		`JOIN T ON TICKER_SYMBOL = 'A'`:                              `column "TICKER_SYMBOL" is in both`,
		`RIGHT JOIN T ON TRUE`:                                       "RIGHT JOIN of a reference table (a table row that never pairs has no time at which to come out",
		`FULL JOIN T ON TRUE`:                                        "FULL JOIN of a reference table",
		`JOIN T ON T.X = 1 JOIN T AS u ON TRUE`:                      `column "X" is in both the JOINs before it and table "T": qualify it`,
		`JOIN T ON T.NOPE = 1`:                                       `unknown column "NOPE" in table "T"`,
		`JOIN T ON "SOURCE_SQL_STREAM_001".TICKER_SYMBOL = T.X`:      "cannot compare VARCHAR with BIGINT",
		`JOIN T USING (X)`:                                           `USING column "X" is not in stream`,
		`JOIN T USING (PRICE)`:                                       `USING column "PRICE" is not in "T"`,
		`JOIN T USING (TICKER_SYMBOL, TICKER_SYMBOL)`:                `column "TICKER_SYMBOL" is twice in USING`,
		`CROSS JOIN T ON TRUE`:                                       "CROSS JOIN and FROM a, b take no ON: write JOIN … ON",
		`, T USING (X)`:                                              "take no USING",
		`LEFT JOIN T ON "SOURCE_SQL_STREAM_001".PRICE > T.X WHERE 1`: "WHERE needs a BOOLEAN",
	} {
		_, err := NewEngine(sql(join), []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{tbl} })
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", join, err, want)
		}
	}
	bad := tbl
	bad.Rows = [][]Value{{StringValue("TOO LONG"), IntValue(1)}}
	if _, err := NewEngine(sql(`JOIN T ON T.X = 1`), []Input{demoInput}, func(o *EngineOptions) { o.Tables = []Table{bad} }); err == nil || !strings.Contains(err.Error(), `table "T" row 1 column "TICKER_SYMBOL"`) {
		t.Errorf("err %v", err)
	}
	ref := AppReference{Table: "R", Format: RecordFormat{Type: "CSV"}, Columns: []Column{{Name: "A", Type: Integer}}}
	if _, err := ref.Read(strings.NewReader("1\nx\n")); err == nil || !strings.Contains(err.Error(), `row 2 (x): column "A": "x" is not an integer`) {
		t.Errorf("err %v", err)
	}
}

// BenchmarkReferenceJoin: the demo stream's JSON records joined to a
// 1,000-row reference table by ticker, one output row per record, on one
// goroutine.
func BenchmarkReferenceJoin(b *testing.B) {
	sql := `CREATE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), company VARCHAR(64), price DOUBLE);
CREATE PUMP "P" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, c.company, price FROM "SOURCE_SQL_STREAM_001" LEFT JOIN COMPANIES AS c ON ticker_symbol = c.ticker;`
	tbl := Table{Name: "COMPANIES", Columns: []Column{{Name: "TICKER", Type: Varchar(4)}, {Name: "COMPANY", Type: Varchar(64)}}}
	tickers := make([]string, 1000)
	for i := range tickers {
		tickers[i] = fmt.Sprintf("T%03d", i)
		tbl.Rows = append(tbl.Rows, []Value{StringValue(tickers[i]), StringValue("Company number " + tickers[i])})
	}
	benchJoinJSON(b, sql, tickers, tbl)
}

// benchJoinJSON runs the demo stream's JSON records, their tickers drawn
// from tickers, through sql joining tables; one output row per record.
func benchJoinJSON(b *testing.B, sql string, tickers []string, tables ...Table) {
	e, err := NewEngine(sql, []Input{demoInput}, func(o *EngineOptions) { o.Tables = tables })
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	rows := 0
	must(0, e.Subscribe("DESTINATION_SQL_STREAM", func(r Row) { buf = r.AppendJSON(buf[:0]); rows++ }))
	recs := make([][]byte, 10_000)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range recs {
		recs[i] = fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"TECHNOLOGY","CHANGE":%.2f,"PRICE":%.2f}`,
			tickers[rng.IntN(len(tickers))], rng.Float64()*2-1, 50+rng.Float64()*100)
	}
	t0 := time.UnixMilli(1_700_000_000_000)
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		_ = e.InsertJSON(DefaultInputStream, recs[i%len(recs)], t0)
	}
	reportRate(b, float64(b.N), "rows", cpu0)
	if rows != b.N {
		b.Fatalf("%d output rows for %d records", rows, b.N)
	}
}

// FuzzReadReference: reading a reference object never panics, and every
// row it returns has one value per column, of the column's kind or NULL.
func FuzzReadReference(f *testing.F) {
	f.Add([]byte("AMZN,Amazon,1\nIBM,,x\n"), false)
	f.Add([]byte(`{"t":"AMZN","c":"Amazon","n":1} {"t":null}`), true)
	cols := []Column{{Name: "T", Type: Varchar(4), Mapping: "$.t"}, {Name: "C", Type: Varchar(16), Mapping: "$.c"}, {Name: "N", Type: Integer, Mapping: "$.n"}}
	f.Fuzz(func(t *testing.T, data []byte, isJSON bool) {
		ref := AppReference{Table: "R", Format: RecordFormat{Type: "CSV"}, Columns: cols}
		if isJSON {
			ref.Format = RecordFormat{Type: "JSON"}
		}
		tbl, err := ref.Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, row := range tbl.Rows {
			for i, v := range row {
				if v.K != KindNull && v.K != cols[i].Type.Kind {
					t.Fatalf("column %d: %v", i, v)
				}
			}
		}
	})
}
