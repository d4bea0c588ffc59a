package deploycheck

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
)

// TestSystem8Chain runs seed system 8 through its three emulated Lambdas,
// each with the environment examples/oms-copy/template.yaml gives it:
// the orchestrator is invoked with the template's documented input → its
// root shard on the fauxqs shard queue → the master, invoked with each
// message fauxqs returns as an SQS event (BatchSize 1, as the template's
// event source) until the shard queue is empty, splitting the tree two
// folder levels deep (ShardDepth's default) → task messages → the worker,
// invoked with up to 10 of them (the template's BatchSize) → the objects
// copied on the S3 server. One source object is deleted after the listing:
// its task message is a batch item failure until its third delivery
// (fanout's MaxReceives), where it is acknowledged and counted as failed.
// The job's status, read as `oms-copy -status` reads it, is then Done.
func TestSystem8Chain(t *testing.T) {
	ctx := context.Background()
	s3srv := awstest.S3Server(t)
	fq := awstest.Shared(t, awstest.Fauxqs)
	s3c, qc := s3srv.S3(), fq.SQS()
	src, dst, statusBucket := awstest.Name(t, "src"), awstest.Name(t, "dst"), awstest.Name(t, "status")
	for _, b := range []string{src, dst, statusBucket} {
		createBucket(t, s3c, b)
	}
	tree := []string{"raw/top.txt", "raw/2026/01/a.csv", "raw/2026/01/b c.csv", "raw/2026/02/c.csv", "raw/2025/12/d.csv"}
	for _, k := range tree {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &src, Key: aws.String(k), Body: strings.NewReader("body of " + k),
			Metadata: map[string]string{"origin": "oms"}}); err != nil {
			t.Fatal(err)
		}
	}
	shardURL, shardARN := queue(t, qc, "shards")
	taskURL, taskARN := queue(t, qc, "tasks")
	local := map[string]string{"ShardQueue": shardURL, "TaskQueue": taskURL, "StatusBucket": statusBucket, "SourceBucket": src, "DestinationBucket": dst}
	sdk := map[string]string{"AWS_ENDPOINT_URL_S3": s3srv.Endpoint, "AWS_ENDPOINT_URL_SQS": fq.Endpoint}
	env := func(id string) map[string]string {
		return withEnv(templateEnv(t, "examples/oms-copy/template.yaml", id, local), sdk)
	}
	orchestrator := startLambda(t, "oms-copy-orchestrator", env("OrchestratorFunction"))
	master := startLambda(t, "oms-copy-master", env("MasterFunction"))
	worker := startLambda(t, "oms-copy-worker", env("WorkerFunction"))

	job := map[string]string{"id": "job-1", "src": "s3://" + src + "/raw/", "dst": "s3://" + dst + "/processed/"}
	status, body := orchestrator.invoke(t, job)
	if status != 200 || string(body) != `{"job":"job-1"}` {
		t.Fatalf("orchestrator answered %d %s", status, body)
	}
	// The same job onto its own source: refused before anything is sent.
	status, body = orchestrator.invoke(t, map[string]string{"id": "job-2", "src": "s3://" + src + "/raw/", "dst": "s3://" + src + "/raw/copy/"})
	var lambdaErr struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(body, &lambdaErr); status != 200 || err != nil || lambdaErr.ErrorMessage != s3copy.ErrOverlap.Error() {
		t.Fatalf("an overlapping job answered %d %s, want the error %q", status, body, s3copy.ErrOverlap)
	}

	shards := 0
	for {
		ev := receiveEvent(t, qc, shardURL, shardARN, 1)
		if len(ev.Records) == 0 {
			break
		}
		status, body := master.invoke(t, ev)
		if failed := settle(t, qc, shardURL, ev, status, body); len(failed) > 0 {
			t.Fatalf("master failed shard %s: %s", ev.Records[0].Body, body)
		}
		shards++
	}
	// The root lists raw/, raw/2025/, raw/2026/ and the three months itself
	// (ShardDepth 3: the tree is shallower), so one shard message does it.
	if shards != 1 {
		t.Fatalf("master handled %d shard messages, want 1 (the root, expanding the years and months)", shards)
	}

	gone := "raw/2026/02/c.csv"
	if _, err := s3c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &src, Key: &gone}); err != nil {
		t.Fatal(err)
	}
	var failures [][]string
	for round := 0; ; round++ {
		ev := receiveEvent(t, qc, taskURL, taskARN, 10)
		if len(ev.Records) == 0 {
			break
		}
		if round > 5 {
			t.Fatal("the task queue does not drain")
		}
		status, body := worker.invoke(t, ev)
		failures = append(failures, settle(t, qc, taskURL, ev, status, body))
	}
	// Deliveries 1 and 2 of the message holding c.csv fail; the third is
	// acknowledged.
	if len(failures) != 3 || len(failures[0]) != 1 || !slices.Equal(failures[0], failures[1]) || len(failures[2]) != 0 {
		t.Fatalf("worker batch item failures per round %v, want one message twice, then none", failures)
	}
	want := []string{"processed/2025/12/d.csv", "processed/2026/01/a.csv", "processed/2026/01/b c.csv", "processed/top.txt"}
	if got := listKeys(t, s3c, dst); !slices.Equal(got, want) {
		t.Fatalf("destination holds %v, want %v", got, want)
	}
	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &dst, Key: aws.String("processed/2026/01/b c.csv")})
	if err != nil || head.Metadata["origin"] != "oms" {
		t.Fatalf("copied object's metadata %v (%v), want origin=oms carried", head.Metadata, err)
	}

	f, err := fanout.New(s3c, qc, nil, shardURL, taskURL, func(o *fanout.FanoutOptions) {
		o.StatusLocation = s3copy.Location{Bucket: statusBucket, Prefix: "jobs/"}
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.Status(ctx, "job-1")
	if err != nil {
		t.Fatal(err)
	}
	if !st.Done || st.ShardsDone != 1 || st.ObjectsListed != 5 || st.Copied != 4 || st.Failed != 1 {
		t.Fatalf("job status %+v, want Done with 1 shard, 5 listed, 4 copied, 1 failed", st)
	}

	recordEffect(t, "oms-copy-orchestrator", `the template's documented input {"id","src","dst"}`, `response {"job":"job-1"}; the root shard on the fauxqs shard queue`)
	recordEffect(t, "oms-copy-orchestrator", "a job whose destination is inside its source", "errorMessage "+s3copy.ErrOverlap.Error()+"; nothing sent")
	recordEffect(t, "oms-copy-master", "SQS event of 1 shard message (sqs-event.json shape, from fauxqs), until the queue is empty", "1 shard handled: the root lists years and months itself (ShardDepth 3, shallower tree), task messages sent, batchItemFailures = []")
	recordEffect(t, "oms-copy-worker", "SQS batches of ≤ 10 task messages (from fauxqs, ApproximateReceiveCount as fauxqs counts it), source object deleted after listing", "4 objects copied with metadata; the message with the deleted object is a batch item failure on deliveries 1 and 2, acknowledged on 3; fanout.Status Done: 1 shard, 5 listed, 4 copied, 1 failed")
}

// queue creates an SQS queue on fauxqs and returns its URL and ARN.
func queue(t *testing.T, c *sqs.Client, prefix string) (string, string) {
	t.Helper()
	ctx := context.Background()
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, prefix))})
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), a.Attributes[string(sqstypes.QueueAttributeNameQueueArn)]
}
