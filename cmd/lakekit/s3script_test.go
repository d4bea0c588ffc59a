package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lakekit/lakekit/internal/awslocal"
	"github.com/lakekit/lakekit/s3copy"
)

func init() {
	scriptCmds["s3put"] = cmdS3Put
	scriptCmds["s3get"] = cmdS3Get
	scriptCmds["s3ls"] = cmdS3Ls
}

// scriptS3 is a client of the script's `server s3`, checked independently
// of the command under test.
func scriptS3(ts *testscript.TestScript) *s3.Client {
	ep := ts.Getenv("AWS_ENDPOINT_URL_S3")
	if ep == "" {
		ts.Fatalf("no S3 server: run `server s3` first")
	}
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(ep), Region: awslocal.Region, UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(awslocal.AccessKeyID, awslocal.SecretAccessKey, ""),
	})
}

func scriptLocation(ts *testscript.TestScript, s string) s3copy.Location {
	loc, err := s3copy.ParseLocation(s)
	ts.Check(err)
	return loc
}

// cmdS3Put is `s3put FILE s3://BUCKET/KEY`.
func cmdS3Put(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: s3put FILE s3://BUCKET/KEY")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	loc := scriptLocation(ts, args[1])
	_, err = scriptS3(ts).PutObject(context.Background(), &s3.PutObjectInput{Bucket: &loc.Bucket, Key: &loc.Prefix, Body: bytes.NewReader(data)})
	ts.Check(err)
}

// cmdS3Get is `s3get s3://BUCKET/KEY FILE`.
func cmdS3Get(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: s3get s3://BUCKET/KEY FILE")
	}
	loc := scriptLocation(ts, args[0])
	out, err := scriptS3(ts).GetObject(context.Background(), &s3.GetObjectInput{Bucket: &loc.Bucket, Key: &loc.Prefix})
	ts.Check(err)
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	ts.Check(err)
	ts.Check(os.WriteFile(ts.MkAbs(args[1]), data, 0o644))
}

// cmdS3Ls is `s3ls s3://BUCKET[/PREFIX]`: one line per object, its key,
// on stdout.
func cmdS3Ls(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: s3ls s3://BUCKET[/PREFIX]")
	}
	loc := scriptLocation(ts, args[0])
	p := s3.NewListObjectsV2Paginator(scriptS3(ts), &s3.ListObjectsV2Input{Bucket: &loc.Bucket, Prefix: &loc.Prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		ts.Check(err)
		for _, o := range page.Contents {
			fmt.Fprintln(ts.Stdout(), aws.ToString(o.Key))
		}
	}
}
