// Package fanout runs s3copy as the seed's orchestrator → master → slave
// Lambda fan-out, driven through SQS instead of chains of asynchronous
// Lambda invokes.
//
//   - Start (the orchestrator) sends the job's root shard to the shard
//     queue.
//   - HandleShards (the master, one invocation per batch of shard messages)
//     lists its shard: while shallower than FanoutOptions.ShardDepth it sends the
//     shard's common prefixes back to the shard queue (the seed's "master
//     per folder", and per partition one level down), and sends the
//     objects it lists to the task queue, FanoutOptions.TaskObjects per message.
//     A huge folder is cut after FanoutOptions.PagesPerMessage pages and continued
//     by another invocation (StartAfter), so no invocation hits the Lambda
//     time limit.
//   - HandleTasks (the worker, the seed's slave) copies the objects of a
//     batch of task messages with an s3copy.Copier, the whole batch under
//     the copier's one concurrency limit: the listing's sizes and ETags
//     travel in the messages, so each object costs one CopyObject (multipart
//     above the copier's threshold), with the copier's shared backoff.
//   - Each handled message leaves a small status object whose key holds its
//     counts; Status sums them with one listing and reads the queues'
//     depths, so completion is counted (Done) instead of guessed from the
//     newest LastModified in the destination, as the seed did.
//
// The handlers return partial batch responses (set ReportBatchItemFailures
// on the event source mappings); messages that keep failing go to the
// queues' dead-letter queues instead of being lost like failed
// asynchronous invokes. The fan-out sends its messages with an
// sqsbatch.Writer (batching to SQS's limits, per-entry retry). To run the
// same handlers on a machine (tests, examples/oms-copy), give them to
// sqsbatch.NewEventSourceMapping, which does what Lambda's event source
// mapping does:
//
//	shards := sqsbatch.NewEventSourceMapping(sqsClient, shardQueueURL, f.HandleShards)
//	tasks := sqsbatch.NewEventSourceMapping(sqsClient, taskQueueURL, f.HandleTasks)
//	// run shards.Run(ctx) and tasks.Run(ctx); each returns a
//	// *sqsbatch.ReceiveError or *sqsbatch.DeleteError when it cannot go on.
//
// # Errors
//
// Messages that can't be decoded or are invalid wrap ErrBadMessage: they are
// logged, counted (Status.BadMessages) and dropped, never retried. Other
// failures report the message as failed so SQS delivers it again: a
// listing error, including a broken listing answer (s3copy.ErrListing: a
// truncated page with no continuation token, or the same token again); a
// *SendError when not every task or sub-shard could be sent (it unwraps to
// the *sqsbatch.SendError and through it to each failure); a copy error.
// A task message still failing on its MaxReceives-th delivery is
// acknowledged and its failed objects counted in Status.Failed and logged.
// Start returns a *SendError when its root shard could not be sent, and
// Status a broken listing of the status records as s3copy.ErrListing.
//
// # Concurrency
//
// A Fanout is safe for concurrent use: Lambda may run a handler on many
// batches at once. Delivery is at least once: a message may be handled
// twice, which copies its objects twice (idempotent) and is counted once
// by Status.
package fanout
