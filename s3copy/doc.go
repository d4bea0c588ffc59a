// Package s3copy copies S3 trees (every object under s3://bucket/prefix) to
// another prefix of the same or another bucket, server-side, as fast as the
// service allows and without losing what the objects carry. It is lakekit's
// port of seed system 8, the orchestrator → master → slave Lambda fan-out.
//
//	c := s3copy.New(s3.NewFromConfig(cfg), func(o *s3copy.Options) {
//		o.Concurrency = 256
//		o.SkipUnchanged = true
//	})
//	res, err := c.Copy(ctx,
//		s3copy.Location{Bucket: "lake", Prefix: "raw/"},
//		s3copy.Location{Bucket: "lake", Prefix: "processed/"})
//	fmt.Println(res.Stats.Copied, res.Stats.ObjectsPerSecond())
//
// How a run goes:
//
//   - Both buckets are checked first (HeadBucket, with the expected
//     owners): a missing, mistyped or foreign bucket fails the run with a
//     *BucketError before any listing or copy (CopierOptions.SkipBucketCheck
//     turns this off for roles without s3:ListBucket).
//   - Listing is split into shards by common prefix (ShardDepth levels below
//     the source prefix: the seed's "master per folder"), listed by
//     ListConcurrency paginators at once, and streamed to the copy workers
//     page by page: copying starts with the first page and the listing is
//     never held in memory.
//   - Each object costs one request on the copy path: a CopyObject that
//     uses the listing's size, ETag (as CopySourceIfMatch, so an object
//     changed since it was listed fails with ErrSourceChanged instead of
//     being copied half-known) and storage class. No HEAD before or after
//     unless an option asks for it (Verify, Overrides of metadata,
//     EncryptionPreserve, SkipUnchanged with a custom KeyMap). The copy is
//     still checked for free: the ETag CopyObject returns must equal the
//     listed one when both are MD5s (a mismatch costs one HeadObject on the
//     source, to tell an SSE-KMS source, whose ETag is no MD5, from a bad
//     copy: ErrVerify).
//   - Objects of MultipartThreshold bytes or more (default 256 MiB; objects
//     over MaxCopyObjectSize, 5 GiB, cannot be copied otherwise) are copied
//     with CreateMultipartUpload + UploadPartCopy (CopySourceRange parts,
//     PartSize chosen within 5 MiB–5 GiB and 10,000 parts, copied in
//     parallel) + CompleteMultipartUpload, and aborted on failure. A
//     multipart upload carries nothing from its source by itself, so the
//     copier reads the source with HeadObject (and GetObjectTagging when it
//     has tags, or when the server does not send a tag count) and sends user metadata, content headers, storage class,
//     encryption and tags on CreateMultipartUpload.
//   - All requests of all workers go through one shared adaptive backoff
//     (see CopierOptions.MinBackoff): SlowDown, 503 and 429 answers and connection
//     faults double the spacing between requests for everyone; successes
//     shrink it back to nothing. Each request is retried up to MaxAttempts;
//     the SDK's own retryer is turned off for the copier's requests so that
//     retries happen in one layer.
//   - Client cost per object: a copied object costs one CopyObject request
//     (no HeadObject before or after unless an option needs one). The
//     copier's requests drop the SDK's per-request invocation-id UUID
//     (it only serves the SDK's retryer, which is off), and CopyObject answers are decoded by the copier instead of the SDK's
//     two encoding/xml passes (each behind a new 4 KiB buffer): a small
//     scan of the <CopyObjectResult>, with every other answer (non-2xx, a
//     200 whose body is an <Error>, a transport error) handed to the SDK's
//     own decoder so errors are the SDK's. In BenchmarkCopy20k this cut
//     the bytes allocated per copied object by about 30% and the client
//     CPU per object (listing included) by about 20%, below a raw
//     CopyObject loop's; signing, the user agent and clock-skew correction
//     are kept.
//   - Keys are mapped with CopierOptions.KeyMap (default PrefixMap: the leading
//     source prefix replaced by the destination prefix). A mapped key that
//     leaves the destination prefix, holds "." or ".." segments or is longer
//     than 1024 bytes fails that object with ErrKeyEscapes/ErrKeyTooLong.
//   - Sync: SkipUnchanged compares with the destination listed alongside the
//     source (merge of two sorted listings per shard, no request per
//     object): same size and same ETag is unchanged. A multipart ETag is
//     not an MD5 and depends on the part size, so when sizes match but an
//     ETag is multipart the stored full-object checksums are compared (a
//     HeadObject with ChecksumMode on each side); without them, a copy not
//     older than its source counts as unchanged. DeleteRemoved deletes
//     destination objects with no source (DeleteObjects, 1,000 keys per
//     request), DryRun reports what would happen and writes nothing.
//   - Manifest records completed objects; a killed run started again with
//     the same manifest skips them. FileManifest writes whole lines every
//     256 records or 1 s, fsyncs on Flush, and drops only a torn last line
//     on open (see FileManifest for what a kill or a crash can lose: only
//     records, never copies); a manifest with any other bad line is a
//     *ManifestError. Opening a manifest reads outside input: it is
//     bounded per line and fuzzed (FuzzReadManifest).
//   - Stats counts objects, bytes, requests by operation, retries and
//     throttles, live (Copier.Stats, CopierOptions.Progress) and per run
//     (Result.Stats).
//
// The fan-out mode (orchestrator, master and worker Lambda handlers driven
// through SQS) is in the fanout subpackage.
//
// What is carried, and what is not: a single CopyObject keeps user
// metadata, content headers and tags (S3's COPY directives) and gets the
// listed storage class; Overrides replace them (REPLACE directives, with a
// HeadObject to keep the headers not overridden). Encryption follows
// CopierOptions.Encryption (see EncryptionBucketDefault for why preserving each
// object's own key costs a HeadObject per object). ACLs are not copied (S3
// recommends bucket-owner-enforced ownership; CopierOptions.ACL sets a canned
// ACL). Objects encrypted with SSE-C, archived objects (GLACIER, DEEP_ARCHIVE
// not restored) and versions other than the current one are not supported:
// they fail with the error S3 gives. Multipart copies don't carry the
// source's additional checksums; S3 computes the destination's own.
//
// Local servers: gofakes3 lists a folder-marker object "a/" both as an
// object and as a common prefix (the copier drops such objects from
// delimited listings, as S3 never returns them there) and decodes
// CopySource as a query string ("+" means space), so "+" is always sent
// encoded; s3rver decodes CopySource with decodeURI, which leaves reserved
// escapes alone, so the copier keeps "$&,:;=@" (Hive partitions'
// "=") unescaped, as a URL path does.
//
// Benchmarks (bench_test.go, peers_bench_test.go) run the server in a child
// process, so the copier's CPU per object is its own, and compare with a
// raw CopyObject loop and with rclone, s3cmd and the AWS CLI v2 when
// installed, in the same run. Peak RSS is measured in a third process that
// runs only the copy (the test binary re-executed), read from its own
// VmHWM; the oms-copy command prints the same figure for a copy against
// -endpoint.
//
// # Corrections to the seed
//
//   - The seed's slave copies with boto3's managed copy, which switches to
//     multipart above 8 MB; a Go port with CopyObject alone fails on objects
//     over 5 GB. Here multipart copy is built in, and it carries metadata,
//     tags and encryption, which a plain multipart copy drops.
//   - The seed maps keys with file_path.replace(source_prefix,
//     destination_prefix): that replaces every occurrence, not just the
//     leading one, and with an empty source prefix Python inserts the
//     destination prefix between every character. PrefixMap replaces only
//     the leading prefix, and mapped keys are checked to stay inside the
//     destination prefix.
//   - The seed's slave builds the target as source_bucket.Object(new_key):
//     it copies into the source bucket. Here the destination is explicit.
//   - The master reads event['table_name'] while the orchestrator sends
//     'folder_name', and builds the prefix as source_prefix + "/" + name +
//     "/", which gives a key prefix starting with "/" when source_prefix is
//     empty; the fan-out here passes typed messages with full prefixes.
//   - Folders are a hard-coded list; here shards are discovered from the
//     listing (common prefixes).
//   - Asynchronous Lambda invokes lose work silently once their retries are
//     spent and errors are only printed; here tasks travel through SQS
//     queues (with a dead-letter queue) and failures are reported per object.
//   - Completion was guessed from the newest LastModified in the
//     destination; here it is counted (Stats, and the fan-out's Status).
//
// # Errors
//
// Copy returns an error when the run could not complete (a listing failed,
// ErrListing among others, ctx was cancelled, bad locations: ErrOverlap,
// ErrDeleteNeedsPrefixMap), when
// a bucket failed its check (*BucketError: which bucket, source or
// destination, the expected owner, the HTTP status and S3 code), when the
// run stopped early because going on could only fail (*StopError: an error
// no object escapes, such as NoSuchBucket or InvalidAccessKeyId, or
// CopierOptions.MaxConsecutiveFailures objects in a row failed), or when some
// objects failed: then the error is a *CopyError. In the last two cases
// Result.Failed holds one ObjectResult per failed object, whose Err is an
// *ObjectError (source and destination keys, the operation, the aborted
// multipart upload id) wrapping the cause: ErrKeyEscapes, ErrKeyTooLong,
// a *KeyCharError (ErrKeyChar: a control character or invalid UTF-8 in
// the key, with its byte offset), ErrVerify, ErrSourceChanged, or the
// SDK's error. Use errors.Is and errors.As; nothing needs matching on
// strings. Progress is never called with a snapshot of zeros for a run
// that failed.
//
// # Concurrency
//
// A Copier is safe for concurrent use; runs on one Copier share its backoff.
// Each Copy runs at most CopierOptions.Concurrency copy requests at once (parts
// of multipart copies included) and CopierOptions.ListConcurrency paginators; a
// full pool stops the listing (backpressure). Give the S3 client a
// connection pool that large (NewHTTPClient): the SDK's default keeps 10
// idle connections per host, and a copier above that concurrency would
// spend its CPU opening connections; NewHTTPClient also caps connections
// per host, which keeps a 256-way copy at about 260 connections instead of
// about 370. OnObject is called
// concurrently from the workers; Progress from one goroutine.
package s3copy
