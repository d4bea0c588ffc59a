package sqsbatch

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// The SQS Extended Client format (Java amazon-sqs-java-extended-client-lib,
// Python sqs-extended-client): the body is a two-element JSON array naming
// the pointer class and the object, and a Number attribute holds the
// original payload size.
const (
	// PointerClass is the first element of an extended-client pointer.
	PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"
	// ExtendedPayloadSizeAttribute is the attribute the current extended
	// clients set to the offloaded body's size.
	ExtendedPayloadSizeAttribute = "ExtendedPayloadSize"
	// LegacyPayloadSizeAttribute is the attribute older clients set.
	LegacyPayloadSizeAttribute = "SQSLargePayloadSize"
	// MaxPointerBytes bounds the pointer bodies DecodePointer accepts.
	MaxPointerBytes = 4 << 10
	// DefaultMaxResolvedBytes is Resolver.MaxBytes's default: 256 MiB. The
	// resolved body is held in memory as a string (and usually decoded
	// again by the handler), so the default suits Lambda functions of 1 GiB
	// or more; payloads beyond it are rare in SQS workloads and must be
	// asked for.
	DefaultMaxResolvedBytes = 256 << 20
	// MaxResolvedBytes is the largest Resolver.MaxBytes: 2 GiB, the
	// extended client's own payload limit.
	MaxResolvedBytes = 2 << 30
)

// Pointer names an offloaded body.
type Pointer struct {
	Bucket string `json:"s3BucketName"`
	Key    string `json:"s3Key"`
}

// ErrNotPointer says a body is not an extended-client pointer.
var ErrNotPointer = errors.New("sqsbatch: not an extended-client pointer")

// EncodePointer returns the message body that points at p.
func EncodePointer(p Pointer) string {
	b, _ := json.Marshal([]any{PointerClass, p})
	return string(b)
}

// DecodePointer parses an extended-client pointer body. It returns
// ErrNotPointer (wrapped) for any other body.
func DecodePointer(body string) (Pointer, error) {
	s := strings.TrimSpace(body)
	if len(s) > MaxPointerBytes || !strings.HasPrefix(s, "[") || !strings.Contains(s, PointerClass) {
		return Pointer{}, ErrNotPointer
	}
	var parts []json.RawMessage
	if err := json.Unmarshal([]byte(s), &parts); err != nil || len(parts) != 2 {
		return Pointer{}, fmt.Errorf("%w: %q", ErrNotPointer, truncate(s, 64))
	}
	var class string
	if err := json.Unmarshal(parts[0], &class); err != nil || class != PointerClass {
		return Pointer{}, ErrNotPointer
	}
	var p Pointer
	dec := json.NewDecoder(bytes.NewReader(parts[1]))
	if err := dec.Decode(&p); err != nil {
		return Pointer{}, fmt.Errorf("%w: %v", ErrNotPointer, err)
	}
	if p.Bucket == "" || p.Key == "" {
		return Pointer{}, fmt.Errorf("%w: empty bucket or key", ErrNotPointer)
	}
	return p, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Offload stores message bodies that do not fit in S3.
type Offload struct {
	// S3 stores bodies (PutObject). Required.
	S3 PutObjectAPI
	// Bucket receives the bodies. Required.
	Bucket string
	// Prefix is prepended to the generated object keys ("" = none).
	Prefix string
	// ExpectedBucketOwner, if set, is passed on every PutObject.
	ExpectedBucketOwner string
}

// OffloadError is a body that could not be stored in S3; the message was not
// sent.
type OffloadError struct {
	Index int64
	Key   string
	Err   error
}

func (e *OffloadError) Error() string {
	return fmt.Sprintf("sqsbatch: message %d (key %q): offload to S3: %v", e.Index, e.Key, e.Err)
}

func (e *OffloadError) Unwrap() error { return e.Err }

// store puts m's body in S3 and replaces it with a pointer.
func (o *Offload) store(ctx context.Context, m *Message, idx int64) (Pointer, error) {
	var rnd [16]byte
	_, _ = rand.Read(rnd[:])
	p := Pointer{Bucket: o.Bucket, Key: o.Prefix + hex.EncodeToString(rnd[:])}
	in := &s3.PutObjectInput{Bucket: &p.Bucket, Key: &p.Key, Body: strings.NewReader(m.Body), ContentLength: aws.Int64(int64(len(m.Body)))}
	if o.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = &o.ExpectedBucketOwner
	}
	if _, err := o.S3.PutObject(ctx, in); err != nil {
		return Pointer{}, &OffloadError{Index: idx, Key: m.Key, Err: err}
	}
	m.Attributes = withAttribute(m.Attributes, ExtendedPayloadSizeAttribute, "Number", strconv.Itoa(len(m.Body)))
	m.Body = EncodePointer(p)
	return p, nil
}

// withAttribute returns a copy of attrs with name set to a value of the
// given data type; the caller's map is never written.
func withAttribute(attrs map[string]types.MessageAttributeValue, name, dataType, value string) map[string]types.MessageAttributeValue {
	out := make(map[string]types.MessageAttributeValue, len(attrs)+1)
	maps.Copy(out, attrs)
	out[name] = types.MessageAttributeValue{DataType: aws.String(dataType), StringValue: aws.String(value)}
	return out
}

// ErrPayloadTooLarge is wrapped by the *ResolveError of an offloaded body
// over the Resolver's MaxBytes.
var ErrPayloadTooLarge = errors.New("offloaded body over the resolver's limit")

// ErrBucketNotAllowed is wrapped by the *ResolveError of a pointer to a
// bucket the Resolver does not allow.
var ErrBucketNotAllowed = errors.New("bucket not in the resolver's allowed buckets")

// ResolveError is a pointer body that could not be resolved: the bucket is
// not allowed, the object is too large, or S3 failed. The message is then
// left as it was.
type ResolveError struct {
	Bucket, Key string
	// Size is the object's size when known (its ContentLength, or the bytes
	// read), else -1. Limit is the Resolver's MaxBytes.
	Size, Limit int64
	// Err is ErrBucketNotAllowed, ErrPayloadTooLarge (possibly wrapped
	// with detail) or the S3 error.
	Err error
}

func (e *ResolveError) Error() string {
	where := fmt.Sprintf("sqsbatch: resolve s3://%s/%s", e.Bucket, e.Key)
	switch {
	case errors.Is(e.Err, ErrPayloadTooLarge):
		return fmt.Sprintf("%s: object is %d bytes, over the limit of %d (Resolver.MaxBytes): %v", where, e.Size, e.Limit, e.Err)
	case errors.Is(e.Err, ErrBucketNotAllowed):
		return fmt.Sprintf("%s: %v", where, e.Err)
	}
	return fmt.Sprintf("%s: %v", where, e.Err)
}

func (e *ResolveError) Unwrap() error { return e.Err }

// ResolverOptions configure NewResolver.
type ResolverOptions struct {
	// ExpectedBucketOwner, if set, is passed on every GetObject.
	ExpectedBucketOwner string
	// MaxBytes bounds a resolved body. Default DefaultMaxResolvedBytes
	// (256 MiB); at most MaxResolvedBytes (2 GiB).
	MaxBytes int64
	// AllowAnyBucket lets pointers name any bucket the credentials can
	// read, when the buckets passed to NewResolver are empty. Default
	// false: a message body is outside input, and a pointer to another
	// bucket would make the consumer read (and hand on) data it was never
	// meant to.
	AllowAnyBucket bool
}

// NewResolver returns a Resolver that reads pointers to the given buckets
// only; buckets may be empty only with ResolverOptions.AllowAnyBucket. It
// refuses a nil client and a MaxBytes out of range.
func NewResolver(client GetObjectAPI, buckets []string, optFns ...func(*ResolverOptions)) (*Resolver, error) {
	var o ResolverOptions
	for _, f := range optFns {
		f(&o)
	}
	r := &Resolver{S3: client, ExpectedBucketOwner: o.ExpectedBucketOwner, MaxBytes: o.MaxBytes, Buckets: slices.Clone(buckets), AllowAnyBucket: o.AllowAnyBucket}
	if err := r.check(); err != nil {
		return nil, err
	}
	return r, nil
}

// Resolver turns extended-client pointers back into bodies on the consuming
// side (Consumer and Lambda options take one). Build it with NewResolver,
// or as a literal: the fields are the same, and a literal is checked on
// each Resolve.
type Resolver struct {
	// S3 reads bodies (GetObject). Required.
	S3 GetObjectAPI
	// ExpectedBucketOwner, if set, is passed on every GetObject.
	ExpectedBucketOwner string
	// MaxBytes bounds a resolved body. Default DefaultMaxResolvedBytes; at
	// most MaxResolvedBytes. The object's ContentLength is checked before
	// any byte is read, and no more than it (nor than MaxBytes) is read.
	MaxBytes int64
	// Buckets lists the buckets pointers may name; a pointer to any other
	// bucket fails with ErrBucketNotAllowed. Required, unless
	// AllowAnyBucket: with neither, every pointer is refused.
	Buckets []string
	// AllowAnyBucket lets pointers name any bucket when Buckets is empty.
	AllowAnyBucket bool
}

// ResolverConfigError is a Resolver that cannot work as configured.
type ResolverConfigError struct{ Reason string }

func (e *ResolverConfigError) Error() string { return "sqsbatch: resolver: " + e.Reason }

func (r *Resolver) check() error {
	switch {
	case r.S3 == nil:
		return &ResolverConfigError{Reason: "no S3 client"}
	case r.MaxBytes < 0 || r.MaxBytes > MaxResolvedBytes:
		return &ResolverConfigError{Reason: fmt.Sprintf("MaxBytes %d outside 0 (default %d) to %d", r.MaxBytes, int64(DefaultMaxResolvedBytes), int64(MaxResolvedBytes))}
	case len(r.Buckets) == 0 && !r.AllowAnyBucket:
		return &ResolverConfigError{Reason: "no allowed buckets: list the buckets pointers may name, or set AllowAnyBucket"}
	}
	return nil
}

// Resolve returns the message with its body fetched from S3 when it is a
// pointer (recognised by the pointer body together with one of the payload
// size attributes), or unchanged otherwise. Its errors are a
// *ResolveError or, for a Resolver that cannot work, a
// *ResolverConfigError.
func (r *Resolver) Resolve(ctx context.Context, m types.Message) (types.Message, error) {
	if _, ok := m.MessageAttributes[ExtendedPayloadSizeAttribute]; !ok {
		if _, ok := m.MessageAttributes[LegacyPayloadSizeAttribute]; !ok {
			return m, nil
		}
	}
	p, err := DecodePointer(aws.ToString(m.Body))
	if err != nil {
		return m, nil // an attribute of that name on an ordinary message
	}
	limit := r.MaxBytes
	if limit == 0 {
		limit = DefaultMaxResolvedBytes
	}
	fail := func(size int64, err error) (types.Message, error) {
		return m, &ResolveError{Bucket: p.Bucket, Key: p.Key, Size: size, Limit: limit, Err: err}
	}
	if len(r.Buckets) == 0 && !r.AllowAnyBucket {
		return fail(-1, fmt.Errorf("%w: the resolver lists none (set Buckets, or AllowAnyBucket)", ErrBucketNotAllowed))
	}
	if err := r.check(); err != nil {
		return m, err
	}
	if len(r.Buckets) > 0 && !slices.Contains(r.Buckets, p.Bucket) {
		return fail(-1, fmt.Errorf("%w: %q is not one of %q", ErrBucketNotAllowed, p.Bucket, r.Buckets))
	}
	in := &s3.GetObjectInput{Bucket: &p.Bucket, Key: &p.Key}
	if r.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = &r.ExpectedBucketOwner
	}
	out, err := r.S3.GetObject(ctx, in)
	if err != nil {
		return fail(-1, err)
	}
	defer out.Body.Close()
	size := int64(-1)
	if out.ContentLength != nil && *out.ContentLength >= 0 {
		size = *out.ContentLength
	}
	if size > limit {
		return fail(size, ErrPayloadTooLarge) // before reading a byte
	}
	// Read no more than the object claims to hold (or the limit when it
	// claims nothing), plus one byte to catch a body longer than claimed.
	want := limit
	var b strings.Builder
	if size >= 0 {
		want = size
		b.Grow(int(size))
	}
	n, err := io.Copy(&b, io.LimitReader(out.Body, want+1))
	if err != nil {
		return fail(size, err)
	}
	switch {
	case size < 0 && n > limit:
		return fail(n, fmt.Errorf("%w: read more than the limit", ErrPayloadTooLarge))
	case size >= 0 && n > size:
		return fail(size, fmt.Errorf("body longer than its ContentLength of %d", size))
	case size >= 0 && n < size:
		return fail(size, fmt.Errorf("body of %d bytes, shorter than its ContentLength of %d: %w", n, size, io.ErrUnexpectedEOF))
	}
	m.Body = aws.String(b.String())
	return m, nil
}
