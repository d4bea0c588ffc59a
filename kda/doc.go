// Package kda will hold the streaming-analytics pieces of seed system 3: a
// Kinesis Data Generator–compatible record generator, a PutRecords producer
// with per-record retry, a Lambda Kinesis adapter with batch item failures,
// an engine for the KDA SQL subset the seed uses, and Firehose-style S3
// delivery with Java-pattern !{timestamp:…} prefixes.
//
// Nothing is implemented yet (issue 7).
package kda
