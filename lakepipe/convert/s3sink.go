package convert

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/s3copy"
)

// Defaults of the zero S3SinkOptions fields.
const (
	// DefaultPartSize is the part size of an S3 sink's multipart uploads.
	DefaultPartSize = 8 << 20
	// DefaultUploadConcurrency is how many parts of one file an S3 sink
	// uploads at once (the SDK transfer manager's own default).
	DefaultUploadConcurrency = 5
)

// S3SinkAPI is the part of the S3 client an S3 sink uses.
// It includes the calls of the SDK transfer manager's S3APIClient.
type S3SinkAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

var _ transfermanager.S3APIClient = S3SinkAPI(nil)

// S3SinkOptions configure an S3 sink.
type S3SinkOptions struct {
	// PartSize of multipart uploads; files smaller than one part are sent
	// with one PutObject. Default DefaultPartSize, at least
	// s3copy.MinPartSize.
	PartSize int
	// Concurrency is how many parts of one file are uploaded at once.
	// Default DefaultUploadConcurrency. A file being written holds at most
	// (Concurrency+2) × PartSize bytes of buffers, allocated when it
	// outgrows one part; a partitioned run has one such file per
	// partition it is writing.
	Concurrency int
	// ExpectedBucketOwner is sent with every request when set.
	ExpectedBucketOwner string
}

// NewS3Sink returns a Sink that writes files under s3://bucket/prefix/ with the SDK's transfer
// manager: a file is streamed in parts uploaded in parallel, never whole
// in memory. A file smaller than one part is sent with one PutObject when
// it is closed; a larger one becomes visible only when its multipart
// upload completes on Close. A failed or aborted file's upload is aborted
// on a fresh context bounded by s3copy.AbortTimeout, so a cancelled run
// still cleans up; a killed run's incomplete uploads are invisible and
// are aborted by the next run (Result.AbortedUploads). Parts are
// sent from memory, so the SDK's default checksums (CRC32) work over plain
// HTTP as well as TLS.
//
// A PartSize outside [s3copy.MinPartSize, s3copy.MaxPartSize] or a
// negative Concurrency is an *OptionError.
func NewS3Sink(client S3SinkAPI, bucket, prefix string, optFns ...func(*S3SinkOptions)) (*S3Sink, error) {
	s := &S3Sink{client: client, bucket: bucket, prefix: strings.TrimSuffix(prefix, "/")}
	for _, fn := range optFns {
		fn(&s.opts)
	}
	const typ = "convert.S3SinkOptions"
	if s.opts.PartSize != 0 {
		if err := opt.Range(typ, "PartSize", s.opts.PartSize, s3copy.MinPartSize, s3copy.MaxPartSize); err != nil {
			return nil, err
		}
	}
	if err := opt.Min(typ, "Concurrency", s.opts.Concurrency, 0); err != nil {
		return nil, err
	}
	s.opts.PartSize = opt.Default(s.opts.PartSize, DefaultPartSize)
	s.opts.Concurrency = opt.Default(s.opts.Concurrency, DefaultUploadConcurrency)
	if s.prefix != "" {
		s.prefix += "/"
	}
	s.up = transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = int64(s.opts.PartSize)
		// One part decides between PutObject and a multipart upload, so
		// the first part is the only buffer a small file needs.
		o.MultipartUploadThreshold = int64(s.opts.PartSize)
		o.Concurrency = s.opts.Concurrency
		o.MaxUploadParts = s3copy.MaxParts
		o.FailTimeout = s3copy.AbortTimeout
	})
	return s, nil
}

// S3Sink is a Sink under s3://bucket/prefix/; see NewS3Sink.
type S3Sink struct {
	client S3SinkAPI
	up     *transfermanager.Client
	bucket string
	prefix string
	opts   S3SinkOptions
}

func (s *S3Sink) owner() *string {
	if s.opts.ExpectedBucketOwner == "" {
		return nil
	}
	return aws.String(s.opts.ExpectedBucketOwner)
}

// errSinkAborted ends the upload of a file whose writer was aborted.
var errSinkAborted = errors.New("convert: upload aborted")

func (s *S3Sink) Create(ctx context.Context, name string) (io.WriteCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	key := s.prefix + name
	pr, pw := io.Pipe()
	w := &s3Writer{pw: pw, done: make(chan error, 1)}
	go func() {
		_, err := s.up.UploadObject(ctx, &transfermanager.UploadObjectInput{
			Bucket: &s.bucket, Key: &key, Body: pr, ContentType: contentType(key),
			ExpectedBucketOwner: s.owner(),
		})
		if err != nil {
			err = fmt.Errorf("convert: uploading %s: %w", key, err)
		}
		// A failed upload stops reading: fail the writer's next Write.
		_ = pr.CloseWithError(cmp.Or(err, io.ErrClosedPipe))
		w.done <- err
	}()
	return w, nil
}

// s3Writer streams a file through a pipe into the transfer manager's
// upload, which runs in its own goroutine.
type s3Writer struct {
	pw       *io.PipeWriter
	done     chan error
	finished bool
	err      error
}

func (w *s3Writer) Write(p []byte) (int, error) { return w.pw.Write(p) }

// contentType is the type of a sink file: Parquet, or CSV (a quarantine
// file written through a sink).
func contentType(key string) *string {
	if strings.HasSuffix(key, ".csv") {
		return aws.String("text/csv")
	}
	return aws.String("application/vnd.apache.parquet")
}

// finish ends the input with cause (nil: the file is complete) and waits
// for the upload.
func (w *s3Writer) finish(cause error) error {
	if !w.finished {
		w.finished = true
		_ = w.pw.CloseWithError(cause)
		w.err = <-w.done
	}
	return w.err
}

// Close completes the file: it is visible when Close returns nil.
func (w *s3Writer) Close() error { return w.finish(nil) }

// Abort discards the file: nothing is published and a started multipart
// upload is aborted. It returns an error only when the upload had already
// failed or could not be aborted.
func (w *s3Writer) Abort() error {
	if err := w.finish(errSinkAborted); err != nil && !errors.Is(err, errSinkAborted) {
		return err
	}
	return nil
}

func (s *S3Sink) Open(ctx context.Context, name string) (SinkFile, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	key := s.prefix + name
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key, ExpectedBucketOwner: s.owner()})
	if err != nil {
		return nil, fmt.Errorf("convert: opening %s: %w", key, err)
	}
	return &s3File{ctx: ctx, s: s, key: key, size: aws.ToInt64(out.ContentLength), etag: out.ETag}, nil
}

// s3File reads an object with ranged GETs, pinned to the ETag it opened.
type s3File struct {
	ctx  context.Context
	s    *S3Sink
	key  string
	size int64
	etag *string
}

func (f *s3File) Size() int64  { return f.size }
func (f *s3File) Close() error { return nil }

func (f *s3File) ReadAt(p []byte, off int64) (int, error) {
	if off >= f.size {
		return 0, io.EOF
	}
	end := min(off+int64(len(p)), f.size)
	out, err := f.s.client.GetObject(f.ctx, &s3.GetObjectInput{
		Bucket: &f.s.bucket, Key: &f.key, IfMatch: f.etag, ExpectedBucketOwner: f.s.owner(),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, end-1)),
	})
	if err != nil {
		return 0, err
	}
	defer out.Body.Close()
	n, err := io.ReadFull(out.Body, p[:end-off])
	if err == nil && end-off < int64(len(p)) {
		err = io.EOF
	}
	return n, err
}

func (s *S3Sink) List(ctx context.Context, dir string) ([]string, error) {
	prefix := s.prefix
	if dir != "" {
		if err := checkName(strings.TrimSuffix(dir, "/")); err != nil {
			return nil, err
		}
		prefix += strings.TrimSuffix(dir, "/") + "/"
	}
	var out []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: &s.bucket, Prefix: &prefix, Delimiter: aws.String("/"), ExpectedBucketOwner: s.owner(),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("convert: listing s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, strings.TrimPrefix(aws.ToString(o.Key), s.prefix))
		}
	}
	return out, nil
}

// s3UploadLister is the optional part of the client that lets a rerun
// abort a killed run's multipart uploads (s3:ListBucketMultipartUploads).
type s3UploadLister interface {
	ListMultipartUploads(ctx context.Context, in *s3.ListMultipartUploadsInput, optFns ...func(*s3.Options)) (*s3.ListMultipartUploadsOutput, error)
}

func (s *S3Sink) abortUploads(ctx context.Context, dir string, stale func(string) bool, before time.Time) ([]string, error) {
	lister, ok := s.client.(s3UploadLister)
	if !ok {
		return nil, nil
	}
	prefix := s.prefix + dir
	var aborted []string
	in := &s3.ListMultipartUploadsInput{Bucket: &s.bucket, Prefix: &prefix, Delimiter: aws.String("/"), ExpectedBucketOwner: s.owner()}
	for {
		out, err := lister.ListMultipartUploads(ctx, in)
		if err != nil {
			return aborted, fmt.Errorf("convert: listing uploads under s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, u := range out.Uploads {
			name := strings.TrimPrefix(aws.ToString(u.Key), s.prefix)
			if u.Initiated == nil || !u.Initiated.Before(before) || !stale(name) {
				continue
			}
			if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId, ExpectedBucketOwner: s.owner(),
			}); err != nil {
				return aborted, fmt.Errorf("convert: aborting the upload of %s: %w", aws.ToString(u.Key), err)
			}
			aborted = append(aborted, name)
		}
		if !aws.ToBool(out.IsTruncated) {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

func (s *S3Sink) Remove(ctx context.Context, names ...string) error {
	for len(names) > 0 {
		n := min(len(names), s3copy.MaxDeleteObjects)
		var ids []s3types.ObjectIdentifier
		for _, name := range names[:n] {
			if err := checkName(name); err != nil {
				return err
			}
			ids = append(ids, s3types.ObjectIdentifier{Key: aws.String(s.prefix + name)})
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: &s.bucket, Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}, ExpectedBucketOwner: s.owner(),
		})
		if err != nil {
			return fmt.Errorf("convert: deleting from s3://%s/%s: %w", s.bucket, s.prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("convert: deleting %s: %s: %s (%d failed)", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors))
		}
		names = names[n:]
	}
	return nil
}
