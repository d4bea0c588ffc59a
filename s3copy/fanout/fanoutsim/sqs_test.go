package fanoutsim_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/s3copy/fanout/fanoutsim"
)

func TestSQSWire(t *testing.T) {
	ctx := context.Background()
	s, err := fanoutsim.NewSQS(func(o *fanoutsim.SQSOptions) { o.Latency = 1 })
	if err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []types.SendMessageBatchRequestEntry{
		{Id: aws.String("a"), MessageBody: aws.String("hello")}, {Id: aws.String("b"), MessageBody: aws.String("world")}}})
	if err != nil || len(out.Successful) != 2 {
		t.Fatalf("%+v %v", out, err)
	}
}
