// Package sqsbatch will hold lakekit's SQS pieces for seed system 1 (S3 CSV →
// SQS standard queue → concurrent processor, "no duplicates"): a batching
// writer with per-entry retry and writer-generated entry ids, a streaming CSV
// record source, a long-polling consumer with visibility heartbeats and batch
// deletes, a Lambda adapter returning partial batch responses, and an
// idempotency layer (in-memory and DynamoDB stores) so that "no duplicates"
// is a property of the consumer rather than of maxReceiveCount=1, which AWS
// advises against because it loses messages that were never processed.
//
// Nothing is implemented yet (issue 3).
package sqsbatch
