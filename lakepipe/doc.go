// Package lakepipe holds the batch-pipeline steps of seed systems 5 and 7:
// landing-event parsing, zone transfers with Hive partition prefixes (on
// s3copy), transfer verification with named error types for Step Functions
// retriers, Glue crawler and job control that reads LastCrawl.Status (a
// FAILED crawl is an error), a streaming CSV → Parquet converter and Glue
// catalog registration. The typed Amazon States Language builder and
// validator are in package lakepipe/asl, the local runner in
// lakepipe/asl/local, and the Athena/SPICE cost model in lakepipe/cost.
//
// # Step Functions pipeline (seed system 5)
//
// A CSV named like customers_20190821.csv lands in data/landing/. [Trigger]
// (the invoke-step-function Lambda) parses the S3 notification with a
// [LandingParser] (pattern {name}_{yyyyMMdd}.csv by default, URL-decoded
// keys) and starts one execution per file, named {yyyymmdd}-{hex} with
// input {year, month, day, dataset, bucket, key}. mlpipeline.Definition returns
// the state machine as typed ASL (package asl): [Transfers.Step] copies
// the file to data/raw/{dataset}/year=/month=/day=/ with s3copy,
// [TransferVerifier.Check] verifies it (retried 30 s × 2, 5 times, on
// TransferIncompleteError), the raw crawler runs as a Wait/Choice loop
// over [Crawlers.StartStep] and [Crawlers.StatusStep], the Glue job runs
// through glue:startJobRun.sync ([Jobs] outside Step Functions), the
// refined crawler likewise, and the file moves to data/archive/YYYY-MM-DD/
// (copy, verify, then delete), verified again. Package asl/local runs that
// definition on this machine with these same handler functions; see
// examples/ml-pipeline.
//
//	p, _ := lakepipe.NewLandingParser()
//	l, err := p.ParseKey("lake", "data/landing/customers_20190821.csv", sequencer)
//	def, _ := mlpipeline.Definition(mlpipeline.DefinitionConfig{Bucket: "lake", Functions: fns})
//	r, _ := local.New(def)
//	r.Handle(fns.TransferStatus, local.Func(lakepipe.NewTransferVerifier(s3c, "").Check))
//
// Errors of the pipeline steps: the step handlers return named types
// unwrapped — [*TransferIncompleteError], [*PrefixNotEmptyError],
// [*CrawlerFailedError], [*JobRunFailedError] — because a Go Lambda
// reports the error's type name as errorType, which is what a Step
// Functions Retry or Catch matches (ErrName… constants hold the names);
// [*KeyMismatchError] names a landed key that does not match the pattern.
// Callers branch with errors.As. SDK errors are wrapped with the operation.
//
// Concurrency of the pipeline steps: [Trigger], [Transfers],
// [TransferVerifier], [Crawlers] and [Jobs] are safe for concurrent use;
// polling ([Crawlers.Wait], [Jobs.Wait]) sleeps on the local runner's clock
// when called from one of its handlers, so tests never sleep.
//
// Corrections to seed system 5:
//   - "States.All" is not the wildcard: "States.ALL" is, alone in its
//     ErrorEquals and in the last retrier or catcher (asl.Validate rejects
//     both mistakes); the seed's second retriers matched nothing.
//   - The retriers named LandingToRawFileTransferInCompleteException while
//     the Lambda raised …IncompleteException: the retry never fired. Here
//     the names come from the Go types (ErrNameTransferIncomplete).
//   - The crawler check read GetCrawlerMetrics, which says nothing about
//     success: a FAILED crawl looked done. [Crawlers.Status] reads
//     GetCrawler's State and LastCrawl.Status; a failed or cancelled crawl
//     is a [*CrawlerFailedError]. Polling is a Wait/Choice loop, not a Lambda
//     failing on purpose to be retried (which also capped a crawl at
//     30+60+120+240+480 s).
//   - Verification compared object counts: a missing copy plus an unrelated
//     object passed, a truncated copy passed. [VerifyTransfer] compares key
//     sets and sizes.
//   - The archive step's destination_prefix was data/raw/, and the transfer
//     Lambda appended to destination_prefix inside its loop, so a second
//     file went to a nested path. [TransferRequest.Plan] computes each
//     destination from fixed parts and rejects keys, datasets and dates
//     that would escape their prefix; the archive deletes only after the
//     copy is verified.
//   - The file name was split on '/' at index 2 and on '_' at index 1: a
//     dataset with an underscore or a deeper prefix broke it. The pattern
//     is configurable and matches the whole name.
//   - Execution names had 2 random hex digits (256 per day, then
//     ExecutionAlreadyExists) and a duplicated S3 notification started a
//     second execution. Names hash bucket, key and sequencer: a duplicate
//     gets the same name and is refused.
//   - GlueJobPassed read $.Arguments.--year from the job's output; the job
//     result now goes to $.glue_job (ResultSelector) and the input is kept.
//
// # CSV → Parquet converter and Glue catalog (seed system 7)
//
// A [Converter] streams CSV from any io.Reader (an S3 GetObject body, a
// file) into Hive-partitioned Parquet files in a [Sink] ([DirSink], or
// [S3Sink] with multipart uploads), never holding the whole input: one
// goroutine cuts the input at record boundaries into chunks of
// RowGroupRows records, Workers goroutines parse and encode one chunk each
// into a Parquet row group (parquet-go's ConcurrentRowGroupWriter, pages
// compressed in the worker), and one goroutine commits the row groups in
// input order; at most Workers+2 chunks are alive, so memory follows the
// row-group size (RowGroupRows, capped by RowGroupBytes), not the file
// size. [Converter.Stats] gives live counters. The schema is inferred from a bounded
// sample as Glue's CSV classifier does (bigint, double, boolean, string;
// header detection; a leading zero keeps a column a string; ints mixed
// with floats are double) or given as a [Mapping] like Glue's
// ApplyMapping, with date and timestamp layouts in Java (dd/MM/yyyy) or Go
// style and decimals. NULL rules: an empty field is NULL except in a
// string column, where it is "" unless EmptyStringsAsNull; NullValues adds
// NULL texts. Records that do not fit (field count, a value of the wrong
// type, a bare or unterminated quote) go to the Quarantine writer with
// their line number, column and reason, and are counted. A run fails with
// [*QuarantineError] (and publishes nothing) when every data record is
// bad, when more than MaxQuarantineRatio are (default
// [DefaultMaxQuarantineRatio] with a Quarantine writer), or, without a
// Quarantine writer, when any is: a bad record is never dropped silently.
// The header is HeaderPresent, HeaderAbsent or HeaderDetect (Glue's CSV
// classifier rule; ConvertResult.HeaderAmbiguous reports an all-text
// sample it cannot decide). Partitions come from the processing date
// ([ProcessingDatePartitions]) or from columns ([DatePartitions],
// [PartitionKey]); values are escaped as Hive does. A rerun replaces the
// files of the partitions it writes (KeepOtherRuns narrows that to files
// of the same RunID), so a retried job never duplicates rows.
// DropNullFields drops the columns that are NULL in every row of the run
// (never per row), rewriting the output only when there is such a column.
// [Catalog] then creates or updates the Glue table from the converter's
// schema and adds its partitions with BatchCreatePartition, replacing the
// refined crawler and MSCK REPAIR TABLE. Parquet types: bigint INT64,
// double DOUBLE, boolean BOOLEAN, string BYTE_ARRAY (STRING), date INT32
// (DATE), timestamp INT64 TIMESTAMP(MICROS, not adjusted to UTC, as
// Athena's timestamp has no zone), decimal(p≤18,s) INT64 DECIMAL; every
// column optional. Package lakepipe/cost holds the Athena/SPICE cost model
// of seed system 4.
//
//	sink := lakepipe.S3Sink(s3c, "lake", "refined/retail_sales")
//	res, err := lakepipe.NewConverter(sink, func(o *lakepipe.ConverterOptions) {
//		o.Mapping = mapping
//		o.Partitions = lakepipe.ProcessingDatePartitions(time.Now())
//	}).Convert(ctx, obj.Body)
//	spec := lakepipe.TableSpecFor(res, "merchandise", "refined_retail_sales", "s3://lake/refined/retail_sales/", lakepipe.Snappy)
//	_, parts, err := lakepipe.NewCatalog(glueClient).Register(ctx, spec, res)
//
// Errors of the converter and catalog: a few bad records are data, not
// errors (ConvertResult.Quarantined). Convert fails with [*QuarantineError]
// (counts and the first reasons, never record values) when too many
// records are bad, [*SchemaError] for a mapping, header or partition that
// does not fit the input (a missing mapping source lists the input's real
// column names in Columns), [*RecordTooLongError] past MaxRecordBytes,
// [*OptionError] for an invalid ConverterOptions field, [ErrUnsafeName]
// for a file name that leaves the sink, or the wrapped reader, sink or
// context error. A failed Convert publishes no file and removes none.
// [Catalog.EnsureTable] returns [*PartitionKeysChangedError] rather than
// re-partition a table; [Catalog.AddPartitions] reports each partition's
// outcome (an existing one is not an error).
//
// Concurrency of the converter and catalog: a Converter runs Workers+2
// goroutines per Convert call, all ended when it returns; one Converter
// may run several Convert calls at once into different partitions. Catalog
// is safe for concurrent use.
//
// Corrections to seed system 7:
//   - The job partitioned by datetime.now() with str(now.month): month=3,
//     not month=03, in the server's local time. [ProcessingDatePartitions]
//     zero-pads and uses UTC.
//   - The job declared purchase_date a date in ApplyMapping but cast it to
//     a timestamp with unix_timestamp(…).cast(TimestampType()), midnight in
//     the Spark session's time zone. The mapping here converts dd/MM/yyyy
//     to a DATE, with no time zone involved.
//   - Rerunning the job appended a second copy of the data; here a rerun
//     replaces the partition.
//   - New partitions needed a crawler run or MSCK REPAIR TABLE; the
//     converter's schema is registered directly ([Catalog.Register]).
//   - parquet-go v0.32.0 writes wrong values for a time.Time field tagged
//     date (int32 of UnixNano); dates are written as INT32 days since the
//     epoch with the DATE logical type and checked through DuckDB
//     (examples/lake-etl/duckdb).
package lakepipe
