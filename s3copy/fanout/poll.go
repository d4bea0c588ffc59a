package fanout

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awserr"
	"github.com/lakekit/lakekit/internal/backoff"
)

// DefaultPollMaxFailures is PollOptions.MaxFailures' default.
const DefaultPollMaxFailures = 10

// Poll's backoff after a failed call: the n-th failure in a row waits a
// random time up to min(pollRetryBase·2^(n-1), pollRetryMax).
const (
	pollRetryBase = 100 * time.Millisecond
	pollRetryMax  = 10 * time.Second
)

// PollError ends Poll: a ReceiveMessage or DeleteMessageBatch call failed
// with an error retrying cannot fix (Permanent: a missing queue, denied
// access or KMS key, bad credentials), or MaxFailures calls in a row failed
// with transient errors. It unwraps to the SDK's error.
type PollError struct {
	QueueURL  string
	Op        string // "ReceiveMessage" or "DeleteMessageBatch"
	Code      string // AWS error code; "" for a connection fault
	Permanent bool
	Failures  int // failed calls in a row, including the last
	Err       error
}

func (e *PollError) Error() string {
	if e.Permanent {
		return fmt.Sprintf("fanout: polling %s stopped: %s failed with an error retrying cannot fix (check the queue URL, region, credentials and permissions): %v", e.QueueURL, e.Op, e.Err)
	}
	return fmt.Sprintf("fanout: polling %s stopped: %d calls failed in a row; last, %s: %v", e.QueueURL, e.Failures, e.Op, e.Err)
}

func (e *PollError) Unwrap() error { return e.Err }

// ReceiveAPI is what Poll calls on SQS.
type ReceiveAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// Handler is a Lambda SQS handler with partial batch responses, such as
// Fanout.HandleShards and Fanout.HandleTasks.
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// PollOptions configure Poll. Zero fields take the defaults.
type PollOptions struct {
	BatchSize int           // messages per ReceiveMessage, 1..10; default 10
	WaitTime  time.Duration // long-poll wait; default 1 s
	// Visibility overrides the queue's visibility timeout on receive; 0
	// keeps the queue's.
	Visibility time.Duration
	// IdleExit, when > 0, makes Poll return nil after that many empty
	// receives in a row (for local runs that end when the queue drains).
	IdleExit int
	// MaxFailures is how many SQS calls in a row may fail with transient
	// errors (throttling, 5xx, connection faults), each followed by a
	// full-jitter backoff, before Poll returns a *PollError. Default
	// DefaultPollMaxFailures; negative: retry for ever.
	MaxFailures int
}

// Poll does locally what a Lambda event source mapping with
// ReportBatchItemFailures does: it receives messages from queueURL, hands
// them to h as an SQS event, and deletes the ones h did not report as
// failed (none, if h returns an error): those become visible again after
// the visibility timeout. It runs until ctx is done (returning nil) or
// IdleExit empty receives (nil), or until SQS calls cannot go on: a
// *PollError at once for an error retrying cannot fix, or after
// MaxFailures transient failures in a row. It lets the fan-out's handlers
// run on a machine instead of Lambda, and drives them in tests and in the
// example.
//
// Poll's requests carry an HTTP client wrapper that hides the request
// body's WriteTo: with aws-sdk-go-v2 and a fast server a ReceiveMessage can
// otherwise fail with "use of closed network connection" and be retried
// after its messages were already taken (see TESTING.md).
func Poll(ctx context.Context, client ReceiveAPI, queueURL string, h Handler, opts PollOptions) error {
	if opts.BatchSize <= 0 || opts.BatchSize > 10 {
		opts.BatchSize = 10
	}
	if opts.WaitTime <= 0 {
		opts.WaitTime = time.Second
	}
	if opts.MaxFailures == 0 {
		opts.MaxFailures = DefaultPollMaxFailures
	}
	idle, failures := 0, 0
	// fail counts a failed call and returns the error that ends Poll, or
	// nil after backing off.
	fail := func(op string, err error) error {
		failures++
		pe := &PollError{QueueURL: queueURL, Op: op, Code: awserr.Code(err), Permanent: awserr.Permanent(err), Failures: failures, Err: err}
		if pe.Permanent || (opts.MaxFailures > 0 && failures >= opts.MaxFailures) {
			return pe
		}
		_ = backoff.Sleep(ctx, backoff.FullJitter(failures, pollRetryBase, pollRetryMax))
		return nil
	}
	for ctx.Err() == nil {
		in := &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(queueURL),
			MaxNumberOfMessages:         int32(opts.BatchSize),
			WaitTimeSeconds:             int32(max(opts.WaitTime/time.Second, 1)),
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
		}
		if opts.Visibility > 0 {
			in.VisibilityTimeout = int32(max(opts.Visibility/time.Second, 1))
		}
		out, err := client.ReceiveMessage(ctx, in, hideWriteTo)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if perr := fail("ReceiveMessage", err); perr != nil {
				return perr
			}
			continue
		}
		failures = 0
		if len(out.Messages) == 0 {
			idle++
			if opts.IdleExit > 0 && idle >= opts.IdleExit {
				return nil
			}
			continue
		}
		idle = 0
		ev := events.SQSEvent{Records: make([]events.SQSMessage, len(out.Messages))}
		for i, m := range out.Messages {
			attrs := make(map[string]string, len(m.Attributes))
			for k, v := range m.Attributes {
				attrs[k] = v
			}
			ev.Records[i] = events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle),
				Body: aws.ToString(m.Body), Attributes: attrs, EventSource: "aws:sqs"}
		}
		resp, err := h(ctx, ev)
		if err != nil {
			continue // nothing deleted: every message comes back
		}
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		for i, m := range out.Messages {
			if !failed[aws.ToString(m.MessageId)] {
				del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
			}
		}
		if len(del) > 0 {
			// A delete that fails leaves the messages to come back: at
			// least once, never lost. One that can never succeed ends Poll,
			// or every message would be handled again and again.
			_, err := client.DeleteMessageBatch(context.WithoutCancel(ctx), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: del}, hideWriteTo)
			if err != nil {
				if perr := fail("DeleteMessageBatch", err); perr != nil {
					return perr
				}
			}
		}
	}
	return nil
}

// hideWriteTo wraps the client's HTTP client so request bodies expose only
// Read and Close.
func hideWriteTo(o *sqs.Options) {
	if o.HTTPClient != nil {
		o.HTTPClient = bodyWrapper{o.HTTPClient}
	}
}

type bodyWrapper struct{ inner sqs.HTTPClient }

func (b bodyWrapper) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return b.inner.Do(req)
}
