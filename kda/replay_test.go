package kda

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// replaySQL filters the demo stream and counts rows per ticker in
// 1-minute tumbling windows.
const replaySQL = `CREATE OR REPLACE STREAM "DESTINATION_SQL_STREAM" (ticker_symbol VARCHAR(4), change REAL, price REAL);
CREATE OR REPLACE PUMP "STREAM_PUMP" AS INSERT INTO "DESTINATION_SQL_STREAM"
SELECT STREAM ticker_symbol, change, price FROM "SOURCE_SQL_STREAM_001" WHERE sector = 'TECHNOLOGY';
CREATE OR REPLACE STREAM "COUNTS" (ticker_symbol VARCHAR(4), n BIGINT);
CREATE OR REPLACE PUMP "COUNT_PUMP" AS INSERT INTO "COUNTS"
SELECT STREAM ticker_symbol, COUNT(*) FROM "SOURCE_SQL_STREAM_001"
GROUP BY ticker_symbol, STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);`

// replayApp is the test application with replaySQL and both streams as
// outputs.
func replayApp(t testing.TB) *Application {
	t.Helper()
	app := must(ParseApplication(readApp(t)))
	app.Code = replaySQL
	app.Outputs = append(app.Outputs, AppOutput{Stream: "COUNTS", Format: "JSON", Kind: DestinationKinesis})
	return app
}

// demoRecords are the test records: data and arrival as epoch seconds the
// way the CLI prints them.
var demoRecords = []struct{ data, ts string }{
	{`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":-1.5,"PRICE":120.25}`, "1700000000.987"},
	{`{"TICKER_SYMBOL":"XOM","SECTOR":"ENERGY","CHANGE":0.5,"PRICE":80}`, "1700000010.5"},
	{`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":2,"PRICE":122.25}`, "1700000030"},
	{`not json`, "1700000031.001"},
	{`{"TICKER_SYMBOL":"AMZN","SECTOR":"TECHNOLOGY","CHANGE":1,"PRICE":123.25}`, "1700000075.25"},
}

// getRecordsJSON renders recs as two pages of `aws kinesis get-records`
// output, appended.
func getRecordsJSON() string {
	var b strings.Builder
	for page := 0; page < 2; page++ {
		b.WriteString(`{"Records": [`)
		for i, r := range demoRecords {
			if i%2 != page {
				continue
			}
			if i > 1 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"SequenceNumber": "4959%03d", "ApproximateArrivalTimestamp": %s, "Data": %q, "PartitionKey": "pk%d"}`,
				i, r.ts, base64.StdEncoding.EncodeToString([]byte(r.data)), i)
		}
		b.WriteString("], \"NextShardIterator\": \"AAAA\", \"MillisBehindLatest\": 0}\n")
	}
	return b.String()
}

// lambdaEventJSON renders recs as a Lambda Kinesis event.
func lambdaEventJSON() string {
	var b strings.Builder
	b.WriteString(`{"Records": [`)
	for i, r := range demoRecords {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "pk%d", "sequenceNumber": "4959%03d", "data": %q, "approximateArrivalTimestamp": %s},
 "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000000:4959%03d", "eventName": "aws:kinesis:record",
 "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/ticker", "awsRegion": "us-east-1"}`,
			i, i, base64.StdEncoding.EncodeToString([]byte(r.data)), r.ts, i)
	}
	b.WriteString("]}")
	return b.String()
}

// TestReadRecords: both dump formats give the records with their data,
// partition key and arrival time to the millisecond (1700000000.987 is
// .987, not .986 as a float64 would truncate to).
func TestReadRecords(t *testing.T) {
	cli, err := ReadRecords(strings.NewReader(getRecordsJSON()))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := ReadRecords(strings.NewReader(lambdaEventJSON()))
	if err != nil {
		t.Fatal(err)
	}
	if len(cli) != len(demoRecords) || len(ev) != len(demoRecords) {
		t.Fatalf("%d and %d records, want %d", len(cli), len(ev), len(demoRecords))
	}
	want0 := time.Date(2023, 11, 14, 22, 13, 20, 987_000_000, time.UTC)
	if got := ev[0].ArrivalTime; !got.Equal(want0) || ev[0].ShardID != "shardId-000000000000" || ev[0].PartitionKey != "pk0" || string(ev[0].Data) != demoRecords[0].data {
		t.Fatalf("event record 0: %+v, arrival %v, want %v", ev[0], got, want0)
	}
	// get-records pages hold records 0,2,4 then 1,3.
	for k, i := range []int{0, 2, 4, 1, 3} {
		if string(cli[k].Data) != demoRecords[i].data || cli[k].PartitionKey != fmt.Sprintf("pk%d", i) || !cli[k].ArrivalTime.Equal(ev[i].ArrivalTime) {
			t.Fatalf("get-records record %d: %+v, want event record %d %+v", k, cli[k], i, ev[i])
		}
	}
	iso, err := ReadRecords(strings.NewReader(`{"Records":[{"Data":"eA==","PartitionKey":"k","ApproximateArrivalTimestamp":"2023-11-14T22:13:20.987000+00:00"}]}`))
	if err != nil || !iso[0].ArrivalTime.Equal(want0) {
		t.Fatalf("ISO arrival: %v %v", iso, err)
	}
	for _, tc := range []struct{ in, path string }{
		{``, "$"},
		{`{"records2": []}`, "Records"},
		{`{"Records":[{"Data":"eA==","ApproximateArrivalTimestamp":1}]} {"Records":[{"Data":"%%","ApproximateArrivalTimestamp":1}]}`, "Records[0].Data"},
		{`{"Records":[{"kinesis":{"data":"eA=="}}]}`, "Records[0].kinesis.approximateArrivalTimestamp"},
		{`{"Records":[{"Data":"eA==","ApproximateArrivalTimestamp":1e9}]}`, "Records[0].ApproximateArrivalTimestamp"},
		{`{"Records":[{"ApproximateArrivalTimestamp":1}]}`, "Records[0].Data"},
	} {
		_, err := ReadRecords(strings.NewReader(tc.in))
		var re *RecordsError
		if !errors.As(err, &re) || re.Path != tc.path {
			t.Errorf("%s: err %v, want a *RecordsError at %s", tc.in, err, tc.path)
		}
	}
}

// TestReplayToDirIsDeterministic: replaying the same records twice writes
// the same files; the last window closes after the last record; the bad
// record reaches error_stream.jsonl with its arrival as ERROR_TIME.
func TestReplayToDirIsDeterministic(t *testing.T) {
	recs := must(ReadRecords(strings.NewReader(getRecordsJSON())))
	var runs [2]map[string]string
	for k := range runs {
		dir := t.TempDir()
		st, err := ReplayToDir(context.Background(), replayApp(t), recs, dir, func(o *ReplayOptions) {
			o.Preprocessed, o.References = true, companiesFile
		})
		if err != nil {
			t.Fatal(err)
		}
		if st.Records != 5 || st.Rows["DESTINATION_SQL_STREAM"] != 3 || st.Rows["COUNTS"] != 3 || st.Rows[ErrorStream] != 1 {
			t.Fatalf("stats %+v", st)
		}
		runs[k] = map[string]string{}
		for _, name := range []string{"DESTINATION_SQL_STREAM.jsonl", "COUNTS.jsonl", "error_stream.jsonl"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			runs[k][name] = string(b)
		}
	}
	for name, b := range runs[0] {
		if runs[1][name] != b {
			t.Fatalf("%s differs between runs:\n%s\n%s", name, b, runs[1][name])
		}
	}
	if want := `{"ROWTIME":"2023-11-14 22:13:20.987","TICKER_SYMBOL":"AMZN","CHANGE":-1.5,"PRICE":120.25}
{"ROWTIME":"2023-11-14 22:13:50.000","TICKER_SYMBOL":"AMZN","CHANGE":2.0,"PRICE":122.25}
{"ROWTIME":"2023-11-14 22:14:35.250","TICKER_SYMBOL":"AMZN","CHANGE":1.0,"PRICE":123.25}
`; runs[0]["DESTINATION_SQL_STREAM.jsonl"] != want {
		t.Fatalf("DESTINATION_SQL_STREAM:\n%s\nwant\n%s", runs[0]["DESTINATION_SQL_STREAM.jsonl"], want)
	}
	// 22:13:20–22:14:00 holds AMZN ×2 and XOM; the window of the last
	// record closes only because the clock runs on.
	if want := `{"ROWTIME":"2023-11-14 22:14:00.000","TICKER_SYMBOL":"AMZN","N":2}
{"ROWTIME":"2023-11-14 22:14:00.000","TICKER_SYMBOL":"XOM","N":1}
{"ROWTIME":"2023-11-14 22:15:00.000","TICKER_SYMBOL":"AMZN","N":1}
`; runs[0]["COUNTS.jsonl"] != want {
		t.Fatalf("COUNTS:\n%s\nwant\n%s", runs[0]["COUNTS.jsonl"], want)
	}
	if e := runs[0]["error_stream.jsonl"]; !strings.HasPrefix(e, `{"ROWTIME":"2023-11-14 22:13:51.001","ERROR_TIME":"2023-11-14 22:13:51.001","ERROR_LEVEL":"Error","ERROR_NAME":"Input_Schema_Mismatch"`) {
		t.Fatalf("error_stream: %s", e)
	}
}

// TestReplayPreprocessAndParallelism: an application with a preprocessor
// needs Preprocess (here dropping ENERGY records and upper-casing the
// rest's sector) or Preprocessed; with InputParallelism 2, every record
// still reaches one of the two input streams.
func TestReplayPreprocessAndParallelism(t *testing.T) {
	recs := must(ReadRecords(strings.NewReader(lambdaEventJSON())))
	app := replayApp(t)
	if _, err := Replay(context.Background(), app, recs, discardStreams, func(o *ReplayOptions) { o.References = companiesFile }); err == nil || !strings.Contains(err.Error(), "InputProcessingConfigurationDescription") {
		t.Fatalf("err %v, want the preprocessor named", err)
	}
	for i := range demoRecords {
		recs[i].Data = bytes.ReplaceAll(recs[i].Data, []byte("TECHNOLOGY"), []byte("technology"))
	}
	st, err := Replay(context.Background(), app, recs, discardStreams, func(o *ReplayOptions) {
		o.References = companiesFile
		o.Preprocess = func(_ context.Context, r KinesisRecord) ([]byte, error) {
			if bytes.Contains(r.Data, []byte("ENERGY")) {
				return nil, nil
			}
			return bytes.ToUpper(r.Data), nil
		}
	})
	if err != nil || st.Records != 4 || st.Rows["DESTINATION_SQL_STREAM"] != 3 {
		t.Fatalf("stats %+v, err %v", st, err)
	}
	app.Inputs[0].Streams = []string{"SOURCE_SQL_STREAM_001", "SOURCE_SQL_STREAM_002"}
	app.Code = `CREATE STREAM "DESTINATION_SQL_STREAM" (t VARCHAR(4));
CREATE PUMP a AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_001";
CREATE PUMP b AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM ticker_symbol FROM "SOURCE_SQL_STREAM_002";`
	app.Outputs = app.Outputs[:1]
	st, err = Replay(context.Background(), app, recs, discardStreams, func(o *ReplayOptions) { o.Preprocessed, o.References = true, companiesFile })
	if err != nil || st.Rows["DESTINATION_SQL_STREAM"] != 4 || st.Rows[ErrorStream] != 1 {
		t.Fatalf("stats %+v, err %v", st, err)
	}
}

func discardStreams(string) (io.Writer, error) { return io.Discard, nil }

// companiesFile replaces the test application's reference table.
var companiesFile = map[string]string{"COMPANIES": "testdata/companies.csv"}

// TestStreamFileName: quoted stream names become one safe file name.
func TestStreamFileName(t *testing.T) {
	for in, want := range map[string]string{"DEST": "DEST.jsonl", "error_stream": "error_stream.jsonl", "a/b": "a%2Fb.jsonl", "..": "%2E..jsonl"} {
		if got := StreamFileName(in, FormatJSON); got != want {
			t.Errorf("StreamFileName(%q, JSON) = %q, want %q", in, got, want)
		}
		if got, want := StreamFileName(in, FormatCSV), strings.TrimSuffix(want, ".jsonl")+".csv"; got != want {
			t.Errorf("StreamFileName(%q, CSV) = %q, want %q", in, got, want)
		}
	}
}

func FuzzReadRecords(f *testing.F) {
	f.Add([]byte(getRecordsJSON()))
	f.Add([]byte(lambdaEventJSON()))
	f.Add([]byte(`{"Records":[{"Data":"eA==","ApproximateArrivalTimestamp":"2023-11-14T22:13:20Z"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, err := ReadRecords(bytes.NewReader(data))
		if err != nil {
			var re *RecordsError
			if !errors.As(err, &re) {
				t.Fatalf("error %T %v", err, err)
			}
			return
		}
		for _, r := range recs {
			if r.ArrivalTime.IsZero() || r.ArrivalTime.Location() != time.UTC {
				t.Fatalf("arrival %v", r.ArrivalTime)
			}
		}
	})
}
