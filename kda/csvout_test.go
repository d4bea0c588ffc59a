package kda

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/lakekit/lakekit/internal/awstest"
)

// csvTypesApp is a described application whose TYPED stream (every column
// type) and error_stream go to CSV destinations and whose PLAIN stream
// goes to a JSON one.
const csvTypesApp = `{"ApplicationDetail": {
 "ApplicationName": "csv-types",
 "InputDescriptions": [{"NamePrefix": "SOURCE_SQL_STREAM", "InAppStreamNames": ["SOURCE_SQL_STREAM_001"],
  "InputParallelism": {"Count": 1},
  "InputSchema": {"RecordFormat": {"RecordFormatType": "JSON", "MappingParameters": {"JSONMappingParameters": {"RecordRowPath": "$"}}},
   "RecordColumns": [
    {"Name": "S", "Mapping": "$.S", "SqlType": "VARCHAR(32)"},
    {"Name": "I", "Mapping": "$.I", "SqlType": "INTEGER"},
    {"Name": "B", "Mapping": "$.B", "SqlType": "BIGINT"},
    {"Name": "D", "Mapping": "$.D", "SqlType": "DOUBLE"},
    {"Name": "R", "Mapping": "$.R", "SqlType": "REAL"},
    {"Name": "M", "Mapping": "$.M", "SqlType": "DECIMAL(8,2)"},
    {"Name": "F", "Mapping": "$.F", "SqlType": "BOOLEAN"},
    {"Name": "T", "Mapping": "$.T", "SqlType": "TIMESTAMP"},
    {"Name": "DT", "Mapping": "$.DT", "SqlType": "DATE"},
    {"Name": "TM", "Mapping": "$.TM", "SqlType": "TIME"},
    {"Name": "V", "Mapping": "$.V", "SqlType": "VARBINARY(8)"}]}}],
 "OutputDescriptions": [
  {"Name": "TYPED", "KinesisStreamsOutputDescription": {"ResourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/typed"}, "DestinationSchema": {"RecordFormatType": "CSV"}},
  {"Name": "PLAIN", "LambdaOutputDescription": {"ResourceARN": "arn:aws:lambda:us-east-1:123456789012:function:plain"}, "DestinationSchema": {"RecordFormatType": "JSON"}},
  {"Name": "error_stream", "KinesisFirehoseOutputDescription": {"ResourceARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/errors"}, "DestinationSchema": {"RecordFormatType": "CSV"}}],
 "ApplicationCode": "CREATE STREAM \"TYPED\" (S VARCHAR(32), I INTEGER, B BIGINT, D DOUBLE, R REAL, M DECIMAL(8,2), F BOOLEAN, T TIMESTAMP, DT DATE, TM TIME, V VARBINARY(8));\nCREATE PUMP \"P1\" AS INSERT INTO \"TYPED\" SELECT STREAM S, I, B, D, R, M, F, T, DT, TM, V FROM \"SOURCE_SQL_STREAM_001\";\nCREATE STREAM \"PLAIN\" (S VARCHAR(32), I INTEGER);\nCREATE PUMP \"P2\" AS INSERT INTO \"PLAIN\" SELECT STREAM S, I FROM \"SOURCE_SQL_STREAM_001\" WHERE I > 0;"
}}`

// csvTypesRecords are the input: every type set, then the strings CSV must
// quote with the other columns NULL, then the empty string, then a record
// that is not JSON (an error_stream row).
var csvTypesRecords = []string{
	`{"S":"plain text","I":7,"B":9000000000,"D":0.1,"R":2,"M":12.5,"F":true,"T":"2023-11-14 22:13:20.987","DT":"2023-11-14","TM":"01:02:03.004","V":"AP8s"}`,
	`{"S":"a,b \"q\"\nz","I":-1,"F":false}`,
	`{"S":"","I":3,"D":-2.5e-7}`,
	`not, "json"`,
}

func csvTypesReplay(t *testing.T) []KinesisRecord {
	t.Helper()
	var recs []KinesisRecord
	for i, d := range csvTypesRecords {
		recs = append(recs, KinesisRecord{UserRecord: UserRecord{PartitionKey: "pk", Data: []byte(d)},
			SequenceNumber: fmt.Sprint(i), ArrivalTime: time.UnixMilli(1_700_000_000_000 + int64(i)*1500).UTC()})
	}
	return recs
}

// TestReplayCSVDestination: a CSV destination's stream is replayed to
// TYPED.csv (ROWTIME, then every column as text written here by hand),
// the JSON one to PLAIN.jsonl as before, and the error_stream in the
// format of its own destination, CSV, once (an error_stream named in
// OutputDescriptions used to be subscribed twice, each row counted twice
// and the file written through two handles); encoding/csv reads every
// line back.
func TestReplayCSVDestination(t *testing.T) {
	app, err := ParseApplication([]byte(csvTypesApp))
	if err != nil {
		t.Fatal(err)
	}
	if app.OutputFormat("TYPED") != FormatCSV || app.OutputFormat("PLAIN") != FormatJSON || app.OutputFormat(ErrorStream) != FormatCSV || app.OutputFormat("NONE") != FormatJSON {
		t.Fatalf("formats %+v", app.Outputs)
	}
	dir := t.TempDir()
	st, err := ReplayToDir(context.Background(), app, csvTypesReplay(t), dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rows["TYPED"] != 3 || st.Rows["PLAIN"] != 2 || st.Rows[ErrorStream] != 1 {
		t.Fatalf("stats %+v", st)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	wantTyped := "2023-11-14 22:13:20.000,plain text,7,9000000000,0.1,2.0,12.5,true,2023-11-14 22:13:20.987,2023-11-14,01:02:03.004,AP8s\n" +
		"2023-11-14 22:13:21.500,\"a,b \"\"q\"\"\nz\",-1,,,,,false,,,,\n" +
		"2023-11-14 22:13:23.000,\"\",3,,-2.5e-07,,,,,,,\n"
	if got := read("TYPED.csv"); got != wantTyped {
		t.Fatalf("TYPED.csv:\n%q\nwant\n%q", got, wantTyped)
	}
	wantPlain := `{"ROWTIME":"2023-11-14 22:13:20.000","S":"plain text","I":7}
{"ROWTIME":"2023-11-14 22:13:23.000","S":"","I":3}
`
	if got := read("PLAIN.jsonl"); got != wantPlain {
		t.Fatalf("PLAIN.jsonl:\n%s\nwant\n%s", got, wantPlain)
	}
	recs, err := csv.NewReader(strings.NewReader(wantTyped)).ReadAll()
	if err != nil || len(recs) != 3 || recs[1][1] != "a,b \"q\"\nz" || recs[2][1] != "" || len(recs[0]) != 12 {
		t.Fatalf("TYPED.csv read back as %q, %v", recs, err)
	}
	errs, err := csv.NewReader(strings.NewReader(read("error_stream.csv"))).ReadAll()
	if err != nil || len(errs) != 1 {
		t.Fatalf("error_stream.csv read back as %q, %v", errs, err)
	}
	// ROWTIME, ERROR_TIME, ERROR_LEVEL, ERROR_NAME, MESSAGE, DATA_ROW(, …):
	// the record's commas and quotes survive in its field.
	e := errs[0]
	if e[0] != "2023-11-14 22:13:24.500" || e[1] != e[0] || e[3] != ErrorNameInput || !slices.Contains(e, csvTypesRecords[3]) {
		t.Fatalf("error_stream row %q", e)
	}
	if _, err := os.Stat(filepath.Join(dir, "TYPED.jsonl")); !os.IsNotExist(err) {
		t.Fatalf("TYPED.jsonl written too: %v", err)
	}
}

// TestLambdaWritesCSVToKinesis: an App run by the Lambda handler writes a
// CSV destination's rows as CSV records, one row each, to kinesis-local;
// the JSON destination next to it is unchanged.
func TestLambdaWritesCSVToKinesis(t *testing.T) {
	kc := awstest.Kinesis(t)
	ctx := context.Background()
	csvARN, jsonARN := newStream(t, kc, 1), newStream(t, kc, 1)
	app, err := ParseApplication([]byte(csvTypesApp))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := app.NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	sink := func(arn string) *KinesisSink {
		return must(NewKinesisSink(must(NewProducer(kc, arn, func(o *ProducerOptions) { o.PartitionKey = ConstantPartitionKey("k") }))))
	}
	a, err := NewApp(engine, "SOURCE_SQL_STREAM_001",
		Output{Stream: "TYPED", Sink: sink(csvARN), Format: app.OutputFormat("TYPED")},
		Output{Stream: "PLAIN", Sink: sink(jsonARN), Format: app.OutputFormat("PLAIN")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewApp(engine, "", Output{Stream: "TYPED", Sink: sink(csvARN), Format: "XML"}); err == nil {
		t.Fatal("Format XML accepted")
	}
	var ev events.KinesisEvent
	ev.Records = kinesisEvent("shardId-000000000000", []int{0, 1, 2}, func(i int) []byte { return []byte(csvTypesRecords[i]) })
	h := NewLambdaHandler(a.HandleRecord, func(o *LambdaOptions) { o.AfterBatch = a.Flush })
	resp, err := h(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp %+v, err %v", resp, err)
	}
	wantCSV := []string{
		"plain text,7,9000000000,0.1,2.0,12.5,true,2023-11-14 22:13:20.987,2023-11-14,01:02:03.004,AP8s\n",
		"\"a,b \"\"q\"\"\nz\",-1,,,,,false,,,,\n",
		"\"\",3,,-2.5e-07,,,,,,,\n",
	}
	if got := streamData(t, kc, csvARN); !slices.Equal(got, wantCSV) {
		t.Fatalf("CSV stream holds %q, want %q", got, wantCSV)
	}
	if got, want := streamData(t, kc, jsonARN), []string{`{"S":"plain text","I":7}`, `{"S":"","I":3}`}; !slices.Equal(got, want) {
		t.Fatalf("JSON stream holds %q, want %q", got, want)
	}
}

// streamData returns the data of every record of a stream, shard by
// shard, each shard's in order.
func streamData(t *testing.T, kc *kinesis.Client, arn string) []string {
	t.Helper()
	ctx := context.Background()
	shards, err := kc.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: &arn})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sh := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: &arn, ShardId: sh.ShardId, ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for range 20 {
			page, err := kc.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: &arn, ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Records {
				out = append(out, string(r.Data))
			}
			if len(page.Records) == 0 {
				break
			}
			iter = page.NextShardIterator
		}
	}
	return out
}
