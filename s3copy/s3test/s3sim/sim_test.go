package s3sim_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

func newSim(t *testing.T, optFns ...func(*s3sim.SimOptions)) *s3sim.Sim {
	t.Helper()
	s, err := s3sim.New(optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func constant(o *s3sim.SimOptions) {
	o.ConstantLatency = true
	o.FirstByteMedian = 100 * time.Millisecond
}

func TestListObjectsV2Pages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newSim(t, constant)
		var objs []s3sim.Object
		for i := range 2500 {
			objs = append(objs, s3sim.Object{Key: fmt.Sprintf("raw/f%d/k%04d", i%3, i), Size: int64(i)})
		}
		objs = append(objs, s3sim.Object{Key: "raw/top", Size: 1})
		sim.PutObjects("src", objs...)
		c := sim.Client()
		ctx := context.Background()

		var keys, pages int
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String("src"), Prefix: aws.String("raw/")})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Contents) > s3sim.MaxKeys {
				t.Fatalf("page of %d keys", len(out.Contents))
			}
			keys += len(out.Contents)
			pages++
		}
		if keys != 2501 || pages != 3 {
			t.Fatalf("listed %d keys in %d pages, want 2501 in 3", keys, pages)
		}
		// Delimited: three common prefixes and one object.
		out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("src"), Prefix: aws.String("raw/"), Delimiter: aws.String("/")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.CommonPrefixes) != 3 || len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "raw/top" {
			t.Fatalf("delimited listing: %d prefixes, %d objects", len(out.CommonPrefixes), len(out.Contents))
		}
		// Delimited with a page of 2: the common prefixes are not repeated.
		var seen []string
		in := &s3.ListObjectsV2Input{Bucket: aws.String("src"), Prefix: aws.String("raw/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(2)}
		for pg := s3.NewListObjectsV2Paginator(c, in); pg.HasMorePages(); {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, cp := range out.CommonPrefixes {
				seen = append(seen, aws.ToString(cp.Prefix))
			}
			for _, o := range out.Contents {
				seen = append(seen, aws.ToString(o.Key))
			}
		}
		if fmt.Sprint(seen) != "[raw/f0/ raw/f1/ raw/f2/ raw/top]" {
			t.Fatalf("paged delimited listing: %v", seen)
		}
		out, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("src"), Prefix: aws.String("raw/f1/"), StartAfter: aws.String("raw/f1/k2491")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Contents) != 2 || aws.ToString(out.Contents[0].Key) != "raw/f1/k2494" {
			t.Fatalf("start-after: %v", out.Contents)
		}
		// Simulated time: 3 + 1 + 2 + 1 requests of 100 ms, plus 0.1 ms per entry.
		want := 7*100*time.Millisecond + time.Duration(2501+4+4+2)*s3sim.DefaultListPerKey
		if got := sim.Stats().Elapsed; got != want {
			t.Fatalf("simulated %v, want %v", got, want)
		}
	})
}

func TestObjectOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newSim(t, constant)
		sim.PutObjects("src", s3sim.Object{Key: "a/big", Size: 12 << 20, ContentType: "text/csv",
			Metadata: map[string]string{"owner": "lake"}, Tags: map[string]string{"zone": "raw"}})
		sim.CreateBucket("dst")
		c := sim.Client()
		ctx := context.Background()
		if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("dst")}); err != nil {
			t.Fatal(err)
		}
		head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("src"), Key: aws.String("a/big")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToInt64(head.ContentLength) != 12<<20 || head.Metadata["owner"] != "lake" || aws.ToInt32(head.TagCount) != 1 {
			t.Fatalf("head: %d %v %d", aws.ToInt64(head.ContentLength), head.Metadata, aws.ToInt32(head.TagCount))
		}
		tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("src"), Key: aws.String("a/big")})
		if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Value) != "raw" {
			t.Fatalf("tagging: %v %v", tags, err)
		}
		cp, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("a/copy"),
			CopySource: aws.String("src/a/big"), CopySourceIfMatch: head.ETag})
		if err != nil || aws.ToString(cp.CopyObjectResult.ETag) != aws.ToString(head.ETag) {
			t.Fatalf("copy: %v %v", cp, err)
		}
		_, err = c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("a/copy2"),
			CopySource: aws.String("src/a/big"), CopySourceIfMatch: aws.String(`"0000"`)})
		if code(err) != "PreconditionFailed" {
			t.Fatalf("copy if-match: %v", err)
		}
		// Multipart: two parts of 6 MiB.
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("a/mp"),
			Metadata: map[string]string{"owner": "lake"}, Tagging: aws.String("zone=processed")})
		if err != nil {
			t.Fatal(err)
		}
		start := sim.Elapsed()
		var parts []s3.UploadPartCopyOutput
		for i, rg := range []string{"bytes=0-6291455", "bytes=6291456-12582911"} {
			out, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("dst"), Key: aws.String("a/mp"),
				UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String("src/a/big"), CopySourceRange: aws.String(rg)})
			if err != nil {
				t.Fatal(err)
			}
			parts = append(parts, *out)
		}
		// Two requests: latency plus 6 MiB at 100 MB/s each.
		if got, want := sim.Elapsed()-start, 2*(100*time.Millisecond+62914560*time.Nanosecond); got != want {
			t.Fatalf("two part copies took %v simulated, want %v", got, want)
		}
		done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("a/mp"), UploadId: up.UploadId,
			MultipartUpload: completed(parts)})
		if err != nil {
			t.Fatal(err)
		}
		objs := sim.Objects("dst")
		if len(objs) != 2 || objs[1].Key != "a/mp" || objs[1].Size != 12<<20 || objs[1].Tags["zone"] != "processed" || objs[1].ETag != aws.ToString(done.ETag) {
			t.Fatalf("destination: %+v", objs)
		}
		up2, _ := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("a/mp2")})
		if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("a/mp2"), UploadId: up2.UploadId}); err != nil {
			t.Fatal(err)
		}
		_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("nope")})
		var nf interface{ HTTPStatusCode() int }
		if !errors.As(err, &nf) || nf.HTTPStatusCode() != 404 {
			t.Fatalf("head of a missing key: %v", err)
		}
	})
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSlowDownAndSplit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newSim(t, constant, func(o *s3sim.SimOptions) {
			o.WriteRate = 20
			o.SplitAfter = 3 * time.Second
			o.SeriesDepth = 2
		})
		sim.PutObjects("src", s3sim.Object{Key: "k", Size: 1})
		c := sim.Client(func(o *s3.Options) { o.Retryer = aws.NopRetryer{} })
		ctx := context.Background()
		// 10 writers, each a copy per 100 ms: 100 requests/s against 20 on
		// two folders, for 6 simulated seconds.
		var wg sync.WaitGroup
		var mu sync.Mutex
		slow := 0
		for w := range 10 {
			wg.Go(func() {
				for i := 0; sim.Elapsed() < 6*time.Second; i++ {
					_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("dst"),
						Key: aws.String(fmt.Sprintf("p/f%d/%d", w%2, i)), CopySource: aws.String("src/k")})
					if err != nil && code(err) != "SlowDown" {
						t.Error(err)
						return
					}
					if err != nil {
						mu.Lock()
						slow++
						mu.Unlock()
					}
				}
			})
		}
		sim.CreateBucket("dst")
		wg.Wait()
		st := sim.Stats()
		if st.SlowDowns == 0 || st.SlowDowns != int64(slow) {
			t.Fatalf("SlowDowns: sim %d, client %d", st.SlowDowns, slow)
		}
		var prefixes []string
		for _, p := range st.Partitions {
			if p.Bucket == "dst" {
				prefixes = append(prefixes, p.Prefix)
			}
		}
		if fmt.Sprint(prefixes) != "[ p/f0/ p/f1/]" {
			t.Fatalf("partitions of dst: %q", prefixes)
		}
		for _, p := range st.Partitions {
			for sec, c := range p.PerSecond {
				if c.Writes > 20 {
					t.Fatalf("%s: %d writes in second %d", p.Prefix, c.Writes, sec)
				}
			}
		}
		// The prefix series see the same requests by folder, whatever the
		// partitions were.
		var names []string
		var writes, slowDowns int64
		for _, p := range st.Prefixes {
			names = append(names, p.Bucket+"/"+p.Prefix)
			for _, c := range p.PerSecond {
				writes += int64(c.Writes)
				slowDowns += int64(c.SlowDowns)
			}
		}
		if fmt.Sprint(names) != "[dst/p/f0/ dst/p/f1/]" || slowDowns != st.SlowDowns || writes+slowDowns != st.Requests["CopyObject"] {
			t.Fatalf("prefixes %q: %d writes, %d SlowDowns; sim %v", names, writes, slowDowns, st.Requests)
		}
	})
}

func TestConnectionLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		sim := newSim(t, constant, func(o *s3sim.SimOptions) { o.MaxConnections = 2 })
		sim.CreateBucket("b")
		c := sim.Client()
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				if _, err := c.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("b")}); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		st := sim.Stats()
		if st.Elapsed != 500*time.Millisecond || st.MaxInFlight != 2 || st.Queued != 8 {
			t.Fatalf("10 requests over 2 connections: %v simulated, %d in flight, %d queued", st.Elapsed, st.MaxInFlight, st.Queued)
		}
	})
}

func TestOptionError(t *testing.T) {
	_, err := s3sim.New(func(o *s3sim.SimOptions) { o.WriteRate = -1 })
	var oe *s3sim.OptionError
	if !errors.As(err, &oe) || oe.Field != "WriteRate" {
		t.Fatalf("got %v", err)
	}
}

func completed(parts []s3.UploadPartCopyOutput) *types.CompletedMultipartUpload {
	var u types.CompletedMultipartUpload
	for i, p := range parts {
		u.Parts = append(u.Parts, types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: p.CopyPartResult.ETag})
	}
	return &u
}
