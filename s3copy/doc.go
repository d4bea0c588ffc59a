// Package s3copy copies S3 trees (every object under s3://bucket/prefix) to
// another prefix of the same or another bucket, server-side, as fast as the
// service allows and without losing what the objects carry: one CopyObject
// per object (multipart UploadPartCopy for large ones), listing streamed
// into a bounded pool of copies, per-prefix pacing of throttles, sync
// (SkipUnchanged, DeleteRemoved), resumable runs (Manifest) and per-object
// results. `lakekit s3 cp|sync` (cmd/lakekit) and examples/oms-copy are
// commands built on it; the fanout subpackage runs the same copies as
// Lambda handlers driven through SQS.
//
//	c, err := s3copy.New(s3.NewFromConfig(cfg), func(o *s3copy.CopierOptions) {
//		o.SkipUnchanged = true // Concurrency, ShardDepth…: zero adapts
//	})
//	if err != nil {
//		return err // an *OptionError
//	}
//	res, err := c.Copy(ctx,
//		s3copy.Location{Bucket: "lake", Prefix: "raw/"},
//		s3copy.Location{Bucket: "lake", Prefix: "processed/"})
//	fmt.Println(res.Stats.Copied, res.Stats.ObjectsPerSecond())
//
// The package Example runs a copy and a sync against a local S3.
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
// A Copier is safe for concurrent use; runs on one Copier share its pacing and backoff.
// Each Copy runs a bounded number of copy requests at once (parts of
// multipart copies included: a multipart copy's parts run in lanes, the
// extra lanes taking free slots as they come): CopierOptions.Concurrency
// when set, otherwise a limit the run adapts to the latency it observes,
// from DefaultConcurrency (64) up to CopierOptions.MaxConcurrency (1,024;
// see "How a run goes"). Listing runs CopierOptions.ListConcurrency
// paginators, or by default from 4 up to 64 as the copies need; a full
// pool stops the listing (backpressure). Give the S3 client a
// connection pool that large (NewHTTPClient; NewHTTPClient(0) sizes it for
// the adaptive limit's cap): the SDK's default keeps 10
// idle connections per host, and a copier above that concurrency would
// spend its CPU opening connections; NewHTTPClient also caps connections
// per host, which keeps a 256-way copy at about 260 connections instead of
// about 370. OnObject is called
// concurrently from the workers; Progress from one goroutine.
//
// # How a run goes
//
//   - Both buckets are checked first (HeadBucket, with the expected
//     owners): a missing, mistyped or foreign bucket fails the run with a
//     *BucketError before any listing or copy (CopierOptions.SkipBucketCheck
//     turns this off for roles without s3:ListBucket).
//   - Listing is split into shards by common prefix and streamed to the
//     copy workers page by page: copying starts with the first page and the
//     listing is never held in memory. By default the first level below the
//     source prefix is split (the seed's "master per folder"), and a shard
//     is split further when its first page shows it is large: a page that
//     is not the last and whose keys fall in at most 10 sub-folders is
//     followed by a delimited listing of the rest of the shard (from the
//     page's last key), whose sub-folders are listed the same way. The
//     shards thus grow with the keys found: on the seed's data lake the
//     listing reaches the dt= partitions, on a tree of small folders it
//     stays at one paginator per folder. Paginators start at 4 and one is
//     added, up to 64, whenever a page or a shard is done while the copy
//     workers have nothing listed to take and shards wait. ShardDepth and
//     ListConcurrency fix both instead.
//   - Concurrency adapts (unless CopierOptions.Concurrency fixes it). By
//     Little's law a copy's throughput is the requests in flight over their
//     latency, so the limit should cover the latency up to where the
//     endpoint starts queueing. The run starts at 64 requests in flight;
//     every window of about one round trip of successful requests (as
//     many as the limit, at least 128; the first window, which dials the
//     connections, only warms up) it measures the median latency and the
//     throughput. At first the limit doubles while a doubling pays:
//     throughput up by 30% with the median within 1.5× of the lowest seen
//     (slow start; on s3sim 64 → 1,024 in about a second). A doubling that
//     does not pay is undone (the endpoint's connections or CPU are the
//     limit) and the limit may then grow to twice that at most: by a
//     sixteenth per window while the median stays within 20% of the
//     lowest, cut in proportion (lowest ÷ median, at most by half) when it
//     is more, which by Little's law brings the latency back. It never
//     goes below 64 or above MaxConcurrency. Throttled answers are
//     not samples and cut nothing: S3's limits are per prefix and the
//     per-prefix pacer below slows the prefix that was throttled (cutting
//     the run's concurrency would slow every other prefix too). The median
//     keeps the few long copies of large objects in a window of small
//     ones from reading as queueing. On s3sim the limit reaches 1,024 and
//     settles near 200 on an endpoint of 200 connections; on a local server whose CPU is the limit 128 requests
//     in flight complete no faster than 64 and it stays between 64 and 128
//     (TestAdaptiveConcurrency, BenchmarkCopy20k).
//     Stats.Concurrency and PeakConcurrency show the limit.
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
//     parallel: PartConcurrency lanes, by default an eighth of the run's
//     concurrency, at least 8) + CompleteMultipartUpload, and aborted on failure. A
//     multipart upload carries nothing from its source by itself, so the
//     copier reads the source with HeadObject (and GetObjectTagging when it
//     has tags, or when the server does not send a tag count) and sends user metadata, content headers, storage class,
//     encryption and tags on CreateMultipartUpload.
//   - Throttles are paced per prefix: S3's request rates are per
//     partitioned prefix, so a SlowDown (or 503, 429) paces only the
//     prefix it came from (the first folder below the location's prefix),
//     at a rate learnt from the requests in flight there, cut while
//     throttles go on and raised while they don't; the throttled request
//     is retried after a jittered backoff based on its latency. Other
//     prefixes go on unpaced. Connection faults (resets, EOFs, timeouts,
//     500s) raise one shared backoff instead (see CopierOptions.MinBackoff):
//     the spacing between requests doubles for everyone and successes
//     shrink it back to nothing. Each request is retried up to
//     MaxAttempts; the SDK's own retryer is turned off for the copier's
//     requests so that retries happen in one layer. (On s3sim, the
//     simulated S3 in s3test/s3sim, one backoff shared by 1,024 workers
//     for throttles too collapsed the seed's copy to a few requests per
//     second within a second of the first SlowDown.)
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
// # What is carried
//
// A single CopyObject keeps user
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
// # Local servers
//
// gofakes3 lists a folder-marker object "a/" both as an
// object and as a common prefix (the copier drops such objects from
// delimited listings, as S3 never returns them there) and decodes
// CopySource as a query string ("+" means space), so "+" is always sent
// encoded; s3rver decodes CopySource with decodeURI, which leaves reserved
// escapes alone, so the copier keeps "$&,:;=@" (Hive partitions'
// "=") unescaped, as a URL path does.
//
// # Benchmarks
//
// Benchmarks (bench_test.go, peers_bench_test.go) run the server in a child
// process, so the copier's CPU per object is its own, and compare with a
// raw CopyObject loop and with rclone, s3cmd and the AWS CLI v2 when
// installed, in the same run. Peak RSS is measured in a third process that
// runs only the copy (the test binary re-executed), read from its own
// VmHWM; the oms-copy command prints the same figure for a copy against
// -endpoint.
//
// sim_bench_test.go measures copies under S3's latencies and limits on
// s3sim (s3test/s3sim), in simulated seconds against the model's lower
// bound. On the seed's workload (302,400 objects, 24 GB; bound 45.7 s,
// set by the 1,024 connections and the destination starting as one
// partition of 3,500 writes/s), BenchmarkSimSeedVirtual's copier with the
// default options takes 49–53 s, 1.08–1.15× the bound (it took 648 s when the
// defaults were a fixed 64 requests in flight, 4 paginators and one shard
// level: 64 requests cover 470 copies/s at 136 ms), and tuned by hand
// (Concurrency 1,024, ShardDepth 3, ListConcurrency 64, PartConcurrency
// 32) 47–49 s (shards are listed in random order, so runs differ by a
// second or two). What it took, measured there: per-prefix pacing of
// throttles (one shared backoff collapsed the run), shards listed in
// random order (copies spread over the destination's partitions), part
// lanes that take slots as they free up (a 10 GB object copied part by
// part added two minutes), concurrency covering the latency, found by
// the latency itself, and shards split down to where the keys are.
// BenchmarkSimHotVirtual puts 80% of the objects in one dt= partition:
// 81–84 s with the defaults against a bound of 57.8 s (1.40–1.46×; the
// bound lists that partition's 242 pages one after the other, while its
// copies stay at one S3 partition's 3,500 writes/s to the end: a listing
// in key order writes a narrow key range at a time, which S3's splits by
// key range do not spread). The plot of that run's requests and SlowDowns per
// destination folder over time is docs/s3copy/hot-prefix.png, drawn by
// examples/oms-copy/simplot. BenchmarkSimPeers runs s3copy, rclone and
// s5cmd on the same workload against s3sim served on 127.0.0.1
// (scripts/s3-sim-peers.sh): on 10,000 objects, 5.2–7.3 simulated s for
// s3copy's defaults, 17.0 for rclone and 8.4 for s5cmd (both at 256
// requests at once), at a time scale of 16.
//
// The fan-out (s3copy/fanout) is measured the same way: its real handlers
// on a simulated Lambda fleet and SQS (s3copy/fanout/fanoutsim) against
// s3sim, by s3copy/fanout's BenchmarkFanoutSimVirtual with 10, 100 and
// 1,000 workers; examples/oms-copy/README.md has the figures.
package s3copy
