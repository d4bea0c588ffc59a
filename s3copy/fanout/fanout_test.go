package fanout_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
	"github.com/lakekit/lakekit/sqsbatch"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func queue(t *testing.T, c *sqs.Client, name string) string {
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, name)),
		Attributes: map[string]string{"VisibilityTimeout": "5"}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func TestFanoutEndToEnd(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	sqsc := awstest.SQS(t)
	sb, db := awstest.Name(t, "src"), awstest.Name(t, "dst")
	for _, b := range []string{sb, db} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	const n = 700
	for i := range n {
		k := fmt.Sprintf("raw/table%d/dt=2024-01-%02d/part %04d+x.csv", i%6, i%5+1, i)
		if i%50 == 0 {
			k = fmt.Sprintf("raw/top-%d.csv", i)
		}
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sb), Key: aws.String(k), Body: bytes.NewReader([]byte(k))}); err != nil {
			t.Fatal(err)
		}
	}
	shardQ, taskQ := queue(t, sqsc, "shards"), queue(t, sqsc, "tasks")
	copier := must(s3copy.New(s3c, func(o *s3copy.CopierOptions) { o.Concurrency = 16 }))
	f, err := fanout.New(s3c, sqsc, copier, shardQ, taskQ, func(o *fanout.FanoutOptions) {
		o.ShardDepth, o.TaskObjects, o.PagesPerMessage, o.PageSize = 2, 25, 2, 10
		o.StatusLocation = s3copy.Location{Bucket: db, Prefix: "_jobs/"}
	})
	if err != nil {
		t.Fatal(err)
	}
	job := fanout.Job{ID: "job-1", Src: s3copy.Location{Bucket: sb, Prefix: "raw/"}, Dst: s3copy.Location{Bucket: db, Prefix: "processed/"}}
	if err := f.Start(ctx, job); err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	quick := func(o *sqsbatch.ConsumerOptions) { o.WaitTime, o.VisibilityTimeout = time.Second, 5*time.Second }
	shards, err := sqsbatch.NewEventSourceMapping(sqsc, shardQ, f.HandleShards, quick)
	if err != nil {
		t.Fatal(err)
	}
	tasks, err := sqsbatch.NewEventSourceMapping(sqsc, taskQ, f.HandleTasks, quick, func(o *sqsbatch.ConsumerOptions) { o.Pollers = 2 })
	if err != nil {
		t.Fatal(err)
	}
	wg.Go(func() { _ = shards.Run(pctx) })
	wg.Go(func() { _ = tasks.Run(pctx) })
	var st fanout.Status
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		st, err = f.Status(ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Done {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	wg.Wait()
	t.Logf("status %+v", st)
	if !st.Done || st.Copied != n || st.ObjectsListed != n || st.Failed != 0 {
		t.Fatalf("status %+v, want %d copied and done", st, n)
	}
	got := 0
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(db), Prefix: aws.String("processed/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			if !strings.HasPrefix(aws.ToString(o.Key), "processed/") {
				t.Errorf("stray key %q", aws.ToString(o.Key))
			}
			got++
		}
	}
	if got != n {
		t.Fatalf("destination holds %d objects, want %d", got, n)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, body := range []string{
		`not json`,
		`{"job":{"id":"","src":{"bucket":"a"},"dst":{"bucket":"b"}}}`,
		`{"job":{"id":"../x","src":{"bucket":"a"},"dst":{"bucket":"b"}}}`,
		`{"job":{"id":"j","src":{"bucket":"a","prefix":"raw/"},"dst":{"bucket":"b"}},"objects":[{"k":"other/x","s":1}]}`,
		`{"job":{"id":"j","src":{"bucket":"a","prefix":"raw/"},"dst":{"bucket":"b"}},"objects":[{"k":"raw/x","s":-1}]}`,
	} {
		if _, err := fanout.DecodeTaskMessage(body); err == nil {
			t.Errorf("accepted %s", body)
		}
	}
}

func FuzzDecodeTaskMessage(f *testing.F) {
	f.Add(`{"job":{"id":"j","src":{"bucket":"a","prefix":"raw/"},"dst":{"bucket":"b"}},"objects":[{"k":"raw/x","s":1}]}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, body string) {
		m, err := fanout.DecodeTaskMessage(body)
		if err != nil {
			return
		}
		for _, o := range m.Objects {
			if !strings.HasPrefix(o.Key, m.Job.Src.Prefix) || o.Size < 0 {
				t.Fatalf("accepted %+v", o)
			}
		}
	})
}

func FuzzDecodeShardMessage(f *testing.F) {
	f.Add(`{"job":{"id":"j","src":{"bucket":"a","prefix":"raw/"},"dst":{"bucket":"b"}},"rel":"t1/","depth":1}`)
	f.Fuzz(func(t *testing.T, body string) {
		m, err := fanout.DecodeShardMessage(body)
		if err != nil {
			return
		}
		if m.Depth < 0 || m.Job.ID == "" || strings.Contains(m.Job.ID, "/") {
			t.Fatalf("accepted %+v", m)
		}
	})
}

// failCopies fails CopyObject for good on one key.
type failCopies struct {
	s3copy.API
	key string
}

func (f failCopies) CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error) {
	if strings.HasSuffix(aws.ToString(in.Key), f.key) {
		return nil, &smithy.GenericAPIError{Code: "AccessDenied", Message: "injected"}
	}
	return f.API.CopyObject(ctx, in, optFns...)
}

func TestHandleTasksRetriesThenGivesUp(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	sb, db := awstest.Name(t, "src"), awstest.Name(t, "dst")
	for _, b := range []string{sb, db} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	var objs []fanout.TaskObject
	for _, k := range []string{"raw/a", "raw/b", "raw/denied", "raw/c"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(sb), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, fanout.TaskObject{Key: k, Size: int64(len(k))})
	}
	copier := must(s3copy.New(failCopies{API: s3c, key: "denied"}))
	f, err := fanout.New(s3c, nil, copier, "q1", "q2", func(o *fanout.FanoutOptions) {
		o.MaxReceives, o.StatusLocation = 3, s3copy.Location{Bucket: db, Prefix: "_jobs/"}
	})
	if err != nil {
		t.Fatal(err)
	}
	job := fanout.Job{ID: "j", Src: s3copy.Location{Bucket: sb, Prefix: "raw/"}, Dst: s3copy.Location{Bucket: db, Prefix: "out/"}}
	body, _ := json.Marshal(fanout.TaskMessage{Job: job, Objects: objs[:3]})
	body2, _ := json.Marshal(fanout.TaskMessage{Job: job, Objects: objs[3:]})
	ev := func(receives string) events.SQSEvent {
		return events.SQSEvent{Records: []events.SQSMessage{
			{MessageId: "m1", Body: string(body), Attributes: map[string]string{"ApproximateReceiveCount": receives}},
			{MessageId: "m2", Body: string(body2), Attributes: map[string]string{"ApproximateReceiveCount": receives}},
			{MessageId: "bad", Body: "{", Attributes: map[string]string{"ApproximateReceiveCount": "1"}},
			// A rejected job id must not record into job j's status.
			{MessageId: "forged", Body: `{"job":{"id":"j/t/forged"}}`, Attributes: map[string]string{"ApproximateReceiveCount": "1"}},
		}}
	}
	resp, err := f.HandleTasks(ctx, ev("1"))
	if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
		t.Fatalf("first delivery: %+v %v", resp, err)
	}
	resp, err = f.HandleTasks(ctx, ev("3"))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("last delivery: %+v %v", resp, err)
	}
	out, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(db), Prefix: aws.String("_jobs/j/t/")})
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, strings.TrimPrefix(aws.ToString(o.Key), "_jobs/j/t/"))
	}
	// m2 succeeded on its first delivery (and again on the second, same
	// message id); m1 is recorded once, with its failure, on the last.
	if err != nil || !slices.Equal(keys, []string{"m1/2-0-1-10", "m2/1-0-0-5"}) {
		t.Fatalf("status objects: %v %v", keys, err)
	}
}

// must returns v, panicking on err: the constructors' options in these
// tests are valid, so an error is a bug in the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
