package kinesistest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"
	fhtypes "github.com/aws/aws-sdk-go-v2/service/firehose/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/lakekit/lakekit/kda/kinesistest"
)

func TestNew(t *testing.T) {
	ctx := context.Background()
	srv := kinesistest.New(t)
	stream := srv.NewStream(t, 2)
	arn := kinesistest.StreamARN(stream)
	// Addressed by ARN, as Lambda event source mappings and the SDK's
	// newer callers do.
	if _, err := srv.Client.PutRecord(ctx, &kinesis.PutRecordInput{StreamARN: &arn, PartitionKey: aws.String("k"), Data: []byte("click")}); err != nil {
		t.Fatal(err)
	}
	shards, err := srv.Client.ListShards(ctx, &kinesis.ListShardsInput{StreamName: &stream})
	if err != nil || len(shards.Shards) != 2 {
		t.Fatalf("shards %+v, %v", shards, err)
	}
	var got []string
	for _, sh := range shards.Shards {
		it, err := srv.Client.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: &stream, ShardId: sh.ShardId, ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := srv.Client.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs.Records {
			got = append(got, string(r.Data))
		}
	}
	if len(got) != 1 || got[0] != "click" {
		t.Fatalf("records %q", got)
	}
}

func TestFirehose(t *testing.T) {
	ctx := context.Background()
	f := kinesistest.NewFirehose(t, "clicks")
	batch := func(n int) []fhtypes.Record {
		var rs []fhtypes.Record
		for i := range n {
			rs = append(rs, fhtypes.Record{Data: fmt.Appendf(nil, "r%d\n", i)})
		}
		return rs
	}
	f.FailNext(2)
	out, err := f.Client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("clicks"), Records: batch(5)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedPutCount) != 2 || aws.ToString(out.RequestResponses[0].ErrorCode) != "ServiceUnavailableException" ||
		out.RequestResponses[2].RecordId == nil {
		t.Fatalf("responses %+v", out)
	}
	if got := f.Records("clicks"); len(got) != 3 || string(got[0]) != "r2\n" {
		t.Fatalf("records %q", got)
	}
	if _, err := f.Client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &fhtypes.Record{Data: []byte("one")}}); err != nil {
		t.Fatal(err)
	}
	// Limits and names the service enforces.
	var inv *fhtypes.InvalidArgumentException
	if _, err := f.Client.PutRecordBatch(ctx, &firehose.PutRecordBatchInput{DeliveryStreamName: aws.String("clicks"), Records: batch(kinesistest.MaxBatchRecords + 1)}); !errors.As(err, &inv) {
		t.Fatalf("501 records: %v", err)
	}
	var nf *fhtypes.ResourceNotFoundException
	if _, err := f.Client.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("other"), Record: &fhtypes.Record{Data: []byte("x")}}); !errors.As(err, &nf) {
		t.Fatalf("unknown stream: %v", err)
	}
	if _, err := f.Client.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	var inUse *fhtypes.ResourceInUseException
	if _, err := f.Client.CreateDeliveryStream(ctx, &firehose.CreateDeliveryStreamInput{DeliveryStreamName: aws.String("other")}); !errors.As(err, &inUse) {
		t.Fatalf("second create: %v", err)
	}
	if _, err := f.Client.DeleteDeliveryStream(ctx, &firehose.DeleteDeliveryStreamInput{DeliveryStreamName: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	f.FailNext(1)
	var unavailable *fhtypes.ServiceUnavailableException
	c := firehose.NewFromConfig(f.Config, func(o *firehose.Options) { o.RetryMaxAttempts = 1 })
	if _, err := c.PutRecord(ctx, &firehose.PutRecordInput{DeliveryStreamName: aws.String("clicks"), Record: &fhtypes.Record{Data: []byte("x")}}); !errors.As(err, &unavailable) {
		t.Fatalf("refused PutRecord: %v", err)
	}
	if f.Calls("PutRecordBatch") != 2 || len(f.Records("clicks")) != 4 || !strings.HasPrefix(f.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("%d batches, %d records", f.Calls("PutRecordBatch"), len(f.Records("clicks")))
	}
}
