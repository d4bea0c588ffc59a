package lakepipe

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
)

// countingS3 counts the multipart calls an S3 sink makes.
type sinkCountingS3 struct {
	*s3.Client
	parts, puts, completes int
}

func (c *sinkCountingS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	c.parts++
	return c.Client.UploadPart(ctx, in, optFns...)
}

func (c *sinkCountingS3) PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	c.puts++
	return c.Client.PutObject(ctx, in, optFns...)
}

func (c *sinkCountingS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	c.completes++
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
	sink := S3Sink(api, bucket, "refined/t/", func(o *S3SinkOptions) { o.PartSize = MinPartSize })
	res, err := NewConverter(sink, func(o *ConverterOptions) {
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
	if api.parts < 4 || api.completes != 2 {
		t.Fatalf("parts %d completes %d: want two multipart uploads (write, rewrite)", api.parts, api.completes)
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
	cols, _, rows := convReadFile(t, sink, res.Files[0].Name)
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
	sink := S3Sink(api, bucket, "t")
	for i := range 2 { // the rerun replaces the first run's file
		res, err := NewConverter(sink, func(o *ConverterOptions) { o.RunID = fmt.Sprint("r", i) }).Convert(ctx, strings.NewReader("a,b\n1,x\n"))
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 && fmt.Sprint(res.Removed) != "[part-r0-00000.parquet]" {
			t.Fatalf("removed %v", res.Removed)
		}
	}
	if api.puts != 2 || api.parts != 0 {
		t.Fatalf("puts %d parts %d", api.puts, api.parts)
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
	for _, sink := range []Sink{S3Sink(client, bucket, "t"), DirSink(dir)} {
		_, err := NewConverter(sink, func(o *ConverterOptions) {
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
