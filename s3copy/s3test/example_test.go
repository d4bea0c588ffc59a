package s3test_test

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/s3copy/s3test"
)

// In a test, srv := s3test.New(t) starts the server and the test's
// end stops it; outside a test, as here, Start gives the same server and
// the caller closes it.
func Example() {
	srv := s3test.Start()
	defer srv.Close()
	ctx := context.Background()
	srv.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")})
	srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("raw/a.csv"), Body: strings.NewReader("id,name\n1,ada\n")})
	out, err := srv.Client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("lake"), Key: aws.String("raw/a.csv")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	fmt.Printf("%q\n", b)
	// Output: "id,name\n1,ada\n"
}

// StartMultipart is NewMultipart outside a test: s3rver, which
// implements UploadPartCopy.
func ExampleStartMultipart() {
	ctx := context.Background()
	srv, err := s3test.StartMultipart(ctx)
	if err != nil {
		fmt.Println(err) // names the command that installs the npm servers
		return
	}
	defer srv.Close()
	srv.Client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")})
	srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String("big"), Body: strings.NewReader("0123456789")})
	up, _ := srv.Client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("lake"), Key: aws.String("tail")})
	part, err := srv.Client.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("lake"), Key: aws.String("tail"),
		UploadId: up.UploadId, PartNumber: aws.Int32(1), CopySource: aws.String("lake/big"), CopySourceRange: aws.String("bytes=6-9")})
	fmt.Println(err == nil && part.CopyPartResult.ETag != nil)
	// Output: true
}
