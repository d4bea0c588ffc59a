package awstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestS3MultipartCopySmoke proves UploadPartCopy with CopySourceRange works
// on s3rver: a 12 MiB object is copied in three ranged parts.
func TestS3MultipartCopySmoke(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3Multipart(t)
	bucket := awstest.Name(t, "mp")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	const size = 12 << 20
	src := make([]byte, size)
	for i := range src {
		src[i] = byte(i*7 + i>>13)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("big.bin"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("copy.bin")})
	if err != nil {
		t.Fatal(err)
	}
	const part = 5 << 20
	var parts []s3types.CompletedPart
	for i, off := int32(1), int64(0); off < size; i, off = i+1, off+part {
		end := min(off+part, size) - 1
		out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{
			Bucket: &bucket, Key: aws.String("copy.bin"), UploadId: up.UploadId, PartNumber: aws.Int32(i),
			CopySource: aws.String(bucket + "/big.bin"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", off, end)),
		})
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(i), ETag: out.CopyPartResult.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &bucket, Key: aws.String("copy.bin"), UploadId: up.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts},
	}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("copy.bin")})
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 3 || !bytes.Equal(data, src) {
		t.Fatalf("%d parts; copy of %d bytes equals source: %v", len(parts), len(data), bytes.Equal(data, src))
	}
}

// TestSQSSmoke proves batch send and receive, visibility expiry and a
// RedrivePolicy moving a message to its DLQ on fauxqs.
func TestSQSSmoke(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "dlq"))})
	if err != nil {
		t.Fatal(err)
	}
	dlqAttrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqAttrs.Attributes["QueueArn"], "maxReceiveCount": "2"})
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String(awstest.Name(t, "main")),
		Attributes: map[string]string{"VisibilityTimeout": "1", "RedrivePolicy": string(redrive)},
	})
	if err != nil {
		t.Fatal(err)
	}

	var entries []sqstypes.SendMessageBatchRequestEntry
	for i := range 10 {
		entries = append(entries, sqstypes.SendMessageBatchRequestEntry{
			Id: aws.String(fmt.Sprintf("e%d", i)), MessageBody: aws.String(fmt.Sprintf(`{"n":%d}`, i)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("smoke")}},
		})
	}
	sent, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries})
	if err != nil {
		t.Fatal(err)
	}
	if len(sent.Successful) != 10 || len(sent.Failed) != 0 {
		t.Fatalf("batch: %d ok, %d failed", len(sent.Successful), len(sent.Failed))
	}

	received := map[string]bool{}
	var keep sqstypes.Message
	for len(received) < 10 {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			t.Fatalf("received %d of 10 before the queue looked empty", len(received))
		}
		for _, m := range out.Messages {
			if aws.ToString(m.MessageAttributes["kind"].StringValue) != "smoke" {
				t.Fatalf("message attributes lost: %v", m.MessageAttributes)
			}
			received[aws.ToString(m.Body)] = true
			if aws.ToString(m.Body) == `{"n":3}` {
				keep = m
				continue
			}
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if keep.Body == nil {
		t.Fatal(`never received {"n":3}`)
	}
	// Not deleted: after the 1 s visibility timeout it comes back, with a
	// higher receive count; after its second receive it goes to the DLQ.
	again := receiveOne(t, c, q.QueueUrl, 5*time.Second)
	if aws.ToString(again.Body) != `{"n":3}` || again.Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after visibility expiry got %q, receive count %s", aws.ToString(again.Body), again.Attributes["ApproximateReceiveCount"])
	}
	// The third receive attempt finds the count above maxReceiveCount: the
	// message goes to the DLQ instead of being delivered again.
	var dead sqstypes.Message
	deadline := time.Now().Add(5 * time.Second)
	for dead.Body == nil && time.Now().Before(deadline) {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) != 0 {
			t.Fatalf("delivered a third time: %q", aws.ToString(out.Messages[0].Body))
		}
		d, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: dlq.QueueUrl, MaxNumberOfMessages: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Messages) > 0 {
			dead = d.Messages[0]
		}
	}
	if aws.ToString(dead.Body) != `{"n":3}` {
		t.Fatalf("DLQ got %q", aws.ToString(dead.Body))
	}
}

func receiveOne(t *testing.T, c *sqs.Client, queueURL *string, within time.Duration) sqstypes.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: queueURL, MaxNumberOfMessages: 1, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameApproximateReceiveCount},
		})
		if err != nil {
			t.Fatalf("receive from %s: %v", aws.ToString(queueURL), err)
		}
		if len(out.Messages) > 0 {
			return out.Messages[0]
		}
	}
}

// TestSNSSmoke proves an SNS publish is delivered to a subscribed SQS queue.
func TestSNSSmoke(t *testing.T) {
	ctx := context.Background()
	q, n := awstest.SQS(t), awstest.SNS(t)
	topic, err := n.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(awstest.Name(t, "alerts"))})
	if err != nil {
		t.Fatal(err)
	}
	queue, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "inbox"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: queue.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(attrs.Attributes["QueueArn"])}); err != nil {
		t.Fatal(err)
	}
	pub, err := n.Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Subject: aws.String("face"), Message: aws.String("unknown face at the door")})
	if err != nil {
		t.Fatal(err)
	}
	m := receiveOne(t, q, queue.QueueUrl, 5*time.Second)
	var envelope struct{ Type, MessageId, TopicArn, Message string }
	if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &envelope); err != nil {
		t.Fatalf("SNS envelope: %v in %q", err, aws.ToString(m.Body))
	}
	if envelope.Type != "Notification" || envelope.Message != "unknown face at the door" ||
		envelope.TopicArn != aws.ToString(topic.TopicArn) || envelope.MessageId != aws.ToString(pub.MessageId) {
		t.Fatalf("delivered %+v", envelope)
	}
}

// TestKinesisSmoke proves PutRecords and GetRecords on kinesis-local,
// addressing the stream by ARN as the SDK prefers.
func TestKinesisSmoke(t *testing.T) {
	ctx := context.Background()
	c := awstest.Kinesis(t)
	name := awstest.Name(t, "sensors")
	if _, err := c.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	waiter := kinesis.NewStreamExistsWaiter(c, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := waiter.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	sum, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: &name})
	if err != nil {
		t.Fatal(err)
	}
	arn := sum.StreamDescriptionSummary.StreamARN

	var recs []kintypes.PutRecordsRequestEntry
	for i := range 500 {
		recs = append(recs, kintypes.PutRecordsRequestEntry{
			Data: fmt.Appendf(nil, `{"sensor_id":%d,"current_temperature":%d}`, i%50, i%150), PartitionKey: aws.String(fmt.Sprint(i % 50)),
		})
	}
	put, err := c.PutRecords(ctx, &kinesis.PutRecordsInput{StreamARN: arn, Records: recs})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(put.FailedRecordCount) != 0 || len(put.Records) != 500 {
		t.Fatalf("PutRecords: %d failed of %d", aws.ToInt32(put.FailedRecordCount), len(put.Records))
	}
	shards, err := c.ListShards(ctx, &kinesis.ListShardsInput{StreamARN: arn})
	if err != nil {
		t.Fatal(err)
	}
	it, err := c.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamARN: arn, ShardId: shards.Shards[0].ShardId, ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	iter := it.ShardIterator
	for range 10 {
		out, err := c.GetRecords(ctx, &kinesis.GetRecordsInput{StreamARN: arn, ShardIterator: iter, Limit: aws.Int32(200)})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			if !bytes.Equal(r.Data, recs[got].Data) {
				t.Fatalf("record %d: %q, want %q", got, r.Data, recs[got].Data)
			}
			got++
		}
		if got == 500 {
			break
		}
		iter = out.NextShardIterator
	}
	if got != 500 {
		t.Fatalf("GetRecords returned %d of 500", got)
	}
}

// TestDynamoDBSmoke proves a conditional put fails on the second write of
// the same key on dynalite, with the typed exception.
func TestDynamoDBSmoke(t *testing.T) {
	ctx := context.Background()
	c := awstest.DynamoDB(t)
	table := awstest.Name(t, "idem")
	if _, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &table,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: ddbtypes.KeyTypeHash}},
		BillingMode:          ddbtypes.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = 200 * time.Millisecond
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	put := func() error {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:           &table,
			Item:                map[string]ddbtypes.AttributeValue{"pk": &ddbtypes.AttributeValueMemberS{Value: "msg-1"}},
			ConditionExpression: aws.String("attribute_not_exists(pk)"),
		})
		return err
	}
	if err := put(); err != nil {
		t.Fatalf("first put: %v", err)
	}
	var ccf *ddbtypes.ConditionalCheckFailedException
	if err := put(); !errors.As(err, &ccf) {
		t.Fatalf("second put: %v, want ConditionalCheckFailedException", err)
	}
}

// TestStartStopsByPID proves a started server listens on loopback only and
// is gone once closed.
func TestStartStopsByPID(t *testing.T) {
	srv, err := awstest.Start(context.Background(), awstest.Dynalite)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(srv.Endpoint)
	if !strings.HasPrefix(u.Host, "127.0.0.1:") {
		t.Fatalf("endpoint %s is not on 127.0.0.1", srv.Endpoint)
	}
	if _, err := srv.DynamoDB().ListTables(context.Background(), &dynamodb.ListTablesInput{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		conn.Close()
		t.Fatalf("%s still accepts connections after Close", u.Host)
	}
}

// TestMissingPackagesNameTheFix proves a missing npm install fails with the
// command that fixes it.
func TestMissingPackagesNameTheFix(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("LAKEKIT_NODE_DIR", empty)
	_, err := awstest.Start(context.Background(), awstest.Fauxqs)
	var missing *awstest.MissingError
	if !errors.As(err, &missing) {
		t.Fatalf("got %v, want *MissingError", err)
	}
	if !strings.HasSuffix(missing.Fix, "/cmd/lakekit@latest local install --dir "+empty) || !strings.Contains(err.Error(), missing.Fix) {
		t.Fatalf("fix %q, error %q", missing.Fix, err)
	}
	_ = os.Remove(empty)
}

// TestStepFunctionsSmoke proves stepfunctions-local accepts a definition and
// runs a Pass → Choice → Succeed execution.
func TestStepFunctionsSmoke(t *testing.T) {
	ctx := context.Background()
	c := awstest.StepFunctions(t)
	def := `{"StartAt":"Tag","States":{
		"Tag":{"Type":"Pass","Result":"2019","ResultPath":"$.year","Next":"Check"},
		"Check":{"Type":"Choice","Choices":[{"Variable":"$.year","StringEquals":"2019","Next":"Done"}],"Default":"Bad"},
		"Bad":{"Type":"Fail","Error":"WrongYear"},
		"Done":{"Type":"Succeed"}}}`
	sm, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(awstest.Name(t, "sm")), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::" + awstest.AccountID + ":role/sfn"),
	})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"day":"21"}`)})
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		d, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"day":"21","year":"2019"}` {
				t.Fatalf("execution %s, output %s", d.Status, aws.ToString(d.Output))
			}
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
		Name: aws.String(awstest.Name(t, "bad")), Definition: aws.String(`{"StartAt":"Nowhere","States":{}}`),
		RoleArn: aws.String("arn:aws:iam::" + awstest.AccountID + ":role/sfn"),
	}); err == nil {
		t.Fatal("an invalid definition was accepted")
	}
}

// TestDynaliteSurvivesAbortedRequest: a client that closes its connection
// in the middle of a request body (a canceled context does) made dynalite 4
// rethrow the request's "aborted" error and exit, failing every later test
// of the binary with "connection refused". serve.mjs keeps it serving.
func TestDynaliteSurvivesAbortedRequest(t *testing.T) {
	srv, err := awstest.Start(context.Background(), awstest.Dynalite)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	u, _ := url.Parse(srv.Endpoint)
	for range 3 {
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		// Half of a 100-byte body, then the connection closes.
		fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: 100\r\n\r\n{\"Limit\":", u.Host)
		time.Sleep(50 * time.Millisecond) // let the server start reading the body
		conn.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := srv.DynamoDB().ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Fatalf("after three aborted requests: %v", err)
	}
}
