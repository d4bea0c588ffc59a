package sqsbatch_test

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
	if _, err := sqsbatch.New(c, url).SendAll(ctx, msgs); err != nil {
		t.Fatal(err)
	}
	// A handler that always fails: after one receive each message is
	// dead-lettered (maxReceiveCount 1 here only to get there fast).
	failing := sqsbatch.NewConsumer(c, url, func(context.Context, types.Message) error { return context.DeadlineExceeded },
		func(o *sqsbatch.ConsumerOptions) { o.WaitTime = 1e9; o.VisibilityTimeout = 1e9 })
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
