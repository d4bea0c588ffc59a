package fanoutsim_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/s3copy/fanout/fanoutsim"
	"github.com/lakekit/lakekit/sqsbatch"
)

func sendInput(url, body string) *sqs.SendMessageInput {
	return &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}
}

// TestSQSWire drives the simulation with the SDK's client: sends, long
// polls, visibility, deletes, queue depths, errors; and an sqsbatch
// Writer and event source mapping run on it unchanged.
func TestSQSWire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s, err := fanoutsim.NewSQS()
		if err != nil {
			t.Fatal(err)
		}
		c := s.Client()
		q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q"), Attributes: map[string]string{"VisibilityTimeout": "10"}})
		if err != nil {
			t.Fatal(err)
		}
		url := aws.ToString(q.QueueUrl)
		if got, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("q")}); err != nil || aws.ToString(got.QueueUrl) != url {
			t.Fatalf("GetQueueUrl %v %v", got, err)
		}
		// A long poll returns when a message arrives.
		t0 := time.Now()
		go func() {
			time.Sleep(3 * time.Second)
			_, _ = c.SendMessage(ctx, sendInput(url, "late"))
		}()
		rcv, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 20, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil || len(rcv.Messages) != 1 || aws.ToString(rcv.Messages[0].Body) != "late" {
			t.Fatalf("receive %+v %v", rcv, err)
		}
		if d := time.Since(t0); d < 3*time.Second || d > 4*time.Second {
			t.Fatalf("long poll took %v", d)
		}
		if rcv.Messages[0].Attributes["ApproximateReceiveCount"] != "1" {
			t.Fatalf("attributes %v", rcv.Messages[0].Attributes)
		}
		// Invisible for 10 s, then back; a visibility change moves that.
		if _, err := c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: &url, ReceiptHandle: rcv.Messages[0].ReceiptHandle, VisibilityTimeout: 2}); err != nil {
			t.Fatal(err)
		}
		attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil || len(attrs.Attributes) != 1 || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "1" {
			t.Fatalf("attributes %v %v", attrs, err)
		}
		again, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, WaitTimeSeconds: 5})
		if err != nil || len(again.Messages) != 1 {
			t.Fatalf("redelivery %+v %v", again, err)
		}
		if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: rcv.Messages[0].ReceiptHandle}); err == nil {
			t.Fatal("deleted with a stale receipt handle")
		}
		del, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: []types.DeleteMessageBatchRequestEntry{
			{Id: aws.String("a"), ReceiptHandle: again.Messages[0].ReceiptHandle}, {Id: aws.String("b"), ReceiptHandle: aws.String("nope")}}})
		if err != nil || len(del.Successful) != 1 || len(del.Failed) != 1 {
			t.Fatalf("delete batch %+v %v", del, err)
		}
		if v, f, d := s.Depth(url); v+f+d != 0 {
			t.Fatalf("depth %d %d %d", v, f, d)
		}
		// Errors are SQS's.
		_, err = c.SendMessage(ctx, sendInput(Endpoint404, "x"))
		var qne *types.QueueDoesNotExist
		if !errors.As(err, &qne) {
			t.Fatalf("missing queue: %v", err)
		}
		// sqsbatch's Writer and event source mapping run on it.
		w, err := sqsbatch.NewWriter(c, url)
		if err != nil {
			t.Fatal(err)
		}
		msgs := make([]sqsbatch.Message, 25)
		for i := range msgs {
			msgs[i] = sqsbatch.Message{Body: "hello", DelaySeconds: int32(i % 2)}
		}
		if _, err := w.SendAll(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		_ = w.Close(ctx)
		got := 0
		runCtx, stop := context.WithCancel(ctx)
		esm, err := sqsbatch.NewEventSourceMapping(c, url, func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			got += len(ev.Records)
			if got == 25 {
				stop()
			}
			return events.SQSEventResponse{}, nil
		}, func(o *sqsbatch.ConsumerOptions) { o.Pollers = 1 })
		if err != nil {
			t.Fatal(err)
		}
		_ = esm.Run(runCtx)
		if got != 25 {
			t.Fatalf("event source mapping got %d", got)
		}
		if s.Requests()["SendMessageBatch"] != 3 {
			t.Fatalf("requests %v", s.Requests())
		}
	})
}

// Endpoint404 is a queue URL on the simulation with no queue.
const Endpoint404 = fanoutsim.Endpoint + "/000000000000/missing"

// FuzzSQSRequest feeds request bodies to every operation: errors are SQS
// error answers, never a panic or a hang.
func FuzzSQSRequest(f *testing.F) {
	f.Add("SendMessageBatch", `{"QueueUrl":"`+fanoutsim.Endpoint+`/000000000000/q","Entries":[{"Id":"a","MessageBody":"x"}]}`)
	f.Add("ReceiveMessage", `{"QueueUrl":"`+fanoutsim.Endpoint+`/000000000000/q","WaitTimeSeconds":20,"MaxNumberOfMessages":10}`)
	f.Add("CreateQueue", `{"QueueName":"r","Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"x\",\"maxReceiveCount\":2}"}}`)
	f.Add("ChangeMessageVisibility", `{"QueueUrl":"`+fanoutsim.Endpoint+`/000000000000/q","ReceiptHandle":"x","VisibilityTimeout":5}`)
	f.Add("GetQueueAttributes", `{"QueueUrl":"`+fanoutsim.Endpoint+`/000000000000/q","AttributeNames":["All"]}`)
	f.Fuzz(func(t *testing.T, op, body string) {
		synctest.Test(t, func(t *testing.T) {
			s, _ := fanoutsim.NewSQS()
			if _, err := s.CreateQueue("q", nil); err != nil {
				t.Fatal(err)
			}
			req := httptest.NewRequest(http.MethodPost, fanoutsim.Endpoint+"/", bytes.NewReader([]byte(body)))
			req.Header.Set("X-Amz-Target", "AmazonSQS."+op)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK && rec.Code != http.StatusBadRequest {
				t.Fatalf("%s: status %d: %s", op, rec.Code, rec.Body)
			}
		})
	})
}
