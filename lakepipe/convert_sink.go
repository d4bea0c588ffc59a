package lakepipe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Sink is where a Converter writes its files: a local directory or an S3
// prefix. Names are slash-separated and relative to the sink's root.
type Sink interface {
	// Create starts a new file; it is complete, and visible under its name,
	// when Close returns nil. A writer that also has an Abort() error method
	// is aborted instead of closed when a conversion fails, so that no
	// partial file is published.
	Create(ctx context.Context, name string) (io.WriteCloser, error)
	// Open opens a complete file for reading.
	Open(ctx context.Context, name string) (SinkFile, error)
	// List returns the names of the files directly in dir ("" is the root).
	List(ctx context.Context, dir string) ([]string, error)
	// Remove deletes files.
	Remove(ctx context.Context, names ...string) error
}

// SinkFile is an opened file of a Sink.
type SinkFile interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// ErrUnsafeName reports a file name that is absolute or leaves the sink's
// root.
var ErrUnsafeName = errors.New("lakepipe: file name escapes the sink root")

func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name {
		return fmt.Errorf("%w: %q", ErrUnsafeName, name)
	}
	return nil
}

// DirSink writes files under a local directory. Files are written to a
// temporary name and renamed on Close, so a reader never sees half a file.
func DirSink(root string) Sink { return dirSink{root: root} }

type dirSink struct{ root string }

func (d dirSink) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

func (d dirSink) Create(_ context.Context, name string) (io.WriteCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return nil, err
	}
	return &dirFile{f: f, final: p}, nil
}

type dirFile struct {
	f     *os.File
	final string
}

func (w *dirFile) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *dirFile) Close() error {
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return err
	}
	return os.Rename(w.f.Name(), w.final)
}

// Abort discards the file.
func (w *dirFile) Abort() error {
	w.f.Close()
	return os.Remove(w.f.Name())
}

type osSinkFile struct {
	*os.File
	size int64
}

func (f osSinkFile) Size() int64 { return f.size }

func (d dirSink) Open(_ context.Context, name string) (SinkFile, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return osSinkFile{File: f, size: st.Size()}, nil
}

func (d dirSink) List(_ context.Context, dir string) ([]string, error) {
	p := d.root
	if dir != "" {
		var err error
		if p, err = d.path(strings.TrimSuffix(dir, "/")); err != nil {
			return nil, err
		}
	}
	ents, err := os.ReadDir(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".tmp-") {
			out = append(out, path.Join(strings.TrimSuffix(dir, "/"), e.Name()))
		}
	}
	return out, nil
}

func (d dirSink) Remove(_ context.Context, names ...string) error {
	var errs []error
	for _, n := range names {
		p, err := d.path(n)
		if err == nil {
			err = os.Remove(p)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// S3 multipart limits.
const (
	MinPartSize      = 5 << 20 // S3's minimum part size (but the last)
	DefaultPartSize  = 8 << 20
	MaxUploadParts   = 10_000
	MaxDeleteObjects = 1000 // keys per DeleteObjects request
)

// S3SinkAPI is the part of the S3 client an S3 sink uses.
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

// S3SinkOptions configure an S3 sink.
type S3SinkOptions struct {
	// PartSize of multipart uploads; files smaller than one part are sent
	// with one PutObject. Default DefaultPartSize, at least MinPartSize.
	PartSize int
	// ExpectedBucketOwner is sent with every request when set.
	ExpectedBucketOwner string
}

// S3Sink writes files under s3://bucket/prefix/ with multipart uploads, so
// a file never sits whole in memory: one part is buffered at a time.
func S3Sink(client S3SinkAPI, bucket, prefix string, optFns ...func(*S3SinkOptions)) Sink {
	s := &s3Sink{client: client, bucket: bucket, prefix: strings.TrimSuffix(prefix, "/")}
	for _, fn := range optFns {
		fn(&s.opts)
	}
	if s.opts.PartSize == 0 {
		s.opts.PartSize = DefaultPartSize
	}
	s.opts.PartSize = max(s.opts.PartSize, MinPartSize)
	if s.prefix != "" {
		s.prefix += "/"
	}
	return s
}

type s3Sink struct {
	client S3SinkAPI
	bucket string
	prefix string
	opts   S3SinkOptions
}

func (s *s3Sink) owner() *string {
	if s.opts.ExpectedBucketOwner == "" {
		return nil
	}
	return aws.String(s.opts.ExpectedBucketOwner)
}

func (s *s3Sink) Create(ctx context.Context, name string) (io.WriteCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	return &s3Writer{ctx: ctx, s: s, key: s.prefix + name, buf: make([]byte, 0, s.opts.PartSize)}, nil
}

// s3Writer buffers one part and uploads it when full.
type s3Writer struct {
	ctx      context.Context
	s        *s3Sink
	key      string
	buf      []byte
	uploadID *string
	parts    []s3types.CompletedPart
	err      error
}

func (w *s3Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		room := cap(w.buf) - len(w.buf)
		k := min(room, len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		n += k
		if len(w.buf) == cap(w.buf) {
			if err := w.flushPart(); err != nil {
				w.err = err
				return n, err
			}
		}
	}
	return n, nil
}

func (w *s3Writer) flushPart() error {
	if w.uploadID == nil {
		out, err := w.s.client.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket: &w.s.bucket, Key: &w.key, ContentType: contentType(w.key),
			ExpectedBucketOwner: w.s.owner(),
		})
		if err != nil {
			return fmt.Errorf("lakepipe: starting upload of %s: %w", w.key, err)
		}
		w.uploadID = out.UploadId
	}
	num := int32(len(w.parts) + 1)
	if num > MaxUploadParts {
		return fmt.Errorf("lakepipe: %s needs more than %d parts: raise PartSize", w.key, MaxUploadParts)
	}
	out, err := w.s.client.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: &w.s.bucket, Key: &w.key, UploadId: w.uploadID, PartNumber: aws.Int32(num),
		Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))), ExpectedBucketOwner: w.s.owner(),
	})
	if err != nil {
		return fmt.Errorf("lakepipe: uploading part %d of %s: %w", num, w.key, err)
	}
	w.parts = append(w.parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(num)})
	w.buf = w.buf[:0]
	return nil
}

// contentType is the type of a sink file: Parquet, or CSV (a quarantine
// file written through a sink).
func contentType(key string) *string {
	if strings.HasSuffix(key, ".csv") {
		return aws.String("text/csv")
	}
	return aws.String("application/vnd.apache.parquet")
}

func (w *s3Writer) Close() error {
	if w.err != nil {
		w.abort()
		return w.err
	}
	if w.uploadID == nil {
		_, err := w.s.client.PutObject(w.ctx, &s3.PutObjectInput{
			Bucket: &w.s.bucket, Key: &w.key, Body: bytes.NewReader(w.buf),
			ContentLength: aws.Int64(int64(len(w.buf))), ContentType: contentType(w.key),
			ExpectedBucketOwner: w.s.owner(),
		})
		if err != nil {
			return fmt.Errorf("lakepipe: writing %s: %w", w.key, err)
		}
		return nil
	}
	if len(w.buf) > 0 {
		if err := w.flushPart(); err != nil {
			w.abort()
			return err
		}
	}
	_, err := w.s.client.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
		Bucket: &w.s.bucket, Key: &w.key, UploadId: w.uploadID,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: w.parts}, ExpectedBucketOwner: w.s.owner(),
	})
	if err != nil {
		w.abort()
		return fmt.Errorf("lakepipe: completing %s: %w", w.key, err)
	}
	return nil
}

// Abort discards the file: nothing is published and a started multipart
// upload is aborted.
func (w *s3Writer) Abort() error {
	w.abort()
	w.err = errors.New("lakepipe: upload aborted")
	return nil
}

func (w *s3Writer) abort() {
	if w.uploadID != nil {
		// A fresh context: the run's may be cancelled, and a dangling upload
		// is billed until a lifecycle rule removes it.
		_, _ = w.s.client.AbortMultipartUpload(context.WithoutCancel(w.ctx), &s3.AbortMultipartUploadInput{
			Bucket: &w.s.bucket, Key: &w.key, UploadId: w.uploadID, ExpectedBucketOwner: w.s.owner(),
		})
	}
}

func (s *s3Sink) Open(ctx context.Context, name string) (SinkFile, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	key := s.prefix + name
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key, ExpectedBucketOwner: s.owner()})
	if err != nil {
		return nil, fmt.Errorf("lakepipe: opening %s: %w", key, err)
	}
	return &s3File{ctx: ctx, s: s, key: key, size: aws.ToInt64(out.ContentLength), etag: out.ETag}, nil
}

// s3File reads an object with ranged GETs, pinned to the ETag it opened.
type s3File struct {
	ctx  context.Context
	s    *s3Sink
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

func (s *s3Sink) List(ctx context.Context, dir string) ([]string, error) {
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
			return nil, fmt.Errorf("lakepipe: listing s3://%s/%s: %w", s.bucket, prefix, err)
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

func (s *s3Sink) abortUploads(ctx context.Context, dir string, stale func(string) bool, before time.Time) ([]string, error) {
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
			return aborted, fmt.Errorf("lakepipe: listing uploads under s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, u := range out.Uploads {
			name := strings.TrimPrefix(aws.ToString(u.Key), s.prefix)
			if u.Initiated == nil || !u.Initiated.Before(before) || !stale(name) {
				continue
			}
			if _, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
				Bucket: &s.bucket, Key: u.Key, UploadId: u.UploadId, ExpectedBucketOwner: s.owner(),
			}); err != nil {
				return aborted, fmt.Errorf("lakepipe: aborting the upload of %s: %w", aws.ToString(u.Key), err)
			}
			aborted = append(aborted, name)
		}
		if !aws.ToBool(out.IsTruncated) {
			return aborted, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}

func (s *s3Sink) Remove(ctx context.Context, names ...string) error {
	for len(names) > 0 {
		n := min(len(names), MaxDeleteObjects)
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
			return fmt.Errorf("lakepipe: deleting from s3://%s/%s: %w", s.bucket, s.prefix, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("lakepipe: deleting %s: %s: %s (%d failed)", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors))
		}
		names = names[n:]
	}
	return nil
}
