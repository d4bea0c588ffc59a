package lakepipe

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

func landingPut(t *testing.T, c *s3.Client, bucket string, objs map[string]string) {
	t.Helper()
	for k, v := range objs {
		if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(k), Body: strings.NewReader(v)}); err != nil {
			t.Fatal(err)
		}
	}
}

func landingBucket(t *testing.T, c *s3.Client) string {
	t.Helper()
	b := awstest.Name(t, "lake")
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyTransfer(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	b := landingBucket(t, c)
	src := s3copy.Location{Bucket: b, Prefix: "data/landing/"}
	dst := s3copy.Location{Bucket: b, Prefix: "data/raw/customers/year=2019/month=08/day=21/"}
	landingPut(t, c, b, map[string]string{
		"data/landing/customers_20190821.csv": "id,name\n1,a\n",
		"data/landing/orders_20190821.csv":    "id\n1\n",
		"data/landing/notes.txt":              "x",
	})
	onlyCustomers := func(o *VerifyOptions) {
		o.Match = func(rel string) bool { return strings.HasPrefix(rel, "customers_") }
	}

	// Nothing copied yet.
	_, err := VerifyTransfer(ctx, c, src, dst, onlyCustomers)
	var inc *TransferIncompleteError
	if !errors.As(err, &inc) || len(inc.Missing) != 1 || inc.Missing[0] != "customers_20190821.csv" {
		t.Fatalf("before copy: %v", err)
	}
	// A truncated copy plus an unrelated object: the seed's count matches,
	// the size check does not.
	landingPut(t, c, b, map[string]string{dst.Prefix + "customers_20190821.csv": "id,name\n"})
	_, err = VerifyTransfer(ctx, c, src, dst, onlyCustomers)
	if !errors.As(err, &inc) || len(inc.Mismatched) != 1 || inc.Mismatched[0].SourceSize != 12 || inc.Mismatched[0].DestSize != 8 {
		t.Fatalf("truncated copy: %v", err)
	}
	landingPut(t, c, b, map[string]string{dst.Prefix + "customers_20190821.csv": "id,name\n1,a\n", dst.Prefix + "other.csv": "z"})
	check, err := VerifyTransfer(ctx, c, src, dst, onlyCustomers)
	if err != nil || check.Objects != 1 || check.Bytes != 12 || check.Extra != 1 {
		t.Fatalf("complete copy: %+v %v", check, err)
	}
	// Without a filter every source object is required.
	if _, err := VerifyTransfer(ctx, c, src, dst); !errors.As(err, &inc) || len(inc.Missing) != 2 {
		t.Fatalf("unfiltered: %v", err)
	}

	var ne *PrefixNotEmptyError
	if err := VerifyEmpty(ctx, c, src, onlyCustomers); !errors.As(err, &ne) || ne.Count != 1 {
		t.Fatalf("landing with the file: %v", err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b, Key: aws.String("data/landing/customers_20190821.csv")}); err != nil {
		t.Fatal(err)
	}
	if err := VerifyEmpty(ctx, c, src, onlyCustomers); err != nil {
		t.Fatalf("landing without the file: %v", err)
	}
	// Listing errors are not transfer errors.
	if _, err := VerifyTransfer(ctx, c, s3copy.Location{Bucket: "no-such-bucket-x"}, dst); err == nil || errors.As(err, &inc) {
		t.Fatalf("missing bucket: %v", err)
	}
}
