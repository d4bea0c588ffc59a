package s3copy

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// Bucket roles in a BucketError.
const (
	RoleSource      = "source"
	RoleDestination = "destination"
)

// BucketError is returned by Copy and CopyObjects, before any object is
// listed or copied, when the source or destination bucket fails its
// HeadBucket check: it does not exist, it is not owned by the expected
// account, the caller may not use it, or the check itself could not be
// answered (its retries spent).
type BucketError struct {
	Bucket string
	Role   string // RoleSource or RoleDestination
	// ExpectedOwner is the account the request named as owner ("" if
	// none).
	ExpectedOwner string
	// Status is the HTTP status of the answer (404, 403, 301, …), 0 when
	// there was none (a connection failure).
	Status int
	// Code is S3's error code: "NotFound" or "NoSuchBucket" for a missing
	// bucket; HeadBucket answers carry no body, so a refusal is
	// "Forbidden" (403), which S3 gives alike for a bucket the caller may
	// not list and for one another account owns when ExpectedOwner is set.
	Code string
	Err  error
}

func (e *BucketError) Error() string {
	what := fmt.Sprintf("s3copy: %s bucket %q", e.Role, e.Bucket)
	switch {
	case e.Status == 404 || e.Code == "NotFound" || e.Code == "NoSuchBucket":
		return fmt.Sprintf("%s does not exist (%s): check the bucket name", what, e.Code)
	case e.Status == 403 && e.ExpectedOwner != "":
		return fmt.Sprintf("%s is not accessible (%s): it is not owned by account %s, or access is denied", what, e.Code, e.ExpectedOwner)
	case e.Status == 403:
		return fmt.Sprintf("%s is not accessible (%s): access denied (HeadBucket needs s3:ListBucket; see CopierOptions.SkipBucketCheck)", what, e.Code)
	case e.Status == 301:
		return fmt.Sprintf("%s is in another region than the client's (%s)", what, e.Code)
	}
	return fmt.Sprintf("%s could not be checked: %v", what, e.Err)
}

func (e *BucketError) Unwrap() error { return e.Err }

// checkBuckets sends a HeadBucket for each side, source first, with the
// expected owners; the same bucket with the same owner is checked once.
func (r *run) checkBuckets(ctx context.Context) error {
	if r.o.SkipBucketCheck {
		return nil
	}
	if r.dst.Bucket == r.src.Bucket && r.o.ExpectedBucketOwner == r.o.ExpectedSourceBucketOwner {
		return r.checkBucket(ctx, r.src.Bucket, RoleSource, r.o.ExpectedSourceBucketOwner)
	}
	// Both at once: a fan-out worker checks on every invocation, and one
	// after the other the checks cost two round trips where one will do.
	dstErr := make(chan error, 1)
	go func() { dstErr <- r.checkBucket(ctx, r.dst.Bucket, RoleDestination, r.o.ExpectedBucketOwner) }()
	srcErr := r.checkBucket(ctx, r.src.Bucket, RoleSource, r.o.ExpectedSourceBucketOwner)
	if err := <-dstErr; srcErr == nil {
		return err
	}
	return srcErr
}

func (r *run) checkBucket(ctx context.Context, bucket, role, owner string) error {
	_, err := r.do(ctx, "", &r.n.bucket, func(ctx context.Context) error {
		_, err := r.c.client.HeadBucket(ctx, &s3.HeadBucketInput{
			Bucket: aws.String(bucket), ExpectedBucketOwner: optString(owner),
		}, noRetry)
		return err
	})
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		return err
	}
	be := &BucketError{Bucket: bucket, Role: role, ExpectedOwner: owner, Err: err}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		be.Status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		be.Code = ae.ErrorCode()
	}
	return be
}
