// Package fanout copies S3 trees with s3copy as three Lambda handlers
// driven through two SQS queues, for trees too large for one process: an
// orchestrator ([Fanout.Start]) sends the job's root shard to the shard
// queue; masters ([Fanout.HandleShards]) list their shards, split them into
// sub-shards and send the listed objects to the task queue; workers
// ([Fanout.HandleTasks]) copy them. [Fanout.Status] says when the job is
// done. It is the seed's orchestrator → master → slave fan-out
// (examples/oms-copy) with queues instead of chains of asynchronous Lambda
// invokes, so failed work is retried and dead-lettered, not lost.
//
//	f, err := fanout.New(s3c, sqsc, copier, shardQueueURL, taskQueueURL, func(o *fanout.FanoutOptions) {
//		o.StatusLocation = s3copy.Location{Bucket: "ops", Prefix: "copy-jobs/"}
//	})
//	if err != nil {
//		return err // an *OptionError
//	}
//	lambda.Start(f.HandleTasks) // the worker function; HandleShards in the master's
//
// The package Example runs a whole job on this machine: the same handlers
// under sqsbatch.NewEventSourceMapping, which does what Lambda's event
// source mapping does (NewEventSourceMapping(sqsc, shardQueueURL,
// f.HandleShards), then Run).
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
//
// # How a job runs
//
//   - Start validates the job and sends its root shard.
//   - HandleShards (one invocation per batch of shard messages, handled
//     FanoutOptions.ListConcurrency at a time) lists its shard. A shard
//     shallower than FanoutOptions.ShardDepth is expanded in the same
//     invocation: its folders, and theirs, are listed level by level
//     (ListConcurrency listings at once) down to ShardDepth, as long as a
//     level holds at most FanoutOptions.MaxShardsPerMessage folders, and
//     the last level's folders go back to the shard queue interleaved
//     across their parents (the first partition of every folder, then the
//     second…). Masters then list those leaves and send their objects to
//     the task queue, FanoutOptions.TaskObjects per message, so the
//     workers copy all of the tree side by side from the start: S3 splits
//     a busy destination partition where the keys it serves diverge, and a
//     copy that goes folder by folder makes it split one folder at a time
//     (s3copy/fanout/fanoutsim measures it). A huge folder is cut after
//     FanoutOptions.PagesPerMessage pages and continued by another
//     invocation (StartAfter), so no invocation hits the Lambda time
//     limit.
//   - HandleTasks copies the objects of a batch of task messages with an
//     s3copy.Copier, the whole batch under the copier's one concurrency
//     limit: the listing's sizes and ETags travel in the messages, so each
//     object costs one CopyObject (multipart above the copier's
//     threshold), with the copier's shared backoff.
//   - Each handled message leaves a small status object whose key holds
//     its counts; Status sums them with one listing and reads the queues'
//     depths, so completion is counted (Done).
//
// s3copy/fanout/fanoutsim runs these handlers on a simulated Lambda fleet
// and SQS against s3copy/s3test/s3sim: BenchmarkFanoutSimVirtual copies the
// seed's 302,400 objects with 10, 100 and 1,000 workers in simulated time
// (figures in examples/oms-copy/README.md).
//
// The handlers return partial batch responses (set ReportBatchItemFailures
// on the event source mappings); messages that keep failing go to the
// queues' dead-letter queues. Messages are sent with an sqsbatch.Writer
// (batches and messages up to SQS's 1 MiB limits, per-entry retry).
package fanout
