package kda

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakekit/lakekit/internal/awstest"
)

func newBucket(t testing.TB, c *s3.Client) string {
	t.Helper()
	b := awstest.Name(t, "kda")
	if _, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &b}); err != nil {
		t.Fatal(err)
	}
	return b
}

// listObjects returns key → body (gunzipped for .gz keys).
func listObjects(t testing.TB, c *s3.Client, bucket string) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			g, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			var r io.Reader = g.Body
			if strings.HasSuffix(*o.Key, ".gz") {
				if r, err = gzip.NewReader(g.Body); err != nil {
					t.Fatal(err)
				}
			}
			b, err := io.ReadAll(r)
			g.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[*o.Key] = string(b)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestDeliveryToS3(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	bucket := newBucket(t, c)
	clock := time.Date(2019, 12, 30, 23, 59, 58, 0, time.UTC)
	var delivered []string
	d, err := NewDelivery(c, bucket, "anomaly-delivery-stream", func(o *DeliveryOptions) {
		o.Prefix = "data/anomaly/year=!{timestamp:YYYY}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
		o.ErrorOutputPrefix = "errors/!{firehose:error-output-type}/!{timestamp:yyyy}/"
		o.BufferSize, o.AllowSmallBuffers = 100, true
		o.BufferInterval = 60 * time.Second
		o.Now = func() time.Time { return clock }
		o.Seed = 1
		o.OnObject = func(key string, n int) { delivered = append(delivered, fmt.Sprintf("%s:%d", key, n)) }
	})
	if err != nil {
		t.Fatal(err)
	}
	if w := d.Warnings(); len(w) != 1 || !strings.Contains(w[0], "YYYY") {
		t.Fatalf("warnings %v", w)
	}
	rec := []byte(`{"sensor_id":1,"current_temperature":120,"location":"UK"}`) // 57 bytes + newline
	if err := d.Put(ctx, rec, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if len(delivered) != 0 {
		t.Fatal("flushed before the buffer was full")
	}
	if err := d.Put(ctx, rec, time.Time{}); err != nil { // 116 bytes ≥ 100: size flush
		t.Fatal(err)
	}
	if len(delivered) != 1 {
		t.Fatalf("no size flush: %v", delivered)
	}
	clock = clock.Add(3 * time.Second) // 2019-12-31 00:00:01
	if err := d.Put(ctx, rec, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if err := d.PutError(ctx, []byte(`{"bad":true}`), ErrorOutputProcessingFailed, time.Time{}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(59 * time.Second)
	if err := d.Tick(ctx); err != nil || len(delivered) != 1 {
		t.Fatalf("tick before interval: %v %v", err, delivered)
	}
	clock = clock.Add(time.Second)
	if err := d.Tick(ctx); err != nil || len(delivered) != 3 {
		t.Fatalf("tick at interval: %v %v", err, delivered)
	}
	objs := listObjects(t, c, bucket)
	keys := sortedKeys(objs)
	want := []*regexp.Regexp{
		regexp.MustCompile(`^data/anomaly/year=2020/month=12/day=30/hour=23/anomaly-delivery-stream-1-2019-12-30-23-59-58-[0-9a-f-]{36}$`),
		regexp.MustCompile(`^data/anomaly/year=2020/month=12/day=31/hour=00/anomaly-delivery-stream-1-2019-12-31-00-00-01-[0-9a-f-]{36}$`),
		regexp.MustCompile(`^errors/processing-failed/2019/anomaly-delivery-stream-1-2019-12-31-00-00-01-[0-9a-f-]{36}$`),
	}
	if len(keys) != 3 {
		t.Fatalf("keys %v", keys)
	}
	for i, re := range want {
		if !re.MatchString(keys[i]) {
			t.Errorf("key %d %s, want /%s/", i, keys[i], re)
		}
	}
	if objs[keys[0]] != string(rec)+"\n"+string(rec)+"\n" || objs[keys[2]] != "{\"bad\":true}\n" {
		t.Errorf("bodies %q", objs)
	}
	st := d.Stats()
	if st.Records != 3 || st.ErrorRecords != 1 || st.Objects != 3 || st.Failures != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeliveryGzipAndNoNewline(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	bucket := newBucket(t, c)
	d, err := NewDelivery(c, bucket, "s", func(o *DeliveryOptions) {
		o.Compression = GZIP
		o.NoNewline = true
		o.Prefix = "p/!{timestamp:yyyy}/"
		o.Now = func() time.Time { return time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) }
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := d.Put(ctx, fmt.Appendf(nil, `{"i":%d}`, i), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	objs := listObjects(t, c, bucket)
	keys := sortedKeys(objs)
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "p/2024/s-1-2024-05-01-00-00-00-") || !strings.HasSuffix(keys[0], ".gz") ||
		objs[keys[0]] != `{"i":0}{"i":1}{"i":2}` {
		t.Fatalf("objects %v", objs)
	}
}

// flakyPut fails the first n PutObject calls.
type flakyPut struct {
	PutObjectAPI
	fail int
}

func (f *flakyPut) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if f.fail > 0 {
		f.fail--
		return nil, errors.New("injected outage")
	}
	return f.PutObjectAPI.PutObject(ctx, in, optFns...)
}

func TestDeliveryKeepsBufferOnFailure(t *testing.T) {
	ctx := context.Background()
	c := awstest.S3(t)
	bucket := newBucket(t, c)
	fp := &flakyPut{PutObjectAPI: c, fail: 1}
	d, err := NewDelivery(fp, bucket, "s", func(o *DeliveryOptions) { o.ExpectedBucketOwner = "" })
	if err != nil {
		t.Fatal(err)
	}
	_ = d.Put(ctx, []byte("a"), time.Time{})
	var de *DeliveryError
	if err := d.Flush(ctx); !errors.As(err, &de) || de.Records != 1 {
		t.Fatalf("flush: %v", err)
	}
	_ = d.Put(ctx, []byte("b"), time.Time{})
	if err := d.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	objs := listObjects(t, c, bucket)
	if len(objs) != 1 {
		t.Fatalf("objects %v", objs)
	}
	for _, body := range objs {
		if body != "a\nb\n" {
			t.Fatalf("body %q", body)
		}
	}
	if st := d.Stats(); st.Failures != 1 || st.Objects != 1 {
		t.Fatalf("stats %+v", st)
	}
	if _, err := NewDelivery(c, bucket, "s", func(o *DeliveryOptions) { o.BufferSize = 1000 }); err == nil {
		t.Fatal("buffer below 1 MiB accepted")
	}
	if _, err := NewDelivery(c, bucket, "s", func(o *DeliveryOptions) { o.Prefix = "!{firehose:error-output-type}" }); err == nil {
		t.Fatal("error-output-type accepted in the main prefix")
	}
}

// discardPut is an S3 that keeps nothing: it measures the delivery itself.
type discardPut struct{ n int64 }

func (d *discardPut) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	n, err := io.Copy(io.Discard, in.Body)
	d.n += n
	return &s3.PutObjectOutput{}, err
}

func BenchmarkDelivery(b *testing.B) {
	g := must(NewGenerator(MustParseTemplate(seedTemplate), func(o *GeneratorOptions) { o.Seed = 1 }))
	recs := make([][]byte, 1024)
	for i := range recs {
		recs[i] = bytes.Join(bytes.Fields(g.Next()), nil)
	}
	run := func(b *testing.B, c PutObjectAPI, bucket string, comp Compression) {
		d, err := NewDelivery(c, bucket, "bench", func(o *DeliveryOptions) {
			o.Prefix = "data/year=!{timestamp:yyyy}/month=!{timestamp:MM}/"
			o.Compression = comp
		})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var n int64
		b.ReportAllocs()
		cpu0 := cpuTime()
		for i := 0; b.Loop(); i++ {
			r := recs[i&1023]
			n += int64(len(r) + 1)
			if err := d.Put(ctx, r, time.Time{}); err != nil {
				b.Fatal(err)
			}
		}
		if err := d.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		reportRate(b, float64(n)/1e6, "MB", cpu0)
	}
	b.Run("discard", func(b *testing.B) { run(b, &discardPut{}, "b", Uncompressed) })
	b.Run("discard-gzip", func(b *testing.B) { run(b, &discardPut{}, "b", GZIP) })
	b.Run("gofakes3", func(b *testing.B) {
		c := awstest.S3(b)
		run(b, c, newBucket(b, c), Uncompressed)
	})
}

func TestDeliveryRunFlushesOnCancel(t *testing.T) {
	c := awstest.S3(t)
	bucket := newBucket(t, c)
	d, err := NewDelivery(c, bucket, "s")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	_ = d.Put(ctx, []byte(`{"a":1}`), time.Time{})
	cancel()
	if err := d.Run(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if objs := listObjects(t, c, bucket); len(objs) != 1 {
		t.Fatalf("objects %v", objs)
	}
}

// TestDeliveryRunStopsOnMissingBucket: a destination bucket that does not
// exist ends Run at the first tick with the *DeliveryError (the old Run
// logged, when it had a logger, and kept the records piling up for ever).
// The 30 s bound only detects a hang.
func TestDeliveryRunStopsOnMissingBucket(t *testing.T) {
	c := awstest.S3(t)
	d, err := NewDelivery(c, newBucket(t, c)+"-typo", "s", func(o *DeliveryOptions) { o.BufferInterval = time.Nanosecond })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = d.Put(ctx, []byte(`{"a":1}`), time.Time{})
	err = d.Run(ctx, 10*time.Millisecond)
	if ctx.Err() != nil {
		t.Fatalf("Run did not stop by itself: %v", err)
	}
	var de *DeliveryError
	if !errors.As(err, &de) || de.Records != 1 {
		t.Fatalf("Run = %v, want a *DeliveryError", err)
	}
	t.Logf("error: %v", err)
}
