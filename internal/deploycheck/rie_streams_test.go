package deploycheck

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
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
		if time.Now().After(deadline) {
			t.Fatalf("kinesis-local returned %d of %d records", len(ev.Records), len(data))
		}
	}
	return ev
}

func kinesisSample(t *testing.T, into *events.KinesisEvent) { sample(t, "kinesis-event.json", into) }
