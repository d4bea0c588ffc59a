package seed

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kda"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func bucket(t *testing.T, c *s3.Client) string {
	t.Helper()
	b := awstest.Name(t, "seed")
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRunLocal(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	b := bucket(t, s3c)
	rep, err := RunLocal(ctx, LocalClients{Kinesis: awstest.Kinesis(t), S3: s3c, Bucket: b}, awstest.Name(t, "sensors"), 600, 7)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Generated != 601 || rep.Anomaly+rep.Output+rep.Exactly100 != 600 || rep.Errors != 1 || rep.Anomaly == 0 || rep.Output == 0 {
		t.Fatalf("report %+v", rep)
	}
	var anomalyKeys, errorKeys int
	for _, k := range rep.Keys {
		switch {
		case strings.HasPrefix(k, "data/anomaly/year="):
			anomalyKeys++
		case strings.HasPrefix(k, "errors/processing-failed/"):
			errorKeys++
		}
	}
	if anomalyKeys == 0 || errorKeys != 1 {
		t.Fatalf("keys %v", rep.Keys)
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), fmt.Sprintf("anomaly_data_stream %d", rep.Anomaly)) {
		t.Fatalf("print: %s", out.String())
	}
}

// TestLambdaPath drives the Lambda main's wiring with a Kinesis event: the
// rows reach S3 before the handler returns, under the corrected prefixes.
func TestLambdaPath(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	b := bucket(t, s3c)
	at := time.Date(2019, 12, 30, 23, 15, 0, 0, time.UTC)
	pl, err := NewPipeline(s3c, b, func() time.Time { return at })
	if err != nil {
		t.Fatal(err)
	}
	h := kda.NewLambdaHandler(pl.App.HandleRecord, func(o *kda.LambdaOptions) { o.AfterBatch = pl.App.Flush })
	var ev events.KinesisEvent
	for i, temp := range []int{120, 40, 100, 101} {
		seq := fmt.Sprintf("4959%04d", i)
		ev.Records = append(ev.Records, events.KinesisEventRecord{EventID: "shardId-000000000000:" + seq, Kinesis: events.KinesisRecord{
			SequenceNumber: seq, PartitionKey: "p", ApproximateArrivalTimestamp: events.SecondsEpochTime{Time: at},
			Data: fmt.Appendf(nil, `{"sensor_id": %d, "current_temperature": %d, "location": "UK"}`, i, temp)}})
	}
	resp, err := h(ctx, ev)
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("%v %+v", err, resp)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &b})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range list.Contents {
		g, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b, Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(g.Body)
		g.Body.Close()
		got[strings.Join(strings.Split(*o.Key, "/")[:6], "/")] = string(body)
	}
	want := map[string]string{
		"data/anomaly/year=2019/month=12/day=30/hour=23": "{\"sensor_id\":0,\"current_temperature\":120,\"location\":\"UK\"}\n{\"sensor_id\":3,\"current_temperature\":101,\"location\":\"UK\"}\n",
		"data/output/year=2019/month=12/day=30/hour=23":  "{\"sensor_id\":1,\"current_temperature\":40,\"location\":\"UK\"}\n",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("S3:\n%v\nwant\n%v", got, want)
	}
}

func TestPrefixDemo(t *testing.T) {
	var out bytes.Buffer
	if err := PrefixDemo(&out); err != nil {
		t.Fatal(err)
	}
	if s := out.String(); !strings.Contains(s, "year=2020/") || !strings.Contains(s, "year=2019/") || !strings.Contains(s, "warning") {
		t.Fatal(s)
	}
}
