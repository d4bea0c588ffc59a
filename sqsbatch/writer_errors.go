package sqsbatch

import (
	"errors"
	"fmt"
	"strings"

	"github.com/lakekit/lakekit/internal/awserr"
)

// EntryError is a message SQS refused in a SendMessageBatch answer.
type EntryError struct {
	Index       int64
	Key         string
	Code        string
	Message     string
	SenderFault bool // true: the message itself is at fault and was not retried
	Attempts    int
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("sqsbatch: message %d (key %q) refused after %d attempt(s): %s: %s", e.Index, e.Key, e.Attempts, e.Code, e.Message)
}

// TooLargeError is a message that can never fit the queue's limit and was
// not sent. Configure WriterOptions.Offload to send such messages through S3.
type TooLargeError struct {
	Index int64
	Key   string
	Size  int // as SQS counts it
	Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("sqsbatch: message %d (key %q) is %d bytes, over the limit of %d; not sent", e.Index, e.Key, e.Size, e.Limit)
}

// RequestError is a SendMessageBatch call that failed as a whole (after the
// SDK's own retries); every message in it gets one.
type RequestError struct {
	Index int64
	Key   string
	Err   error
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("sqsbatch: message %d (key %q): SendMessageBatch: %v", e.Index, e.Key, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// QueueError says the Writer stopped sending: a SendMessageBatch call failed
// in a way no retry fixes (the queue does not exist, access or the KMS key
// is denied, the credentials or signature are refused). Every message not
// yet sent then fails at once with a *RequestError wrapping it, without a
// request, instead of one doomed request per batch.
type QueueError struct {
	QueueURL string
	Code     string // the AWS error code
	Err      error  // the SendMessageBatch error
}

func (e *QueueError) Error() string {
	return fmt.Sprintf("sqsbatch: queue %s cannot be written (%s), not sending further messages: %v", e.QueueURL, e.Code, e.Err)
}

func (e *QueueError) Unwrap() error { return e.Err }

// queueError returns the *QueueError for a request error no retry fixes,
// or nil.
func (w *Writer) queueError(err error) *QueueError {
	// A queue's policy covers the whole queue: denied is as final as missing.
	if awserr.Fatal(err) || awserr.Denied(err) {
		return &QueueError{QueueURL: w.queueURL, Code: awserr.Code(err), Err: err}
	}
	return nil
}

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("sqsbatch: writer closed")

// ErrNoResult is the Result.Err of a message that SendAll accepted but whose
// batch had not finished when SendAll returned (its ctx ended first): the
// message may still be sent; WriterOptions.OnResult will tell.
var ErrNoResult = errors.New("sqsbatch: no result before the call returned; the message may still be sent")

// MaxSendErrorSamples bounds SendError.First.
const MaxSendErrorSamples = 10

// SendError is the error of a call that covers many messages (SendAll,
// WriteCSV, Flush, Close) when at least one of them was not sent, or the
// call ended early. Per-message outcomes stay in the Results; this carries
// the counts and the first failures, and unwraps to the cause that ended
// the call early (a context error, ErrClosed, a fatal *RowError) and to the
// errors of First, so errors.Is(err, context.DeadlineExceeded) and
// errors.As(err, &entryErr) work on it.
type SendError struct {
	// Messages is how many messages the call covered: given to SendAll,
	// read by WriteCSV, accepted since the previous Flush (Flush) or over
	// the Writer's life (Close).
	Messages int64
	// Sent is how many of them SQS took, Failed how many have an error
	// Result; the rest (Messages - Sent - Failed) had no result yet when
	// the call returned.
	Sent, Failed int64
	// First holds the first failures, at most MaxSendErrorSamples.
	First []Result
	// Err is what ended the call early, or nil.
	Err error
}

func (e *SendError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqsbatch: %d of %d messages not sent", e.Messages-e.Sent, e.Messages)
	if pending := e.Messages - e.Sent - e.Failed; pending > 0 {
		fmt.Fprintf(&b, " (%d failed, %d without a result yet)", e.Failed, pending)
	}
	if e.Err != nil {
		fmt.Fprintf(&b, ": %v", e.Err)
	}
	if len(e.First) > 0 {
		fmt.Fprintf(&b, "; first failure: %v", e.First[0].Err)
	}
	return b.String()
}

// Unwrap returns Err and the errors of First.
func (e *SendError) Unwrap() []error {
	errs := make([]error, 0, len(e.First)+1)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	for _, r := range e.First {
		errs = append(errs, r.Err)
	}
	return errs
}
