// Package convert streams CSV into Hive-partitioned Parquet files and
// registers them in the Glue Data Catalog: the CSV → Parquet step of a data
// lake, as a Glue job's ApplyMapping and partitioned write would do it, in
// one process and bounded memory.
//
// A [Converter] reads CSV from any io.Reader (an S3 GetObject body, a
// file) and writes Parquet files into a [Sink] ([DirSink], or an [S3Sink]
// that streams each file through the SDK's transfer manager), never
// holding the whole input. The schema is inferred from a bounded sample as
// Glue's CSV classifier does (bigint, double, boolean, string; header
// detection; a leading zero keeps a column a string; ints mixed with
// floats are double) or given as a [Mapping] like Glue's ApplyMapping,
// with date and timestamp layouts in Java (dd/MM/yyyy) or Go style and
// decimals. Records that do not fit go to the Quarantine writer with their
// line number, column and reason, and are counted. Partitions come from
// the processing date ([ProcessingDatePartitions]) or from columns
// ([DatePartitions], [PartitionKey]); a rerun replaces the files of the
// partitions it writes, so a retried job never duplicates rows. A
// [Catalog] then creates or updates the Glue table from the converter's
// schema and adds its partitions, replacing a crawler run and MSCK REPAIR
// TABLE.
//
//	sink, err := convert.NewS3Sink(s3c, "lake", "refined/retail_sales/")
//	conv, err := convert.NewConverter(sink, func(o *convert.ConverterOptions) {
//		o.Mapping = mapping
//		o.Partitions = convert.ProcessingDatePartitions(time.Now())
//	})
//	res, err := conv.Convert(ctx, obj.Body)
//	spec := convert.TableSpecFor(res, "merchandise", "refined_retail_sales", "s3://lake/refined/retail_sales/", convert.Snappy)
//	cat, err := convert.NewCatalog(glueClient)
//	_, parts, err := cat.Register(ctx, spec, res)
//
// NULL rules: an empty field is NULL except in a string column, where it
// is "" unless EmptyStringsAsNull; NullValues adds NULL texts. The header
// is HeaderPresent, HeaderAbsent or HeaderDetect (Glue's rule;
// Result.HeaderAmbiguous reports an all-text sample it cannot decide).
// DropNullFields drops the columns that are NULL in every row of the run
// (never per row). Parquet types: bigint INT64, double DOUBLE, boolean
// BOOLEAN, string BYTE_ARRAY (STRING), date INT32 (DATE), timestamp INT64
// TIMESTAMP(MICROS, not adjusted to UTC, as Athena's timestamp has no
// zone), decimal(p≤18,s) INT64 DECIMAL; every column optional.
// Partition values are escaped as Hive does.
//
// # Errors
//
// A few bad records are data, not errors (Result.Quarantined). Convert
// fails with [*QuarantineError] (counts and the first reasons, never
// record values) when every data record is bad, when more than
// MaxQuarantineRatio are (default [DefaultMaxQuarantineRatio] with a
// Quarantine writer) or, without a Quarantine writer, when any is: a bad
// record is never dropped silently. It fails with [*SchemaError] for a
// mapping, header or partition that does not fit the input (a missing
// mapping source lists the input's column names in Columns),
// [*RecordTooLongError] past MaxRecordBytes, [ErrUnsafeName] for a file
// name that leaves the sink, or the wrapped reader, sink or context error.
// A failed Convert publishes no file and removes none. The constructors
// return an [*OptionError] for an option they cannot honour.
// [Catalog.EnsureTable] returns [*PartitionKeysChangedError] rather than
// re-partition a table; [Catalog.AddPartitions] reports each partition's
// outcome (an existing one is not an error).
//
// # Concurrency
//
// One Convert call runs a chunker goroutine that cuts the input at record
// boundaries into chunks of RowGroupRows records, Workers goroutines that
// parse and encode one chunk each into a Parquet row group (pages
// compressed in the worker), and one goroutine that commits the row groups
// in input order; at most Workers+2 chunks are alive, so memory follows
// the row-group size, not the file size, and all goroutines have ended
// when Convert returns. An S3Sink uploads up to Concurrency parts of each
// file at once. A Converter may run several Convert calls at once into
// different partitions; [Converter.Stats] gives live counters. Catalog and
// S3Sink are safe for concurrent use.
package convert
