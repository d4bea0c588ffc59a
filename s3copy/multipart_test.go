package s3copy_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// recorder keeps the headers of the requests a client sends.
type recorder struct {
	inner interface {
		Do(*http.Request) (*http.Response, error)
	}
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return r.inner.Do(req)
}

// find returns the recorded requests whose method and query match.
func (r *recorder) find(method, query string) []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*http.Request
	for _, q := range r.reqs {
		if q.Method == method && strings.Contains(q.URL.RawQuery, query) {
			out = append(out, q)
		}
	}
	return out
}

func s3rverRecorded(t *testing.T) (*s3.Client, *recorder) {
	srv := awstest.Shared(t, awstest.S3rver)
	rec := &recorder{}
	c := srv.S3(func(o *s3.Options) {
		rec.inner = o.HTTPClient
		o.HTTPClient = rec
	})
	return c, rec
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// TestMultipart64MiB copies a 64 MiB object with 5 MiB parts on s3rver
// (the local server with UploadPartCopy) and checks bytes, part count and
// that metadata, content headers, storage class and tags are carried.
func TestMultipart64MiB(t *testing.T) {
	c, rec := s3rverRecorded(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	data := randomBytes(64<<20+12345, 1)
	key := "big/year=2024/ünïcode file.bin"
	put(t, c, sb, key, data, func(in *s3.PutObjectInput) {
		in.ContentType = aws.String("application/x-parquet")
		in.ContentDisposition = aws.String("attachment")
		in.CacheControl = aws.String("no-cache")
		in.Metadata = map[string]string{"origin": "landing", "rows": "1000"}
	})
	if _, err := c.PutObjectTagging(context.Background(), &s3.PutObjectTaggingInput{Bucket: aws.String(sb), Key: aws.String(key),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("zone"), Value: aws.String("raw")}, {Key: aws.String("pii"), Value: aws.String("no")}}}}); err != nil {
		t.Fatal(err)
	}
	put(t, c, sb, "big/small.txt", []byte("small"), nil)
	cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.MultipartThreshold = 8 << 20
		o.PartSize = 5 << 20
		o.PartConcurrency = 4
		o.Concurrency = 8
		o.Verify = true
	}))
	res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "big/"}, s3copy.Location{Bucket: db, Prefix: "copy/"})
	if err != nil {
		t.Fatalf("%v %+v", err, res.Failed)
	}
	wantParts := int64((len(data) + 5<<20 - 1) / (5 << 20))
	st := res.Stats
	if st.Copied != 2 || st.Requests.UploadPartCopy != wantParts || st.Requests.CreateMultipart != 1 || st.Requests.Complete != 1 || st.Requests.Copy != 1 {
		t.Fatalf("stats %+v, want %d parts", st, wantParts)
	}
	got, _ := get(t, c, db, "copy/year=2024/ünïcode file.bin")
	if !bytes.Equal(got, data) {
		t.Fatalf("copy differs: %d bytes, want %d", len(got), len(data))
	}
	checkCarried(t, c, db, "copy/year=2024/ünïcode file.bin", "application/x-parquet", map[string]string{"origin": "landing", "rows": "1000"}, nil)
	_, out := get(t, c, db, "copy/year=2024/ünïcode file.bin")
	if aws.ToString(out.ContentDisposition) != "attachment" || aws.ToString(out.CacheControl) != "no-cache" {
		t.Errorf("content headers not carried: %q %q", aws.ToString(out.ContentDisposition), aws.ToString(out.CacheControl))
	}
	// s3rver ignores x-amz-tagging on CreateMultipartUpload, so check what
	// the copier sent.
	creates := rec.find(http.MethodPost, "uploads")
	if len(creates) != 1 {
		t.Fatalf("%d CreateMultipartUpload requests", len(creates))
	}
	tags, err := url.ParseQuery(creates[0].Header.Get("X-Amz-Tagging"))
	if err != nil || tags.Get("zone") != "raw" || tags.Get("pii") != "no" || len(tags) != 2 {
		t.Errorf("CreateMultipartUpload x-amz-tagging = %q", creates[0].Header.Get("X-Amz-Tagging"))
	}
	if parts := rec.find(http.MethodPut, "partNumber"); len(parts) != int(wantParts) {
		t.Errorf("%d UploadPartCopy requests", len(parts))
	} else if parts[0].Header.Get("X-Amz-Copy-Source-Range") == "" {
		t.Error("parts sent without a CopySourceRange")
	}
}

func TestPartSize(t *testing.T) {
	for _, tc := range []struct{ size, configured, want int64 }{
		{64 << 20, 5 << 20, 5 << 20},
		{64 << 20, 1, s3copy.MinPartSize},
		{6 << 40, 5 << 20, 630 << 20}, // 6 TiB needs > 629.15 MiB parts
		{5 << 40, 64 << 20, 525 << 20},
		{100 << 20, 10 << 30, s3copy.MaxPartSize},
	} {
		got := s3copy.PartSize(tc.size, tc.configured)
		if got != tc.want {
			t.Errorf("PartSize(%d, %d) = %d, want %d", tc.size, tc.configured, got, tc.want)
		}
		if n := (tc.size + got - 1) / got; n > s3copy.MaxParts {
			t.Errorf("PartSize(%d) = %d gives %d parts", tc.size, got, n)
		}
	}
}

// failingParts fails the third UploadPartCopy for good.
type failingParts struct {
	s3copy.API
	mu    sync.Mutex
	parts int
	abort []string
}

func (f *failingParts) UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, optFns ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error) {
	f.mu.Lock()
	f.parts++
	n := f.parts
	f.mu.Unlock()
	if n == 3 {
		return nil, errors.New("injected part failure")
	}
	return f.API.UploadPartCopy(ctx, in, optFns...)
}

func (f *failingParts) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	f.mu.Lock()
	f.abort = append(f.abort, aws.ToString(in.UploadId))
	f.mu.Unlock()
	return f.API.AbortMultipartUpload(ctx, in, optFns...)
}

func TestMultipartFailureAborts(t *testing.T) {
	c := awstest.S3Multipart(t)
	sb, db := mkBucket(t, c, "src"), mkBucket(t, c, "dst")
	put(t, c, sb, "m/obj", randomBytes(12<<20, 2), nil)
	api := &failingParts{API: c}
	res, err := must(s3copy.New(api, func(o *s3copy.CopierOptions) {
		o.MultipartThreshold = 5 << 20
		o.PartSize = 5 << 20
		o.PartConcurrency = 1
	})).
		Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "m/"}, s3copy.Location{Bucket: db, Prefix: "n/"})
	var ce *s3copy.CopyError
	if !errors.As(err, &ce) || len(res.Failed) != 1 {
		t.Fatalf("err %v, failed %+v", err, res.Failed)
	}
	var oe *s3copy.ObjectError
	if !errors.As(res.Failed[0].Err, &oe) || oe.UploadID == "" || oe.Op != "UploadPartCopy" {
		t.Fatalf("want ObjectError with upload id, got %#v", res.Failed[0].Err)
	}
	if len(api.abort) != 1 || api.abort[0] != oe.UploadID || res.Stats.Requests.Abort != 1 {
		t.Errorf("aborted %v, want %s", api.abort, oe.UploadID)
	}
	ups, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(db)})
	if err == nil && len(ups.Uploads) != 0 {
		t.Errorf("uploads left open: %d", len(ups.Uploads))
	}
	if got := listAll(t, c, db, ""); len(got) != 0 {
		t.Errorf("destination holds %v", got)
	}
}
