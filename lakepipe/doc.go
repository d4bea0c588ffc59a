// Package lakepipe is the steps of a batch data-lake pipeline run by AWS
// Step Functions, each a plain Go function that a Lambda main passes to
// lambda.Start and that the local ASL runner (lakepipe/asl/local) calls
// directly:
//
//   - [Trigger] (an S3 ObjectCreated notification → StartExecution) parses
//     landed keys with a [LandingParser] (pattern {name}_{yyyyMMdd}.csv by
//     default) and starts one execution per file, named from bucket, key
//     and sequencer so that a duplicated notification starts nothing new;
//   - [Transfers.Step] copies a landed file into its zone with s3copy — a
//     Hive partition (data/raw/{dataset}/year=/month=/day=/) or the archive
//     (copy, verify, then delete) — and [TransferVerifier.Check] checks it
//     by key and size ([VerifyTransfer], [VerifyEmpty]);
//   - [Crawlers] and [Jobs] start Glue crawlers and job runs and poll them,
//     reading a crawler's LastCrawl.Status, so a failed crawl is an error.
//
// A landed key, the execution it starts and the raw-zone transfer it plans:
//
//	p, _ := lakepipe.NewLandingParser()
//	l, err := p.ParseKey("lake", "data/landing/customers_20190821.csv", sequencer)
//	in := l.Input() // {year, month, day, dataset, bucket, key}
//	plan, err := lakepipe.TransferRequest{Step: lakepipe.StepLandingToRaw, Bucket: in.Bucket,
//		SourcePrefix: lakepipe.DefaultLandingPrefix, DestinationPrefix: "data/raw/",
//		Key: in.Key, Dataset: in.Dataset, Year: in.Year, Month: in.Month, Day: in.Day}.Plan()
//
// The state machine that strings the steps together is the application's;
// examples/ml-pipeline builds one with package lakepipe/asl and runs it
// locally. The CSV → Parquet converter and the Glue catalog are in
// lakepipe/convert, the Athena/SPICE cost model in lakepipe/cost.
//
// # Errors
//
// The step handlers return named error types unwrapped —
// [*TransferIncompleteError], [*PrefixNotEmptyError],
// [*CrawlerFailedError], [*JobRunFailedError] — because a Go Lambda
// reports the error's type name as errorType, which is what a Step
// Functions Retry or Catch matches (the ErrName… constants hold the
// names). [*KeyMismatchError] names a landed key that does not match the
// pattern. Callers branch with errors.As. SDK errors are wrapped with the
// operation.
//
// # Concurrency
//
// [Trigger], [Transfers], [TransferVerifier], [Crawlers] and [Jobs] are
// safe for concurrent use. Polling ([Crawlers.Wait], [Jobs.Wait]) sleeps
// with PollOptions.Sleep: a real timer by default, the local runner's
// (virtual) clock with local.Sleep, so tests never sleep.
package lakepipe
