package s3copy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithytime "github.com/aws/smithy-go/time"
)

// copyOne takes one listed object to its outcome.
func (r *run) copyOne(ctx context.Context, t task) {
	if ctx.Err() != nil || r.stop.Load() != nil {
		return
	}
	dstKey, err := r.mapKey(t.src.Key)
	if err != nil {
		r.fail(t, dstKey, "map", err, 0)
		return
	}
	m := r.o.Manifest
	if m != nil && m.Completed(t.src.Key, t.src.ETag, t.src.Size) {
		r.report(ObjectResult{SrcKey: t.src.Key, DstKey: dstKey, Size: t.src.Size, Action: ActionSkipped})
		return
	}
	same, attempts, err := r.unchanged(ctx, &t, dstKey)
	if err != nil {
		r.fail(t, dstKey, "HeadObject", err, attempts)
		return
	}
	if same {
		r.skip(t.src, dstKey)
		return
	}
	multipart := t.src.Size >= r.o.MultipartThreshold
	if r.o.DryRun {
		r.report(ObjectResult{SrcKey: t.src.Key, DstKey: dstKey, Size: t.src.Size, Action: ActionDryRun, Multipart: multipart})
		return
	}
	var head *s3.HeadObjectOutput
	if multipart || r.o.Overrides.replacesMetadata() || r.o.Encryption == EncryptionPreserve {
		var n int
		head, n, err = r.headSrc(ctx, t.src)
		attempts += n
		if err != nil {
			r.fail(t, dstKey, "HeadObject", err, attempts)
			return
		}
	}
	var n int
	op := "CopyObject"
	if multipart {
		n, err = r.copyMultipart(ctx, t.src, dstKey, head)
		op = "UploadPartCopy"
	} else {
		n, err = r.copySingle(ctx, t.src, dstKey, head)
	}
	attempts += n
	if err != nil {
		r.fail(t, dstKey, op, err, attempts)
		return
	}
	if r.o.Verify {
		n, err := r.verify(ctx, t.src, dstKey)
		attempts += n
		if err != nil {
			r.fail(t, dstKey, "verify", err, attempts)
			return
		}
	}
	if m != nil {
		r.record(m, t.src)
	}
	r.report(ObjectResult{SrcKey: t.src.Key, DstKey: dstKey, Size: t.src.Size, Action: ActionCopied, Multipart: multipart, Attempts: attempts})
}

// unchanged reports whether the destination already holds t's copy: with
// SkipUnchanged it heads the destination (a sync's task comes with the
// listed one), and when the listings can't tell it compares checksums.
func (r *run) unchanged(ctx context.Context, t *task, dstKey string) (bool, int, error) {
	attempts := 0
	if r.o.SkipUnchanged && !r.sync && t.dst == nil {
		d, n, err := r.headDst(ctx, dstKey)
		attempts += n
		if err != nil || d == nil {
			return false, attempts, err
		}
		t.dst = d
		v := compareListed(t.src, *d)
		if v == verdictSame {
			return true, attempts, nil
		}
		t.check = v == verdictChecksum
	}
	if !t.check {
		return false, attempts, nil
	}
	same, n, err := r.sameChecksums(ctx, t.src, dstKey, *t.dst)
	return same, attempts + n, err
}

// copySource is the CopySource header value: bucket/key, percent-encoded.
func copySource(bucket, key string) string {
	return bucket + "/" + escapeKey(key)
}

// escapeKey percent-encodes a key for CopySource the way a URL path is
// encoded: unreserved characters and "/$&,:;=@" stay as they are (S3 decodes
// the header as a path; keeping "=" readable also suits servers such as
// s3rver that decode it with decodeURI, which leaves reserved escapes
// alone), everything else is %XX. "+" is encoded too, since some servers
// (gofakes3) decode the header as a query string, where "+" means space.
func escapeKey(key string) string {
	clean := true
	for i := 0; i < len(key); i++ {
		if !unreserved(key[i]) {
			clean = false
			break
		}
	}
	if clean {
		return key
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key) * 3)
	for i := 0; i < len(key); i++ {
		c := key[i]
		if unreserved(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || c == '/' ||
		c == '$' || c == '&' || c == ',' || c == ':' || c == ';' || c == '=' || c == '@'
}

// storageClass returns the class to send: the override, else the listed
// class unless it is STANDARD (the default, left out).
func (r *run) storageClass(listed types.ObjectStorageClass) types.StorageClass {
	if r.o.Overrides.StorageClass != "" {
		return r.o.Overrides.StorageClass
	}
	if listed == "" || listed == types.ObjectStorageClassStandard {
		return ""
	}
	return types.StorageClass(listed)
}

// encodeTags renders tags as the x-amz-tagging query string.
func encodeTags(tags map[string]string) string {
	v := url.Values{}
	for k, val := range tags {
		v.Set(k, val)
	}
	return v.Encode()
}

// preconditionFailed maps a failed If-Match to ErrSourceChanged.
func preconditionFailed(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) && (ae.ErrorCode() == "PreconditionFailed" || ae.ErrorCode() == "412") {
		return fmt.Errorf("%w: %w", ErrSourceChanged, err)
	}
	return err
}

// headers are what a copy carries besides the bytes.
type headers struct {
	metadata                                                          map[string]string
	contentType, contentEncoding, contentDisposition, contentLanguage *string
	cacheControl, websiteRedirect                                     *string
	expires                                                           *time.Time
	sse                                                               types.ServerSideEncryption
	kmsKey                                                            *string
	bucketKey                                                         *bool
}

// expiresOf is the source's Expires header as a time, nil when absent or
// not an HTTP date: what the SDK's deprecated HeadObjectOutput.Expires
// held, read from ExpiresString, the raw header the SDK now recommends.
func expiresOf(head *s3.HeadObjectOutput) *time.Time {
	if head.ExpiresString == nil {
		return nil
	}
	t, err := smithytime.ParseHTTPDate(*head.ExpiresString)
	if err != nil {
		return nil
	}
	return &t
}

// headersFrom takes the source's headers (nil head: none known) and applies
// the overrides and the encryption mode.
func (r *run) headersFrom(head *s3.HeadObjectOutput) headers {
	var h headers
	if head != nil {
		h = headers{
			metadata: head.Metadata, contentType: head.ContentType, contentEncoding: head.ContentEncoding,
			contentDisposition: head.ContentDisposition, contentLanguage: head.ContentLanguage,
			cacheControl: head.CacheControl, websiteRedirect: head.WebsiteRedirectLocation, expires: expiresOf(head),
			sse: head.ServerSideEncryption, kmsKey: head.SSEKMSKeyId, bucketKey: head.BucketKeyEnabled,
		}
	}
	ov := &r.o.Overrides
	if ov.Metadata != nil {
		h.metadata = ov.Metadata
	}
	for _, p := range []struct {
		dst **string
		src *string
	}{
		{&h.contentType, ov.ContentType}, {&h.contentEncoding, ov.ContentEncoding},
		{&h.contentDisposition, ov.ContentDisposition}, {&h.contentLanguage, ov.ContentLanguage},
		{&h.cacheControl, ov.CacheControl},
	} {
		if p.src != nil {
			*p.dst = p.src
		}
	}
	switch r.o.Encryption {
	case EncryptionSet:
		h.sse, h.kmsKey, h.bucketKey = r.o.ServerSideEncryption, optString(r.o.SSEKMSKeyID), nil
	case EncryptionBucketDefault:
		if head == nil || !strings.HasPrefix(string(h.sse), "aws:kms") {
			// Without a head there is nothing to carry; SSE-S3 needs no
			// header (it is every bucket's default).
			h.sse, h.kmsKey, h.bucketKey = "", nil, nil
		}
	}
	if h.sse == types.ServerSideEncryptionAes256 {
		h.kmsKey, h.bucketKey = nil, nil
	}
	return h
}

func (r *run) copySingle(ctx context.Context, o Object, dstKey string, head *s3.HeadObjectOutput) (int, error) {
	in := &s3.CopyObjectInput{
		Bucket:                    aws.String(r.dst.Bucket),
		Key:                       aws.String(dstKey),
		CopySource:                aws.String(copySource(r.src.Bucket, o.Key)),
		CopySourceIfMatch:         optString(o.ETag),
		ExpectedBucketOwner:       optString(r.o.ExpectedBucketOwner),
		ExpectedSourceBucketOwner: optString(r.o.ExpectedSourceBucketOwner),
		StorageClass:              r.storageClass(o.StorageClass),
		ACL:                       r.o.ACL,
	}
	if head != nil || r.o.Encryption == EncryptionSet {
		h := r.headersFrom(head)
		if r.o.Overrides.replacesMetadata() {
			in.MetadataDirective = types.MetadataDirectiveReplace
			in.Metadata = h.metadata
			in.ContentType, in.ContentEncoding = h.contentType, h.contentEncoding
			in.ContentDisposition, in.ContentLanguage = h.contentDisposition, h.contentLanguage
			in.CacheControl, in.WebsiteRedirectLocation, in.Expires = h.cacheControl, h.websiteRedirect, h.expires
		}
		in.ServerSideEncryption, in.SSEKMSKeyId, in.BucketKeyEnabled = h.sse, h.kmsKey, h.bucketKey
	}
	if r.o.Overrides.Tags != nil {
		in.TaggingDirective = types.TaggingDirectiveReplace
		in.Tagging = aws.String(encodeTags(r.o.Overrides.Tags))
	}
	var out *s3.CopyObjectOutput
	attempts, err := r.do(ctx, paceKey(r.dst, dstKey), &r.n.copy, func(ctx context.Context) error {
		var err error
		out, err = r.c.client.CopyObject(ctx, in, copyObjectOpts)
		return err
	})
	if err != nil {
		return attempts, preconditionFailed(err)
	}
	n, err := r.checkCopyETag(ctx, o, out)
	return attempts + n, err
}

// checkCopyETag is the free check of a single-request copy: the ETag
// CopyObject returns must be the listed one when both are MD5s, that is
// when the source is single-part and neither side is encrypted with
// SSE-KMS or SSE-C. The copy's encryption is in the answer; the source's
// is not in the listing, so a mismatch (rare: an SSE-KMS source copied to
// a bucket that isn't) is explained with one HeadObject on the source
// before it is called ErrVerify.
func (r *run) checkCopyETag(ctx context.Context, o Object, out *s3.CopyObjectOutput) (int, error) {
	if out == nil || out.CopyObjectResult == nil {
		return 0, nil
	}
	got := aws.ToString(out.CopyObjectResult.ETag)
	if got == "" || o.ETag == "" || got == o.ETag || isMultipartETag(o.ETag) || isMultipartETag(got) ||
		notMD5(out.ServerSideEncryption, out.SSECustomerAlgorithm) {
		return 0, nil
	}
	head, n, err := r.headSrc(ctx, Object{Key: o.Key})
	if err != nil {
		return n, err
	}
	if notMD5(head.ServerSideEncryption, head.SSECustomerAlgorithm) {
		return n, nil
	}
	return n, fmt.Errorf("%w: copy ETag %s, listed %s", ErrVerify, got, o.ETag)
}

// notMD5 reports whether an object's encryption makes its ETag something
// other than the MD5 of its bytes.
func notMD5(sse types.ServerSideEncryption, sseC *string) bool {
	return strings.HasPrefix(string(sse), "aws:kms") || sseC != nil
}

func (r *run) headSrc(ctx context.Context, o Object) (*s3.HeadObjectOutput, int, error) {
	var out *s3.HeadObjectOutput
	attempts, err := r.do(ctx, paceKey(r.src, o.Key), &r.n.head, func(ctx context.Context) error {
		var err error
		out, err = r.c.client.HeadObject(ctx, &s3.HeadObjectInput{
			Bucket: aws.String(r.src.Bucket), Key: aws.String(o.Key), IfMatch: optString(o.ETag),
			ExpectedBucketOwner: optString(r.o.ExpectedSourceBucketOwner),
		}, noRetry)
		return err
	})
	return out, attempts, preconditionFailed(err)
}

// headDst returns the destination object, nil if there is none.
func (r *run) headDst(ctx context.Context, key string) (*Object, int, error) {
	var out *s3.HeadObjectOutput
	attempts, err := r.do(ctx, paceKey(r.dst, key), &r.n.head, func(ctx context.Context) error {
		var err error
		out, err = r.c.client.HeadObject(ctx, &s3.HeadObjectInput{
			Bucket: aws.String(r.dst.Bucket), Key: aws.String(key),
			ExpectedBucketOwner: optString(r.o.ExpectedBucketOwner),
		}, noRetry)
		if isNotFound(err) {
			out, err = nil, nil
		}
		return err
	})
	if err != nil || out == nil {
		return nil, attempts, err
	}
	return &Object{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: aws.ToString(out.ETag),
		LastModified: aws.ToTime(out.LastModified)}, attempts, nil
}

// sameChecksums decides, for objects of equal size whose ETags can't be
// compared (one is multipart), whether dst is a copy of src: by their
// stored full-object checksums when both have one of the same algorithm
// (one HeadObject each, with ChecksumMode), else by Unchanged's rule (dst
// not older than src).
func (r *run) sameChecksums(ctx context.Context, src Object, dstKey string, dst Object) (bool, int, error) {
	attempts := 0
	head := func(bucket, key, owner string) (*s3.HeadObjectOutput, error) {
		var out *s3.HeadObjectOutput
		n, err := r.do(ctx, paceKey(r.dst, key), &r.n.head, func(ctx context.Context) error {
			var err error
			out, err = r.c.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
				ChecksumMode: types.ChecksumModeEnabled, ExpectedBucketOwner: optString(owner)}, noRetry)
			return err
		})
		attempts += n
		return out, err
	}
	a, err := head(r.src.Bucket, src.Key, r.o.ExpectedSourceBucketOwner)
	if err != nil {
		return false, attempts, err
	}
	b, err := head(r.dst.Bucket, dstKey, r.o.ExpectedBucketOwner)
	if isNotFound(err) {
		return false, attempts, nil
	}
	if err != nil {
		return false, attempts, err
	}
	if a.ChecksumType == types.ChecksumTypeFullObject && b.ChecksumType == types.ChecksumTypeFullObject {
		for _, p := range [][2]*string{
			{a.ChecksumCRC64NVME, b.ChecksumCRC64NVME}, {a.ChecksumCRC32C, b.ChecksumCRC32C}, {a.ChecksumCRC32, b.ChecksumCRC32},
		} {
			if p[0] != nil && p[1] != nil {
				return *p[0] == *p[1], attempts, nil
			}
		}
	}
	return Unchanged(src, dst), attempts, nil
}

func isNotFound(err error) bool {
	var nf *types.NotFound
	var nsk *types.NoSuchKey
	var ae smithy.APIError
	return errors.As(err, &nf) || errors.As(err, &nsk) ||
		errors.As(err, &ae) && (ae.ErrorCode() == "NotFound" || ae.ErrorCode() == "NoSuchKey")
}

// verify reads the copy back: its size must be the listed size, and its
// ETag the listed one when both are single-part MD5s and the copy is not
// SSE-KMS/SSE-C encrypted (whose ETags are not MD5s).
func (r *run) verify(ctx context.Context, o Object, dstKey string) (int, error) {
	var out *s3.HeadObjectOutput
	attempts, err := r.do(ctx, paceKey(r.dst, dstKey), &r.n.head, func(ctx context.Context) error {
		var err error
		out, err = r.c.client.HeadObject(ctx, &s3.HeadObjectInput{
			Bucket: aws.String(r.dst.Bucket), Key: aws.String(dstKey),
			ExpectedBucketOwner: optString(r.o.ExpectedBucketOwner),
		}, noRetry)
		return err
	})
	if err != nil {
		return attempts, err
	}
	if got := aws.ToInt64(out.ContentLength); got != o.Size {
		return attempts, fmt.Errorf("%w: size %d, source %d", ErrVerify, got, o.Size)
	}
	etag := aws.ToString(out.ETag)
	if !notMD5(out.ServerSideEncryption, out.SSECustomerAlgorithm) && o.ETag != "" && !isMultipartETag(o.ETag) && !isMultipartETag(etag) && etag != o.ETag {
		return attempts, fmt.Errorf("%w: ETag %s, source %s", ErrVerify, etag, o.ETag)
	}
	return attempts, nil
}
