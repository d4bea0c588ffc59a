// Package s3copy will hold lakekit's S3 tree copier for seed system 8 (the
// orchestrator → master → slave Lambda fan-out): prefix-sharded listing
// overlapped with bounded concurrent server-side copies, multipart
// UploadPartCopy for objects over the single-request limit (5 GB), metadata,
// tags, storage class and encryption carried or overridden, safe key
// rewriting, skip-unchanged, dry run, one shared throttle-aware backoff, and
// the fan-out Lambda handlers driven through SQS.
//
// Nothing is implemented yet (issue 4).
package s3copy
