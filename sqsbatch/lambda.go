package sqsbatch

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/lakekit/lakekit/internal/opt"
	"golang.org/x/sync/errgroup"
)

// LambdaOptions configure NewLambdaHandler.
type LambdaOptions struct {
	// Resolver, if set, resolves extended-client pointer bodies.
	Resolver *Resolver
	// Concurrency is how many messages of a batch from a standard queue are
	// handled at once. Default 1 (in order). FIFO batches are always handled
	// one at a time, in order.
	Concurrency int
	// Logger receives one record per failed message (id and error, never
	// the body). Nil: silent.
	Logger *slog.Logger
}

// NewLambdaHandler turns h into a Lambda SQS handler that reports partial batch
// failures: the event source mapping must enable ReportBatchItemFailures
// (FunctionResponseTypes), or Lambda treats the whole batch as processed.
// Messages are handled in order, one at a time (Lambda already runs batches
// concurrently), unless LambdaOptions.Concurrency lets a standard queue's
// batch run several at once. On a FIFO queue the first failure stops the batch and every
// message from it on is reported failed, so that order within a message
// group is kept.
//
// The handler never returns an error itself: a failure is always per
// message, so one bad message does not send the whole batch back.
func NewLambdaHandler(h Handler, optFns ...func(*LambdaOptions)) func(context.Context, events.SQSEvent) (events.SQSEventResponse, error) {
	var o LambdaOptions
	for _, f := range optFns {
		f(&o)
	}
	log := opt.Logger(o.Logger)
	one := func(ctx context.Context, rec events.SQSMessage) error {
		err := handle(ctx, o.Resolver, h, MessageFromEvent(rec))
		if err != nil {
			log.Warn("sqsbatch: message failed", "message_id", rec.MessageId, "err", err)
		}
		return err
	}
	return func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		fifo := len(ev.Records) > 0 && strings.HasSuffix(ev.Records[0].EventSourceARN, ".fifo")
		if !fifo && o.Concurrency > 1 {
			errs := make([]error, len(ev.Records))
			var g errgroup.Group
			g.SetLimit(o.Concurrency)
			for i, rec := range ev.Records {
				g.Go(func() error { errs[i] = one(ctx, rec); return nil })
			}
			_ = g.Wait()
			for i, err := range errs {
				if err != nil {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
				}
			}
			return resp, nil
		}
		for i, rec := range ev.Records {
			if one(ctx, rec) == nil {
				continue
			}
			if fifo {
				for _, rest := range ev.Records[i:] {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rest.MessageId})
				}
				return resp, nil
			}
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
		return resp, nil
	}
}

// MessageFromEvent converts a Lambda SQS record to the SDK message type the
// Handler takes.
func MessageFromEvent(rec events.SQSMessage) types.Message {
	m := types.Message{
		MessageId:     aws.String(rec.MessageId),
		ReceiptHandle: aws.String(rec.ReceiptHandle),
		Body:          aws.String(rec.Body),
		MD5OfBody:     aws.String(rec.Md5OfBody),
		Attributes:    rec.Attributes,
	}
	if len(rec.MessageAttributes) > 0 {
		m.MessageAttributes = make(map[string]types.MessageAttributeValue, len(rec.MessageAttributes))
		for k, a := range rec.MessageAttributes {
			m.MessageAttributes[k] = types.MessageAttributeValue{
				DataType: aws.String(a.DataType), StringValue: a.StringValue, BinaryValue: a.BinaryValue,
				StringListValues: a.StringListValues, BinaryListValues: a.BinaryListValues,
			}
		}
	}
	return m
}
