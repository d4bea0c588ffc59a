package deploycheck

import (
	"context"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
)

// kinesisStream creates a one-shard stream on kinesis-local, waits for it
// to be ACTIVE, and returns its name and ARN.
func kinesisStream(t *testing.T, c *kinesis.Client, prefix string) (string, string) {
	t.Helper()
	ctx := context.Background()
	name := strings.ReplaceAll(prefix, "/", "-")
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	w := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	return name, aws.ToString(d.StreamDescriptionSummary.StreamARN)
}

// putAndRead puts data on the stream (in order, one partition key) and
// returns the records as Lambda's Kinesis poller would hand them over:
// aws-lambda-go's kinesis-event.json shape, filled from what GetRecords
// returns (data, sequence numbers, arrival times).
func putAndRead(t *testing.T, c *kinesis.Client, stream, arn string, data ...[]byte) events.KinesisEvent {
	t.Helper()
	ctx := context.Background()
	var entries []kintypes.PutRecordsRequestEntry
	for _, d := range data {
		entries = append(entries, kintypes.PutRecordsRequestEntry{Data: d, PartitionKey: aws.String("camera-1")})
	}
	out, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: &stream, Records: entries})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %v (%d failed)", err, aws.ToInt32(out.FailedRecordCount))
	}
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamName: &stream})
	if err != nil {
		t.Fatal(err)
	}
	shard := aws.ToString(shards.Shards[0].ShardId)
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: &stream, ShardId: &shard, ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	var sample events.KinesisEvent
	kinesisSample(t, &sample)
	shape := sample.Records[0]
	var ev events.KinesisEvent
	iter := it.ShardIterator
	for deadline := time.Now().Add(20 * time.Second); len(ev.Records) < len(data); {
		recs, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			e := shape
			e.Kinesis.Data, e.Kinesis.PartitionKey, e.Kinesis.SequenceNumber = r.Data, aws.ToString(r.PartitionKey), aws.ToString(r.SequenceNumber)
			e.Kinesis.ApproximateArrivalTimestamp = events.SecondsEpochTime{Time: aws.ToTime(r.ApproximateArrivalTimestamp)}
			e.EventID = shard + ":" + e.Kinesis.SequenceNumber
			e.EventSourceArn, e.AwsRegion = arn, "us-east-1"
			ev.Records = append(ev.Records, e)
		}
		iter = recs.NextShardIterator
		if len(recs.Records) == 0 {
			time.Sleep(200 * time.Millisecond) // GetRecords allows 5 calls a second per shard
		}
		if time.Now().After(deadline) {
			t.Fatalf("kinesis-local returned %d of %d records", len(ev.Records), len(data))
		}
	}
	return ev
}

func kinesisSample(t *testing.T, into *events.KinesisEvent) { sample(t, "kinesis-event.json", into) }

// TestSystem3Chain runs seed system 3 from its input stream on: KDG
// readings (the post's template: sensor_id, current_temperature, location)
// are put on a kinesis-local stream → read back as Lambda's poller hands
// them over → the app Lambda with the environment
// examples/streaming-analytics/template.yaml gives it → the rows in S3,
// partitioned by the records' Kinesis arrival time (the hour the stream
// received them, whatever time the batch is processed or retried), each
// object under a prefix the template's AppRole lets the function write.
func TestSystem3Chain(t *testing.T) {
	kin := awstest.Shared(t, awstest.KinesisLocal)
	kc := kin.Kinesis()
	stream, arn := kinesisStream(t, kc, awstest.Name(t, "readings"))
	s3srv := awstest.S3Server(t)
	c := s3srv.S3()
	bucket := awstest.Name(t, "data")
	createBucket(t, c, bucket)

	ev := putAndRead(t, kc, stream, arn,
		[]byte(`{"sensor_id": 1, "current_temperature": 130, "location": "UK"}`),
		[]byte(`{"sensor_id": 2, "current_temperature": 20, "location": "AUS"}`),
		[]byte(`{"sensor_id": 3, "current_temperature": 100, "location": "US"}`), // neither pump: > 100 and < 100
		[]byte(`{"sensor_id": 4, "current_temperature": 101, "location": "IN"}`))
	app := startLambda(t, "streaming-analytics-app", withEnv(templateEnv(t, "examples/streaming-analytics/template.yaml", "AppFunction",
		map[string]string{"DataBucket": bucket}), map[string]string{"AWS_ENDPOINT_URL_S3": s3srv.Endpoint}))
	status, body := app.invoke(t, ev)
	assertBatchItemFailures(t, status, body)

	at := ev.Records[0].Kinesis.ApproximateArrivalTimestamp.UTC()
	hour := at.Format("year=2006/month=01/day=02/hour=15/")
	keys := listKeys(t, c, bucket)
	if len(keys) != 2 || countPrefix(keys, "data/anomaly/"+hour) != 1 || countPrefix(keys, "data/output/"+hour) != 1 {
		t.Fatalf("objects %v, want one under data/anomaly/%s and one under data/output/%s", keys, hour, hour)
	}
	anomaly := readObject(t, c, bucket, keys[0])
	if strings.Count(anomaly, "\n") != 2 || !strings.Contains(anomaly, `"sensor_id":1`) || !strings.Contains(anomaly, `"sensor_id":4`) {
		t.Fatalf("anomaly object %q, want sensors 1 and 4, one JSON line each", anomaly)
	}
	allowed := putObjectPrefixes(t, "examples/streaming-analytics/template.yaml", "AppRole", "DataBucket")
	for _, k := range keys {
		if !slices.ContainsFunc(allowed, func(p string) bool { return strings.HasPrefix(k, p) }) {
			t.Errorf("the function wrote %s, outside what AppRole allows (%v)", k, allowed)
		}
	}
	recordEffect(t, "streaming-analytics-app", "Kinesis batch read back from kinesis-local: readings 130, 20, 100, 101",
		"data/anomaly/"+"<arrival hour>/ holds 130 and 101 as JSON lines, data/output/<arrival hour>/ holds 20, 100 reaches neither; every key inside AppRole's s3:PutObject resources; batchItemFailures = []")
}

// putObjectPrefixes returns the key prefixes of bucket that role's
// policies allow s3:PutObject on ("${Bucket.Arn}/data/*" gives "data/").
func putObjectPrefixes(t *testing.T, template, role, bucket string) []string {
	t.Helper()
	var tmpl struct {
		Resources map[string]struct {
			Properties struct {
				Policies []struct {
					PolicyDocument struct {
						Statement []struct {
							Action, Resource any
						}
					}
				}
			}
		}
	}
	readTemplate(t, template, &tmpl)
	list := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		return []any{v}
	}
	var out []string
	for _, p := range tmpl.Resources[role].Properties.Policies {
		for _, st := range p.PolicyDocument.Statement {
			if !slices.Contains(list(st.Action), any("s3:PutObject")) {
				continue
			}
			for _, r := range list(st.Resource) {
				sub, _ := asMap(r)["Fn::Sub"].(string)
				if rest, ok := strings.CutPrefix(sub, "${"+bucket+".Arn}/"); ok {
					out = append(out, strings.TrimSuffix(rest, "*"))
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: %s allows no s3:PutObject on %s", template, role, bucket)
	}
	return out
}

func readObject(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
