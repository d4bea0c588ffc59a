package kda

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/lakekit/lakekit/internal/opt"
)

// KinesisRecord is one user record handed to a RecordHandler, with where it
// came from.
type KinesisRecord struct {
	UserRecord
	ShardID        string
	SequenceNumber string // of the Kinesis record (shared by a KPL aggregate's records)
	ArrivalTime    time.Time
}

// RecordHandler processes one user record. An error marks the record as
// failed: it and every later record of its shard are retried.
type RecordHandler func(ctx context.Context, r KinesisRecord) error

// LambdaOptions configures NewLambdaHandler.
type LambdaOptions struct {
	// AfterBatch runs after every record was handled (for example to flush
	// deliveries, so that nothing is buffered in a frozen Lambda). If it
	// fails, the whole batch is reported failed and retried. Default nil.
	AfterBatch func(ctx context.Context) error
	// Logger gets a warning per failed record (sequence number and error,
	// never data). Default: discarded.
	Logger *slog.Logger
}

// NewLambdaHandler returns a Lambda handler for a Kinesis event source
// mapping with ReportBatchItemFailures enabled. Records are de-aggregated
// (KPL) and handled in order, shard by shard. At the first failure in a
// shard the handler stops that shard and reports the failed record's
// sequence number: Lambda then checkpoints just before it and retries from
// there, so earlier records are not reprocessed and later ones are not
// skipped. A failure inside a KPL aggregate reports the aggregate, whose
// earlier user records will be seen again (at-least-once).
func NewLambdaHandler(h RecordHandler, optFns ...func(*LambdaOptions)) func(context.Context, events.KinesisEvent) (events.KinesisEventResponse, error) {
	var o LambdaOptions
	for _, f := range optFns {
		f(&o)
	}
	o.Logger = opt.Logger(o.Logger)
	return func(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
		var resp events.KinesisEventResponse
		failedShard := map[string]bool{}
		firstOfShard := map[string]string{}
		var shardOrder []string
		for _, r := range ev.Records {
			shard := shardOf(r)
			if _, ok := firstOfShard[shard]; !ok {
				firstOfShard[shard] = r.Kinesis.SequenceNumber
				shardOrder = append(shardOrder, shard)
			}
			if failedShard[shard] {
				continue
			}
			if err := handleOne(ctx, h, shard, r); err != nil {
				failedShard[shard] = true
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.Kinesis.SequenceNumber})
				o.Logger.Warn("kda: record failed; retrying from it", "shard", shard, "sequenceNumber", r.Kinesis.SequenceNumber, "error", err)
			}
		}
		if o.AfterBatch != nil {
			if err := o.AfterBatch(ctx); err != nil {
				o.Logger.Warn("kda: after-batch step failed; retrying the batch", "error", err)
				resp.BatchItemFailures = resp.BatchItemFailures[:0]
				for _, s := range shardOrder {
					resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: firstOfShard[s]})
				}
			}
		}
		return resp, nil
	}
}

func handleOne(ctx context.Context, h RecordHandler, shard string, r events.KinesisEventRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, u := range userRecords(r.Kinesis.Data, r.Kinesis.PartitionKey) {
		kr := KinesisRecord{UserRecord: u, ShardID: shard, SequenceNumber: r.Kinesis.SequenceNumber, ArrivalTime: r.Kinesis.ApproximateArrivalTimestamp.Time}
		if err := h(ctx, kr); err != nil {
			return err
		}
	}
	return nil
}

// shardOf reads the shard from the event id ("shardId-000000000000:seq").
func shardOf(r events.KinesisEventRecord) string {
	if s, _, ok := strings.Cut(r.EventID, ":"); ok {
		return r.EventSourceArn + "/" + s
	}
	return r.EventSourceArn
}
