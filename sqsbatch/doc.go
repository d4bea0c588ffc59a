// Package sqsbatch is lakekit's SQS toolkit for seed system 1 (S3 CSV → SQS
// standard queue → concurrent processor with "no duplicates"): a batching
// [Writer], a streaming [CSVSource], a long-polling [Consumer], a Lambda
// adapter ([NewLambdaHandler]) returning partial batch responses and its
// local counterpart ([NewEventSourceMapping]: a Consumer that runs such a
// Lambda handler on a machine, as Lambda's event source mapping does), an
// idempotency layer ([Idempotency] over a [Store]: [MemoryStore],
// [DynamoStore]) and DLQ tools ([InspectDLQ], [Redrive]).
//
//	src, _ := sqsbatch.OpenS3CSV(ctx, s3c, bucket, key, "", func(o *sqsbatch.CSVOptions) { o.KeyColumn = "order_id" })
//	defer src.Close()
//	w := sqsbatch.New(sqsc, queueURL)
//	report, err := sqsbatch.WriteCSV(ctx, src, w, false) // skip and report malformed rows
//
//	idem := sqsbatch.NewIdempotency(sqsbatch.NewDynamoStore(ddb, table, ""), sqsbatch.KeyFromJSONField("order_id"))
//	lambda.Start(sqsbatch.LambdaHandler(idem.Wrap(process)))
//
// # What the seed got wrong, and what this package does instead
//
//   - "maxReceiveCount = 1 ensures deduplication": it does not. Standard
//     queues deliver at least once, so a message can be delivered twice
//     without ever failing, and a producer (or a re-delivered S3 event) can
//     send the same row twice. With maxReceiveCount 1 every message whose
//     first delivery failed for any passing reason (a timeout, a throttled
//     dependency, a Lambda scaled in) goes to the DLQ unprocessed; AWS
//     advises against it. Here "no duplicates" is a property of the
//     consumer: [Idempotency] claims the record's own unique key (never the
//     SQS message id) in a [Store] with a conditional write, applies the
//     effect once, and marks it completed; redeliveries and resent rows are
//     acknowledged without a second effect. Use maxReceiveCount ≥ 5 with a
//     DLQ (examples/sqs-dedup/template.yaml).
//   - The writer read the whole object into memory and split it on "\n",
//     which breaks quoted fields holding newlines and counts rows wrongly;
//     [CSVSource] streams the GetObject body through encoding/csv (header,
//     BOM, CRLF, quoted newlines and commas) and bounds one record.
//   - Batch entry Ids were the unique column's values: any value with
//     characters outside [A-Za-z0-9_-], longer than 80, or repeated within a
//     batch fails the whole call. The [Writer] makes its own Ids ("0".."9")
//     and reports each message's outcome against the caller's index and key.
//   - Failed entries were only printed. The Writer retries entries that
//     failed with SenderFault=false (full-jitter backoff, bounded attempts)
//     and gives every message a [Result]; a message too large for the queue
//     fails before any request ([TooLargeError]) or is offloaded to S3 in
//     the SQS Extended Client format ([Offload], [Resolver]).
//   - Batches were cut at 10 entries only; the Writer also cuts by payload
//     bytes (1 MiB per request by default, 256 KiB configurable).
//   - The processor returned a string on error, so Lambda deleted the batch;
//     [NewLambdaHandler] reports batchItemFailures per message (the event source
//     mapping needs ReportBatchItemFailures).
//
// # Errors
//
// Per-message outcomes are values, not one error: [Result.Err] is nil or an
// [*EntryError] (SQS refused the entry; SenderFault says whether it was
// retried), [*TooLargeError], [*RequestError] (the whole call failed after
// the SDK's retries; unwraps to the SDK error, or to a [*QueueError] once
// the queue is known unusable: missing, access or KMS key denied,
// credentials refused; the Writer then fails the rest without requests),
// [*OffloadError], [ErrNoResult] (SendAll returned before the message's
// batch finished) or a context error. Calls that cover many messages
// (SendAll, WriteCSV, Flush, Close) return a [*SendError] whenever one of
// them was not sent or the call ended early: it carries the counts and the
// first failures, and unwraps to them and to the cause (a context error,
// [ErrClosed], a fatal [*RowError]), so errors.Is(err,
// context.DeadlineExceeded) and errors.As(err, &entryErr) work. Every
// blocking Writer call returns promptly once its context ends, with that
// context's error.
//
// CSV problems are [*HeaderError] and [*RowError] (with the line; call Next
// again to skip, unless Fatal; [ErrRecordTooLarge], [*EncodingError] for a
// field that is not UTF-8, naming its column, line and offset).
// [Resolver.Resolve] returns a [*ResolveError] naming the bucket, key,
// size and limit ([ErrBucketNotAllowed], [ErrPayloadTooLarge], or the S3
// error) and [*ResolverConfigError] for a Resolver that cannot work.
// Idempotency returns [*InProgressError] when another worker holds the key
// (the message comes back later), [*KeyError] when a message has no key,
// and stores return [ErrLeaseLost] when a claim was taken over. Branch with
// errors.As / errors.Is.
//
// [Consumer.Run] (of a [NewConsumer] or a [NewEventSourceMapping]) returns
// nil only after a shutdown its context asked for.
// It stops by itself with a [*ReceiveError] when ReceiveMessage fails with
// an error retrying cannot fix (Permanent: the queue does not exist, access
// or the KMS key is denied, credentials or signature are invalid, the
// queue URL is not one: [ErrInvalidQueueURL]) or fails MaxReceiveFailures
// times in a row with transient errors (throttling, 5xx, connection
// faults), which it retries with full-jitter backoff; and with a
// [*DeleteError] when DeleteMessageBatch fails with an error retrying
// cannot fix. Both unwrap to the SDK's error.
//
// A Lambda handler built by [NewLambdaHandler] never returns an error: failures
// are reported per message.
//
// # Concurrency
//
// A [Writer] is safe for concurrent use; Send blocks while MaxInFlight
// batches or MaxInFlightBytes of payload are in flight and the current
// batch is full (backpressure), and WriterOptions.OnResult is called from the
// sending goroutines. No Writer call waits on another caller's context:
// waiting for capacity never holds the Writer's lock. Its memory is
// bounded by MaxInFlightBytes (4 MiB by default) plus two batches: streaming
// a 500 MB CSV from S3 peaked at 46 MiB RSS with 4 KiB rows and 72 MiB with
// 200 KiB rows (examples/sqs-dedup/memcheck). On FIFO queues it keeps one batch in flight so
// order holds across batches (an entry retried after a SenderFault=false
// failure lands after the later entries of its own batch).
// A [Consumer] runs Pollers long polls, Workers handlers (it receives only
// for idle workers, so no message waits unheartbeated for a worker) and
// Pollers delete loops; on a FIFO queue the messages of one group from a
// receive go to one worker, in order, and a failure gives the rest of the
// group back rather than let it overtake; Run returns after a graceful shutdown. A
// [CSVSource] is not safe for concurrent use. [MemoryStore], [DynamoStore]
// and [Idempotency] are safe for concurrent use; DynamoStore may be shared
// by many processes.
//
// # The closed-connection race
//
// Every SQS call this package makes carries [SafeRequestBody], which works
// around a race between net/http and smithy-go that made ReceiveMessage fail
// with "use of closed network connection" against fast servers and left the
// messages of the failed attempt invisible for a whole visibility timeout.
// See [SafeRequestBody] for the mechanism; TestSafeRequestBodyClosedConnectionRace
// reproduces it deterministically.
//
// # Exactly-once effect, precisely
//
// Idempotency guarantees that a key's handler runs to completion at most
// once while its completion record lives (CompletedTTL, 14 days by default:
// longer than any message can stay in SQS), and that a concurrent duplicate
// waits (WaitInProgress, 1 s by default, then an *InProgressError and a
// later redelivery) rather than running in parallel. A worker that dies after claiming
// holds the key until its Lease ends; then another takes over. A worker that
// dies after its effect but before the completion is recorded leaves the
// effect to be applied again after the lease: effects that cannot allow that
// must be idempotent in themselves (a conditional write keyed by the same
// key), or record their outcome in the same transaction. The window is
// small but real: in TestConsumerCrash, two SIGKILLs of a 16-worker
// consumer with DynamoStore caught 1–3 of 400 messages between effect and
// completion; the effect's own conditional write refused the second
// application, and TestConsumerCrashBetweenEffectAndCompletion shows a plain
// effect applied twice when killed exactly there.
package sqsbatch
