package sqsbatch_test

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(crashChildEnv); spec != "" {
		os.Exit(crashChild(spec))
	}
	awstest.Main(m)
}

// newQueue creates a queue on fauxqs with the given attributes and returns
// its URL.
func newQueue(t testing.TB, c *sqs.Client, prefix string, attrs map[string]string) string {
	t.Helper()
	name := awstest.Name(t, prefix)
	if attrs["FifoQueue"] == "true" {
		name = name[:min(len(name), 75)] + ".fifo"
	}
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// newQueueWithDLQ creates a queue whose RedrivePolicy moves a message to a
// new DLQ after maxReceive receives.
func newQueueWithDLQ(t testing.TB, c *sqs.Client, prefix string, maxReceive int, attrs map[string]string) (queue, dlq string) {
	t.Helper()
	dlq = newQueue(t, c, prefix+"-dlq", nil)
	arn := queueARN(t, c, dlq)
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": arn, "maxReceiveCount": strconv.Itoa(maxReceive)})
	all := map[string]string{"RedrivePolicy": string(redrive)}
	for k, v := range attrs {
		all[k] = v
	}
	return newQueue(t, c, prefix, all), dlq
}

func queueARN(t testing.TB, c *sqs.Client, url string) string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["QueueArn"]
}

// drain receives and deletes every message until the queue holds none
// (visible, in flight or delayed), returning the messages.
func drain(t testing.TB, c *sqs.Client, url string) []types.Message {
	t.Helper()
	ctx := context.Background()
	var all []types.Message
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &url, MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			if queueDepth(t, c, url) == 0 {
				return all
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		all = append(all, out.Messages...)
		var del []types.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := c.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &url, Entries: del}); err != nil {
			t.Fatal(err)
		}
	}
}

// queueDepth returns visible + in-flight messages.
func queueDepth(t testing.TB, c *sqs.Client, url string) int {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n
}

// countingSQS counts the calls made through it to the real client.
type countingSQS struct {
	*sqs.Client
	sendBatches atomic.Int64
	mu          sync.Mutex
	batchSizes  []int
}

func (c *countingSQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	c.sendBatches.Add(1)
	c.mu.Lock()
	c.batchSizes = append(c.batchSizes, len(in.Entries))
	c.mu.Unlock()
	return c.Client.SendMessageBatch(ctx, in, optFns...)
}

func waitFor(t testing.TB, within time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// must returns v, panicking on err: the constructors' options in these
// tests are valid, so an error is a bug in the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
