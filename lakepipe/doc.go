// Package lakepipe will hold the batch-pipeline steps of seed systems 5 and 7:
// landing-event parsing, zone transfers with Hive partition prefixes (on
// s3copy), transfer verification with named error types for Step Functions
// retriers, Glue crawler and job control that reads LastCrawl.Status (a
// FAILED crawl is an error), a streaming CSV → Parquet converter, Glue catalog
// registration, a typed Amazon States Language builder and a local runner.
//
// Nothing is implemented yet (issues 5 and 6).
package lakepipe
