package fanout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
	"github.com/lakekit/lakekit/sqsbatch"
)

// brokenListingS3 is an S3 client on a gofakes3 server whose answers to
// ListObjectsV2 of bucket are one object and a truncated page with token
// ("" for none); it counts those answers.
func brokenListingS3(t *testing.T, bucket, token string, lists *atomic.Int64) *s3.Client {
	srv := awstest.S3Server(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/"+bucket || r.URL.Query().Get("list-type") != "2" {
			rp.ServeHTTP(w, r)
			return
		}
		n := lists.Add(1)
		next := ""
		if token != "" {
			next = "<NextContinuationToken>" + token + "</NextContinuationToken>"
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>%s<Contents><Key>raw/t/o%06d</Key><Size>1</Size><ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>`,
			bucket, r.URL.Query().Get("prefix"), next, n)
	}))
	t.Cleanup(hs.Close)
	return srv.S3(func(o *s3.Options) { o.BaseEndpoint = aws.String(hs.URL) })
}

// TestShardBrokenListingFails: a truncated listing page with no
// continuation token used to end the shard in silence (the objects after
// it were never sent as tasks, and the shard counted as done); the same
// token again made the master hand the "rest" of the shard on, message
// after message, for ever. Both now fail the shard message with
// s3copy.ErrListing, so SQS delivers it again and, in the end, to the
// dead-letter queue; no task and no status record is written for it.
func TestShardBrokenListingFails(t *testing.T) {
	sqsc := awstest.SQS(t)
	for _, token := range []string{"", "same-token"} {
		t.Run("token="+token, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // bounds the old endless loop
			defer cancel()
			var lists atomic.Int64
			s3c := brokenListingS3(t, "src", token, &lists)
			if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("status")}); err != nil {
				t.Fatal(err)
			}
			shardQ, taskQ := queue(t, sqsc, "shards"), queue(t, sqsc, "tasks")
			f, err := fanout.New(s3c, sqsc, nil, shardQ, taskQ, func(o *fanout.FanoutOptions) {
				o.PagesPerMessage, o.StatusLocation = 2, s3copy.Location{Bucket: "status", Prefix: "_jobs/"}
			})
			if err != nil {
				t.Fatal(err)
			}
			job := fanout.Job{ID: "j", Src: s3copy.Location{Bucket: "src", Prefix: "raw/"}, Dst: s3copy.Location{Bucket: "dst"}}
			// Depth 1 = ShardDepth: the shard is listed flat, in pages.
			body, _ := json.Marshal(fanout.ShardMessage{Job: job, Rel: "t/", Depth: 1})
			resp, err := f.HandleShards(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body)}}})
			if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m1" {
				t.Fatalf("HandleShards = %+v, %v after %d list requests; want m1 failed", resp, err, lists.Load())
			}
			if n := lists.Load(); n > 2 {
				t.Errorf("%d list requests", n)
			}
			for _, q := range []string{taskQ, shardQ} {
				out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &q, MaxNumberOfMessages: 10})
				if err != nil || len(out.Messages) != 0 {
					t.Errorf("queue %s holds %d messages (%v), want none", q, len(out.Messages), err)
				}
			}
			st, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("status")})
			if err != nil || len(st.Contents) != 0 {
				t.Errorf("%d status records (%v), want none", len(st.Contents), err)
			}
		})
	}
	// The check is s3copy's: the same error text as a failed tree copy.
	in := &s3.ListObjectsV2Input{Bucket: aws.String("src"), Prefix: aws.String("raw/t/")}
	_, err := s3copy.NextListPage(in, &s3.ListObjectsV2Output{IsTruncated: aws.Bool(true)})
	if !errors.Is(err, s3copy.ErrListing) {
		t.Fatalf("NextListPage = %v", err)
	}
	t.Logf("error: %v", err)
}

// TestStartMissingQueue: Start on a queue that does not exist fails with a
// *fanout.SendError naming the queue, which unwraps to sqsbatch's
// *SendError and the SDK's *QueueDoesNotExist.
func TestStartMissingQueue(t *testing.T) {
	sqsc := awstest.SQS(t)
	missing := queue(t, sqsc, "shards") + "-typo"
	f, err := fanout.New(nil, sqsc, nil, missing, missing)
	if err != nil {
		t.Fatal(err)
	}
	err = f.Start(context.Background(), fanout.Job{ID: "j", Src: s3copy.Location{Bucket: "a"}, Dst: s3copy.Location{Bucket: "b"}})
	var se *fanout.SendError
	var sbe *sqsbatch.SendError
	var qdne *sqstypes.QueueDoesNotExist
	if !errors.As(err, &se) || se.QueueURL != missing || se.Messages != 1 || se.Sent != 0 || !errors.As(err, &sbe) || !errors.As(err, &qdne) {
		t.Fatalf("Start = %v, want a *fanout.SendError for %s", err, missing)
	}
	t.Logf("Start: %v", err)
}

// TestShardMessagesUpTo1MiB: task messages are cut at half of SQS's 1 MiB
// message limit (the fan-out's own sender used to cut at half of 256 KiB
// and send at most 256 KiB per request): 1,000 objects with 900-byte keys
// in one task message is about 1 MB of tasks, sent in 2 task messages
// (the old limits made 8).
func TestShardMessagesUpTo1MiB(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	sqsc := awstest.SQS(t)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("src")}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	pad := strings.Repeat("k", 880)
	for i := range n {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String(fmt.Sprintf("raw/%s%05d", pad, i)), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	shardQ, taskQ := queue(t, sqsc, "shards"), queue(t, sqsc, "tasks")
	f, err := fanout.New(s3c, sqsc, nil, shardQ, taskQ, func(o *fanout.FanoutOptions) { o.TaskObjects = n })
	if err != nil {
		t.Fatal(err)
	}
	job := fanout.Job{ID: "j", Src: s3copy.Location{Bucket: "src", Prefix: "raw/"}, Dst: s3copy.Location{Bucket: "dst"}}
	body, _ := json.Marshal(fanout.ShardMessage{Job: job, Depth: 1})
	resp, err := f.HandleShards(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(body)}}})
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("HandleShards = %+v, %v", resp, err)
	}
	msgs, objects := 0, 0
	for {
		out, err := sqsc.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &taskQ, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			tm, err := fanout.DecodeTaskMessage(aws.ToString(m.Body))
			if err != nil {
				t.Fatal(err)
			}
			msgs++
			objects += len(tm.Objects)
			if _, err := sqsc.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &taskQ, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("%d objects in %d task messages", objects, msgs)
	if objects != n || msgs != 2 {
		t.Fatalf("%d objects in %d task messages, want %d in 2", objects, msgs, n)
	}
}
