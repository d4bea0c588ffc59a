package sqsceiling_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/internal/sqsceiling"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestSendThenReceive: the ceiling loops move every message, and a send to
// a queue that does not exist is an error, not a rate.
func TestSendThenReceive(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "ceiling"))})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(q.QueueUrl)
	bodies := sqsceiling.Bodies(95, 200)
	for _, b := range bodies {
		if len(b) != 200 {
			t.Fatalf("body of %d bytes: %q", len(b), b)
		}
	}
	if rate, err := sqsceiling.Send(ctx, c, url, bodies, 4); err != nil || rate <= 0 {
		t.Fatalf("send: %v, %v msgs/s", err, rate)
	}
	if rate, err := sqsceiling.Receive(ctx, c, url, 3, len(bodies)); err != nil || rate <= 0 {
		t.Fatalf("receive: %v, %v msgs/s", err, rate)
	}
	out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("after draining: %d messages left, %v", len(out.Messages), err)
	}
	if _, err := sqsceiling.Send(ctx, c, url+"-missing", bodies, 2); err == nil {
		t.Fatal("send to a missing queue reported no error")
	}
	if got := sqsceiling.Median([]float64{3, 1, 2}); got != 2 {
		t.Fatalf("median %v", got)
	}
}
