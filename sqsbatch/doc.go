// Package sqsbatch sends to and consumes from SQS queues, for producers
// and consumers that must not lose or double-apply messages: a batching
// [Writer] (batches cut by entries and bytes, per-message [Result]s,
// retries of failed entries, bodies over the limit offloaded to S3), a
// streaming [CSVSource] and [WriteCSV] (one message per row), a
// long-polling [Consumer] (heartbeats, batched deletes, FIFO order), a
// Lambda adapter ([NewLambdaHandler]) returning partial batch responses
// and its local counterpart ([NewEventSourceMapping]: a Consumer that runs
// such a Lambda handler on a machine, as Lambda's event source mapping
// does), an idempotency layer ([Idempotency] over a [Store]:
// [MemoryStore], [DynamoStore]) and DLQ tools ([InspectDLQ], [Redrive]).
//
//	src, err := sqsbatch.OpenS3CSV(ctx, s3c, bucket, key, "", func(o *sqsbatch.CSVOptions) { o.KeyColumn = "order_id" })
//	if err != nil {
//		return err
//	}
//	defer src.Close()
//	w, err := sqsbatch.NewWriter(sqsc, queueURL)
//	if err != nil {
//		return err // an *OptionError
//	}
//	report, err := sqsbatch.WriteCSV(ctx, src, w, sqsbatch.SkipMalformed)
//
//	// In the consuming Lambda function:
//	store, err := sqsbatch.NewDynamoStore(ddb, table)
//	idem, err := sqsbatch.NewIdempotency(store, sqsbatch.KeyFromJSONField("order_id"))
//	lambda.Start(sqsbatch.NewLambdaHandler(idem.Wrap(process)))
//
// The package Example writes a CSV to a local queue and consumes it with
// each row's effect applied once. examples/sqs-dedup is a whole system built
// on the package (and says what it corrects in the seed it ports).
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
