package deploycheck

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// TestSystem1Chain runs seed system 1 through emulated Lambdas: a CSV lands
// in S3 → the writer Lambda (S3 notification, aws-lambda-go's sample
// adapted) → fauxqs → the processor Lambda, invoked with the messages
// fauxqs returns as an SQS event (the sample's shape) plus a poisoned one →
// DynamoDB idempotency keys. The environments come from
// examples/sqs-dedup/template.yaml.
func TestSystem1Chain(t *testing.T) {
	ctx := context.Background()
	s3srv := awstest.S3Server(t)
	sqsSrv := awstest.Shared(t, awstest.Fauxqs)
	ddbSrv := awstest.Shared(t, awstest.Dynalite)
	s3c, sqsc, ddb := s3srv.S3(), sqsSrv.SQS(), ddbSrv.DynamoDB()

	input, payload := awstest.Name(t, "input"), awstest.Name(t, "payload")
	for _, b := range []string{input, payload} {
		createBucket(t, s3c, b)
	}
	queueURL, queueArn := queue(t, sqsc, "processing")
	table := awstest.Name(t, "idempotency")
	if _, err := ddb.CreateTable(ctx, sqsbatch.IdempotencyTableInput(table)); err != nil {
		t.Fatal(err)
	}
	waitTable(t, ddb, table)

	local := map[string]string{"ProcessingQueue": queueURL, "PayloadBucket": payload, "IdempotencyTable": table}
	sdk := map[string]string{"AWS_ENDPOINT_URL_S3": s3srv.Endpoint, "AWS_ENDPOINT_URL_SQS": sqsSrv.Endpoint, "AWS_ENDPOINT_URL_DYNAMODB": ddbSrv.Endpoint}

	// The CSV: three orders, one of them twice (the duplicate a standard
	// queue and a re-sent file both produce), and a key with a space.
	csv := "order_id,item,qty\nA-1,apple,3\nB-2,pear,1\nA-1,apple,3\nC 3,fig,2\n"
	key := "landing/orders 2026.csv"
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &input, Key: &key, Body: strings.NewReader(csv)}); err != nil {
		t.Fatal(err)
	}

	writer := startLambda(t, "sqs-dedup-writer", withEnv(templateEnv(t, "examples/sqs-dedup/template.yaml", "WriterFunction", local), sdk))
	var s3ev events.S3Event
	sample(t, "s3-event.json", &s3ev)
	s3ev.Records[0].S3.Bucket.Name = input
	s3ev.Records[0].S3.Bucket.Arn = "arn:aws:s3:::" + input
	s3ev.Records[0].S3.Object.Key = "landing/orders+2026.csv" // S3 form-encodes keys in events
	status, body := writer.invoke(t, s3ev)
	var sum struct{ Objects, Rows, Sent, Malformed, Failed int }
	if err := json.Unmarshal(body, &sum); status != 200 || err != nil || sum.Rows != 4 || sum.Sent != 4 || sum.Failed != 0 {
		t.Fatalf("writer answered %d %s, want 4 rows sent", status, body)
	}

	// What fauxqs holds, as Lambda's SQS poller would hand it over.
	sqsev := receiveEvent(t, sqsc, queueURL, queueArn, 4)
	if len(sqsev.Records) != 4 {
		t.Fatalf("fauxqs returned %d of 4 messages", len(sqsev.Records))
	}
	shape := sqsev.Records[0]
	poisoned := shape
	poisoned.MessageId, poisoned.Body, poisoned.ReceiptHandle = "poisoned-1", "not a row", "poisoned-1"
	sqsev.Records = append(sqsev.Records, poisoned)

	processor := startLambda(t, "sqs-dedup-processor", withEnv(templateEnv(t, "examples/sqs-dedup/template.yaml", "ProcessorFunction", local), sdk))
	status, body = processor.invoke(t, sqsev)
	assertBatchItemFailures(t, status, body, "poisoned-1")
	processor.waitCount("REPORT RequestId", 1) // the invoke's output is all relayed
	if got := processor.waitCount(`"msg":"row processed"`, 3); got != 3 {
		t.Errorf("processor applied %d rows, want 3 (A-1 once, B-2, C 3)", got)
	}
	// Redelivery of the same batch (a visibility timeout expiring): no row
	// is applied twice.
	status, body = processor.invoke(t, sqsev)
	assertBatchItemFailures(t, status, body, "poisoned-1")
	processor.waitCount("REPORT RequestId", 2)
	if got := strings.Count(processor.out.String(), `"msg":"row processed"`); got != 3 {
		t.Errorf("after redelivery the processor applied %d rows in all, want still 3", got)
	}
	scan, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if len(scan.Items) != 3 {
		t.Errorf("idempotency table holds %d keys, want 3", len(scan.Items))
	}
	recordEffect(t, "sqs-dedup-writer", "S3 ObjectCreated (s3-event.json, key form-encoded)", "4 rows → 4 messages on fauxqs; response {Rows:4, Sent:4}")
	recordEffect(t, "sqs-dedup-processor", "SQS batch (sqs-event.json shape, fauxqs's 4 messages + 1 poisoned), twice", "batchItemFailures = [poisoned-1]; 3 rows applied once across both invokes; 3 keys in dynalite")
}

// TestProcessorColdStartFailure: the processor without its table variable
// (a template that forgot it) fails at init, which the emulator reports as
// the runtime exiting, not as a handler error.
func TestProcessorColdStartFailure(t *testing.T) {
	p := startLambda(t, "sqs-dedup-processor", map[string]string{"KEY_FIELD": "order_id"})
	status, body := p.invoke(t, events.SQSEvent{})
	for _, want := range []string{"want a table name", "Runtime.ExitError", "Sandbox.Failure"} {
		if !p.waitLog(want) {
			t.Errorf("the emulator's log has no %q", want)
		}
	}
	if status != 502 {
		t.Errorf("without IDEMPOTENCY_TABLE the invoke answered %d %s, want 502 (the sandbox failed)", status, body)
	}
	recordEffect(t, "sqs-dedup-processor", "any event, IDEMPOTENCY_TABLE unset", "init panics: 502, Runtime.ExitError, Sandbox.Failure")
}

// receiveEvent receives up to n messages from fauxqs (polling until n
// arrived or a poll comes back empty) and returns them as Lambda's SQS
// poller hands them over: aws-lambda-go's sqs-event.json shape with the
// messages' ids, receipt handles, bodies, system attributes
// (ApproximateReceiveCount…) and message attributes.
func receiveEvent(t *testing.T, c *sqs.Client, url, arn string, n int) events.SQSEvent {
	t.Helper()
	var ev events.SQSEvent
	sample(t, "sqs-event.json", &ev)
	shape := ev.Records[0]
	ev.Records = nil
	for len(ev.Records) < n {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: int32(min(n-len(ev.Records), 10)), WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			r := shape
			r.MessageId, r.ReceiptHandle, r.Body, r.Md5OfBody = *m.MessageId, *m.ReceiptHandle, *m.Body, aws.ToString(m.MD5OfBody)
			r.Attributes = m.Attributes
			r.MessageAttributes = nil
			for k, v := range m.MessageAttributes {
				if r.MessageAttributes == nil {
					r.MessageAttributes = map[string]events.SQSMessageAttribute{}
				}
				r.MessageAttributes[k] = events.SQSMessageAttribute{DataType: aws.ToString(v.DataType), StringValue: v.StringValue, BinaryValue: v.BinaryValue}
			}
			r.EventSourceARN = arn
			ev.Records = append(ev.Records, r)
		}
	}
	return ev
}

// settle does what Lambda's SQS poller does with a handler's answer: it
// deletes the messages not in batchItemFailures, and makes the failed ones
// visible again at once (standing in for their visibility timeout
// expiring). It returns the failed ids.
func settle(t *testing.T, c *sqs.Client, url string, ev events.SQSEvent, status int, body []byte) []string {
	t.Helper()
	var resp events.SQSEventResponse
	if err := json.Unmarshal(body, &resp); status != 200 || err != nil {
		t.Fatalf("answered %d %s", status, body)
	}
	failed := map[string]bool{}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
		ids = append(ids, f.ItemIdentifier)
	}
	ctx := context.Background()
	for _, r := range ev.Records {
		var err error
		if failed[r.MessageId] {
			_, err = c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: &r.ReceiptHandle, VisibilityTimeout: 0})
		} else {
			_, err = c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: &r.ReceiptHandle})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return ids
}

func withEnv(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func assertBatchItemFailures(t *testing.T, status int, body []byte, want ...string) {
	t.Helper()
	var resp struct {
		BatchItemFailures []struct{ ItemIdentifier string } `json:"batchItemFailures"`
	}
	if err := json.Unmarshal(body, &resp); status != 200 || err != nil {
		t.Fatalf("answered %d %s", status, body)
	}
	var got []string
	for _, f := range resp.BatchItemFailures {
		got = append(got, f.ItemIdentifier)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("batchItemFailures %v, want %v (body %s)", got, want, body)
	}
}

func waitTable(t *testing.T, ddb *dynamodb.Client, table string) {
	t.Helper()
	// dynalite creates tables in 50 ms; the waiter's default first delay
	// is 20 s.
	w := dynamodb.NewTableExistsWaiter(ddb, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond })
	if err := w.Wait(context.Background(), &dynamodb.DescribeTableInput{TableName: &table}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
}
