// Package fanoutsim simulates what runs s3copy/fanout in AWS — SQS and a
// fleet of Lambda functions fed by SQS event source mappings — on a
// simulated clock, so that the real fan-out handlers (Fanout.Start,
// HandleShards, HandleTasks) can be measured at internet scale against the
// simulated S3 endpoint of s3copy/s3test/s3sim on one machine, every
// figure in simulated seconds.
//
//	sim, _ := s3sim.New()
//	q, _ := fanoutsim.NewSQS(func(o *fanoutsim.SQSOptions) { o.Now, o.Sleep = sim.Now, sim.Sleep })
//	tasks, _ := q.CreateQueue("tasks", map[string]string{"VisibilityTimeout": "1800"})
//	fleet, _ := fanoutsim.NewFleet(func(o *fanoutsim.FleetOptions) { o.Now, o.Sleep = sim.Now, sim.Sleep })
//	fleet.Map(q, tasks, func(ctx context.Context) (sqsbatch.BatchHandler, error) {
//		// what the worker Lambda's main does, once per execution environment
//		f, err := fanout.New(sim.Client(), q.Client(), copier, shards, tasks)
//		return f.HandleTasks, err
//	}, func(o *fanoutsim.MappingOptions) { o.BatchSize, o.MaximumConcurrency = 10, 1000 })
//	go fleet.Run(ctx)
//
// Run it inside a testing/synctest bubble: the clock is then virtual and
// exact whatever the machine's load (the S3 and SQS transports need no
// network). s3copy/fanout's BenchmarkFanoutSimVirtual fans the seed's
// 302,400 objects out with 10, 100 and 1,000 workers that way.
//
// # SQS
//
// [SQS] keeps standard queues in memory and answers SQS's JSON protocol
// (the current SDK's) through [SQS.Transport] or as an http.Handler, so
// code holding an *sqs.Client runs unchanged: CreateQueue, GetQueueUrl,
// GetQueueAttributes, SendMessage, SendMessageBatch, ReceiveMessage (long
// polling), DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility.
// Each request takes a lognormal latency (median 15 ms, σ 0.3). A received
// message is invisible for the queue's VisibilityTimeout (default 30 s)
// and delivered again unless deleted; a RedrivePolicy moves it to its
// dead-letter queue after maxReceiveCount receives.
//
// # The fleet
//
// Every default is an option a test can change.
//
//   - Account concurrency: 1,000 concurrent executions shared by every
//     function (FleetOptions.Concurrency); an invocation beyond it waits,
//     its batch in flight, and counts as a throttle.
//   - Cold starts: an invocation with no idle execution environment of its
//     function creates one: a lognormal cold start (median 150 ms, σ 0.4:
//     what Go on provided.al2023 reports as Init Duration) and then the
//     function's [Init] (its main before lambda.Start), whose requests take
//     their simulated time. Environments stay warm for the run.
//   - Every invocation costs InvokeOverhead (10 ms) before the handler.
//   - The event source mapping, as Lambda documents it for standard
//     queues: pollers long-poll the queue (ReceiveMessage, up to 10
//     messages, 20 s wait); a batch is up to BatchSize messages (default
//     10) gathered for up to MaximumBatchingWindow; the mapping starts with
//     five concurrent batches and, while messages are visible, adds one
//     every 200 ms (300 a minute) up to 1,000 batches or its
//     MaximumConcurrency. Messages a handler reports in BatchItemFailures
//     (ReportBatchItemFailures), or all of a batch whose handler returns an
//     error, panics or runs past the function's Timeout, are left to come
//     back after the visibility timeout; the others are deleted.
//
// Not modelled: scaling down, the 6 MB invocation payload limit, reserved
// and provisioned concurrency (set InitialConcurrency and
// ScaleUpPerMinute for provisioned mode), FIFO queues.
//
// # Concurrency
//
// An SQS and a Fleet are safe for concurrent use; Stats and Requests may be
// called at any time.
package fanoutsim
