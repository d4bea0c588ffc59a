package s3copy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// opCounter is an http.Handler around a gofakes3 server that counts the
// S3 operations it serves and may answer some requests itself (intercept
// returns true when it wrote the answer): gofakes3 has no bucket
// ownership or permissions, so refusals are made here.
type opCounter struct {
	next      http.Handler
	intercept func(op string, w http.ResponseWriter, r *http.Request) bool

	mu     sync.Mutex
	counts map[string]int
	owners map[string][]string // op → x-amz-expected-bucket-owner values sent
}

// s3Op names the S3 operation of a path-style request.
func s3Op(r *http.Request) string {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucketOnly := !strings.Contains(strings.TrimSuffix(path, "/"), "/")
	q := r.URL.Query()
	switch r.Method {
	case http.MethodHead:
		if bucketOnly {
			return "HeadBucket"
		}
		return "HeadObject"
	case http.MethodGet:
		if q.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		if bucketOnly {
			return "ListObjects"
		}
		return "GetObject"
	case http.MethodPut:
		switch {
		case r.Header.Get("X-Amz-Copy-Source") != "" && q.Has("partNumber"):
			return "UploadPartCopy"
		case r.Header.Get("X-Amz-Copy-Source") != "":
			return "CopyObject"
		case bucketOnly:
			return "CreateBucket"
		}
		return "PutObject"
	case http.MethodPost:
		if q.Has("delete") {
			return "DeleteObjects"
		}
	}
	return r.Method
}

func (c *opCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := s3Op(r)
	c.mu.Lock()
	c.counts[op]++
	c.owners[op] = append(c.owners[op], r.Header.Get("X-Amz-Expected-Bucket-Owner"))
	c.mu.Unlock()
	if c.intercept != nil && c.intercept(op, w, r) {
		return
	}
	c.next.ServeHTTP(w, r)
}

func (c *opCounter) count(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.counts[op]
}

func (c *opCounter) ownersSent(op string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.owners[op]...)
}

// countedS3 starts gofakes3 behind an opCounter and returns a client on it.
func countedS3(t *testing.T, intercept func(op string, w http.ResponseWriter, r *http.Request) bool) (*s3.Client, *opCounter) {
	t.Helper()
	oc := &opCounter{intercept: intercept, counts: map[string]int{}, owners: map[string][]string{}}
	srv := awstest.S3ServerWrapped(t, nil, func(next http.Handler) http.Handler { oc.next = next; return oc })
	return srv.S3(func(o *s3.Options) { o.HTTPClient = s3copy.NewHTTPClient(64) }), oc
}

// s3Error writes an S3 error answer.
func s3Error(w http.ResponseWriter, r *http.Request, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>injected</Message><RequestId>test</RequestId></Error>`, code)
	}
}

// TestMissingBucketFailsBeforeAnyRequest: a mistyped destination bucket
// used to cost one failed CopyObject per source object (and, with
// SkipUnchanged, failed at listing instead). Now both buckets are checked
// first and the run fails at once with a *BucketError, whatever the
// options; Progress is not called with empty counters.
func TestMissingBucketFailsBeforeAnyRequest(t *testing.T) {
	c, oc := countedS3(t, nil)
	sb := mkBucket(t, c, "src")
	db := mkBucket(t, c, "dst")
	const n = 300
	for i := range n {
		put(t, c, sb, fmt.Sprintf("raw/%d/o%04d", i%3, i), []byte("x"), nil)
	}
	for _, tc := range []struct {
		name      string
		src, dst  string
		role      string
		skip      bool
		wantCode  string
		wantInMsg string
	}{
		{"missing-destination", sb, db + "-typo", "destination", false, "NotFound", db + "-typo"},
		{"missing-destination-sync", sb, db + "-typo", "destination", true, "NotFound", db + "-typo"},
		{"missing-source", sb + "-typo", db, "source", false, "NotFound", sb + "-typo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copies0, lists0 := oc.count("CopyObject"), oc.count("ListObjectsV2")
			var progress atomic.Int64
			cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
				o.Concurrency = 16
				o.SkipUnchanged = tc.skip
				o.Progress = func(s3copy.Stats) { progress.Add(1) }
			}))
			res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: tc.src, Prefix: "raw/"}, s3copy.Location{Bucket: tc.dst, Prefix: "out/"})
			var be *s3copy.BucketError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T), want a *BucketError; copies sent %d", err, err, oc.count("CopyObject")-copies0)
			}
			t.Logf("error: %v", err)
			if be.Role != tc.role || be.Code != tc.wantCode || !strings.Contains(err.Error(), tc.wantInMsg) || !strings.Contains(err.Error(), tc.role) {
				t.Errorf("BucketError %+v, message %q", be, err)
			}
			if got := oc.count("CopyObject") - copies0; got != 0 {
				t.Errorf("%d CopyObject requests sent to a run that cannot succeed", got)
			}
			if got := oc.count("ListObjectsV2") - lists0; got != 0 {
				t.Errorf("%d ListObjectsV2 requests sent", got)
			}
			if progress.Load() != 0 {
				t.Errorf("Progress called %d times on a run that did nothing", progress.Load())
			}
			if res.Stats.Listed != 0 || res.Stats.Requests.Copy != 0 {
				t.Errorf("stats %+v", res.Stats)
			}
		})
	}
}

// TestForeignBucketFails: with expected owners set, a bucket of another
// account answers HeadBucket with 403; the run fails at once, names the
// side and the account, and every HeadBucket carried the right owner.
// gofakes3 has no accounts: the handler refuses a HeadBucket whose
// expected owner is not the bucket's, as S3 does.
func TestForeignBucketFails(t *testing.T) {
	owners := map[string]string{}
	var mu sync.Mutex
	c, oc := countedS3(t, func(op string, w http.ResponseWriter, r *http.Request) bool {
		bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		mu.Lock()
		owner := owners[bucket]
		mu.Unlock()
		if want := r.Header.Get("X-Amz-Expected-Bucket-Owner"); want != "" && owner != "" && want != owner {
			s3Error(w, r, http.StatusForbidden, "AccessDenied")
			return true
		}
		return false
	})
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	mu.Lock()
	owners[sb], owners[db] = "444455556666", "111122223333"
	mu.Unlock()
	for i := range 50 {
		put(t, c, sb, fmt.Sprintf("p/%02d", i), []byte("x"), nil)
	}
	src, dst := s3copy.Location{Bucket: sb, Prefix: "p/"}, s3copy.Location{Bucket: db, Prefix: "q/"}
	for _, tc := range []struct {
		name, srcOwner, dstOwner, role string
	}{
		{"foreign-destination", "444455556666", "999999999999", "destination"},
		{"foreign-source", "999999999999", "111122223333", "source"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			copies0 := oc.count("CopyObject")
			_, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
				o.ExpectedSourceBucketOwner, o.ExpectedBucketOwner = tc.srcOwner, tc.dstOwner
			})).Copy(context.Background(), src, dst)
			var be *s3copy.BucketError
			if !errors.As(err, &be) || be.Role != tc.role || be.Status != http.StatusForbidden || be.ExpectedOwner != "999999999999" {
				t.Fatalf("err = %v (%+v), want a 403 BucketError for the %s", err, be, tc.role)
			}
			t.Logf("error: %v", err)
			if !strings.Contains(err.Error(), "999999999999") || !strings.Contains(err.Error(), tc.role+" bucket") {
				t.Errorf("message %q names neither the account nor the side", err)
			}
			if got := oc.count("CopyObject") - copies0; got != 0 {
				t.Errorf("%d CopyObject requests sent", got)
			}
		})
	}
	// The right owners pass, and HeadBucket carried them.
	heads0 := len(oc.ownersSent("HeadBucket"))
	res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.ExpectedSourceBucketOwner, o.ExpectedBucketOwner = "444455556666", "111122223333"
	})).Copy(context.Background(), src, dst)
	if err != nil || res.Stats.Copied != 50 || res.Stats.Requests.Bucket != 2 {
		t.Fatalf("%v %+v", err, res.Stats)
	}
	// (Both buckets are checked at once: in either order.)
	if got := slices.Sorted(slices.Values(oc.ownersSent("HeadBucket")[heads0:])); len(got) != 2 || got[0] != "111122223333" || got[1] != "444455556666" {
		t.Errorf("HeadBucket owners sent %q", got)
	}
}

// deny answers 403 AccessDenied to the CopyObject requests whose source
// key matches.
func deny(match func(copySource string) bool) func(op string, w http.ResponseWriter, r *http.Request) bool {
	return func(op string, w http.ResponseWriter, r *http.Request) bool {
		if op == "CopyObject" && match(r.Header.Get("X-Amz-Copy-Source")) {
			s3Error(w, r, http.StatusForbidden, "AccessDenied")
			return true
		}
		return false
	}
}

// TestStopsWhenEveryCopyIsDenied: AccessDenied on every CopyObject (a
// role that may not write the destination prefix) used to cost one
// request per object, 2,000 here (300,000 in a real tree). The run now
// stops after MaxConsecutiveFailures (default 100) objects in a row.
func TestStopsWhenEveryCopyIsDenied(t *testing.T) {
	c, oc := countedS3(t, deny(func(string) bool { return true }))
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	const n, conc = 2000, 16
	seedFlat(t, c, sb, "raw/", n)
	var last s3copy.Stats
	res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.Concurrency = conc
		o.Progress = func(s s3copy.Stats) { last = s }
	})).Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "out/"})
	var se *s3copy.StopError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *StopError", err)
	}
	t.Logf("error: %v", err)
	t.Logf("CopyObject requests %d for %d objects; stats %+v", oc.count("CopyObject"), n, res.Stats)
	var oe *s3copy.ObjectError
	if se.Code != "AccessDenied" || se.Fatal || se.Consecutive < s3copy.DefaultMaxConsecutiveFailures || !errors.As(err, &oe) {
		t.Errorf("StopError %+v", se)
	}
	if got := oc.count("CopyObject"); got > s3copy.DefaultMaxConsecutiveFailures+conc {
		t.Errorf("%d CopyObject requests, want at most %d", got, s3copy.DefaultMaxConsecutiveFailures+conc)
	}
	if int(res.Stats.Failed) != len(res.Failed) || res.Stats.Failed < s3copy.DefaultMaxConsecutiveFailures || res.Stats.Copied != 0 {
		t.Errorf("stats %+v, %d failures listed", res.Stats, len(res.Failed))
	}
	if last.Failed != res.Stats.Failed {
		t.Errorf("last progress %+v, result %+v", last, res.Stats)
	}

	// A negative MaxConsecutiveFailures keeps going: every object is tried.
	copies0 := oc.count("CopyObject")
	res, err = must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.Concurrency = conc
		o.MaxConsecutiveFailures = -1
	})).Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "out/"})
	var ce *s3copy.CopyError
	if !errors.As(err, &ce) || ce.Failed != n || oc.count("CopyObject")-copies0 != n {
		t.Fatalf("err %v, %d copies", err, oc.count("CopyObject")-copies0)
	}
}

// TestScatteredFailuresDoNotStop: a third of the objects denied, the
// others copied in between: the run goes on to the end and reports each
// failure, as before.
func TestScatteredFailuresDoNotStop(t *testing.T) {
	c, _ := countedS3(t, deny(func(src string) bool {
		return strings.HasSuffix(src, "0") || strings.HasSuffix(src, "3") || strings.HasSuffix(src, "6")
	}))
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	const n = 1000
	seedFlat(t, c, sb, "raw/", n)
	res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Concurrency = 16 })).Copy(context.Background(),
		s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "out/"})
	var ce *s3copy.CopyError
	if !errors.As(err, &ce) || ce.Failed != 300 || res.Stats.Copied != 700 {
		t.Fatalf("err %v, stats %+v", err, res.Stats)
	}
	var se *s3copy.StopError
	if errors.As(err, &se) {
		t.Fatalf("stopped: %v", err)
	}
}

// TestStopsAtOnceOnNoSuchBucket: with the bucket check turned off, a
// missing destination answers every CopyObject with NoSuchBucket, which no
// object can escape: the first one stops the run.
func TestStopsAtOnceOnNoSuchBucket(t *testing.T) {
	c, oc := countedS3(t, nil)
	sb := mkBucket(t, c, "src")
	const n, conc = 1000, 8
	seedFlat(t, c, sb, "raw/", n)
	res, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.Concurrency = conc
		o.SkipBucketCheck = true
	})).Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: "no-such-bucket-here", Prefix: "out/"})
	var se *s3copy.StopError
	if !errors.As(err, &se) || !se.Fatal || se.Code != "NoSuchBucket" {
		t.Fatalf("err = %v, want a fatal StopError for NoSuchBucket", err)
	}
	t.Logf("error: %v", err)
	if got := oc.count("CopyObject"); got > 2*conc {
		t.Errorf("%d CopyObject requests, want at most %d", got, 2*conc)
	}
	if oc.count("HeadBucket") != 0 || res.Stats.Requests.Bucket != 0 {
		t.Errorf("SkipBucketCheck sent HeadBucket")
	}
}

// seedFlat puts n one-byte objects under prefix, 16 at a time.
func seedFlat(t *testing.T, c *s3.Client, bucket, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			put(t, c, bucket, fmt.Sprintf("%sd%d/o%05d", prefix, i%4, i), []byte("x"), nil)
		})
	}
	wg.Wait()
}

// brokenListing answers every ListObjectsV2 of the source bucket with one
// object and a truncated page: with token "" (no token) or the same token
// every time.
func brokenListing(srcBucket, token string) func(op string, w http.ResponseWriter, r *http.Request) bool {
	return func(op string, w http.ResponseWriter, r *http.Request) bool {
		if op != "ListObjectsV2" || !strings.HasPrefix(r.URL.Path, "/"+srcBucket) {
			return false
		}
		w.Header().Set("Content-Type", "application/xml")
		next := ""
		if token != "" {
			next = "<NextContinuationToken>" + token + "</NextContinuationToken>"
		}
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>%s</Name><Prefix>%s</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>%s<Contents><Key>raw/a</Key><Size>1</Size><ETag>"0cc175b9c0f1b6a831c399e269772661"</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents></ListBucketResult>`,
			srcBucket, r.URL.Query().Get("prefix"), next)
		return true
	}
}

// TestBrokenListingFails: a truncated listing page with no continuation
// token used to end the listing in silence (objects after it were never
// copied, and the run reported success); the same token returned again
// made the copier list (and copy) forever. Both are now ErrListing.
func TestBrokenListingFails(t *testing.T) {
	for _, token := range []string{"", "same-token"} {
		t.Run("token="+token, func(t *testing.T) {
			var sb string
			c, oc := countedS3(t, func(op string, w http.ResponseWriter, r *http.Request) bool {
				return brokenListing(sb, token)(op, w, r)
			})
			sb = mkBucket(t, c, "src")
			db := mkBucket(t, c, "dst")
			put(t, c, sb, "raw/a", []byte("a"), nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second) // bounds the old endless loop
			defer cancel()
			_, err := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.ShardDepth = -1 })).Copy(ctx,
				s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "out/"})
			if !errors.Is(err, s3copy.ErrListing) {
				t.Fatalf("err = %v after %d list requests, want ErrListing", err, oc.count("ListObjectsV2"))
			}
			t.Logf("error: %v", err)
			if n := oc.count("ListObjectsV2"); n > 2 {
				t.Errorf("%d list requests", n)
			}
		})
	}
}

// TestCopyReturnsWhenCtxEnds: the server holds every CopyObject for 5 s;
// a Copy whose ctx ends after 50 ms returns within a second with the
// context's error, its manifest flushed.
func TestCopyReturnsWhenCtxEnds(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	c, _ := countedS3(t, func(op string, w http.ResponseWriter, r *http.Request) bool {
		if op != "CopyObject" {
			return false
		}
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		case <-release:
		}
		s3Error(w, r, http.StatusServiceUnavailable, "SlowDown")
		return true
	})
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	seedFlat(t, c, sb, "raw/", 200)
	m, err := s3copy.OpenFileManifest(t.TempDir() + "/m")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Concurrency = 16; o.Manifest = m })).Copy(ctx,
		s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "out/"})
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
	if took > time.Second+50*time.Millisecond {
		t.Fatalf("Copy returned %s after its ctx ended", took-50*time.Millisecond)
	}
}
