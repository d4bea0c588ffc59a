// Package local runs Amazon States Language definitions on this machine,
// with Go task handlers bound to resource ARNs — the same handler functions
// that Lambda mains pass to lambda.Start — so a state machine can be
// executed end to end in tests and local runs.
//
//	vc := local.NewVirtualClock(start)
//	r, err := local.New(def, func(o *local.RunnerOptions) { o.Now, o.Sleep = vc.Now, vc.Sleep })
//	r.Handle("arn:aws:lambda:…:function:transfer-status", local.Func(pipeline.TransferStatus))
//	ex, err := r.Run(ctx, "20190821-1a2b3c4d", input)
//	// ex.Status, ex.Output, ex.Error, ex.Cause, ex.History
//
// What it implements, as AWS documents it: InputPath, Parameters (keys
// ending in ".$" take a JSONPath of the input, or of the context object
// with "$$."), ResultSelector, ResultPath (including null) and OutputPath;
// Retry with per-retrier attempt counts, IntervalSeconds × BackoffRate^n,
// MaxDelaySeconds and FULL jitter; Catch with ResultPath receiving
// {"Error", "Cause"}; the ErrorEquals wildcards (States.ALL matches all
// but States.Runtime and States.DataLimitExceeded; States.TaskFailed all
// of those but States.Timeout); every Choice operator, And/Or/Not; Wait
// by Seconds, SecondsPath, Timestamp or TimestampPath; Parallel (branches
// run one after another, so a virtual clock stays deterministic); Task and
// execution TimeoutSeconds; a history of events named as in
// GetExecutionHistory.
//
// Time comes from [RunnerOptions].Now and Sleep: with a [VirtualClock]'s,
// Waits and retry intervals take no real time and tests can assert them
// exactly. Task handlers read the runner's time with [Now] and wait on it
// with [Sleep], so their own polling (lakepipe's crawler and job control,
// given PollOptions.Sleep = local.Sleep) runs on it too.
//
// Intrinsic functions in Parameters and ResultSelector: States.Format,
// States.StringToJson, States.JsonToString, States.Array,
// States.ArrayLength and States.MathAdd; others fail the state with
// States.IntrinsicFailure.
//
// [Service] answers StartExecution and DescribeExecution with a Runner, so
// a trigger written against the Step Functions client (lakepipe.Trigger)
// starts local executions.
//
// Not implemented: Map states, the other intrinsic functions,
// HeartbeatSeconds, Task Credentials and …Path timeouts, and JSONata.
//
// # Errors
//
// A task handler's error fails the task with the name Step Functions would
// report for a Go Lambda ([ErrorName]: the error's type name, so return
// named error types unwrapped), or with a [TaskError]'s explicit name.
// [Runner.Run] returns an error only for misuse (no handler for a
// resource, input that is not JSON) and cancellation; a failed execution
// is an [Execution] with Status FAILED or TIMED_OUT, its Error and Cause,
// and the state it failed in.
//
// # Concurrency
//
// A Runner may run many executions at once; register handlers before the
// first Run. One execution runs its states on the calling goroutine.
package local
