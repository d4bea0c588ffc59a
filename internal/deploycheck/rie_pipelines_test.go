package deploycheck

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/examples/lake-etl/etl"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe/gluetest"
)

func createBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

func listKeys(t *testing.T, c *s3.Client, bucket string) []string {
	t.Helper()
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, *o.Key)
	}
	return keys
}

func countPrefix(keys []string, prefix string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// kinesisEvent is aws-lambda-go's Kinesis sample with its record's data
// replaced by each of data, sequence numbers kept in order.
func kinesisEvent(t *testing.T, data ...string) events.KinesisEvent {
	var ev events.KinesisEvent
	sample(t, "kinesis-event.json", &ev)
	shape := ev.Records[0]
	ev.Records = nil
	for i, d := range data {
		r := shape
		r.Kinesis.Data = []byte(d)
		r.Kinesis.SequenceNumber = "4959033157426071839311726738406347600" + string(rune('0'+i))
		r.EventID = "shardId-000000000000:" + r.Kinesis.SequenceNumber
		ev.Records = append(ev.Records, r)
	}
	return ev
}

// TestStreamingAnalyticsApp: the KDA app Lambda on a Kinesis batch
// (aws-lambda-go's sample, data replaced by KDG readings): > 100 lands under
// the corrected anomaly prefix, < 100 under output, a reading that is not
// JSON under errors/; then with the bucket gone the flush fails and the
// handler reports the shard's first record, so Lambda retries the batch.
func TestStreamingAnalyticsApp(t *testing.T) {
	srv := awstest.S3Server(t)
	c := srv.S3()
	bucket := awstest.Name(t, "data")
	createBucket(t, c, bucket)
	sdk := map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint}
	ev := kinesisEvent(t,
		`{"sensor_id": 7, "current_temperature": 120, "location": "UK"}`,
		`{"sensor_id": 8, "current_temperature": 50, "location": "AUS"}`,
		`not a reading`)

	app := startLambda(t, "streaming-analytics-app", withEnv(templateEnv(t, "examples/streaming-analytics/template.yaml", "AppFunction", map[string]string{"DataBucket": bucket}), sdk))
	status, body := app.invoke(t, ev)
	assertBatchItemFailures(t, status, body)
	keys := listKeys(t, c, bucket)
	if countPrefix(keys, "data/anomaly/year=2016/") != 1 || countPrefix(keys, "data/output/year=2016/") != 1 || countPrefix(keys, "errors/") != 1 {
		t.Fatalf("objects %v, want one under data/anomaly/year=2016/ (the sample's arrival time), data/output/year=2016/ and errors/", keys)
	}

	gone := startLambda(t, "streaming-analytics-app", withEnv(templateEnv(t, "examples/streaming-analytics/template.yaml", "AppFunction", map[string]string{"DataBucket": "no-such-bucket"}), sdk))
	status, body = gone.invoke(t, ev)
	assertBatchItemFailures(t, status, body, ev.Records[0].Kinesis.SequenceNumber)
	recordEffect(t, "streaming-analytics-app", "Kinesis batch (kinesis-event.json, 3 records: 120, 50, not JSON)", "1 object each under data/anomaly/year=2016/, data/output/year=2016/, errors/; batchItemFailures = []")
	recordEffect(t, "streaming-analytics-app", "same batch, BUCKET missing", "flush fails: batchItemFailures = [the shard's first sequence number]")
}

// TestSystem7Chain is seed system 7's chain, one Lambda long: a CSV put
// under raw/ → the S3 ObjectCreated notification (aws-lambda-go's sample,
// key form-encoded) → the ETL Lambda with the environment
// examples/lake-etl/template.yaml gives it → Parquet under the refined
// prefix's processing-date partition, the partition registered in the
// (wire-protocol) Glue catalog, the bad record quarantined. The same
// notification delivered again (S3 delivers at least once) rewrites the
// same objects: no second Parquet file, no second partition.
func TestSystem7Chain(t *testing.T) {
	srv := awstest.S3Server(t)
	c := srv.S3()
	bucket := awstest.Name(t, "lake")
	createBucket(t, c, bucket)
	cat := gluetest.New(t) // the wire-protocol Glue Data Catalog
	var csv strings.Builder
	if err := etl.GenerateRetail(&csv, 20, 1); err != nil {
		t.Fatal(err)
	}
	csv.WriteString("bad@example.com,Target,3,31/02/2020,S99999\n") // no 31 February
	key := "raw/retail_sales/retail sales 1.csv"
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(csv.String())}); err != nil {
		t.Fatal(err)
	}

	env := templateEnv(t, "examples/lake-etl/template.yaml", "EtlFunction", nil)
	fn := startLambda(t, "lake-etl-etl", withEnv(env, map[string]string{"AWS_ENDPOINT_URL_S3": srv.Endpoint, "AWS_ENDPOINT_URL_GLUE": cat.Endpoint}))
	var ev events.S3Event
	sample(t, "s3-event.json", &ev)
	ev.Records[0].S3.Bucket.Name = bucket
	ev.Records[0].S3.Object.Key = "raw/retail_sales/retail+sales+1.csv"
	status, body := fn.invoke(t, ev)
	if status != 200 || string(body) != "null" {
		t.Fatalf("etl answered %d %s", status, body)
	}
	keys := listKeys(t, c, bucket)
	if countPrefix(keys, "refined/retail_sales/year=") != 1 || countPrefix(keys, "quarantine/retail_sales/") != 1 {
		t.Fatalf("objects %v, want one Parquet file under refined/retail_sales/year=…/ and the bad record under quarantine/", keys)
	}
	table := env["GLUE_DATABASE"] + "." + env["GLUE_TABLE"]
	if _, ok := cat.Table(env["GLUE_DATABASE"], env["GLUE_TABLE"]); !ok {
		t.Fatalf("catalog: no table %s", table)
	}
	if parts := cat.Partitions(env["GLUE_DATABASE"], env["GLUE_TABLE"]); len(parts) != 1 {
		t.Fatalf("catalog: table %s has partitions %v, want one", table, parts)
	}
	status, body = fn.invoke(t, ev)
	if status != 200 || string(body) != "null" {
		t.Fatalf("etl answered the redelivery %d %s", status, body)
	}
	if again := listKeys(t, c, bucket); !slices.Equal(again, keys) || len(cat.Partitions(env["GLUE_DATABASE"], env["GLUE_TABLE"])) != 1 {
		t.Fatalf("after the redelivery: objects %v (before %v), partitions %v", again, keys, cat.Partitions(env["GLUE_DATABASE"], env["GLUE_TABLE"]))
	}
	recordEffect(t, "lake-etl-etl", "S3 ObjectCreated (s3-event.json, raw/ key with spaces, 21 rows, 1 impossible date)", "1 Parquet object under refined/retail_sales/year=…/month=…/day=…/, 1 quarantine CSV; table "+table+" created, 1 partition added")
	recordEffect(t, "lake-etl-etl", "the same notification again", "the same objects rewritten (keys derive from the raw key): still 1 Parquet object, 1 partition")
}
