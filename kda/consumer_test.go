package kda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/lakekit/lakekit/internal/awstest"
)

func fastConsumer(cp Checkpointer) func(*ConsumerOptions) {
	return func(o *ConsumerOptions) {
		o.Checkpoints = cp
		o.StopAtEnd = true
		o.PollInterval, o.RetryDelay = 20*time.Millisecond, 20*time.Millisecond
	}
}

func putAll(t testing.TB, c *kinesis.Client, arn string, recs []Record) {
	t.Helper()
	p, err := NewProducer(c, arn)
	if err != nil {
		t.Fatal(err)
	}
	res, err := p.Put(context.Background(), recs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if r.Err != nil {
			t.Fatalf("record %d: %v", i, r.Err)
		}
	}
}

func TestConsumerCheckpointsAndResumes(t *testing.T) {
	ctx := context.Background()
	c := awstest.Kinesis(t)
	arn := newStream(t, c, 2)
	var recs []Record
	for i := range 300 {
		recs = append(recs, Record{Data: fmt.Appendf(nil, `{"i":%d}`, i)})
	}
	// One KPL aggregate of three user records.
	recs = append(recs, Record{Data: aggregate([]UserRecord{{PartitionKey: "a", Data: []byte(`{"i":300}`)}, {PartitionKey: "b", Data: []byte(`{"i":301}`)},
		{PartitionKey: "c", Data: []byte(`{"i":302}`)}}), PartitionKey: "a"})
	putAll(t, c, arn, recs)

	var mu sync.Mutex
	seen := map[string]int{}
	failOnce := true
	handler := func(_ context.Context, shard string, rs []KinesisRecord) error {
		mu.Lock()
		defer mu.Unlock()
		if failOnce {
			failOnce = false // the first batch fails once and must come again
			return errors.New("transient")
		}
		for _, r := range rs {
			seen[string(r.Data)]++
		}
		return nil
	}
	cp := &MemoryCheckpoints{}
	cons, err := NewConsumer(c, arn, handler, fastConsumer(cp), func(o *ConsumerOptions) { o.Limit = 50 })
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 303 {
		t.Fatalf("saw %d distinct records, want 303", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", k, n)
		}
	}
	if st := cons.Stats(); st.Records != 303 || st.Retries < 1 || st.Checkpoints < 7 {
		t.Fatalf("stats %+v", st)
	}
	// A new consumer with the same checkpoints sees only new records.
	putAll(t, c, arn, []Record{{Data: []byte(`{"i":"new"}`)}})
	var again []string
	cons2, _ := NewConsumer(c, arn, func(_ context.Context, _ string, rs []KinesisRecord) error {
		for _, r := range rs {
			again = append(again, string(r.Data))
		}
		return nil
	}, fastConsumer(cp))
	if err := cons2.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(again) != 1 || again[0] != `{"i":"new"}` {
		t.Fatalf("resumed consumer saw %v", again)
	}
}

// newCheckpointTable creates a checkpoint table on dynalite and waits for
// it.
func newCheckpointTable(t *testing.T, d *dynamodb.Client, prefix string) string {
	t.Helper()
	ctx := context.Background()
	table := awstest.Name(t, prefix)
	if _, err := d.CreateTable(ctx, CreateCheckpointTableInput(table)); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(d, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return table
}

func TestDynamoDBCheckpoints(t *testing.T) {
	ctx := context.Background()
	d := awstest.DynamoDB(t)
	table := newCheckpointTable(t, d, "ckpt")
	cp := must(NewDynamoDBCheckpoints(d, table, "app1"))
	other := must(NewDynamoDBCheckpoints(d, table, "app2"))
	if s, err := cp.Checkpoint(ctx, "shardId-000000000000"); err != nil || s != "" {
		t.Fatalf("empty: %q %v", s, err)
	}
	const s1, s2 = "49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692540925702759324208523137515618"
	if err := cp.SetCheckpoint(ctx, "shardId-000000000000", s1); err != nil {
		t.Fatal(err)
	}
	if err := cp.SetCheckpoint(ctx, "shardId-000000000000", s2); err != nil {
		t.Fatal(err)
	}
	if err := cp.SetCheckpoint(ctx, "shardId-000000000000", s1); !errors.Is(err, ErrCheckpointBehind) {
		t.Fatalf("moving back: %v", err)
	}
	if err := cp.SetCheckpoint(ctx, "shardId-000000000000", "9"); !errors.Is(err, ErrCheckpointBehind) {
		t.Fatalf("shorter number is smaller: %v", err)
	}
	if s, _ := cp.Checkpoint(ctx, "shardId-000000000000"); s != s2 {
		t.Fatalf("got %q", s)
	}
	if s, _ := other.Checkpoint(ctx, "shardId-000000000000"); s != "" {
		t.Fatalf("applications share checkpoints: %q", s)
	}
	if err := cp.SetCheckpoint(ctx, "shardId-000000000000", ShardEnd); err != nil {
		t.Fatal(err)
	}
}

// TestEndToEndKinesisLocalToS3 runs the seed's system on local servers:
// generator → producer → kinesis-local → consumer (DynamoDB checkpoints) →
// SQL engine → Firehose-style deliveries → local S3.
func TestEndToEndKinesisLocalToS3(t *testing.T) {
	ctx := context.Background()
	kc, s3c, ddb := awstest.Kinesis(t), awstest.S3(t), awstest.DynamoDB(t)
	arn := newStream(t, kc, 2)
	bucket := newBucket(t, s3c)
	table := newCheckpointTable(t, ddb, "ckpt")

	const n = 800
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 99; o.Count = n }))
	var recs []Record
	want := map[string]int{}
	if err := g.Run(ctx, func(b []byte) error {
		var r struct {
			T int `json:"current_temperature"`
		}
		_ = json.Unmarshal(b, &r)
		switch {
		case r.T > 100:
			want["anomaly"]++
		case r.T < 100:
			want["output"]++
		}
		recs = append(recs, Record{Data: append([]byte(nil), b...)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	putAll(t, kc, arn, recs)

	engine := newSeedEngine(t, nil)
	mk := func(name, prefix string) *Delivery {
		d, err := NewDelivery(s3c, bucket, name, func(o *DeliveryOptions) { o.Prefix = prefix; o.BufferSize, o.AllowSmallBuffers = 8<<10, true })
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	anomaly := mk("anomaly-delivery-stream", "data/anomaly/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/")
	output := mk("output-delivery-stream", "data/output/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/")
	app, err := NewApp(engine, "", Output{Stream: "anomaly_data_stream", Sink: anomaly}, Output{Stream: "output_data_stream", Sink: output})
	if err != nil {
		t.Fatal(err)
	}
	cons, err := NewConsumer(kc, arn, func(ctx context.Context, _ string, rs []KinesisRecord) error {
		for _, r := range rs {
			if err := app.HandleRecord(ctx, r); err != nil {
				return err
			}
		}
		return nil
	}, fastConsumer(must(NewDynamoDBCheckpoints(ddb, table, "seed-app"))))
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := app.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	objs := listObjects(t, s3c, bucket)
	got := map[string]int{}
	for _, k := range sortedKeys(objs) {
		kind := strings.Split(k, "/")[1]
		lines := strings.Split(strings.TrimSuffix(objs[k], "\n"), "\n")
		for _, l := range lines {
			var r struct {
				T *int `json:"current_temperature"`
			}
			if err := json.Unmarshal([]byte(l), &r); err != nil || r.T == nil || kind == "anomaly" && *r.T <= 100 || kind == "output" && *r.T >= 100 {
				t.Fatalf("%s: bad line %q", k, l)
			}
		}
		got[kind] += len(lines)
	}
	if got["anomaly"] != want["anomaly"] || got["output"] != want["output"] || len(objs) < 3 {
		keys := sortedKeys(objs)
		sort.Strings(keys)
		t.Fatalf("S3 holds %v in %d objects, want %v", got, len(objs), want)
	}
}

// TestConsumerFollowsReshard splits a stream on kinesis-local: the parent
// shard is read to its end before its children start.
func TestConsumerFollowsReshard(t *testing.T) {
	ctx := context.Background()
	c := awstest.Kinesis(t)
	arn := newStream(t, c, 1)
	var before, after []Record
	for i := range 40 {
		before = append(before, Record{Data: fmt.Appendf(nil, `{"phase":1,"i":%d}`, i)})
		after = append(after, Record{Data: fmt.Appendf(nil, `{"phase":2,"i":%d}`, i)})
	}
	putAll(t, c, arn, before)
	if _, err := c.UpdateShardCount(ctx, &kinesis.UpdateShardCountInput{StreamARN: &arn, TargetShardCount: aws.Int32(2), ScalingType: "UNIFORM_SCALING"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: &arn})
		if err == nil && sum.StreamDescriptionSummary.StreamStatus == "ACTIVE" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("stream did not return to ACTIVE")
		}
		time.Sleep(50 * time.Millisecond)
	}
	putAll(t, c, arn, after)
	var mu sync.Mutex
	var order []string
	shardsSeen := map[string]bool{}
	cp := &MemoryCheckpoints{}
	cons, err := NewConsumer(c, arn, func(_ context.Context, shard string, rs []KinesisRecord) error {
		mu.Lock()
		defer mu.Unlock()
		shardsSeen[shard] = true
		for _, r := range rs {
			order = append(order, string(r.Data))
		}
		return nil
	}, fastConsumer(cp))
	if err != nil {
		t.Fatal(err)
	}
	if err := cons.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(order) != 80 || len(shardsSeen) < 2 {
		t.Fatalf("saw %d records on %d shards", len(order), len(shardsSeen))
	}
	for i, o := range order {
		if (i < 40) != strings.Contains(o, `"phase":1`) {
			t.Fatalf("record %d %s out of order: a child shard was read before its parent ended", i, o)
		}
	}
	if s, _ := cp.Checkpoint(ctx, "shardId-000000000000"); s != ShardEnd {
		t.Fatalf("parent checkpoint %q, want %s", s, ShardEnd)
	}
}
