package convert

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// countingS3 counts the multipart calls an S3 sink makes.
type sinkCountingS3 struct {
	*s3.Client
	parts, puts, completes atomic.Int64 // the transfer manager uploads parts in parallel
}

func (c *sinkCountingS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.parts.Add(1)
	return c.Client.UploadPart(ctx, in, optFns...)
}

func (c *sinkCountingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.puts.Add(1)
	return c.Client.PutObject(ctx, in, optFns...)
}

func (c *sinkCountingS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	c.completes.Add(1)
	return c.Client.CompleteMultipartUpload(ctx, in, optFns...)
}

func TestConvertToS3Multipart(t *testing.T) {
	client := awstest.S3(t)
	ctx := context.Background()
	bucket := awstest.Name(t, "lake")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	// ≈ 14 MB of incompressible text: three 5 MiB parts, uncompressed.
	r := rand.New(rand.NewPCG(1, 2))
	var csv bytes.Buffer
	csv.WriteString("id,blob,empty\n")
	for i := range 20_000 {
		b := make([]byte, 350)
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		fmt.Fprintf(&csv, "%d,%s,\n", i, b)
	}
	api := &sinkCountingS3{Client: client}
	sink := mustS3Sink(api, bucket, "refined/t/", func(o *S3SinkOptions) { o.PartSize = s3copy.MinPartSize })
	res, err := mustConverter(sink, func(o *ConverterOptions) {
		o.Compression = Uncompressed
		o.DropNullFields = true // "empty" is NULL everywhere: the S3 file is rewritten without it
		o.Mapping = []Mapping{{Source: "id", Column: Column{Type: TypeInt64}}, {Source: "blob"}, {Source: "empty", Column: Column{Type: TypeInt64}}}
	}).Convert(ctx, &csv)
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 20_000 || len(res.Files) != 1 || fmt.Sprint(res.Dropped) != "[empty]" {
		t.Fatalf("rows %d files %v dropped %v", res.Rows, res.Files, res.Dropped)
	}
	if api.parts.Load() < 4 || api.completes.Load() != 2 {
		t.Fatalf("parts %d completes %d: want two multipart uploads (write, rewrite)", api.parts.Load(), api.completes.Load())
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "refined/t/"+res.Files[0].Name {
		t.Fatalf("bucket holds %d objects, want only %s", len(list.Contents), res.Files[0].Name)
	}
	if st := aws.ToInt64(list.Contents[0].Size); st != res.Files[0].Bytes {
		t.Fatalf("object is %d B, result says %d", st, res.Files[0].Bytes)
	}
	cols, _, rows := readFile(t, sink, res.Files[0].Name)
	if strings.Join(cols, ",") != "id,blob" || len(rows) != 20_000 || rows[19_999][0] != int64(19_999) || len(rows[7][1].(string)) != 350 {
		t.Fatalf("read back cols %v, %d rows", cols, len(rows))
	}
}

func TestS3SinkSmallFileIsOnePut(t *testing.T) {
	client := awstest.S3(t)
	ctx := context.Background()
	bucket := awstest.Name(t, "lake")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	api := &sinkCountingS3{Client: client}
	sink := mustS3Sink(api, bucket, "t")
	for i := range 2 { // the rerun replaces the first run's file
		res, err := mustConverter(sink, func(o *ConverterOptions) { o.RunID = fmt.Sprint("r", i) }).Convert(ctx, strings.NewReader("a,b\n1,x\n"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && fmt.Sprint(res.Removed) != "[part-r0-00000.parquet]" {
			t.Fatalf("removed %v", res.Removed)
		}
	}
	if api.puts.Load() != 2 || api.parts.Load() != 0 {
		t.Fatalf("puts %d parts %d", api.puts.Load(), api.parts.Load())
	}
	names, err := sink.List(ctx, "")
	if err != nil || fmt.Sprint(names) != "[part-r1-00000.parquet]" {
		t.Fatalf("list %v %v", names, err)
	}
}

// sinkFailingReader fails after some data, as a broken S3 download would.
type sinkFailingReader struct{ n int }

func (r *sinkFailingReader) Read(p []byte) (int, error) {
	if r.n > 3<<20 {
		return 0, fmt.Errorf("connection reset")
	}
	k := 0
	for k+4 <= len(p) {
		copy(p[k:], "1,x\n")
		k += 4
	}
	r.n += k
	return k, nil
}

func TestConvertFailurePublishesNothing(t *testing.T) {
	client := awstest.S3(t)
	ctx := context.Background()
	bucket := awstest.Name(t, "lake")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, sink := range []Sink{mustS3Sink(client, bucket, "t"), DirSink(dir)} {
		_, err := mustConverter(sink, func(o *ConverterOptions) {
			o.Header = HeaderAbsent
			o.RowGroupRows = 1000
		}).Convert(ctx, &sinkFailingReader{})
		if err == nil || !strings.Contains(err.Error(), "connection reset") {
			t.Fatalf("err = %v", err)
		}
		if names, err := sink.List(ctx, ""); err != nil || len(names) != 0 {
			t.Fatalf("after a failed run the sink holds %v (%v)", names, err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("temporary files left: %d", len(ents))
	}
}

// sinkPartServer is gofakes3 over HTTP that records, for every request an
// S3 sink makes, the headers it checks, and holds each UploadPart until a
// second one is in flight (or a second passes), so parts sent one at a
// time show as a peak of 1.
type sinkPartServer struct {
	h        http.Handler
	inFlight atomic.Int64
	peak     atomic.Int64
	arrived  chan struct{}

	mu      sync.Mutex
	noOwner []string // requests without x-amz-expected-bucket-owner
	types   []string // Content-Type of CreateMultipartUpload and PutObject
	uploads []string // CreateMultipartUpload keys
	aborted []string // AbortMultipartUpload keys
}

func (s *sinkPartServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	if r.Header.Get("X-Amz-Expected-Bucket-Owner") == "" && r.URL.Path != "/"+sinkPartBucket {
		s.noOwner = append(s.noOwner, r.Method+" "+r.URL.Path)
	}
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		s.uploads = append(s.uploads, r.URL.Path)
		s.types = append(s.types, r.Header.Get("Content-Type"))
	case r.Method == http.MethodPut && !q.Has("uploadId") && r.URL.Path != "/"+sinkPartBucket:
		s.types = append(s.types, r.Header.Get("Content-Type"))
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		s.aborted = append(s.aborted, r.URL.Path)
	}
	s.mu.Unlock()
	if r.Method == http.MethodPut && q.Has("partNumber") {
		n := s.inFlight.Add(1)
		defer s.inFlight.Add(-1)
		for p := s.peak.Load(); n > p && !s.peak.CompareAndSwap(p, n); p = s.peak.Load() {
		}
		select {
		case s.arrived <- struct{}{}: // release one part already waiting
		default:
			select {
			case <-s.arrived: // another part came
			case <-time.After(time.Second): // alone: parts go one by one
			}
		}
	}
	s.h.ServeHTTP(w, r)
}

const sinkPartBucket = "lake-parts"

// TestS3SinkUploadsPartsInParallel: an S3 sink uploads a file's parts in
// parallel (the hand-written uploader sent one at a time), with the
// expected bucket owner on every request and the file's content type, and
// a failed file's multipart upload is aborted, leaving nothing.
func TestS3SinkUploadsPartsInParallel(t *testing.T) {
	ps := &sinkPartServer{arrived: make(chan struct{})}
	client := awstest.S3ServerWrapped(t, nil, func(next http.Handler) http.Handler { ps.h = next; return ps }).S3()
	ctx := context.Background()
	bucket := sinkPartBucket
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	sink := mustS3Sink(client, bucket, "refined/t", func(o *S3SinkOptions) {
		o.PartSize = s3copy.MinPartSize
		o.ExpectedBucketOwner = "111122223333"
	})
	// 6 parts of random letters, then a quarantine file by the same sink.
	r := rand.New(rand.NewPCG(3, 4))
	blob := make([]byte, 6*s3copy.MinPartSize-100)
	for i := range blob {
		blob[i] = byte('a' + r.IntN(26))
	}
	for _, name := range []string{"big.parquet", "bad.csv"} {
		w, err := sink.Create(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		data := blob
		if name == "bad.csv" {
			data = []byte("line,reason\n3,bad quote\n")
		}
		for len(data) > 0 { // in 64 KiB writes, as a Parquet writer does
			k := min(len(data), 64<<10)
			if _, err := w.Write(data[:k]); err != nil {
				t.Fatal(err)
			}
			data = data[k:]
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	f, err := sink.Open(ctx, "big.parquet")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, f.Size())
	if _, err := f.ReadAt(got, 0); err != nil || !bytes.Equal(got, blob) {
		t.Fatalf("read back %d B (%v), want the %d B written", len(got), err, len(blob))
	}
	t.Logf("peak UploadPart requests in flight: %d", ps.peak.Load())
	if ps.peak.Load() < 2 {
		t.Fatalf("at most %d UploadPart in flight: parts are sent one at a time", ps.peak.Load())
	}
	ps.mu.Lock()
	if len(ps.noOwner) > 0 {
		t.Errorf("requests without the expected bucket owner: %q", ps.noOwner)
	}
	if fmt.Sprint(ps.types) != "[application/vnd.apache.parquet text/csv]" {
		t.Errorf("content types %q", ps.types)
	}
	ps.mu.Unlock()

	// A file that fails after some parts: its upload is aborted.
	w, err := sink.Create(ctx, "failed.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(blob[:3*s3copy.MinPartSize]); err != nil {
		t.Fatal(err)
	}
	if err := w.(interface{ Abort() error }).Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after Abort succeeded")
	}
	// The same when the run's context is cancelled: the abort runs on a
	// fresh one.
	cctx, cancel := context.WithCancel(ctx)
	w, err = sink.Create(cctx, "cancelled.parquet")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(blob[:3*s3copy.MinPartSize]); err != nil {
		t.Fatal(err)
	}
	cancel()
	_ = w.(interface{ Abort() error }).Abort()
	ps.mu.Lock()
	if fmt.Sprint(ps.aborted) != "[/"+bucket+"/refined/t/failed.parquet /"+bucket+"/refined/t/cancelled.parquet]" {
		t.Errorf("aborted uploads %q", ps.aborted)
	}
	ps.mu.Unlock()
	names, err := sink.List(ctx, "")
	if err != nil || fmt.Sprint(names) != "[bad.csv big.parquet]" {
		t.Fatalf("sink lists %q (%v)", names, err)
	}
	ups, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("%d multipart uploads left open (%v)", len(ups.Uploads), err)
	}
}

// TestNewS3SinkRefusesInvalidOptions: a part size S3 cannot take is an
// *OptionError, not silently raised to the minimum.
func TestNewS3SinkRefusesInvalidOptions(t *testing.T) {
	tests := []struct {
		field string
		set   func(*S3SinkOptions)
	}{
		{"PartSize", func(o *S3SinkOptions) { o.PartSize = 1 << 20 }},
		{"PartSize", func(o *S3SinkOptions) { o.PartSize = -1 }},
		{"PartSize", func(o *S3SinkOptions) { o.PartSize = s3copy.MaxPartSize + 1 }},
		{"Concurrency", func(o *S3SinkOptions) { o.Concurrency = -1 }},
	}
	for _, tt := range tests {
		_, err := NewS3Sink(nil, "b", "p", tt.set)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Field != tt.field {
			t.Errorf("%s: err = %v, want *OptionError for it", tt.field, err)
		}
	}
	if _, err := NewS3Sink(nil, "b", "p"); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
