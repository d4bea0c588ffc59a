package main

import (
	"bytes"
	"context"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lakekit/lakekit/internal/awslocal"
	"github.com/lakekit/lakekit/s3copy/s3test"
)

func init() {
	scriptServers["s3-objects"] = serverS3Objects
}

// serverS3Objects is `server s3-objects BUCKET DIR`: it puts every file
// under $WORK/DIR into BUCKET (created if missing) of the S3 server at
// $AWS_ENDPOINT_URL_S3 (a `server s3`, a `lakekit local up`), its
// path below DIR (URL-unescaped, so that "%2E%2E" writes a ".." segment
// that txtar file names cannot hold) as the key.
func serverS3Objects(ts *testscript.TestScript, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: server s3-objects BUCKET DIR")
	}
	endpoint := ts.Getenv("AWS_ENDPOINT_URL_S3")
	if endpoint == "" {
		ts.Fatalf("server s3-objects: no AWS_ENDPOINT_URL_S3: start `server s3` first")
	}
	client := s3.NewFromConfig(awslocal.ClientConfig(endpoint), func(o *s3.Options) { o.UsePathStyle = true })
	bucket, dir := args[0], ts.MkAbs(args[1])
	// An existing bucket is fine; any other problem shows at the first put.
	_, _ = client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket})
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

// copyEnv points the command at the server at endpoint, with the kit's
// static credentials and no shared config files.
func copyEnv(t *testing.T, endpoint string) {
	t.Setenv("AWS_ACCESS_KEY_ID", awslocal.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awslocal.SecretAccessKey)
	t.Setenv("AWS_REGION", awslocal.Region)
	t.Setenv("AWS_ENDPOINT_URL_S3", endpoint)
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
}

// runOK runs the command line args and fails the test unless it exits 0.
func runOK(t *testing.T, args ...string) {
	t.Helper()
	var out, errOut strings.Builder
	if code := run(context.Background(), args, &out, &errOut); code != 0 {
		t.Fatalf("lakekit %s: exit %d; stderr:\n%s", strings.Join(args, " "), code, errOut.String())
	}
}

// TestCopyMetadataFlags checks what the metadata flags do to the copies,
// read back from the server: the default COPY keeps the source's user
// metadata and content type, --metadata and --content-type replace them,
// --metadata-directive REPLACE alone drops them. It runs on s3rver:
// gofakes3 merges metadata on REPLACE.
func TestCopyMetadataFlags(t *testing.T) {
	srv := s3test.NewMultipart(t)
	bucket := srv.NewBucket(t)
	ctx := context.Background()
	_, err := srv.Client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("src/a.csv"), Body: strings.NewReader("a,b\n"),
		ContentType: aws.String("text/csv"), Metadata: map[string]string{"origin": "seed"}})
	if err != nil {
		t.Fatal(err)
	}
	copyEnv(t, srv.Endpoint)
	for _, tc := range []struct {
		name  string
		flags []string
		meta  map[string]string
		ctype string
	}{
		{"copy", nil, map[string]string{"origin": "seed"}, "text/csv"},
		{"replace", []string{"--metadata", "stage=processed", "--content-type", "application/csv"}, map[string]string{"stage": "processed"}, "application/csv"},
		{"drop", []string{"--metadata-directive", "REPLACE"}, map[string]string{}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			runOK(t, append(append([]string{"-q", "s3", "cp"}, tc.flags...), "s3://"+bucket+"/src", "s3://"+bucket+"/"+tc.name)...)
			head, err := srv.Client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(tc.name + "/a.csv")})
			if err != nil {
				t.Fatal(err)
			}
			meta := map[string]string{}
			for k, v := range head.Metadata {
				meta[strings.ToLower(k)] = v
			}
			if !maps.Equal(meta, tc.meta) || (tc.ctype != "" && aws.ToString(head.ContentType) != tc.ctype) {
				t.Errorf("metadata %v, content type %q; want %v, %q", meta, aws.ToString(head.ContentType), tc.meta, tc.ctype)
			}
		})
	}
}

// TestCopyRequestFlags checks the CopyObject headers the tagging,
// encryption, storage-class, ACL and expected-owner flags send (gofakes3
// keeps none of them, so the requests are what can be checked).
func TestCopyRequestFlags(t *testing.T) {
	var mu sync.Mutex
	var copies []http.Header
	srv := s3test.New(t, func(o *s3test.ServerOptions) {
		o.Wrap = func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "" {
					mu.Lock()
					copies = append(copies, r.Header.Clone())
					mu.Unlock()
				}
				next.ServeHTTP(w, r)
			})
		}
	})
	bucket := srv.NewBucket(t)
	if _, err := srv.Client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("src/a"), Body: strings.NewReader("a")}); err != nil {
		t.Fatal(err)
	}
	copyEnv(t, srv.Endpoint)
	runOK(t, "-q", "s3", "cp", "--tagging", "team=etl&tier=gold", "--sse", "aws:kms", "--sse-kms-key-id", "alias/lake",
		"--storage-class", "STANDARD_IA", "--acl", "bucket-owner-full-control",
		"--expected-bucket-owner", awslocal.AccountID, "--source-expected-bucket-owner", awslocal.AccountID,
		"s3://"+bucket+"/src", "s3://"+bucket+"/dst")
	if len(copies) != 1 {
		t.Fatalf("%d CopyObject requests, want 1", len(copies))
	}
	h := copies[0]
	for name, want := range map[string]string{
		"X-Amz-Tagging-Directive":                     "REPLACE",
		"X-Amz-Server-Side-Encryption":                "aws:kms",
		"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id": "alias/lake",
		"X-Amz-Storage-Class":                         "STANDARD_IA",
		"X-Amz-Acl":                                   "bucket-owner-full-control",
		"X-Amz-Expected-Bucket-Owner":                 awslocal.AccountID,
		"X-Amz-Source-Expected-Bucket-Owner":          awslocal.AccountID,
		"X-Amz-Metadata-Directive":                    "",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if tags, err := url.ParseQuery(h.Get("X-Amz-Tagging")); err != nil || tags.Get("team") != "etl" || tags.Get("tier") != "gold" || len(tags) != 2 {
		t.Errorf("X-Amz-Tagging: %q", h.Get("X-Amz-Tagging"))
	}
}
