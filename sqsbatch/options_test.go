package sqsbatch_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// TestConstructorsRefuseInvalidOptions: a value a constructor cannot honour
// is an *OptionError naming the field, never a silent clamp to a default.
func TestConstructorsRefuseInvalidOptions(t *testing.T) {
	const std, fifo = "https://sqs.us-east-1.amazonaws.com/000000000000/q", "https://sqs.us-east-1.amazonaws.com/000000000000/q.fifo"
	writer := func(url string, f func(*sqsbatch.WriterOptions)) error {
		_, err := sqsbatch.NewWriter(nil, url, f)
		return err
	}
	consumer := func(f func(*sqsbatch.ConsumerOptions)) error {
		_, err := sqsbatch.NewConsumer(nil, std, nil, f)
		return err
	}
	tests := []struct {
		name, field string
		err         error
	}{
		{"batch bytes above the service limit", "MaxBatchBytes", writer(std, func(o *sqsbatch.WriterOptions) { o.MaxBatchBytes = sqsbatch.DefaultMaxBatchBytes + 1 })},
		{"negative message bytes", "MaxMessageBytes", writer(std, func(o *sqsbatch.WriterOptions) { o.MaxMessageBytes = -1 })},
		{"negative in flight", "MaxInFlight", writer(std, func(o *sqsbatch.WriterOptions) { o.MaxInFlight = -1 })},
		{"FIFO in flight", "MaxInFlight", writer(fifo, func(o *sqsbatch.WriterOptions) { o.MaxInFlight = 4 })},
		{"max below base backoff", "MaxBackoff", writer(std, func(o *sqsbatch.WriterOptions) { o.BaseBackoff, o.MaxBackoff = time.Second, time.Millisecond })},
		{"negative linger", "Linger", writer(std, func(o *sqsbatch.WriterOptions) { o.Linger = -time.Second })},
		{"eleven messages", "MaxMessages", consumer(func(o *sqsbatch.ConsumerOptions) { o.MaxMessages = 11 })},
		{"long poll over 20 s", "WaitTime", consumer(func(o *sqsbatch.ConsumerOptions) { o.WaitTime = time.Minute })},
		{"visibility under a second", "VisibilityTimeout", consumer(func(o *sqsbatch.ConsumerOptions) { o.VisibilityTimeout = time.Millisecond })},
		{"visibility over 12 h", "VisibilityTimeout", consumer(func(o *sqsbatch.ConsumerOptions) { o.VisibilityTimeout = 13 * time.Hour })},
		{"negative workers", "Workers", consumer(func(o *sqsbatch.ConsumerOptions) { o.Workers = -1 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var oe *sqsbatch.OptionError
			if !errors.As(tt.err, &oe) || oe.Field != tt.field {
				t.Fatalf("got %v, want an *OptionError on %s", tt.err, tt.field)
			}
		})
	}
	if err := writer(fifo, func(*sqsbatch.WriterOptions) {}); err != nil {
		t.Errorf("FIFO writer with default options: %v", err)
	}
}

// TestKeyFromAttribute sends keys as a message attribute
// (WriterOptions.KeyAttribute) and reads them back with KeyFromAttribute, so
// that bodies need not carry their key.
func TestKeyFromAttribute(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "keyattr", nil)
	w := must(sqsbatch.NewWriter(c, url, func(o *sqsbatch.WriterOptions) { o.KeyAttribute = "order_id" }))
	if _, err := w.SendAll(ctx, []sqsbatch.Message{{Key: "A-1", Body: "first"}, {Key: "A-1", Body: "again"}, {Key: "A-2", Body: "other"}}); err != nil {
		t.Fatal(err)
	}
	key := sqsbatch.KeyFromAttribute("order_id")
	got := map[string]int{}
	for _, m := range drain(t, c, url) {
		k, err := key(m)
		if err != nil {
			t.Fatal(err)
		}
		got[k]++
	}
	if got["A-1"] != 2 || got["A-2"] != 1 {
		t.Errorf("keys %v, want A-1 twice and A-2 once", got)
	}
	if _, err := key(types.Message{Body: aws.String("no attributes")}); err == nil {
		t.Error("a message without the attribute has a key")
	}
}
