package main

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lakekit/lakekit/internal/awslocal"
)

func init() {
	scriptServers["s3-objects"] = serverS3Objects
	scriptCmds["exits"] = cmdExits
}

// cmdExits is `exits CODE PROG [ARGS…]`: exec PROG as `exec` does and
// require exit code CODE (0 included); stdout and stderr are PROG's for
// the assertions that follow.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS…]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("%s: %v", args[1], err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// serverS3Objects is `server s3-objects BUCKET DIR`: it puts every file
// under $WORK/DIR into BUCKET of the S3 server a `server s3` started, its
// path below DIR (URL-unescaped, so that "%2E%2E" writes a ".." segment
// that txtar file names cannot hold) as the key.
func serverS3Objects(ts *testscript.TestScript, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: server s3-objects BUCKET DIR")
	}
	endpoint := ts.Getenv("AWS_ENDPOINT_URL_S3")
	if endpoint == "" {
		ts.Fatalf("server s3-objects: start `server s3` first")
	}
	client := s3.NewFromConfig(awslocal.ClientConfig(endpoint), func(o *s3.Options) { o.UsePathStyle = true })
	bucket, dir := args[0], ts.MkAbs(args[1])
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		key, err := url.PathUnescape(filepath.ToSlash(rel))
		if err != nil {
			return err
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		_, err = client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
		return err
	})
	ts.Check(err)
	ts.Logf("put %d objects into %s", n, bucket)
}
