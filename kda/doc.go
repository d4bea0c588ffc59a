// Package kda runs Kinesis Data Analytics (KDA) SQL applications in Go, now
// that KDA for SQL is retired: JSON records from a Kinesis data stream go
// through the application's pumps, and the rows of its output streams go to
// S3 the way Firehose writes them (or to a real Firehose). The same
// application runs in a Lambda with a Kinesis trigger or in a container
// that polls the stream.
//
// An application in a Lambda:
//
//	engine, err := kda.NewEngine(sql, []kda.Input{{Columns: cols}}) // cols: see DiscoverSchema
//	anomalies, err := kda.NewDelivery(s3Client, "bucket", "anomaly-delivery-stream",
//		func(o *kda.DeliveryOptions) { o.Prefix = "data/anomaly/year=!{timestamp:yyyy}/" })
//	app, err := kda.NewApp(engine, "", kda.Output{Stream: "anomaly_data_stream", Sink: anomalies})
//	lambda.Start(kda.NewLambdaHandler(app.HandleRecord, func(o *kda.LambdaOptions) { o.AfterBatch = app.Flush }))
//
// Or give it the application's description (its SQL, input schema and
// OutputDescriptions) and the clients its destinations need, and it runs:
//
//	desc, err := kda.ParseApplication(describeApplicationJSON)
//	engine, err := desc.NewEngine()
//	app, err := desc.NewApp(engine, kda.Destinations{Kinesis: kinesisClient, Firehose: firehoseClient, Lambda: lambdaClient})
//
// Windows span invocations when the engine's window state is kept with
// the checkpoints (Engine.State/RestoreState, or SaveState/LoadState with
// a StateStore: MemoryCheckpoints or DynamoDBCheckpoints): load it when
// the Lambda starts and save it after each batch, and the same records
// give the same rows in one invocation or a hundred, and after a restart:
//
//	loaded, err := engine.LoadState(ctx, checkpoints, "app") // at cold start
//	o.AfterBatch = func(ctx context.Context) error {
//		if err := app.Flush(ctx); err != nil {
//			return err
//		}
//		return engine.SaveState(ctx, checkpoints, "app")
//	}
//
// When AfterBatch fails Lambda retries the whole batch: LoadState again
// before it so that its records are not counted twice. A state is
// versioned and checked when read; one that cannot be used is a
// *StateError. DynamoDBCheckpoints splits a state over DynamoDB's item
// size into parts (a RANDOM_CUT_FOREST's 100 trees take about 750 KB);
// one over MaxDynamoDBStateParts of them is a *StateTooLargeError.
//
// In a container, NewConsumer(kinesisClient, streamARN, handler) polls the
// stream instead, with MemoryCheckpoints or DynamoDBCheckpoints. The
// package example runs an application with no AWS at all.
//
// The pieces:
//
//   - Engine (NewEngine): the KDA SQL subset — CREATE [OR REPLACE]
//     STREAM/PUMP, CREATE [OR REPLACE] FUNCTION f(p type, …) RETURNS type
//     … RETURN expr (functions written in SQL: compiled once, arguments of
//     exactly the parameters' types, overloads, RETURNS NULL ON NULL
//     INPUT; recursion is a compile error), INSERT INTO … SELECT STREAM …
//     FROM … WHERE …, GROUP BY
//     [HAVING] with STEP("s".ROWTIME BY INTERVAL 'n' SECOND|MINUTE|HOUR)
//     (or FLOOR(… TO unit)) tumbling windows and COUNT/SUM/AVG/MIN/MAX,
//     sliding windows (agg OVER w with WINDOW w AS ([PARTITION BY …] RANGE
//     INTERVAL 'n' unit PRECEDING | ROWS n PRECEDING | RANGE|ROWS
//     UNBOUNDED PRECEDING | … CURRENT ROW, or BETWEEN one of those AND
//     CURRENT ROW), or an inline OVER (…); COUNT, SUM, AVG, MIN, MAX,
//     STDDEV_*/VAR_*, ANY, EVERY (each also with DISTINCT), FIRST_VALUE,
//     LAST_VALUE, LAG, NTH_VALUE, EXP_AVG; one output row per input row;
//     FOLLOWING is an error, a stream's windows end with the current
//     row), [INNER] JOIN and
//     LEFT [OUTER] JOIN of the stream with a reference table ON a
//     condition or USING (col, …) (EngineOptions.Tables; equalities with
//     a table column are a hash index, the rest filters; one row per
//     match), CROSS JOIN and FROM s, t [WHERE …] with a table (every
//     stream row × every table row, as many rows out per row in as the
//     table has; a WHERE is the join's ON), JOIN of two streams over a
//     window (FROM a [OVER (…)] JOIN b OVER (RANGE … | [PARTITION BY …]
//     ROWS n PRECEDING) ON … | USING (…), CROSS JOIN and comma joins
//     too: a pair comes out when its later row arrives; LEFT/RIGHT/FULL
//     JOIN's unpaired rows once they can pair no more), SELECT * over a
//     join (the USING columns once, then each side's other columns),
//     chains of JOINs, left-associative (FROM s JOIN t1 … LEFT JOIN t2
//     …: any number of reference tables, each with its own hash index and
//     an ON that may read every earlier side; a join of two streams then
//     tables, or tables then a stream with a RANGE window or none; a
//     third stream is an error),
//     SELECT STREAM
//     DISTINCT with a monotonic item (ROWTIME, STEP(ROWTIME …) or
//     MONOTONIC(…)), also with OVER or GROUP BY,
//     COUNT/SUM/AVG/MIN/MAX(DISTINCT x), STDDEV_*/VAR_*, ANY and EVERY in
//     tumbling and stagger windows, GROUP BY MONOTONIC(x) (a window that
//     closes when x moves on; a value against its direction goes to the
//     error_stream), UNION ALL of a
//     pump's SELECTs, a pump's streaming ORDER BY (its leading expression
//     ROWTIME or STEP/FLOOR(ROWTIME …); the rows of each of
//     its values come out, once it moves on, sorted by the other keys —
//     ASC/DESC, NULLS FIRST/LAST, ordinals, aliases, aggregates — with the
//     ROWTIME of the latest; at most MaxOrderRows gathered per value), WINDOWED BY STAGGER (PARTITION BY … RANGE INTERVAL
//     …: a window per key, opened by its first row), subqueries in FROM
//     (SELECT STREAM … FROM (SELECT STREAM …) AS T, with T.REC.COLUMN1 for a
//     row-valued column and AS l(r) column lists; SELECT STREAM * inside,
//     a UNION ALL of SELECTs, an ORDER BY, also in a CURSOR), the table functions
//     TOP_K_ITEMS_TUMBLING and COUNT_DISTINCT_ITEMS_TUMBLING (FROM
//     TABLE(f(CURSOR(SELECT STREAM … [UNION ALL …]), …)), or JOIN
//     TABLE(…) OVER (…) as a stream; exact up to 10,000 distinct
//     values, Space-Saving counters and HyperLogLog above), GROUP_RANK
//     (RANK() of each group of rows sharing a ROWTIME, such as a GROUP
//     BY's window; its CREATE FUNCTION … EXTERNAL NAME declaration is
//     accepted), [NOT] IN (SELECT …), (a, b) IN (SELECT …), [NOT]
//     EXISTS (SELECT …) and scalar subqueries (SELECT x FROM "table" …)
//     over a reference table (NULL when no row matches, an error row
//     when more than one does), the temporal predicates
//     CONTAINS, OVERLAPS, EQUALS, [IMMEDIATELY] PRECEDES | SUCCEEDS over
//     TIMESTAMP periods ([PERIOD] (s, e)),
//     ROWTIME, CAST (the reference's type pairs), CASE, [NOT]
//     BETWEEN/IN/LIKE [ESCAPE]/SIMILAR TO, IS [NOT] NULL | TRUE | FALSE |
//     UNKNOWN | DISTINCT FROM, COALESCE, NULLIF, MOD, POWER, EXP, LN,
//     LOG10, EXTRACT, CURRENT_TIMESTAMP, UPPER/LOWER,
//     CHAR_LENGTH, INITCAP, POSITION, TRIM, SUBSTRING (positions, a regular
//     expression, SIMILAR … ESCAPE), OVERLAY, REGEX_REPLACE,
//     REGEX_LOG_PARSE, FAST_REGEX_LOG_PARSE(R) (the fast regex syntax),
//     W3C_LOG_PARSE (with 'IIS', Microsoft's IIS log format),
//     VARIABLE_COLUMN_LOG_PARSE, FIXED_COLUMN_LOG_PARSE and SYS_LOG_PARSE
//     (f(…).COLUMN1 or f(…).NAME),
//     TO_TIMESTAMP, UNIX_TIMESTAMP, TSDIFF, CURRENT_ROW_TIMESTAMP,
//     CHAR_TO_TIMESTAMP, TIMESTAMP_TO_CHAR, TIMESTAMP '…' literals, DATE
//     and TIME columns and DATE '…', TIME '…' and INTERVAL '…' literals
//     (day-time and year-month qualifiers) with their arithmetic
//     (datetime ± interval, (a - b) DAY TO SECOND, interval × ÷ number),
//     EXTRACT and FLOOR/STEP, CURRENT_DATE, CURRENT_TIME, LOCALTIME,
//     CHAR_TO_DATE, CHAR_TO_TIME, DATE_TO_CHAR, TIME_TO_CHAR, BINARY
//     and VARBINARY columns (base64 in JSON and CSV),
//     ABS/FLOOR/CEIL/CEILING, || and arithmetic, the error_stream, and
//     the machine learning table functions RANDOM_CUT_FOREST,
//     RANDOM_CUT_FOREST_WITH_EXPLANATION and HOTSPOTS: a streaming robust
//     random cut forest (Guha et al., ICML 2016) with KDA's defaults, its
//     ANOMALY_SCORE the expected collusive displacement, not KDA's
//     numbers (compare rankings, not thresholds), its ANOMALY_EXPLANATION
//     each numeric column's ATTRIBUTION_SCORE, DIRECTION and STRENGTH; and
//     HOTSPOTS_RESULT, the dense regions of the last windowSize records.
//     Their models are seeded and kept in the window state.
//     DiscoverSchema infers the input columns from samples, like the
//     console. Regular expressions are RE2, not Java's: lookaround,
//     backreferences and possessive quantifiers fail at compile time.
//   - Application (ParseApplication): an application as `aws
//     kinesisanalytics describe-application` prints it (inputs with JSON
//     or CSV schemas, reference sources, outputs, code); its NewEngine
//     runs it. ReadRecords reads `aws kinesis get-records` output and
//     Lambda Kinesis events; Replay and ReplayToDir run such records
//     through an application deterministically and write each output
//     stream's rows as JSON lines, or CSV lines for a destination whose
//     DestinationSchema is CSV (Application.OutputFormat), to compare with
//     what KDA wrote.
//     AppReference.Load reads a reference table from S3 (CSV or JSON per
//     its ReferenceSchema), Application.LoadReferences all of them (or
//     local files instead).
//   - App (NewApp): an Engine joined to its Sinks, each Output writing
//     its rows as JSON objects or, with Format FormatCSV, as CSV lines
//     (Row.AppendJSON, Row.AppendCSV). Application.NewApp builds the App
//     from the description itself: every OutputDescription's destination
//     gets its sink (Application.OutputSinks) from the clients in
//     Destinations, with the output's format.
//   - Sinks, one per destination kind of KDA: KinesisSink
//     (NewKinesisSink, KINESIS_STREAM: one record per row through a
//     Producer), FirehoseSink (NewFirehoseSink, FIREHOSE:
//     PutRecordBatch), LambdaSink (NewLambdaSink, LAMBDA: synchronous
//     invocations carrying a KinesisAnalyticsOutputDeliveryEvent, rows the
//     function answers DeliveryFailed sent again with their retryHint
//     incremented); and Delivery (NewDelivery), Firehose-style S3 objects
//     without Firehose (size and interval
//     buffers, !{timestamp:…} prefixes with Java DateTimeFormatter
//     semantics, Firehose object names, error output prefix, GZIP).
//   - Input: NewLambdaHandler (batchItemFailures) and Consumer
//     (NewConsumer), both de-aggregating KPL records (Deaggregate).
//   - Test data: Generator (NewGenerator), Kinesis Data Generator templates
//     ({{random.number(50)}}, {{date.now("YYYY-MM-DD")}}, …), and Producer
//     (NewProducer), PutRecords batching with per-record retries.
//
// # SQL semantics
//
// Unquoted identifiers are upper-cased, quoted ones keep their case (as in
// KDA): "sensor_id" and sensor_id are different columns, and an error says
// so. Comparisons with NULL are unknown and filter the row out. ROWTIME is
// stamped when a record enters the input stream (the record's approximate
// arrival time in HandleRecord, else EngineOptions.Now) and never goes
// back. A tumbling window emits one row per group, in first-seen order,
// with ROWTIME the window end, when the first row of a later window
// arrives or Engine.Advance passes its end. Rows that do not match the input
// schema (bad JSON, wrong type, too long for VARCHAR(n), out of INTEGER
// range) and rows whose evaluation fails (division by zero, overflow) go
// to "error_stream" with KDA's columns (ERROR_NAME, MESSAGE, DATA_ROW,
// PUMP_NAME, …); the other pumps still see the row. Differences from KDA:
// AVG returns DOUBLE (KDA returns the argument's type, truncating; an
// INTEGER target column still receives the truncated value); DECIMAL is
// held as float64; string values too long for a column are errors, not
// truncated (CAST truncates, but not a DATE's or TIME's text: that is an
// error row, as the reference selects none); an INTERVAL is no column
// type (KDA's reference allows intervals in expressions only); adding
// months keeps the day of the month or clamps it to the month's last;
// window state lives in memory.
//
// Firehose applies java.time DateTimeFormatter to !{timestamp:…}, where Y
// is the week-based year (2019-12-30 is in 2020): use yyyy. ParsePrefix and
// NewDelivery warn on Y, w and e (Prefix.Warnings, Delivery.Warnings).
// Delivery writes one record per line (JSON Lines, which Athena reads)
// unless NoNewline.
//
// # Errors
//
// Constructors refuse options they cannot honour with an *OptionError
// (the options type, the field, the value and what is accepted). Parse
// errors are typed: *TemplateError (line, column, helper), *SQLError
// (line, column), *PrefixError (offset), *ApplicationError (the JSON path
// of a describe-application document), *RecordsError (the JSON path in a
// records dump). A *SQLError may wrap
// *UnsupportedError, for a construct of the KDA SQL reference the engine
// does not run yet ("sql 3:14: NUMBER_TO_CHAR is not supported yet":
// NATURAL JOIN (the reference's JOIN clause does not list it), a third
// stream in a JOIN chain, RIGHT/FULL JOIN of a reference table (a
// table row that never pairs has no time at which to come out with NULLs:
// a table never leaves a window), IN, EXISTS or a scalar subquery
// over a stream, Java functions (CREATE FUNCTION … EXTERNAL NAME), the
// temporal predicates LEADS, LAGS, STRICTLY … and IMMEDIATELY LEADS |
// LAGS,
// INTERVAL columns, and the reference functions it lacks,
// such as NUMBER_TO_CHAR), or *ExprDepthError, for an
// expression nested more than MaxExprDepth levels deep; use errors.As. A
// construct KDA itself refuses on a stream (UNION without ALL, EXCEPT,
// INTERSECT, a window FOLLOWING the current row, an ORDER BY whose leading
// key is not monotonic) is a plain *SQLError that says why. A
// stream name given in the wrong case (Subscribe("dest") for a stream
// created as dest, hence DEST) names the stream that exists.
//
// Engine methods fail only for an unknown stream (ErrUnknownStream); bad
// rows go to the error_stream. Delivery write failures are
// *DeliveryError, and the records stay buffered for the next attempt.
// KinesisSink and LambdaSink never drop a row silently: rows they could
// not deliver are a *DestinationError naming the stream or function, one
// FailedRecord per row with its data and cause — *RecordError or
// ErrRecordTooLarge (Kinesis), *LambdaDeliveryError (still DeliveryFailed
// at the last attempt), *LambdaFunctionError (the function failed),
// *LambdaResponseError (an answer that is not the response JSON or does
// not answer for every recordId), or the request's error — and whether it
// is still buffered for the next Flush. Log lines name streams, functions
// and recordIds, never row data.
// Producer.Put reports each record in its PutResult: ErrRecordTooLarge,
// *RecordError (the Kinesis error code after the last attempt), or the
// request's error. DynamoDBCheckpoints returns ErrCheckpointBehind when
// another consumer is further along. Deaggregate returns ErrBadAggregate
// for a KPL record with a valid checksum and a malformed body; the Lambda
// adapter and the Consumer hand such a record on whole, as one raw user
// record, so it reaches the application (the SQL engine's error_stream)
// rather than blocking its shard.
//
// Consumer.Run stops by itself with a *ConsumerError when a call fails
// with an error retrying cannot fix (ResourceNotFoundException, access or
// KMS key denied, bad credentials) or after MaxFailures failures in a row
// on a shard or of the shard listing; it returns nil only when its context
// ends or, with StopAtEnd, every shard is caught up.
//
// # Concurrency
//
// Engine, App, Delivery, FirehoseSink, KinesisSink, LambdaSink, Producer
// and the Checkpointers are safe for concurrent use (a LambdaSink invokes
// its function one invocation at a time); Engine and App serialise rows (KDA's
// in-application streams are ordered), and subscribers and sinks are
// called synchronously under the engine's lock, so they must not call back
// into it. A Generator is for one goroutine. Producer.Put runs at most
// MaxInFlight requests and blocks while they are busy. A Consumer runs one
// goroutine per open shard and calls its BatchHandler concurrently for
// different shards.
package kda
