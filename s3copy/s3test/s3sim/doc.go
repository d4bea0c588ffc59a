// Package s3sim is a simulated S3 endpoint for measuring S3 clients under
// S3's real latencies and limits, on one machine: an http.Handler that
// speaks S3's REST protocol (path-style, XML as S3 writes it) for what a
// tree copy uses, keeps metadata only (keys, virtual sizes, ETags, user
// metadata, tags; bodies only for small PutObjects), and answers each
// request after the time the model gives it.
//
//	sim, err := s3sim.New(func(o *s3sim.SimOptions) { o.TimeScale = 0.5 })
//	if err != nil {
//		return err // an *OptionError
//	}
//	w, _ := s3sim.SeedWorkload() // the seed's 302,400 objects, 24 GB
//	sim.PutObjects("src", w.Objects...)
//	sim.CreateBucket("dst")
//	c, _ := s3copy.New(sim.Client(), func(o *s3copy.CopierOptions) {
//		o.Now, o.Sleep = sim.Now, sim.Sleep // wait in simulated time
//	})
//	res, err := c.Copy(ctx, s3copy.Location{Bucket: "src", Prefix: "raw/"}, s3copy.Location{Bucket: "dst", Prefix: "processed/"})
//	fmt.Println(res.Stats.Elapsed, sim.LowerBound(w.Objects, "raw/", "processed/"))
//
// Requests: ListObjectsV2 (1,000 entries a page at most, prefix,
// delimiter, start-after, continuation-token, encoding-type=url),
// HeadBucket, CreateBucket, HeadObject, GetObject and PutObject (bodies up
// to MaxBodySize), DeleteObject, GetObjectTagging, CopyObject (metadata and
// tagging directives, x-amz-copy-source-if-match), CreateMultipartUpload,
// UploadPartCopy (x-amz-copy-source-range), CompleteMultipartUpload (S3's
// multipart ETag) and AbortMultipartUpload. Anything else is 501
// NotImplemented. Signatures are not checked.
//
// # The model
//
// Every default is a SimOptions field a test can change.
//
//   - Latency: each request's first byte comes after a lognormal draw,
//     median 130 ms, σ 0.3 (10th percentile 88 ms, 90th 191 ms, 99th
//     261 ms; mean 136 ms), capped at 2 s: AWS's "100–200 ms" for small
//     objects, with a tail. Request n's draw depends only on Seed and n.
//     A listing page takes 0.1 ms more per entry.
//   - Copies take bytes ÷ CopyBandwidth (100 MB/s per request) on top:
//     a 5 GiB CopyObject 54 s, a 64 MiB part 0.67 s.
//   - Request rates: each partitioned prefix accepts 3,500
//     PUT/COPY/POST/DELETE and 5,500 GET/HEAD requests per simulated
//     second; beyond that it answers 503 with S3's SlowDown error body.
//     A copy counts against its destination's partition, a listing against
//     its prefix's.
//   - Partitions: a bucket starts as one partition (plus
//     SimOptions.Partitions). A partition offered at least half its limit
//     in each of SplitAfter (10 s) consecutive seconds splits where the
//     keys it served diverge: one partition per next key segment (up to
//     "/"), or per next character for keys with no "/" left, as S3 splits
//     a hot prefix by key range.
//   - Connections: the endpoint serves MaxConnections (1,024) requests at
//     once; the rest wait their turn.
//
// # Time
//
// The Sim's clock is the wall clock divided by TimeScale: 0.1 runs ten
// times faster than real time. Every figure it reports (Stats, Elapsed,
// Now) is simulated time; a client must wait in simulated time too (give
// s3copy Sim.Now and Sim.Sleep). A scale is sound only while the client's
// CPU is not the bottleneck: on a loaded machine compressed runs come out
// slower. A scale above 1 stretches time instead, for clients that must
// run on the wall clock over a real network (other processes: s3copy's
// BenchmarkSimPeers serves rclone and s5cmd at scales 8 and 16, where the
// endpoint sees at most about 1,000 and 500 requests per wall second). Inside a testing/synctest bubble the Sim runs in virtual time
// (Transport needs no network), which is exact whatever the machine: the
// tests and s3copy's BenchmarkSimSeedVirtual use that.
//
// [Sim.LowerBound] computes a bound no client can beat under the model
// (connections, request rates with splits, listing round trips, the
// largest object), and [SeedWorkload] generates the seed's data lake.
//
// # Counters
//
// Stats counts requests by operation, SlowDowns, connection waits, and per
// partition (with its creation time) the requests of every simulated
// second. With SimOptions.SeriesDepth set it also keeps the per-second
// requests and SlowDowns of every key prefix of that depth (Stats.Prefixes):
// the view of a client that paces by folder, whatever S3's partitions are.
// examples/oms-copy/simplot plots them.
//
// # Concurrency
//
// A Sim serves concurrent requests; Stats may be called at any time.
// For clients that need a network (rclone, s5cmd), serve the Sim with
// net/http/httptest.NewServer.
package s3sim
