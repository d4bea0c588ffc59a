package kda

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// testTables loads the test application's reference table from
// testdata/companies.csv.
func testTables(t testing.TB, app *Application) func(*EngineOptions) {
	t.Helper()
	tables, err := app.LoadReferences(context.Background(), nil, map[string]string{"COMPANIES": "testdata/companies.csv"})
	if err != nil {
		t.Fatal(err)
	}
	return func(o *EngineOptions) { o.Tables = tables }
}

func readApp(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/describe-application.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseApplication: the JSON describe-application prints becomes the
// inputs, reference source, outputs and code, and the engine built from it
// runs the code on the demo stream's records.
func TestParseApplication(t *testing.T) {
	app, err := ParseApplication(readApp(t))
	if err != nil {
		t.Fatal(err)
	}
	in := app.Inputs[0]
	if app.Name != "ticker-app" || in.NamePrefix != "SOURCE_SQL_STREAM" || !slices.Equal(in.Streams, []string{"SOURCE_SQL_STREAM_001"}) ||
		in.Format.Type != "JSON" || len(in.Columns) != 4 || in.Columns[2] != (Column{Name: "CHANGE", Type: Double, Mapping: "$.CHANGE"}) ||
		in.Columns[0].Type != Varchar(4) || !strings.HasSuffix(in.PreprocessorARN, ":function:preprocess") || !strings.HasSuffix(in.SourceARN, "stream/ticker") {
		t.Fatalf("input %+v", in)
	}
	ref := app.References[0]
	if ref.Table != "COMPANIES" || ref.Bucket != "ref-bucket" || ref.Key != "companies.csv" || ref.Format != (RecordFormat{Type: "CSV", RowDelimiter: "\n", ColumnDelimiter: ","}) || len(ref.Columns) != 2 {
		t.Fatalf("reference %+v", ref)
	}
	if len(app.Outputs) != 1 || app.Outputs[0] != (AppOutput{Stream: "DESTINATION_SQL_STREAM", Format: "JSON", Kind: DestinationFirehose, ResourceARN: "arn:aws:firehose:us-east-1:123456789012:deliverystream/out"}) {
		t.Fatalf("outputs %+v", app.Outputs)
	}
	if _, err := app.NewEngine(); err == nil || !strings.Contains(err.Error(), `table "COMPANIES" is not loaded`) {
		t.Fatalf("err %v, want the reference table missing", err)
	}
	e, err := app.NewEngine(testTables(t, app))
	if err != nil {
		t.Fatal(err)
	}
	out := collect(t, e, "DESTINATION_SQL_STREAM")
	for _, rec := range []string{
		`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":-1.5,"PRICE":120.25}`,
		`{"TICKER_SYMBOL":"XOM","SECTOR":"ENERGY","CHANGE":0.5,"PRICE":80}`,
		`{"TICKER_SYMBOL":"NEW","SECTOR":"TECHNOLOGY","CHANGE":1,"PRICE":1}`,
	} {
		if err := e.InsertJSON("SOURCE_SQL_STREAM_001", []byte(rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{`{"TICKER_SYMBOL":"AMZN","COMPANY":"Amazon.com Inc.","CHANGE":-1.5,"PRICE":120.25}`,
		`{"TICKER_SYMBOL":"NEW","COMPANY":null,"CHANGE":1.0,"PRICE":1.0}`}; !slices.Equal(*out, want) {
		t.Fatalf("got %v, want %v", *out, want)
	}
}

// TestApplicationCSVInputAndParallelism: a CSV input schema splits each
// record into rows by its delimiters, and an InputParallelism of 2 without
// InAppStreamNames makes SOURCE_SQL_STREAM_001 and _002.
func TestApplicationCSVInputAndParallelism(t *testing.T) {
	app, err := ParseApplication(editApp(t, func(ad map[string]any) {
		in := at(ad, "InputDescriptions", 0)
		delete(in, "InAppStreamNames")
		in["InputParallelism"] = map[string]any{"Count": 2}
		sch := in["InputSchema"].(map[string]any)
		delete(ad, "ReferenceDataSourceDescriptions")
		sch["RecordFormat"] = map[string]any{"RecordFormatType": "CSV", "MappingParameters": map[string]any{
			"CSVMappingParameters": map[string]any{"RecordRowDelimiter": "|", "RecordColumnDelimiter": ";"}}}
		ad["ApplicationCode"] = `CREATE STREAM "DESTINATION_SQL_STREAM" (t VARCHAR(4), p REAL);
CREATE PUMP p1 AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM ticker_symbol, price FROM "SOURCE_SQL_STREAM_001";
CREATE PUMP p2 AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM ticker_symbol, price FROM "SOURCE_SQL_STREAM_002";`
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got := app.Inputs[0].Streams; !slices.Equal(got, []string{"SOURCE_SQL_STREAM_001", "SOURCE_SQL_STREAM_002"}) {
		t.Fatalf("streams %v", got)
	}
	e, err := app.NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	out, errs := collect(t, e, "DESTINATION_SQL_STREAM"), collect(t, e, ErrorStream)
	must(0, e.InsertJSON("SOURCE_SQL_STREAM_001", []byte("AMZN;TECHNOLOGY;1.5;120|XOM;ENERGY;;80|"), time.Time{}))
	must(0, e.InsertJSON("SOURCE_SQL_STREAM_002", []byte("BAD;X;notanumber;1|IBM;TECHNOLOGY;2;130.5"), time.Time{}))
	want := []string{`{"T":"AMZN","P":120.0}`, `{"T":"XOM","P":80.0}`, `{"T":"IBM","P":130.5}`}
	if !slices.Equal(*out, want) || len(*errs) != 1 || !strings.Contains((*errs)[0], `column \"CHANGE\": \"notanumber\" is not a number`) {
		t.Fatalf("out %v errors %v; want %v and one error", *out, *errs, want)
	}
}

// editApp returns the test application's JSON after f edits its
// ApplicationDetail.
func editApp(t testing.TB, f func(ad map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readApp(t), &doc); err != nil {
		t.Fatal(err)
	}
	f(doc["ApplicationDetail"].(map[string]any))
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// at returns element i of the array field of m.
func at(m map[string]any, field string, i int) map[string]any {
	return m[field].([]any)[i].(map[string]any)
}

// TestApplicationErrorsNameTheJSONPath: each missing or wrong piece of a
// description is an *ApplicationError whose Path points at it.
func TestApplicationErrorsNameTheJSONPath(t *testing.T) {
	schema := func(ad map[string]any) map[string]any {
		return at(ad, "InputDescriptions", 0)["InputSchema"].(map[string]any)
	}
	tests := []struct {
		path string
		edit func(ad map[string]any)
	}{
		{"ApplicationDetail.ApplicationCode", func(ad map[string]any) { delete(ad, "ApplicationCode") }},
		{"ApplicationDetail.InputDescriptions", func(ad map[string]any) { ad["InputDescriptions"] = []any{} }},
		{"ApplicationDetail.InputDescriptions[0].NamePrefix", func(ad map[string]any) { delete(at(ad, "InputDescriptions", 0), "NamePrefix") }},
		{"ApplicationDetail.InputDescriptions[0].InputSchema", func(ad map[string]any) { delete(at(ad, "InputDescriptions", 0), "InputSchema") }},
		{"ApplicationDetail.InputDescriptions[0].InputParallelism.Count", func(ad map[string]any) {
			at(ad, "InputDescriptions", 0)["InputParallelism"] = map[string]any{"Count": 0}
		}},
		{"ApplicationDetail.InputDescriptions[0].InAppStreamNames", func(ad map[string]any) {
			at(ad, "InputDescriptions", 0)["InputParallelism"] = map[string]any{"Count": 2}
		}},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordFormat.RecordFormatType", func(ad map[string]any) {
			schema(ad)["RecordFormat"].(map[string]any)["RecordFormatType"] = "PARQUET"
		}},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordFormat.MappingParameters.JSONMappingParameters.RecordRowPath", func(ad map[string]any) {
			schema(ad)["RecordFormat"].(map[string]any)["MappingParameters"] = map[string]any{"JSONMappingParameters": map[string]any{"RecordRowPath": "$.rows[0:]"}}
		}},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordFormat.MappingParameters.CSVMappingParameters", func(ad map[string]any) {
			schema(ad)["RecordFormat"] = map[string]any{"RecordFormatType": "CSV"}
		}},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordEncoding", func(ad map[string]any) { schema(ad)["RecordEncoding"] = "UTF-16" }},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordColumns", func(ad map[string]any) { schema(ad)["RecordColumns"] = []any{} }},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordColumns[2].SqlType", func(ad map[string]any) { at(schema(ad), "RecordColumns", 2)["SqlType"] = "VARCHAR(x)" }},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordColumns[1].SqlType", func(ad map[string]any) { delete(at(schema(ad), "RecordColumns", 1), "SqlType") }},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordColumns[1].Name", func(ad map[string]any) { at(schema(ad), "RecordColumns", 1)["Name"] = "TICKER_SYMBOL" }},
		{"ApplicationDetail.InputDescriptions[0].InputSchema.RecordColumns[3].Mapping", func(ad map[string]any) { at(schema(ad), "RecordColumns", 3)["Mapping"] = "$.prices[0]" }},
		{"ApplicationDetail.ReferenceDataSourceDescriptions[0].S3ReferenceDataSourceDescription.BucketARN", func(ad map[string]any) {
			at(ad, "ReferenceDataSourceDescriptions", 0)["S3ReferenceDataSourceDescription"].(map[string]any)["BucketARN"] = "ref-bucket"
		}},
		{"ApplicationDetail.ReferenceDataSourceDescriptions[0].TableName", func(ad map[string]any) {
			at(ad, "ReferenceDataSourceDescriptions", 0)["TableName"] = "SOURCE_SQL_STREAM_001"
		}},
		{"ApplicationDetail.ReferenceDataSourceDescriptions[0].ReferenceSchema.RecordColumns[0].SqlType", func(ad map[string]any) {
			at(at(ad, "ReferenceDataSourceDescriptions", 0)["ReferenceSchema"].(map[string]any), "RecordColumns", 0)["SqlType"] = "GEOMETRY"
		}},
		{"ApplicationDetail.OutputDescriptions[0]", func(ad map[string]any) { delete(at(ad, "OutputDescriptions", 0), "KinesisFirehoseOutputDescription") }},
		{"ApplicationDetail.OutputDescriptions[0].DestinationSchema.RecordFormatType", func(ad map[string]any) {
			at(ad, "OutputDescriptions", 0)["DestinationSchema"] = map[string]any{"RecordFormatType": "AVRO"}
		}},
		// Found when the engine is built.
		{"ApplicationDetail.OutputDescriptions[0].Name", func(ad map[string]any) { at(ad, "OutputDescriptions", 0)["Name"] = "NO_SUCH_STREAM" }},
		{"ApplicationDetail.ApplicationCode", func(ad map[string]any) { ad["ApplicationCode"] = "CREATE STREAM x (a BIGINT;" }},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			app, err := ParseApplication(editApp(t, tc.edit))
			if err == nil {
				_, err = app.NewEngine(testTables(t, app))
			}
			var ae *ApplicationError
			if !errors.As(err, &ae) || ae.Path != tc.path {
				t.Fatalf("err %v, want an *ApplicationError at %s", err, tc.path)
			}
			t.Log(err)
		})
	}
	var se *SQLError
	app := must(ParseApplication(editApp(t, func(ad map[string]any) { ad["ApplicationCode"] = "CREATE STREAM x (a BIGINT;" })))
	if _, err := app.NewEngine(testTables(t, app)); !errors.As(err, &se) || se.Line != 1 {
		t.Fatalf("err %v, want it to wrap the *SQLError", err)
	}
	if _, err := ParseApplication([]byte(`{"Application": {}}`)); err == nil || !strings.Contains(err.Error(), "ApplicationDetail: missing") {
		t.Fatalf("err %v", err)
	}
}

func FuzzParseApplication(f *testing.F) {
	f.Add(readApp(f))
	f.Add([]byte(`{"ApplicationDetail":{"ApplicationCode":"x","InputDescriptions":[{"NamePrefix":"S","InputSchema":{"RecordFormat":{"RecordFormatType":"CSV","MappingParameters":{"CSVMappingParameters":{"RecordRowDelimiter":"\n","RecordColumnDelimiter":","}}},"RecordColumns":[{"Name":"a","SqlType":"DECIMAL(1,1)"}]}}]}}`))
	f.Add([]byte(`{"ApplicationDetail":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		app, err := ParseApplication(data)
		if err != nil {
			var ae *ApplicationError
			if !errors.As(err, &ae) || ae.Path == "" {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		if len(app.Inputs) == 0 || app.Code == "" {
			t.Fatalf("accepted an application without inputs or code")
		}
		for _, in := range app.Inputs {
			if len(in.Streams) == 0 || len(in.Columns) == 0 {
				t.Fatalf("input %+v", in)
			}
		}
		_, _ = app.NewEngine()
	})
}
