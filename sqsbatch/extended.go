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
	// DefaultMaxResolvedBytes is Resolver.MaxBytes's default: 2 GiB, the
	// extended client's limit.
	DefaultMaxResolvedBytes = 2 << 30
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

// Resolver turns extended-client pointers back into bodies on the consuming
// side.
type Resolver struct {
	// S3 reads bodies (GetObject). Required.
	S3 GetObjectAPI
	// ExpectedBucketOwner, if set, is passed on every GetObject.
	ExpectedBucketOwner string
	// MaxBytes bounds a resolved body. Default DefaultMaxResolvedBytes.
	MaxBytes int64
	// Buckets, if not empty, lists the buckets pointers may name; a pointer
	// to any other bucket is refused.
	Buckets []string
}

// Resolve returns the message with its body fetched from S3 when it is a
// pointer (recognised by the pointer body together with one of the payload
// size attributes), or unchanged otherwise.
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
	if len(r.Buckets) > 0 && !slices.Contains(r.Buckets, p.Bucket) {
		return m, fmt.Errorf("sqsbatch: pointer to bucket %q, not in the allowed list", p.Bucket)
	}
	in := &s3.GetObjectInput{Bucket: &p.Bucket, Key: &p.Key}
	if r.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = &r.ExpectedBucketOwner
	}
	out, err := r.S3.GetObject(ctx, in)
	if err != nil {
		return m, fmt.Errorf("sqsbatch: resolve s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	defer out.Body.Close()
	limit := r.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxResolvedBytes
	}
	b, err := io.ReadAll(io.LimitReader(out.Body, limit+1))
	if err != nil {
		return m, fmt.Errorf("sqsbatch: resolve s3://%s/%s: %w", p.Bucket, p.Key, err)
	}
	if int64(len(b)) > limit {
		return m, fmt.Errorf("sqsbatch: resolve s3://%s/%s: body over %d bytes", p.Bucket, p.Key, limit)
	}
	m.Body = aws.String(string(b))
	return m, nil
}
