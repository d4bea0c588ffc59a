package s3copy_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/s3test"
)

func ExampleCopier_Copy() {
	// An in-process S3 (gofakes3); against AWS, client is s3.NewFromConfig(cfg).
	// In a test, s3test.New(t) closes the server when the test ends.
	srv := s3test.Start()
	defer srv.Close()
	client := srv.Client
	ctx := context.Background()
	client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")})
	for _, k := range []string{"raw/sales/dt=2024-01-01/a.csv", "raw/sales/dt=2024-01-02/b.csv", "raw/users/u.csv"} {
		client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(k), Body: strings.NewReader("x")})
	}

	copier, err := s3copy.New(client, func(o *s3copy.CopierOptions) { o.Concurrency = 16 })
	if err != nil {
		panic(err)
	}
	res, err := copier.Copy(ctx,
		s3copy.Location{Bucket: "lake", Prefix: "raw/"},
		s3copy.Location{Bucket: "lake", Prefix: "processed/"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("copied %d objects with %d CopyObject requests\n", res.Stats.Copied, res.Stats.Requests.Copy)

	// Again, in sync mode: nothing changed, nothing copied.
	syncer, err := s3copy.New(client, func(o *s3copy.CopierOptions) { o.SkipUnchanged = true })
	if err != nil {
		panic(err)
	}
	res, _ = syncer.Copy(ctx, s3copy.Location{Bucket: "lake", Prefix: "raw/"}, s3copy.Location{Bucket: "lake", Prefix: "processed/"})
	fmt.Printf("sync: %d skipped, %d copied\n", res.Stats.Skipped, res.Stats.Copied)
	// Output:
	// copied 3 objects with 3 CopyObject requests
	// sync: 3 skipped, 0 copied
}

func ExamplePrefixMap() {
	src := s3copy.Location{Bucket: "lake", Prefix: "raw/"}
	dst := s3copy.Location{Bucket: "lake", Prefix: "processed/"}
	// Only the leading prefix is replaced (the seed's str.replace would
	// also rewrite the inner "raw/").
	k, _ := s3copy.PrefixMap(src, dst, "raw/tables/raw/x.csv")
	fmt.Println(k)
	// Output: processed/tables/raw/x.csv
}

func ExampleCheckKey() {
	for _, k := range []string{"processed/a/b.csv", "processed/../secrets/x", "elsewhere/x"} {
		err := s3copy.CheckKey("processed/", k)
		fmt.Println(k, errors.Is(err, s3copy.ErrKeyEscapes))
	}
	// Output:
	// processed/a/b.csv false
	// processed/../secrets/x true
	// elsewhere/x true
}

func ExampleParseLocation() {
	loc, err := s3copy.ParseLocation("s3://raw-zone/2024/03/")
	fmt.Println(loc.Bucket, loc.Prefix, err)
	// Output: raw-zone 2024/03/ <nil>
}
