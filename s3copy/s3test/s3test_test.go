package s3test_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakekit/lakekit/s3copy/s3test"
)

func TestNew(t *testing.T) {
	ctx := context.Background()
	var puts atomic.Int64
	srv := s3test.New(t, func(o *s3test.ServerOptions) {
		o.Wrap = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut {
					puts.Add(1)
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %s", srv.Endpoint)
	}
	bucket := srv.NewBucket(t)
	if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("a/b.txt"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}
	// A second client with its own options talks to the same server.
	c := srv.NewClient(func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("a/b.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "hello" || puts.Load() != 2 { // CreateBucket and PutObject
		t.Fatalf("body %q, %d PUTs seen by Wrap", body, puts.Load())
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil { // twice is fine
		t.Fatal(err)
	}
}

// TestNewMultipart copies an object in two ranged UploadPartCopy
// parts, which gofakes3 does not implement.
func TestNewMultipart(t *testing.T) {
	ctx := context.Background()
	srv := s3test.NewMultipart(t)
	bucket := srv.NewBucket(t)
	src := bytes.Repeat([]byte("0123456789abcdef"), (6<<20)/16)
	if _, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("src"), Body: bytes.NewReader(src)}); err != nil {
		t.Fatal(err)
	}
	up, err := srv.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []s3types.CompletedPart
	for i, r := range []string{fmt.Sprintf("bytes=0-%d", 5<<20-1), fmt.Sprintf("bytes=%d-%d", 5<<20, len(src)-1)} {
		out, err := srv.Client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: &bucket, Key: aws.String("dst"), UploadId: up.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(bucket + "/src"), CopySourceRange: aws.String(r)})
		if err != nil {
			t.Fatalf("part %d: %v", i+1, err)
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	if _, err := srv.Client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &bucket, Key: aws.String("dst"),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	got, err := srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("dst")})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(data, src) {
		t.Fatalf("copy of %d bytes differs from the %d-byte source", len(data), len(src))
	}
}
