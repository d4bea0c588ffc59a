package kda

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/lakekit/lakekit/internal/awstest"
)

// TestApplicationNewAppDeliversEveryDestination: csvTypesApp's outputs,
// built from its description alone, go to a kinesis-local stream (TYPED,
// CSV), a Lambda destination function (PLAIN, JSON) behind Lambda's
// Invoke protocol and Firehose's wire protocol (error_stream, CSV: one
// line per row, no second newline), run by the Lambda handler.
func TestApplicationNewAppDeliversEveryDestination(t *testing.T) {
	ctx := context.Background()
	kc := awstest.Kinesis(t)
	streamARN := newStream(t, kc, 1)
	w := awstest.NewWireServer(t, "Firehose_20150804", "firehose")
	fh := &fakeFirehose{stream: "errors", seen: map[string]int{}}
	fh.install(w)
	ls, lc := newLambdaServer(t)
	st := &store{seen: map[string]int{}}
	fnARN := "arn:aws:lambda:us-east-1:123456789012:function:plain:live"
	ls.set(fnARN, st.handle)
	const appARN = "arn:aws:kinesisanalytics:us-east-1:123456789012:application/csv-types"
	desc := strings.NewReplacer(
		`"ApplicationName": "csv-types",`, `"ApplicationName": "csv-types", "ApplicationARN": "`+appARN+`",`,
		"arn:aws:kinesis:us-east-1:123456789012:stream/typed", streamARN,
		"arn:aws:lambda:us-east-1:123456789012:function:plain", fnARN,
	).Replace(csvTypesApp)
	app, err := ParseApplication([]byte(desc))
	if err != nil {
		t.Fatal(err)
	}
	engine, err := app.NewEngine()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.NewApp(engine, Destinations{Kinesis: kc, Firehose: firehose.NewFromConfig(w.Config), Lambda: lc,
		Producer:     func(o *ProducerOptions) { o.PartitionKey = ConstantPartitionKey("k") },
		FirehoseSink: func(o *FirehoseSinkOptions) { o.Sleep = noSleep },
		LambdaSink:   func(o *LambdaSinkOptions) { o.Sleep = noSleep },
	})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.KinesisEvent
	ev.Records = kinesisEvent("shardId-000000000000", []int{0, 1, 2, 3}, func(i int) []byte { return []byte(csvTypesRecords[i]) })
	resp, err := NewLambdaHandler(a.HandleRecord, func(o *LambdaOptions) { o.AfterBatch = a.Flush })(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("resp %+v, err %v", resp, err)
	}
	wantCSV := []string{
		"plain text,7,9000000000,0.1,2.0,12.5,true,2023-11-14 22:13:20.987,2023-11-14,01:02:03.004,AP8s\n",
		"\"a,b \"\"q\"\"\nz\",-1,,,,,false,,,,\n",
		"\"\",3,,-2.5e-07,,,,,,,\n",
	}
	if got := streamData(t, kc, streamARN); !slices.Equal(got, wantCSV) {
		t.Fatalf("Kinesis destination holds %q, want %q", got, wantCSV)
	}
	if want := []string{`{"S":"plain text","I":7}`, `{"S":"","I":3}`}; !slices.Equal(st.rows, want) {
		t.Fatalf("Lambda destination got %q, want %q", st.rows, want)
	}
	if !ls.appARNs[appARN] {
		t.Fatalf("applicationArn %v", ls.appARNs)
	}
	if len(fh.got) != 1 || strings.Count(fh.got[0], "\n") != 1 || !strings.HasSuffix(fh.got[0], "\n") || !strings.Contains(fh.got[0], ErrorNameInput) {
		t.Fatalf("Firehose destination got %q", fh.got)
	}
}

// TestApplicationOutputSinksErrors: a destination's malformed ARN, or a
// kind without a client, is an *ApplicationError at its JSON path.
func TestApplicationOutputSinksErrors(t *testing.T) {
	_, lc := newLambdaServer(t)
	all := Destinations{Kinesis: awstest.Kinesis(t), Firehose: firehose.NewFromConfig(awstest.NewWireServer(t, "Firehose_20150804", "firehose").Config), Lambda: lc}
	for _, tc := range []struct {
		old, new string
		d        Destinations
		path     string
	}{
		{"arn:aws:kinesis:us-east-1:123456789012:stream/typed", "typed", all, "ApplicationDetail.OutputDescriptions[0].KinesisStreamsOutputDescription.ResourceARN"},
		{"arn:aws:kinesis:us-east-1:123456789012:stream/typed", "arn:aws:firehose:us-east-1:123456789012:deliverystream/typed", all, "ApplicationDetail.OutputDescriptions[0].KinesisStreamsOutputDescription.ResourceARN"},
		{"arn:aws:lambda:us-east-1:123456789012:function:plain", "arn:aws:lambda:us-east-1:123456789012:layer:plain", all, "ApplicationDetail.OutputDescriptions[1].LambdaOutputDescription.ResourceARN"},
		{"deliverystream/errors", "deliverystream/a/b", all, "ApplicationDetail.OutputDescriptions[2].KinesisFirehoseOutputDescription.ResourceARN"},
		{"", "", Destinations{Kinesis: all.Kinesis, Lambda: lc}, "ApplicationDetail.OutputDescriptions[2].KinesisFirehoseOutputDescription"},
		{"", "", Destinations{Firehose: all.Firehose, Lambda: lc}, "ApplicationDetail.OutputDescriptions[0].KinesisStreamsOutputDescription"},
		{"", "", Destinations{Kinesis: all.Kinesis, Firehose: all.Firehose}, "ApplicationDetail.OutputDescriptions[1].LambdaOutputDescription"},
		{`"InputParallelism": {"Count": 1}`, `"InputParallelism": {"Count": 2}`, all, "ApplicationDetail.InputDescriptions"},
	} {
		desc := csvTypesApp
		if tc.old != "" {
			desc = strings.Replace(desc, tc.old, tc.new, 1)
		}
		desc = strings.Replace(desc, `"InAppStreamNames": ["SOURCE_SQL_STREAM_001"],`, "", 1)
		app, err := ParseApplication([]byte(desc))
		if err != nil {
			t.Fatal(err)
		}
		engine, err := app.NewEngine()
		if err != nil {
			t.Fatal(err)
		}
		_, err = app.NewApp(engine, tc.d)
		var ae *ApplicationError
		if !errors.As(err, &ae) || ae.Path != tc.path {
			t.Fatalf("%s → %s: %v, want an *ApplicationError at %s", tc.old, tc.new, err, tc.path)
		}
	}
}
