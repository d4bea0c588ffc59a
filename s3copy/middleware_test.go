package s3copy

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
)

// errStackSeen ends a request once its stack has been inspected, before
// anything is sent.
var errStackSeen = errors.New("stack inspected")

// TestSDKMiddlewareIDs builds the real client's stack of every operation
// the copier calls and fails if a middleware s3copy swaps or removes by ID
// is missing from it (an SDK rename would otherwise silently turn the
// optimisation off), or is still there after s3copy's request options ran.
func TestSDKMiddlewareIDs(t *testing.T) {
	ctx := context.Background()
	c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://127.0.0.1:1"), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
	b, k := aws.String("b"), aws.String("k")
	ops := map[string]func(opt func(*s3.Options)) error{
		"HeadBucket": func(o func(*s3.Options)) error {
			_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: b}, o)
			return err
		},
		"ListObjectsV2": func(o func(*s3.Options)) error {
			_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}, o)
			return err
		},
		"HeadObject": func(o func(*s3.Options)) error {
			_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}, o)
			return err
		},
		"CopyObject": func(o func(*s3.Options)) error {
			_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: b, Key: k, CopySource: aws.String("s/k")}, o)
			return err
		},
		"GetObjectTagging": func(o func(*s3.Options)) error {
			_, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: b, Key: k}, o)
			return err
		},
		"CreateMultipartUpload": func(o func(*s3.Options)) error {
			_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: k}, o)
			return err
		},
		"UploadPartCopy": func(o func(*s3.Options)) error {
			_, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: b, Key: k, CopySource: aws.String("s/k"), PartNumber: aws.Int32(1), UploadId: aws.String("u")}, o)
			return err
		},
		"CompleteMultipartUpload": func(o func(*s3.Options)) error {
			_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: b, Key: k, UploadId: aws.String("u")}, o)
			return err
		},
		"AbortMultipartUpload": func(o func(*s3.Options)) error {
			_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: b, Key: k, UploadId: aws.String("u")}, o)
			return err
		},
		"DeleteObjects": func(o func(*s3.Options)) error {
			_, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: b, Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: k}}}}, o)
			return err
		},
	}
	// has reports which of the IDs s3copy edits are in a stack.
	has := func(s *middleware.Stack) map[string]bool {
		_, build := s.Build.Get(idClientRequestID)
		d, deser := s.Deserialize.Get(idOperationDeserializer)
		_, e200 := s.Deserialize.Get(idProcess200Error)
		_, ours := d.(*copyResultDeserializer)
		return map[string]bool{idClientRequestID: build, idOperationDeserializer: deser && !ours, idProcess200Error: e200}
	}
	inspect := func(run func(func(*s3.Options)) error, edit func(*s3.Options)) map[string]bool {
		var got map[string]bool
		err := run(func(o *s3.Options) {
			if edit != nil {
				edit(o)
			}
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { got = has(s); return errStackSeen })
		})
		if !errors.Is(err, errStackSeen) {
			t.Fatalf("request not stopped by the inspection: %v", err)
		}
		return got
	}
	for name, run := range ops {
		t.Run(name, func(t *testing.T) {
			sdk := inspect(run, nil)
			if !sdk[idClientRequestID] {
				t.Errorf("the SDK's %s stack has no Build middleware %q: noRetry's removal does nothing", name, idClientRequestID)
			}
			edit := noRetry
			if name == "CopyObject" {
				edit = copyObjectOpts
				for _, id := range []string{idOperationDeserializer, idProcess200Error} {
					if !sdk[id] {
						t.Errorf("the SDK's CopyObject stack has no Deserialize middleware %q: copyResultDeserializer is not used", id)
					}
				}
			}
			after := inspect(run, edit)
			if after[idClientRequestID] {
				t.Errorf("%q still in the %s stack after noRetry", idClientRequestID, name)
			}
			if name == "CopyObject" && (after[idOperationDeserializer] || after[idProcess200Error]) {
				t.Errorf("CopyObject stack after copyObjectOpts: %v, want the SDK's deserializer and 200-error check replaced", after)
			}
		})
	}
}
