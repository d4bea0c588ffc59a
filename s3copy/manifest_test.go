package s3copy_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
	first := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.Concurrency = 8
		o.Manifest = m
		o.OnObject = func(r s3copy.ObjectResult) {
			if r.Action == s3copy.ActionCopied && copied.Add(1) == 150 {
				cancel() // the run is "killed" here
			}
		}
	}))
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
	res2, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Manifest = m2 })).Copy(context.Background(), src, dst)
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
	res3, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Manifest = m2 })).Copy(context.Background(), src, dst)
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
	if res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Manifest = m })).Copy(context.Background(), src, dst); err != nil || res.Stats.Copied != 50 {
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
	res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Manifest = m2 })).Copy(context.Background(), src, dst)
	if err != nil || res.Stats.Skipped != 50 || res.Stats.Requests.Copy != 0 {
		t.Fatalf("%v %+v", err, res.Stats)
	}
}

// TestFileManifestCorruptLine: only the last line may be torn (a write
// cut short by a kill); a bad line anywhere else is corruption and the
// manifest refuses to open, naming the file and line, instead of silently
// dropping records.
func TestFileManifestCorruptLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	good := "1\t\"e1\"\t\"a\"\n"
	if err := os.WriteFile(path, []byte(good+"garbage in the middle\n"+good), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s3copy.OpenFileManifest(path)
	var me *s3copy.ManifestError
	if !errors.As(err, &me) || me.Path != path || me.Line != 2 || me.Text != "garbage in the middle" {
		t.Fatalf("err = %v (%+v), want a ManifestError for line 2", err, me)
	}
	t.Logf("error: %v", err)

	// A line longer than any record is refused too, and costs no more
	// memory than the bound.
	if err := os.WriteFile(path, []byte(good+strings.Repeat("x", 1<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s3copy.OpenFileManifest(path); !errors.As(err, &me) || me.Line != 2 {
		t.Fatalf("err = %v, want a ManifestError for line 2", err)
	}
}

// TestFileManifestTornTailDropped: the torn last line is cut off the file
// on open, so it never ends up between complete lines.
func TestFileManifestTornTailDropped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	good := "1\t\"e1\"\t\"a\"\n"
	if err := os.WriteFile(path, []byte(good+"2\t\"e2\"\t\"b\""), 0o600); err != nil { // complete but for its newline
		t.Fatal(err)
	}
	m, err := s3copy.OpenFileManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 1 || m.Completed("b", `"e2"`, 2) {
		t.Errorf("loaded %d entries; a record with no newline may be torn and must not count", m.Len())
	}
	if err := m.Record("c", `"e3"`, 3); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := good + "3\t\"e3\"\t\"c\"\n"; string(b) != want {
		t.Fatalf("file %q, want %q", b, want)
	}
}

// TestFileManifestWritesByTime: a slow run (large objects) writes its
// records once FileManifestFlushInterval has passed, not only every
// FileManifestFlushEvery records, so a kill loses at most the last
// interval's.
func TestFileManifestWritesByTime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m")
	m, err := s3copy.OpenFileManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.Record("a", `"e"`, 1); err != nil {
		t.Fatal(err)
	}
	time.Sleep(s3copy.FileManifestFlushInterval + 50*time.Millisecond)
	if err := m.Record("b", `"e"`, 1); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path) // no Flush, no Close: what a kill leaves
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Fatalf("file holds %d lines after %s, want 2:\n%s", n, s3copy.FileManifestFlushInterval, b)
	}
}

// TestS3ManifestCorruptSegment: a segment is written whole, so any bad
// line in it is corruption.
func TestS3ManifestCorruptSegment(t *testing.T) {
	c := awstest.S3(t)
	b := mkBucket(t, c, "m")
	put(t, c, b, "_m/seg-1.tsv", []byte("1\t\"e\"\t\"a\"\nnot a record\n"), nil)
	_, err := s3copy.OpenS3Manifest(context.Background(), c, s3copy.Location{Bucket: b, Prefix: "_m/"}, "")
	var me *s3copy.ManifestError
	if !errors.As(err, &me) || me.Line != 2 || !strings.HasSuffix(me.Path, "/_m/seg-1.tsv") {
		t.Fatalf("err = %v, want a ManifestError for line 2 of the segment", err)
	}
	t.Logf("error: %v", err)
}

// failingManifest fails every Record.
type failingManifest struct{ records atomic.Int64 }

func (*failingManifest) Completed(string, string, int64) bool { return false }
func (f *failingManifest) Record(string, string, int64) error {
	f.records.Add(1)
	return errors.New("disk full")
}
func (*failingManifest) Flush(context.Context) error { return nil }

// TestManifestRecordFailureIsAnError: the copies succeed but the manifest
// could not record them: the run's error says so (it used to be nil, with
// one warning per object in the log).
func TestManifestRecordFailureIsAnError(t *testing.T) {
	c := awstest.S3(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	for i := range 10 {
		put(t, c, sb, fmt.Sprintf("a/%d", i), []byte("x"), nil)
	}
	m := &failingManifest{}
	res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Manifest = m })).Copy(context.Background(),
		s3copy.Location{Bucket: sb, Prefix: "a/"}, s3copy.Location{Bucket: db, Prefix: "b/"})
	if err == nil || !strings.Contains(err.Error(), "10 record(s) failed") || res.Stats.Copied != 10 {
		t.Fatalf("err = %v, stats %+v", err, res.Stats)
	}
	t.Logf("error: %v", err)
}
