package sqsbatch

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/lakekit/lakekit/internal/opt"
)

// InspectAPI is what InspectDLQ needs.
type InspectAPI interface {
	ReceiveMessageAPI
	ChangeMessageVisibilityBatchAPI
}

// inspectVisibility hides messages being inspected long enough for one
// scan; they are given back at the end.
const inspectVisibility = 60 * time.Second

// InspectDLQ returns up to max messages of a queue (a DLQ) without removing
// any: it receives them, hidden for the length of the scan so each is seen
// once, then makes them all visible again. Receiving counts toward a
// message's receive count, so do not point it at a queue that itself has a
// redrive policy.
func InspectDLQ(ctx context.Context, client InspectAPI, queueURL string, max int) ([]types.Message, error) {
	var all []types.Message
	defer func() {
		// Give everything back, even when ctx ended.
		changeVisibility(context.WithoutCancel(ctx), client, queueURL, all, 0, opt.Logger(nil), SafeRequestBody)
	}()
	seen := map[string]bool{}
	for len(all) < max {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &queueURL, MaxNumberOfMessages: int32(min(MaxBatchEntries, max-len(all))), WaitTimeSeconds: 1,
			VisibilityTimeout:           int32(inspectVisibility / time.Second),
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		}, SafeRequestBody)
		if err != nil {
			return all, fmt.Errorf("sqsbatch: inspect %s: %w", queueURL, err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			if !seen[aws.ToString(m.MessageId)] {
				seen[aws.ToString(m.MessageId)] = true
				all = append(all, m)
			}
		}
	}
	return all, nil
}

// RedriveAPI is what Redrive needs.
type RedriveAPI interface {
	ReceiveMessageAPI
	SendMessageBatchAPI
	DeleteMessageBatchAPI
	ChangeMessageVisibilityBatchAPI
}

// MoveTaskAPI starts a server-side redrive (SQS StartMessageMoveTask).
type MoveTaskAPI interface {
	StartMessageMoveTask(ctx context.Context, in *sqs.StartMessageMoveTaskInput, optFns ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
}

// RedriveReport is what Redrive did.
type RedriveReport struct {
	// TaskHandle is set when SQS's own move task was started; the move then
	// runs on the server and Moved stays 0.
	TaskHandle string
	Moved      int // messages sent to the target and deleted from the DLQ
	Failed     int // messages left in the DLQ because the send failed
	// Undeleted counts messages sent to the target whose delete from the
	// DLQ failed: they stay in the DLQ and a later redrive sends them again
	// (the consumer's idempotency absorbs the copy). The loop does not
	// receive them again itself: they are invisible until their visibility
	// timeout ends.
	Undeleted int
}

// StartMoveTask asks SQS to move a DLQ's messages back to targetARN (""
// means back to their source queues). It returns the task handle.
func StartMoveTask(ctx context.Context, client MoveTaskAPI, dlqARN, targetARN string) (string, error) {
	in := &sqs.StartMessageMoveTaskInput{SourceArn: &dlqARN}
	if targetARN != "" {
		in.DestinationArn = &targetARN
	}
	out, err := client.StartMessageMoveTask(ctx, in, SafeRequestBody)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.TaskHandle), nil
}

// IsUnsupported says err is a server's answer that it does not know an
// operation (local emulators lack StartMessageMoveTask), so the caller can
// fall back to Redrive.
func IsUnsupported(err error) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "UnsupportedOperation", "InvalidAction", "UnknownOperationException", "UnknownOperation", "NotImplemented", "AWS.SimpleQueueService.UnsupportedOperation":
		return true
	}
	return false
}

// Redrive moves up to max messages from dlqURL to targetURL by receiving,
// sending and then deleting each batch: a message is deleted from the DLQ
// only after the target took it, so none is lost; if a delete fails the
// message is sent again by the next redrive, which the consumer's
// idempotency absorbs. Bodies and message attributes are kept; FIFO group
// and deduplication ids are carried over when present.
func Redrive(ctx context.Context, client RedriveAPI, dlqURL, targetURL string, max int) (RedriveReport, error) {
	var rep RedriveReport
	for rep.Moved+rep.Failed+rep.Undeleted < max {
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl: &dlqURL, MaxNumberOfMessages: int32(min(MaxBatchEntries, max-rep.Moved-rep.Failed-rep.Undeleted)), WaitTimeSeconds: 1,
			MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{
				types.MessageSystemAttributeNameMessageGroupId, types.MessageSystemAttributeNameMessageDeduplicationId,
			},
		}, SafeRequestBody)
		if err != nil {
			return rep, fmt.Errorf("sqsbatch: redrive receive: %w", err)
		}
		if len(out.Messages) == 0 {
			return rep, nil
		}
		entries := make([]types.SendMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(entryID(i)), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
			if g := m.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != "" {
				entries[i].MessageGroupId = aws.String(g)
			}
			if d := m.Attributes[string(types.MessageSystemAttributeNameMessageDeduplicationId)]; d != "" {
				entries[i].MessageDeduplicationId = aws.String(d)
			}
		}
		sent, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: &targetURL, Entries: entries}, SafeRequestBody)
		if err != nil {
			return rep, fmt.Errorf("sqsbatch: redrive send: %w", err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for _, s := range sent.Successful {
			i, err := strconv.Atoi(aws.ToString(s.Id))
			if err != nil || i < 0 || i >= len(out.Messages) {
				continue
			}
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: aws.String(entryID(len(del))), ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		rep.Failed += len(out.Messages) - len(del)
		if len(del) == 0 {
			continue
		}
		d, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: &dlqURL, Entries: del}, SafeRequestBody)
		if err != nil {
			return rep, fmt.Errorf("sqsbatch: redrive delete (messages were sent and will be sent again next time): %w", err)
		}
		rep.Moved += len(d.Successful)
		rep.Undeleted += len(del) - len(d.Successful)
	}
	return rep, nil
}
