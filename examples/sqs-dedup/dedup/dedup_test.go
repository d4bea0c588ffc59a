package dedup_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/examples/sqs-dedup/dedup"
	"github.com/lakekit/lakekit/internal/awstest"
)

func nopHandler(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	return events.SQSEventResponse{}, nil
}

// TestEventSourceMappingStops: a missing queue stops every poller at once
// with a permanent *PollError; an unreachable endpoint after MaxFailures
// failed calls in a row. The 30 s bound only detects a hang.
func TestEventSourceMappingStops(t *testing.T) {
	c := awstest.SQS(t)
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "esm"))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct {
		name      string
		client    *sqs.Client
		url       string
		permanent bool
	}{
		{"missing-queue", c, aws.ToString(out.QueueUrl) + "-typo", true},
		{"closed-port", awstest.Shared(t, awstest.Fauxqs).SQS(func(o *sqs.Options) { o.BaseEndpoint = &closed; o.RetryMaxAttempts = 1 }), closed + "/000000000000/q", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			esm := &dedup.EventSourceMapping{Client: tc.client, QueueURL: tc.url, Handler: nopHandler, Pollers: 3, MaxFailures: 3}
			err := esm.Run(ctx)
			if ctx.Err() != nil {
				t.Fatalf("Run did not stop by itself: %v", err)
			}
			var pe *dedup.PollError
			if !errors.As(err, &pe) || pe.Permanent != tc.permanent || (!tc.permanent && pe.Failures != 3) {
				t.Fatalf("Run = %v, want a *PollError (permanent %v)", err, tc.permanent)
			}
			t.Logf("%v", err)
		})
	}
}
