package sqsbatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

func TestPointerRoundTrip(t *testing.T) {
	p := sqsbatch.Pointer{Bucket: "large-payloads", Key: "offload/5c0d\"é"}
	body := sqsbatch.EncodePointer(p)
	if !strings.HasPrefix(body, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"large-payloads","s3Key":`) {
		t.Fatalf("encoded %s", body)
	}
	got, err := sqsbatch.DecodePointer(body)
	if err != nil || got != p {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	// The Java extended client's own output.
	java := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"a1b2c3d4-0000-4e5f-8a9b-0123456789ab"}]`
	if got, err := sqsbatch.DecodePointer(java); err != nil || got.Bucket != "my-bucket" {
		t.Fatalf("java pointer: %+v %v", got, err)
	}
	for _, bad := range []string{`{"id":"1"}`, `[]`, `["software.amazon.payloadoffloading.PayloadS3Pointer"]`,
		`["other.Class",{"s3BucketName":"b","s3Key":"k"}]`, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"","s3Key":"k"}]`, "plain text"} {
		if _, err := sqsbatch.DecodePointer(bad); !errors.Is(err, sqsbatch.ErrNotPointer) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// FuzzDecodePointer: decoding never panics; whatever decodes has a bucket
// and a key and survives a round trip.
func FuzzDecodePointer(f *testing.F) {
	for _, s := range []string{
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k","x":1}]`,
		` ["software.amazon.payloadoffloading.PayloadS3Pointer",null] `, `[1,2]`, `{"a":1}`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := sqsbatch.DecodePointer(body)
		if err != nil {
			if !errors.Is(err, sqsbatch.ErrNotPointer) {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		if p.Bucket == "" || p.Key == "" {
			t.Fatalf("decoded an empty pointer from %q", body)
		}
		again, err := sqsbatch.DecodePointer(sqsbatch.EncodePointer(p))
		if err != nil || again != p {
			t.Fatalf("round trip %+v -> %+v %v", p, again, err)
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}

// putPointer stores body at bucket/key and returns a message pointing at it.
func putPointer(t *testing.T, s3c *s3.Client, bucket, key string, body []byte) types.Message {
	t.Helper()
	ctx := context.Background()
	_, _ = s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket})
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	return types.Message{
		Body: aws.String(sqsbatch.EncodePointer(sqsbatch.Pointer{Bucket: bucket, Key: key})),
		MessageAttributes: map[string]types.MessageAttributeValue{
			sqsbatch.ExtendedPayloadSizeAttribute: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(len(body)))},
		},
	}
}

// allocated returns the bytes fn allocated (TotalAlloc delta; gofakes3
// runs in this process, so its serving counts too).
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// lyingS3 reports a ContentLength other than the object's.
type lyingS3 struct {
	sqsbatch.GetObjectAPI
	length int64
}

func (l lyingS3) GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	out, err := l.GetObjectAPI.GetObject(ctx, in, optFns...)
	if err == nil {
		out.ContentLength = aws.Int64(l.length)
	}
	return out, err
}

// TestResolverBucketAllowListByDefault: a Resolver with no allowed buckets
// refuses every pointer (a message body is outside input: it must not pick
// the bucket the consumer reads); NewResolver wants buckets or an explicit
// AllowAnyBucket.
func TestResolverBucketAllowListByDefault(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	bucket := awstest.Name(t, "secrets")
	m := putPointer(t, s3c, bucket, "payroll.json", []byte(`{"secret":1}`))

	got, err := (&sqsbatch.Resolver{S3: s3c}).Resolve(ctx, m)
	var re *sqsbatch.ResolveError
	if !errors.Is(err, sqsbatch.ErrBucketNotAllowed) || !errors.As(err, &re) || re.Bucket != bucket || re.Key != "payroll.json" || aws.ToString(got.Body) != aws.ToString(m.Body) {
		t.Fatalf("resolver with no buckets: %v, body %q", err, aws.ToString(got.Body))
	}
	t.Logf("user sees: %v", err)
	other, _ := sqsbatch.NewResolver(s3c, []string{"payloads"})
	if _, err := other.Resolve(ctx, m); !errors.Is(err, sqsbatch.ErrBucketNotAllowed) {
		t.Fatalf("bucket not listed: %v", err)
	} else {
		t.Logf("user sees: %v", err)
	}
	var ce *sqsbatch.ResolverConfigError
	if _, err := sqsbatch.NewResolver(s3c, nil); !errors.As(err, &ce) {
		t.Fatalf("NewResolver without buckets: %v", err)
	}
	if _, err := sqsbatch.NewResolver(s3c, []string{bucket}, func(o *sqsbatch.ResolverOptions) { o.MaxBytes = sqsbatch.MaxResolvedBytes + 1 }); !errors.As(err, &ce) {
		t.Fatalf("NewResolver with MaxBytes over 2 GiB: %v", err)
	}
	for _, r := range []func() (*sqsbatch.Resolver, error){
		func() (*sqsbatch.Resolver, error) { return sqsbatch.NewResolver(s3c, []string{bucket}) },
		func() (*sqsbatch.Resolver, error) {
			return sqsbatch.NewResolver(s3c, nil, func(o *sqsbatch.ResolverOptions) { o.AllowAnyBucket = true })
		},
	} {
		res, err := r()
		if err != nil {
			t.Fatal(err)
		}
		if got, err := res.Resolve(ctx, m); err != nil || aws.ToString(got.Body) != `{"secret":1}` {
			t.Fatalf("allowed: %v %q", err, aws.ToString(got.Body))
		}
	}
}

// TestResolverChecksSizeBeforeReading: an object over MaxBytes is refused
// from its ContentLength, before its body is read; a ContentLength that
// lies (short or long) cannot make the resolver read more than it or
// MaxBytes. Memory is bounded by TotalAlloc deltas.
func TestResolverChecksSizeBeforeReading(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	bucket := awstest.Name(t, "payloads")
	big := bytes.Repeat([]byte("x"), 8<<20)
	m := putPointer(t, s3c, bucket, "big", big)

	res, err := sqsbatch.NewResolver(s3c, []string{bucket}, func(o *sqsbatch.ResolverOptions) { o.MaxBytes = 1 << 20 })
	if err != nil {
		t.Fatal(err)
	}
	var rerr error
	alloc := allocated(func() { _, rerr = res.Resolve(ctx, m) })
	var re *sqsbatch.ResolveError
	if !errors.Is(rerr, sqsbatch.ErrPayloadTooLarge) || !errors.As(rerr, &re) || re.Size != 8<<20 || re.Limit != 1<<20 || re.Bucket != bucket || re.Key != "big" {
		t.Fatalf("8 MiB object, 1 MiB limit: %v", rerr)
	}
	t.Logf("8 MiB object over a 1 MiB limit: %d bytes allocated; user sees: %v", alloc, rerr)
	if alloc > 512<<10 {
		t.Errorf("refusing an 8 MiB object over a 1 MiB limit allocated %d bytes: the body was read", alloc)
	}

	// ContentLength claims 100 bytes: no more than 101 are read.
	liar := &sqsbatch.Resolver{S3: lyingS3{s3c, 100}, Buckets: []string{bucket}}
	alloc = allocated(func() { _, rerr = liar.Resolve(ctx, m) })
	if !errors.As(rerr, &re) || re.Size != 100 {
		t.Fatalf("ContentLength 100 for 8 MiB: %v", rerr)
	}
	t.Logf("8 MiB body claiming 100 bytes: %d bytes allocated; user sees: %v", alloc, rerr)
	if alloc > 512<<10 {
		t.Errorf("a body longer than its ContentLength was read whole: %d bytes allocated", alloc)
	}

	// ContentLength claims 300 MiB: over the default limit, refused unread.
	small := putPointer(t, s3c, bucket, "small", []byte("tiny"))
	liar = &sqsbatch.Resolver{S3: lyingS3{s3c, 300 << 20}, Buckets: []string{bucket}}
	if _, err := liar.Resolve(ctx, small); !errors.Is(err, sqsbatch.ErrPayloadTooLarge) || !errors.As(err, &re) || re.Limit != sqsbatch.DefaultMaxResolvedBytes {
		t.Fatalf("ContentLength 300 MiB with the default limit: %v", err)
	}

	// Within the limit: the body comes back whole, read once.
	ok, _ := sqsbatch.NewResolver(s3c, []string{bucket})
	var got types.Message
	alloc = allocated(func() { got, rerr = ok.Resolve(ctx, m) })
	if rerr != nil || aws.ToString(got.Body) != string(big) {
		t.Fatalf("8 MiB within the default limit: %v", rerr)
	}
	t.Logf("8 MiB object resolved: %d bytes allocated (%.2f× the body)", alloc, float64(alloc)/float64(len(big)))
	if alloc > 10<<20 {
		t.Errorf("resolving 8 MiB allocated %d bytes", alloc)
	}
}
