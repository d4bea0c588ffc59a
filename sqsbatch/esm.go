package sqsbatch

import (
	"context"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// BatchHandler is a Lambda SQS handler with partial batch responses: the
// shape [NewLambdaHandler] returns and Lambda's event source mapping invokes.
type BatchHandler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// NewEventSourceMapping returns a [Consumer] that does on a machine what
// Lambda's SQS event source mapping with ReportBatchItemFailures does: it
// invokes h once per received batch (up to MaxMessages messages) and deletes
// every message h did not report in BatchItemFailures. When h returns an
// error, or reports an identifier that is empty or not in the batch (Lambda
// then treats the whole batch as failed), no message is deleted. Failed
// messages come back after their visibility timeout (or RetryDelay).
//
// Everything else is the Consumer's: Run, its shutdown, its errors
// (*ReceiveError, *DeleteError), heartbeats (every message of a batch has
// its visibility extended while h runs, which Lambda does not do), Stats
// (counted per message). The options differ only in their defaults:
// Workers, which here bounds the messages held by running invocations,
// defaults to Pollers×MaxMessages, so that each poller's batch has an
// invocation (at most Pollers invocations run at once);
// SystemAttributeNames defaults to All, as Lambda's events carry them.
// ConsumerOptions.Resolver is not applied: as on Lambda, the handler
// resolves pointer bodies ([LambdaOptions].Resolver).
//
// Each record's EventSourceARN is derived from the queue URL
// (arn:aws:sqs:<region>:<account>:<name>, the region taken from an AWS
// endpoint's host name and empty otherwise), so that NewLambdaHandler
// recognises a FIFO queue. On a FIFO queue h must, as on Lambda, report
// every message from a group's first failure on.
func NewEventSourceMapping(client ConsumerAPI, queueURL string, h BatchHandler, optFns ...func(*ConsumerOptions)) (*Consumer, error) {
	c, err := NewConsumer(client, queueURL, nil, func(o *ConsumerOptions) {
		for _, f := range optFns {
			f(o)
		}
		if o.Workers <= 0 {
			pollers, per := o.Pollers, int(o.MaxMessages)
			if pollers <= 0 {
				pollers = DefaultPollers
			}
			if per <= 0 {
				per = MaxBatchEntries
			}
			o.Workers = pollers * per
		}
		if o.SystemAttributeNames == nil {
			o.SystemAttributeNames = []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}
		}
		o.Resolver = nil
	})
	if err != nil {
		return nil, err
	}
	c.batch = h
	c.arn = queueARN(queueURL)
	return c, nil
}

// workBatch runs the batch handler on one receive and acknowledges what it
// did not report as failed.
func (c *Consumer) workBatch(ctx, hardCtx, ackCtx context.Context, ms []types.Message, acks chan<- *string) {
	if ctx.Err() != nil {
		c.release(ackCtx, ms)
		return
	}
	var hb *heartbeat
	if c.opts.Heartbeat > 0 {
		hb = c.startHeartbeat(ackCtx, ms)
	}
	resp, err := c.batch(hardCtx, eventFromMessages(c.arn, ms))
	if hb != nil {
		hb.stop()
	}
	failed, whole := batchFailures(ms, resp)
	if err != nil || whole {
		c.log.Debug("sqsbatch: batch handler failed the whole batch", "messages", len(ms), "err", err)
	}
	var retry []types.Message
	for _, m := range ms {
		if err == nil && !whole && !failed[aws.ToString(m.MessageId)] {
			c.processed.Add(1)
			acks <- m.ReceiptHandle
			continue
		}
		c.failed.Add(1)
		c.inflight.Add(-1)
		retry = append(retry, m)
	}
	if len(retry) > 0 && c.opts.RetryDelay > 0 {
		c.changeVisibility(ackCtx, retry, c.opts.RetryDelay)
	}
}

// batchFailures returns the message ids resp reports as failed, and whole
// when an identifier is empty or names no message of the batch.
func batchFailures(ms []types.Message, resp events.SQSEventResponse) (failed map[string]bool, whole bool) {
	if len(resp.BatchItemFailures) == 0 {
		return nil, false
	}
	in := make(map[string]bool, len(ms))
	for _, m := range ms {
		in[aws.ToString(m.MessageId)] = true
	}
	failed = make(map[string]bool, len(resp.BatchItemFailures))
	for _, f := range resp.BatchItemFailures {
		if !in[f.ItemIdentifier] {
			return nil, true
		}
		failed[f.ItemIdentifier] = true
	}
	return failed, false
}

// eventFromMessages builds the Lambda event of a receive; the inverse of
// MessageFromEvent.
func eventFromMessages(arn string, ms []types.Message) events.SQSEvent {
	ev := events.SQSEvent{Records: make([]events.SQSMessage, len(ms))}
	for i, m := range ms {
		rec := events.SQSMessage{
			MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Md5OfBody: aws.ToString(m.MD5OfBody), Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: arn,
		}
		if len(m.MessageAttributes) > 0 {
			rec.MessageAttributes = make(map[string]events.SQSMessageAttribute, len(m.MessageAttributes))
			for k, a := range m.MessageAttributes {
				rec.MessageAttributes[k] = events.SQSMessageAttribute{
					DataType: aws.ToString(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue,
					StringListValues: a.StringListValues, BinaryListValues: a.BinaryListValues,
				}
			}
		}
		ev.Records[i] = rec
	}
	return ev
}

// queueARN derives a queue's ARN from its URL
// (https://sqs.<region>.amazonaws.com/<account>/<name>); "" if the URL has
// no account and name.
func queueARN(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	account, name, ok := strings.Cut(strings.Trim(u.Path, "/"), "/")
	if !ok || account == "" || name == "" || strings.Contains(name, "/") {
		return ""
	}
	region := ""
	if rest, ok := strings.CutPrefix(u.Hostname(), "sqs."); ok {
		region, _, _ = strings.Cut(rest, ".")
	}
	return "arn:aws:sqs:" + region + ":" + account + ":" + name
}
