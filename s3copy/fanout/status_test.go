package fanout_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
)

// handleOne receives one message from queue, hands it to h as a
// one-record SQS event and deletes it.
func handleOne(t *testing.T, c *sqs.Client, queue string, h func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)) {
	t.Helper()
	ctx := context.Background()
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &queue, MaxNumberOfMessages: 1, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("%s: %d messages, want 1", queue, len(out.Messages))
	}
	m := out.Messages[0]
	resp, err := h(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body)}}})
	if err != nil || len(resp.BatchItemFailures) > 0 {
		t.Fatalf("handler: %v, %+v", err, resp)
	}
	if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
}

// finishDuringListing is an S3 client whose first listing of the status
// prefix runs finish after S3 answered and before Status sees the answer:
// the job's last shard and task complete while Status holds a listing
// taken before.
type finishDuringListing struct {
	*s3.Client
	prefix string
	finish func()
}

func (f *finishDuringListing) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	out, err := f.Client.ListObjectsV2(ctx, in, optFns...)
	if f.finish != nil && strings.HasPrefix(aws.ToString(in.Prefix), f.prefix) {
		finish := f.finish
		f.finish = nil
		finish()
	}
	return out, err
}

// TestStatusNotDoneEarly: Status listed the status records first and read
// the queue depths after; a shard that was still queued at the listing but
// finished (with its tasks) before the depths were read was in neither, and
// Status said Done with that shard's objects missing from the counts (the
// tour once reported "999/999 objects copied" of 1,000). The depths are now
// read first: queues seen empty mean every record is already written.
func TestStatusNotDoneEarly(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	sqsc := awstest.SQS(t)
	sb, db := awstest.Name(t, "src"), awstest.Name(t, "dst")
	for _, b := range []string{sb, db} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []string{"raw/top.csv", "raw/sub/a.csv"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sb), Key: aws.String(k), Body: bytes.NewReader([]byte(k))}); err != nil {
			t.Fatal(err)
		}
	}
	shardQ, taskQ := queue(t, sqsc, "shards"), queue(t, sqsc, "tasks")
	copier := must(s3copy.New(s3c))
	opts := func(o *fanout.FanoutOptions) {
		o.ShardDepth = 1
		o.StatusLocation = s3copy.Location{Bucket: db, Prefix: "_jobs/"}
	}
	f := must(fanout.New(s3c, sqsc, copier, shardQ, taskQ, opts))
	job := fanout.Job{ID: "job-1", Src: s3copy.Location{Bucket: sb, Prefix: "raw/"}, Dst: s3copy.Location{Bucket: db, Prefix: "processed/"}}
	if err := f.Start(ctx, job); err != nil {
		t.Fatal(err)
	}
	// The root shard: raw/top.csv as a task, raw/sub/ as a child shard.
	handleOne(t, sqsc, shardQ, f.HandleShards)
	handleOne(t, sqsc, taskQ, f.HandleTasks)

	racing := &finishDuringListing{Client: s3c, prefix: "_jobs/"}
	racing.finish = func() {
		handleOne(t, sqsc, shardQ, f.HandleShards) // raw/sub/
		handleOne(t, sqsc, taskQ, f.HandleTasks)   // raw/sub/a.csv
	}
	watcher := must(fanout.New(racing, sqsc, copier, shardQ, taskQ, opts))
	st, err := watcher.Status(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if racing.finish != nil {
		t.Fatal("Status did not list the status records")
	}
	if st.Done && st.ObjectsListed != 2 {
		t.Fatalf("Done with %d of 2 objects listed: %+v", st.ObjectsListed, st)
	}
	st, err = watcher.Status(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Done || st.ObjectsListed != 2 || st.Copied != 2 {
		t.Fatalf("after the job finished: %+v, want done with 2 listed and copied", st)
	}
}
