package sqsbatch_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// TestDLQInspectAndRedrive: messages dead-lettered by the redrive policy are
// read without being lost, then moved back and processed.
func TestDLQInspectAndRedrive(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url, dlq := newQueueWithDLQ(t, c, "redrive", 1, map[string]string{"VisibilityTimeout": "1"})
	attrs := map[string]types.MessageAttributeValue{"source": {DataType: aws.String("String"), StringValue: aws.String("csv")}}
	var msgs []sqsbatch.Message
	for i := range 15 {
		msgs = append(msgs, sqsbatch.Message{Body: "m" + strconv.Itoa(i), Attributes: attrs})
	}
	if _, err := must(sqsbatch.NewWriter(c, url)).SendAll(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	// A handler that always fails: after one receive each message is
	// dead-lettered (maxReceiveCount 1 here only to get there fast).
	failing := must(sqsbatch.NewConsumer(c, url, func(context.Context, types.Message) error { return context.DeadlineExceeded },
		func(o *sqsbatch.ConsumerOptions) { o.WaitTime = 1e9; o.VisibilityTimeout = 1e9 }))
	runConsumer(t, failing, func() bool { return queueDepth(t, c, dlq) == 15 })

	for range 2 { // inspecting twice shows nothing was lost the first time
		got, err := sqsbatch.InspectDLQ(ctx, c, dlq, 100)
		if err != nil {
			t.Fatal(err)
		}
		var bodies []string
		for _, m := range got {
			bodies = append(bodies, aws.ToString(m.Body))
			if aws.ToString(m.MessageAttributes["source"].StringValue) != "csv" {
				t.Fatalf("attributes lost: %v", m.MessageAttributes)
			}
		}
		if len(got) != 15 {
			t.Fatalf("inspected %d: %v", len(got), bodies)
		}
	}
	// fauxqs has no StartMessageMoveTask: the caller falls back to Redrive.
	if _, err := sqsbatch.StartMoveTask(ctx, c, queueARN(t, c, dlq), ""); !sqsbatch.IsUnsupported(err) {
		t.Fatalf("StartMessageMoveTask on fauxqs: %v, want an unsupported-operation error", err)
	}
	rep, err := sqsbatch.Redrive(ctx, c, dlq, url, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Moved != 15 || rep.Failed != 0 {
		t.Fatalf("redrive %+v", rep)
	}
	if d := queueDepth(t, c, dlq); d != 0 {
		t.Fatalf("%d left in the DLQ", d)
	}
	var bodies []string
	for _, m := range drain(t, c, url) {
		bodies = append(bodies, aws.ToString(m.Body))
		if aws.ToString(m.MessageAttributes["source"].StringValue) != "csv" {
			t.Fatalf("attributes lost in redrive: %v", m.MessageAttributes)
		}
	}
	sort.Strings(bodies)
	want := make([]string, 15)
	for i := range want {
		want[i] = "m" + strconv.Itoa(i)
	}
	sort.Strings(want)
	if len(bodies) != 15 || fmt.Sprint(bodies) != fmt.Sprint(want) { // each body once
		t.Fatalf("redriven %v", bodies)
	}
}

// firstDeleteFails wraps an SQS client so that the first entry of every
// DeleteMessageBatch is refused (and not deleted).
type firstDeleteFails struct{ *sqs.Client }

func (f firstDeleteFails) DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error) {
	refused := in.Entries[0]
	rest := *in
	rest.Entries = in.Entries[1:]
	out := &sqs.DeleteMessageBatchOutput{}
	if len(rest.Entries) > 0 {
		var err error
		if out, err = f.Client.DeleteMessageBatch(ctx, &rest, optFns...); err != nil {
			return nil, err
		}
	}
	out.Failed = append(out.Failed, types.BatchResultErrorEntry{Id: refused.Id, Code: aws.String("InternalError"), SenderFault: false})
	return out, nil
}

// TestRedriveCountsUndeleted: a message sent to the target whose delete
// from the DLQ failed is reported as Undeleted, not lost from the report.
func TestRedriveCountsUndeleted(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	mk := func(prefix string) string {
		out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, prefix)), Attributes: map[string]string{"VisibilityTimeout": "30"}})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.QueueUrl)
	}
	dlq, target := mk("dlq"), mk("target")
	var msgs []sqsbatch.Message
	for i := range 12 {
		msgs = append(msgs, sqsbatch.Message{Body: "m" + strconv.Itoa(i)})
	}
	if _, err := must(sqsbatch.NewWriter(c, dlq)).SendAll(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	rep, err := sqsbatch.Redrive(ctx, firstDeleteFails{c}, dlq, target, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Moved+rep.Undeleted != 12 || rep.Undeleted < 1 || rep.Failed != 0 {
		t.Fatalf("redrive %+v: want Moved+Undeleted = 12, some Undeleted, none Failed", rep)
	}
	if got := len(drain(t, c, target)); got != 12 {
		t.Fatalf("target holds %d, want 12", got)
	}
}
