package rekog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/lakekit/lakekit/internal/opt"
)

// PutObjectAPI is the S3 call TextService makes.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// TextOptions configure a TextService.
type TextOptions struct {
	// Prefix is prepended to every object key ("uploads/"). Default "".
	Prefix string
	// ExpectedBucketOwner is sent with PutObject when set, so the image is
	// never written to a bucket another account has taken over.
	ExpectedBucketOwner string
	// ServerSideEncryption is sent with PutObject when set (for example
	// s3types.ServerSideEncryptionAes256). Default: the bucket's default.
	ServerSideEncryption s3types.ServerSideEncryption
	// Decode tunes image validation. Default: DecodeOptions{} (5 MB, 80 px).
	Decode DecodeOptions
	// Filter is applied to every detection. Default nil: no filter.
	Filter *TextFilter
	// PassS3 makes the detector read the stored object (S3Location) instead
	// of the bytes. Default false: bytes are sent, saving Rekognition a read
	// and the role an s3:GetObject grant. Rekognition takes up to
	// MaxImageBytes as bytes and MaxS3ImageBytes from S3: raise
	// Decode.MaxBytes above the former only together with PassS3.
	PassS3 bool
	// Logger receives debug records (keys, sizes, never image data).
	// Default: a discarding logger.
	Logger *slog.Logger
}

// TextService is the seed's Lambda as a library: validate the uploaded
// image, store it under a key derived from the caller's name, and detect
// its text.
type TextService struct {
	s3       PutObjectAPI
	bucket   string
	detector TextDetector
	opts     TextOptions

	detected, rejected, failed atomic.Int64
}

// NewTextService returns a TextService storing images in bucket. Decode
// options it cannot honour are an *OptionError.
func NewTextService(store PutObjectAPI, bucket string, detector TextDetector, optFns ...func(*TextOptions)) (*TextService, error) {
	s := &TextService{s3: store, bucket: bucket, detector: detector}
	for _, fn := range optFns {
		fn(&s.opts)
	}
	var err error
	if s.opts.Decode, err = s.opts.Decode.withDefaults(); err != nil {
		return nil, err
	}
	s.opts.Logger = opt.Logger(s.opts.Logger)
	return s, nil
}

// TextDetection is the answer for one upload.
type TextDetection struct {
	Bucket, Key   string
	Format        Format
	Width, Height int
	Result        *TextResult
}

// TextStats counts requests since the service was built.
type TextStats struct {
	Detected int64 // images stored and read
	Rejected int64 // invalid images or names
	Failed   int64 // S3 or detector errors
}

// Stats returns a snapshot of the counters.
func (s *TextService) Stats() TextStats {
	return TextStats{Detected: s.detected.Load(), Rejected: s.rejected.Load(), Failed: s.failed.Load()}
}

// Detect decodes dataURL (a data URL or raw base64), validates it and name,
// stores the image and detects its text. Invalid input returns
// *InvalidImageError or *InvalidNameError before anything is stored.
func (s *TextService) Detect(ctx context.Context, name, dataURL string) (*TextDetection, error) {
	img, err := decodeImage(dataURL, s.opts.Decode)
	if err != nil {
		s.rejected.Add(1)
		return nil, err
	}
	return s.DetectImage(ctx, name, img)
}

// DetectImage is Detect for an already decoded image.
func (s *TextService) DetectImage(ctx context.Context, name string, img *Image) (*TextDetection, error) {
	key, err := ObjectKey(s.opts.Prefix, name, img.Format)
	if err != nil {
		s.rejected.Add(1)
		return nil, err
	}
	put := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          bytes.NewReader(img.Bytes),
		ContentLength: aws.Int64(int64(len(img.Bytes))),
		ContentType:   aws.String(img.Format.ContentType()),
	}
	if s.opts.ExpectedBucketOwner != "" {
		put.ExpectedBucketOwner = aws.String(s.opts.ExpectedBucketOwner)
	}
	if s.opts.ServerSideEncryption != "" {
		put.ServerSideEncryption = s.opts.ServerSideEncryption
	}
	out, err := s.s3.PutObject(ctx, put)
	if err != nil {
		s.failed.Add(1)
		return nil, &StoreError{Bucket: s.bucket, Key: key, Err: err}
	}
	in := TextInput{Image: img, Filter: s.opts.Filter}
	if s.opts.PassS3 {
		in.S3 = &S3Location{Bucket: s.bucket, Key: key, Version: aws.ToString(out.VersionId)}
	}
	res, err := s.detector.DetectText(ctx, in)
	if err != nil {
		s.failed.Add(1)
		var ie *InvalidImageError
		if errors.As(err, &ie) {
			return nil, err
		}
		return nil, &DetectError{Key: key, Err: err}
	}
	s.detected.Add(1)
	s.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "text detected", slog.String("key", key),
		slog.Int("bytes", len(img.Bytes)), slog.Int("lines", len(res.Lines)))
	return &TextDetection{Bucket: s.bucket, Key: key, Format: img.Format, Width: img.Width, Height: img.Height, Result: res}, nil
}

// StoreError reports a failed PutObject; the image was not analysed.
type StoreError struct {
	Bucket, Key string
	Err         error
}

func (e *StoreError) Error() string {
	return fmt.Sprintf("rekog: storing s3://%s/%s: %v", e.Bucket, e.Key, e.Err)
}

func (e *StoreError) Unwrap() error { return e.Err }

// DetectError reports a failed detection of a stored image.
type DetectError struct {
	Key string
	Err error
}

func (e *DetectError) Error() string {
	return fmt.Sprintf("rekog: detecting text in %s: %v", e.Key, e.Err)
}

func (e *DetectError) Unwrap() error { return e.Err }
