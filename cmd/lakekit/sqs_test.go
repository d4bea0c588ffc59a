package main

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lakekit/lakekit/sqsbatch/sqstest"
)

func init() {
	scriptServers["sqs"] = serverSQS
}

// serverSQS is `server sqs QUEUE…`: fauxqs, its endpoint in
// AWS_ENDPOINT_URL_SQS, with the queues created and each queue's URL in
// the variable of its name (dots as underscores: $orders_fifo). A name
// ending in .fifo makes a FIFO queue; a queue written NAME>DLQ has a
// redrive policy sending its messages to the queue DLQ (created first)
// after one receive.
func serverSQS(ts *testscript.TestScript, queues []string) {
	ctx := context.Background()
	srv, err := sqstest.Start(ctx)
	if err != nil {
		ts.Fatalf("server sqs: %v", err)
	}
	ts.Defer(func() { srv.Close() })
	ts.Setenv("AWS_ENDPOINT_URL_SQS", srv.Endpoint)
	for _, q := range queues {
		name, dlq, _ := strings.Cut(q, ">")
		attrs := map[string]string{}
		if strings.HasSuffix(name, ".fifo") {
			attrs[string(types.QueueAttributeNameFifoQueue)] = "true"
		}
		if dlq != "" {
			arn, err := srv.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(ts.Getenv(strings.ReplaceAll(dlq, ".", "_"))),
				AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
			if err != nil {
				ts.Fatalf("server sqs: queue %s: dead-letter queue %s: %v", name, dlq, err)
			}
			policy, _ := json.Marshal(map[string]string{"deadLetterTargetArn": arn.Attributes["QueueArn"], "maxReceiveCount": "1"})
			attrs[string(types.QueueAttributeNameRedrivePolicy)] = string(policy)
		}
		out, err := srv.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
		if err != nil {
			ts.Fatalf("server sqs: create queue %s: %v", name, err)
		}
		ts.Setenv(strings.ReplaceAll(name, ".", "_"), aws.ToString(out.QueueUrl))
	}
	ts.Setenv("SQS_ENDPOINT", srv.Endpoint)
}
