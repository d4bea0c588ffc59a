package awstest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
)

// TestS3Smoke proves the current SDK works against gofakes3: put, get,
// paginated list and server-side copy.
func TestS3Smoke(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	bucket := awstest.Name(t, "src")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	const n = 25
	for i := range n {
		body := fmt.Sprintf("object %d", i)
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &bucket, Key: aws.String(fmt.Sprintf("dir/%02d.txt", i)),
			Body: bytes.NewReader([]byte(body)), ContentType: aws.String("text/plain"),
			Metadata: map[string]string{"origin": "smoke"},
		})
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}

	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dir/07.txt")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(data) != "object 7" || got.Metadata["origin"] != "smoke" {
		t.Fatalf("get: body %q metadata %v", data, got.Metadata)
	}

	pages, keys := 0, 0
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: aws.String("dir/"), MaxKeys: aws.Int32(10)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		keys += len(page.Contents)
	}
	if pages != 3 || keys != n {
		t.Fatalf("list: %d pages, %d keys; want 3 pages, %d keys", pages, keys, n)
	}

	dst := awstest.Name(t, "dst")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &dst}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: &dst, Key: aws.String("copied.txt"), CopySource: aws.String(bucket + "/dir/07.txt"),
	}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &dst, Key: aws.String("copied.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(head.ContentLength) != int64(len("object 7")) || head.Metadata["origin"] != "smoke" {
		t.Fatalf("copy: length %d metadata %v", aws.ToInt64(head.ContentLength), head.Metadata)
	}
}

func TestS3IsFreshPerCall(t *testing.T) {
	ctx := context.Background()
	a, b := awstest.S3Server(t), awstest.S3Server(t)
	if a.Endpoint == b.Endpoint {
		t.Fatalf("two calls share %s", a.Endpoint)
	}
	if _, err := a.S3().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("only-in-a")}); err != nil {
		t.Fatal(err)
	}
	out, err := b.S3().ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Buckets) != 0 {
		t.Fatalf("second server sees %d buckets of the first", len(out.Buckets))
	}
}

func TestName(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n := awstest.Name(t, "Some_Prefix/With Odd.Chars-and-a-very-long-tail-that-goes-on-and-on-and-on")
		if len(n) > 63 || seen[n] {
			t.Fatalf("name %q: len %d, seen before %v", n, len(n), seen[n])
		}
		for _, r := range n {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				t.Fatalf("name %q has %q", n, r)
			}
		}
		seen[n] = true
	}
}
