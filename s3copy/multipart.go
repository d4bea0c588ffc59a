package s3copy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// uploadError is a multipart copy's failure with its aborted upload.
type uploadError struct {
	id, op string
	err    error
}

func (e *uploadError) Error() string { return e.op + " (upload " + e.id + "): " + e.err.Error() }
func (e *uploadError) Unwrap() error { return e.err }

// PartSize returns the part size the copier uses for an object of size
// bytes given the configured part size: at least MinPartSize, at most
// MaxPartSize, and large enough (rounded up to a MiB) that the object needs
// at most MaxParts parts.
func PartSize(size, configured int64) int64 {
	ps := min(max(configured, MinPartSize), MaxPartSize)
	if need := (size + MaxParts - 1) / MaxParts; need > ps {
		ps = (need + (1<<20 - 1)) &^ (1<<20 - 1)
	}
	return min(ps, MaxPartSize)
}

// copyMultipart copies one object with UploadPartCopy, parts in parallel,
// carrying the headers and tags that a multipart upload does not copy by
// itself. A failed copy aborts its upload.
func (r *run) copyMultipart(ctx context.Context, o Object, dstKey string, head *s3.HeadObjectOutput) (int, error) {
	tagging, attempts, err := r.multipartTagging(ctx, o, head)
	if err != nil {
		return attempts, &uploadError{op: "GetObjectTagging", err: err}
	}
	uploadID, n, err := r.createUpload(ctx, o, dstKey, head, tagging)
	attempts += n
	if err != nil {
		return attempts, &uploadError{op: "CreateMultipartUpload", err: err}
	}
	parts, n, err := r.copyParts(ctx, o, dstKey, uploadID)
	attempts += n
	if err != nil {
		err = &uploadError{id: uploadID, op: "UploadPartCopy", err: err}
	} else {
		n, err = r.do(ctx, paceKey(r.dst, dstKey), &r.n.complete, func(ctx context.Context) error {
			_, err := r.c.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String(r.dst.Bucket), Key: aws.String(dstKey), UploadId: aws.String(uploadID),
				MultipartUpload:     &types.CompletedMultipartUpload{Parts: parts},
				ExpectedBucketOwner: optString(r.o.ExpectedBucketOwner),
			}, noRetry)
			return err
		})
		attempts += n
		if err == nil {
			return attempts, nil
		}
		err = &uploadError{id: uploadID, op: "CompleteMultipartUpload", err: err}
	}
	n, aerr := r.abortUpload(ctx, dstKey, uploadID)
	return attempts + n, errors.Join(err, aerr)
}

// multipartTagging is the x-amz-tagging of a multipart copy: the override,
// else the source's tags (nil when it has none).
func (r *run) multipartTagging(ctx context.Context, o Object, head *s3.HeadObjectOutput) (*string, int, error) {
	if r.o.Overrides.Tags != nil {
		return aws.String(encodeTags(r.o.Overrides.Tags)), 0, nil
	}
	if head.TagCount != nil && *head.TagCount == 0 {
		return nil, 0, nil
	}
	// S3 sends x-amz-tagging-count only when there are tags; a server that
	// never sends it (s3rver) is asked, to be safe.
	var out *s3.GetObjectTaggingOutput
	n, err := r.do(ctx, paceKey(r.src, o.Key), &r.n.tagging, func(ctx context.Context) error {
		var err error
		out, err = r.c.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{
			Bucket: aws.String(r.src.Bucket), Key: aws.String(o.Key),
			ExpectedBucketOwner: optString(r.o.ExpectedSourceBucketOwner),
		}, noRetry)
		return err
	})
	if err != nil {
		return nil, n, err
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return aws.String(encodeTags(tags)), n, nil
}

// createUpload starts the multipart upload of dstKey with the headers,
// storage class and tags the copy carries, and returns its upload ID.
func (r *run) createUpload(ctx context.Context, o Object, dstKey string, head *s3.HeadObjectOutput, tagging *string) (string, int, error) {
	h := r.headersFrom(head)
	sc := r.storageClass(o.StorageClass)
	if sc == "" && head.StorageClass != "" && head.StorageClass != types.StorageClassStandard {
		sc = head.StorageClass
	}
	in := &s3.CreateMultipartUploadInput{
		Bucket: aws.String(r.dst.Bucket), Key: aws.String(dstKey),
		Metadata: h.metadata, ContentType: h.contentType, ContentEncoding: h.contentEncoding,
		ContentDisposition: h.contentDisposition, ContentLanguage: h.contentLanguage,
		CacheControl: h.cacheControl, WebsiteRedirectLocation: h.websiteRedirect, Expires: h.expires,
		ServerSideEncryption: h.sse, SSEKMSKeyId: h.kmsKey, BucketKeyEnabled: h.bucketKey,
		StorageClass: sc, Tagging: tagging, ACL: r.o.ACL,
		ExpectedBucketOwner: optString(r.o.ExpectedBucketOwner),
	}
	var uploadID string
	n, err := r.do(ctx, paceKey(r.dst, dstKey), &r.n.create, func(ctx context.Context) error {
		out, err := r.c.client.CreateMultipartUpload(ctx, in, noRetry)
		if err == nil {
			uploadID = aws.ToString(out.UploadId)
		}
		return err
	})
	return uploadID, n, err
}

// copyParts copies o's parts into the upload, in order of part number in
// the returned slice, in up to partLanes lanes. The calling worker's
// slot runs one lane; each other lane takes one of the run's slots per
// part, waiting for it like any copy, so parts never exceed the run's
// Concurrency, a busy run never waits on itself (the worker's own lane
// needs no other slot) and a large object's parts spread as the run's
// slots free up. (Taking only the slots free when the copy began ran a
// 10 GB object's 150 parts one after another when it came up in a busy
// run: 2 minutes of a 2.5-minute copy on s3sim's seed workload.) The
// first failure cancels the other parts.
func (r *run) copyParts(ctx context.Context, o Object, dstKey, uploadID string) ([]types.CompletedPart, int, error) {
	partSize := PartSize(o.Size, r.o.PartSize)
	nparts := max(int((o.Size+partSize-1)/partSize), 1)
	parts := make([]types.CompletedPart, nparts)
	var attempts, next atomic.Int64
	claimed := make(chan struct{}) // closed once every part has a lane
	var claimedOnce sync.Once
	g, gctx := errgroup.WithContext(ctx)
	source := aws.String(copySource(r.src.Bucket, o.Key))
	copyNext := func() (bool, error) {
		i := int(next.Add(1) - 1)
		if i >= nparts-1 {
			claimedOnce.Do(func() { close(claimed) })
		}
		if i >= nparts || gctx.Err() != nil {
			return false, nil
		}
		in := &s3.UploadPartCopyInput{
			Bucket: aws.String(r.dst.Bucket), Key: aws.String(dstKey), UploadId: aws.String(uploadID),
			PartNumber: aws.Int32(int32(i + 1)), CopySource: source,
			CopySourceIfMatch:         optString(o.ETag),
			ExpectedBucketOwner:       optString(r.o.ExpectedBucketOwner),
			ExpectedSourceBucketOwner: optString(r.o.ExpectedSourceBucketOwner),
		}
		if o.Size > 0 {
			first := int64(i) * partSize
			in.CopySourceRange = aws.String(fmt.Sprintf("bytes=%d-%d", first, min(first+partSize, o.Size)-1))
		}
		part, n, err := r.copyPart(gctx, in)
		attempts.Add(int64(n))
		parts[i] = part
		return true, err
	}
	lane := func(own bool) error {
		for {
			if !own {
				select {
				case r.lim.slots <- struct{}{}:
				case <-claimed:
					return nil
				case <-gctx.Done():
					return nil
				}
			}
			more, err := copyNext()
			if !own {
				r.lim.release()
			}
			if err != nil || !more {
				return err
			}
		}
	}
	for range min(r.partLanes(), nparts) - 1 {
		g.Go(func() error { return lane(false) })
	}
	g.Go(func() error { return lane(true) })
	err := g.Wait()
	if err == nil {
		err = ctx.Err() // parts skipped because the caller's ctx ended
	}
	return parts, int(attempts.Load()), err
}

// partLanes is how many of an object's parts may be copied at once:
// PartConcurrency, or by default an eighth of the run's concurrency in
// force, at least DefaultPartConcurrency. On s3sim's seed workload the
// 10 GB object's 150 parts then take 1.6 s at the adaptive limit of 1,024
// instead of 15 s at 8 lanes: the difference between finishing with the
// run and after it, when the object is listed late.
func (r *run) partLanes() int {
	if r.o.PartConcurrency > 0 {
		return r.o.PartConcurrency
	}
	return max(DefaultPartConcurrency, r.lim.current()/8)
}

// copyPart sends one UploadPartCopy and returns the part for the upload's
// completion.
func (r *run) copyPart(ctx context.Context, in *s3.UploadPartCopyInput) (types.CompletedPart, int, error) {
	var part types.CompletedPart
	n, err := r.do(ctx, paceKey(r.dst, aws.ToString(in.Key)), &r.n.part, func(ctx context.Context) error {
		out, err := r.c.client.UploadPartCopy(ctx, in, noRetry)
		if err != nil {
			return err
		}
		res := out.CopyPartResult
		if res == nil {
			return errors.New("UploadPartCopy returned no CopyPartResult")
		}
		part = types.CompletedPart{PartNumber: in.PartNumber, ETag: res.ETag,
			ChecksumCRC32: res.ChecksumCRC32, ChecksumCRC32C: res.ChecksumCRC32C,
			ChecksumCRC64NVME: res.ChecksumCRC64NVME, ChecksumSHA1: res.ChecksumSHA1, ChecksumSHA256: res.ChecksumSHA256}
		return nil
	})
	return part, n, preconditionFailed(err)
}

// abortUpload aborts a failed upload, even when ctx has ended or the run
// was stopped, within AbortTimeout.
func (r *run) abortUpload(ctx context.Context, dstKey, uploadID string) (int, error) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), AbortTimeout)
	defer cancel()
	n, err := r.attempt(actx, paceKey(r.dst, dstKey), &r.n.abort, func(ctx context.Context) error {
		_, err := r.c.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(r.dst.Bucket), Key: aws.String(dstKey), UploadId: aws.String(uploadID),
			ExpectedBucketOwner: optString(r.o.ExpectedBucketOwner),
		}, noRetry)
		return err
	}, false)
	if err != nil {
		return n, fmt.Errorf("abort upload %s: %w", uploadID, err)
	}
	return n, nil
}
