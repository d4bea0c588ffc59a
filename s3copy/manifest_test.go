package s3copy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// TestResumeAfterInterruptedRun cancels a run part way, then runs again
// with the same manifest file: finished objects are not copied again.
func TestResumeAfterInterruptedRun(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	const n = 400
	for i := range n {
		k := fmt.Sprintf("raw/d%d/o%03d", i%4, i)
		put(t, c, sb, k, body(k), nil)
	}
	src, dst := s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "out/"}
	path := filepath.Join(t.TempDir(), "manifest.tsv")

	m, err := s3copy.OpenFileManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var copied atomic.Int64
	first := s3copy.New(c, func(o *s3copy.Options) {
		o.Concurrency = 8
		o.Manifest = m
		o.OnObject = func(r s3copy.ObjectResult) {
			if r.Action == s3copy.ActionCopied && copied.Add(1) == 150 {
				cancel() // the run is "killed" here
			}
		}
	})
	res1, err := first.Copy(ctx, src, dst)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if res1.Stats.Copied < 150 || res1.Stats.Copied >= n {
		t.Fatalf("first run copied %d", res1.Stats.Copied)
	}

	m2, err := s3copy.OpenFileManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if m2.Len() != int(res1.Stats.Copied) {
		t.Fatalf("manifest holds %d entries, first run copied %d", m2.Len(), res1.Stats.Copied)
	}
	res2, err := s3copy.New(c, func(o *s3copy.Options) { o.Manifest = m2 }).Copy(context.Background(), src, dst)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Stats.Skipped != res1.Stats.Copied || res2.Stats.Copied != n-res1.Stats.Copied || res2.Stats.Requests.Copy != res2.Stats.Copied {
		t.Fatalf("resumed run: %+v (first copied %d)", res2.Stats, res1.Stats.Copied)
	}
	if got := listAll(t, c, db, "out/"); len(got) != n {
		t.Fatalf("destination holds %d objects", len(got))
	}

	// A source object that changed since is copied again.
	put(t, c, sb, "raw/d0/o000", []byte("new content"), nil)
	res3, err := s3copy.New(c, func(o *s3copy.Options) { o.Manifest = m2 }).Copy(context.Background(), src, dst)
	if err != nil || res3.Stats.Copied != 1 || res3.Stats.Skipped != n-1 {
		t.Fatalf("after a change: %v %+v", err, res3.Stats)
	}
}

func TestFileManifestTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	m, err := s3copy.OpenFileManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := m.Record(fmt.Sprintf("k\t%d\n", i), `"etag"`, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(f, "12\t\"et") // a run killed mid-write
	f.Close()
	m, err = s3copy.OpenFileManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Record("after", `"e"`, 5); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	m, err = s3copy.OpenFileManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.Completed("after", `"e"`, 5) {
		t.Error("record after a torn line lost")
	}
	if m.Len() != 4 || !m.Completed("k\t1\n", `"etag"`, 1) || m.Completed("k\t1\n", `"other"`, 1) || m.Completed("k\t1\n", `"etag"`, 2) {
		t.Fatalf("loaded %d entries", m.Len())
	}
}

func TestS3ManifestResume(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	for i := range 50 {
		put(t, c, sb, fmt.Sprintf("a/%02d", i), body(fmt.Sprint(i)), nil)
	}
	mloc := s3copy.Location{Bucket: db, Prefix: "_manifests/job1/"}
	m, err := s3copy.OpenS3Manifest(context.Background(), c, mloc, "")
	if err != nil {
		t.Fatal(err)
	}
	src, dst := s3copy.Location{Bucket: sb, Prefix: "a/"}, s3copy.Location{Bucket: db, Prefix: "b/"}
	if res, err := s3copy.New(c, func(o *s3copy.Options) { o.Manifest = m }).Copy(context.Background(), src, dst); err != nil || res.Stats.Copied != 50 {
		t.Fatalf("%v %+v", err, res.Stats)
	}
	// A new process opens the same manifest and has nothing to do.
	m2, err := s3copy.OpenS3Manifest(context.Background(), c, mloc, "")
	if err != nil {
		t.Fatal(err)
	}
	if m2.Len() != 50 {
		t.Fatalf("reopened manifest holds %d entries", m2.Len())
	}
	res, err := s3copy.New(c, func(o *s3copy.Options) { o.Manifest = m2 }).Copy(context.Background(), src, dst)
	if err != nil || res.Stats.Skipped != 50 || res.Stats.Requests.Copy != 0 {
		t.Fatalf("%v %+v", err, res.Stats)
	}
}
