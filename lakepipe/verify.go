package lakepipe

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ListObjectsV2API is the S3 call verification makes.
type ListObjectsV2API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// Location is a bucket and a key prefix ("data/raw/customers/year=2019/").
type Location struct {
	Bucket string
	Prefix string
}

func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// VerifyOptions configures VerifyTransfer and VerifyEmpty.
type VerifyOptions struct {
	// Match selects the source keys (relative to the source prefix) that must
	// have been copied, and for VerifyEmpty the keys that must be gone.
	// Default: every key.
	Match func(rel string) bool
	// ExpectedBucketOwner is sent with every listing when set.
	ExpectedBucketOwner string
}

// TransferCheck is the outcome of a verification that passed.
type TransferCheck struct {
	Objects int   // source objects found at the destination with their size
	Bytes   int64 // their total size
	Extra   int   // destination objects with no source (not an error)
}

// VerifyTransfer checks that every selected object under src exists under
// dst at the same relative key with the same size. Counting objects, as the
// seed did, passes when one copy is missing and an unrelated object sits in
// the destination, and never notices a truncated copy. A difference is a
// *TransferIncompleteError; listing failures are returned as they are.
func VerifyTransfer(ctx context.Context, api ListObjectsV2API, src, dst Location, optFns ...func(*VerifyOptions)) (TransferCheck, error) {
	o := verifyOptions(optFns)
	srcObjs, err := listSizes(ctx, api, src, o)
	if err != nil {
		return TransferCheck{}, err
	}
	dstObjs, err := listSizes(ctx, api, dst, VerifyOptions{ExpectedBucketOwner: o.ExpectedBucketOwner})
	if err != nil {
		return TransferCheck{}, err
	}
	var check TransferCheck
	incomplete := &TransferIncompleteError{Source: src, Dest: dst}
	for _, rel := range sortedKeys(srcObjs) {
		size := srcObjs[rel]
		got, ok := dstObjs[rel]
		switch {
		case !ok:
			incomplete.Missing = append(incomplete.Missing, rel)
		case got != size:
			incomplete.Mismatched = append(incomplete.Mismatched, SizeMismatch{Key: rel, SourceSize: size, DestSize: got})
		default:
			check.Objects++
			check.Bytes += size
		}
	}
	for rel := range dstObjs {
		if _, ok := srcObjs[rel]; !ok {
			check.Extra++
		}
	}
	if len(incomplete.Missing)+len(incomplete.Mismatched) > 0 {
		incomplete.Missing = incomplete.Missing[:min(len(incomplete.Missing), MaxReportedKeys)]
		incomplete.Mismatched = incomplete.Mismatched[:min(len(incomplete.Mismatched), MaxReportedKeys)]
		return check, incomplete
	}
	return check, nil
}

// VerifyEmpty checks that no selected object remains under loc; otherwise
// it returns a *PrefixNotEmptyError.
func VerifyEmpty(ctx context.Context, api ListObjectsV2API, loc Location, optFns ...func(*VerifyOptions)) error {
	o := verifyOptions(optFns)
	objs, err := listSizes(ctx, api, loc, o)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return nil
	}
	keys := sortedKeys(objs)
	return &PrefixNotEmptyError{Location: loc, Count: len(keys), Keys: keys[:min(len(keys), MaxReportedKeys)]}
}

func verifyOptions(optFns []func(*VerifyOptions)) VerifyOptions {
	var o VerifyOptions
	for _, fn := range optFns {
		fn(&o)
	}
	return o
}

// listSizes lists loc and returns relative key → size for the matching keys.
func listSizes(ctx context.Context, api ListObjectsV2API, loc Location, o VerifyOptions) (map[string]int64, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), Prefix: aws.String(loc.Prefix)}
	if o.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(o.ExpectedBucketOwner)
	}
	out := map[string]int64{}
	p := s3.NewListObjectsV2Paginator(api, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("lakepipe: list %s: %w", loc, err)
		}
		for _, obj := range page.Contents {
			rel := strings.TrimPrefix(aws.ToString(obj.Key), loc.Prefix)
			if strings.HasSuffix(rel, "/") && aws.ToInt64(obj.Size) == 0 {
				continue // a console "folder" marker
			}
			if o.Match != nil && !o.Match(rel) {
				continue
			}
			out[rel] = aws.ToInt64(obj.Size)
		}
	}
	return out, nil
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// TransferVerifier is the transfer-status step: it checks a landed file's
// transfer as the state machine's retrier expects, returning a named error
// while the transfer is not complete. It is safe for concurrent use.
type TransferVerifier struct {
	api   ListObjectsV2API
	owner string
}

// NewTransferVerifier returns the step over an S3 client.
// expectedBucketOwner, when not empty, is sent with every request.
func NewTransferVerifier(api ListObjectsV2API, expectedBucketOwner string) *TransferVerifier {
	return &TransferVerifier{api: api, owner: expectedBucketOwner}
}

// Check verifies one step of a landed file's journey:
//
//   - landing-to-raw: the raw partition holds the file with the landing
//     copy's size, else *TransferIncompleteError;
//   - landing-to-archive: the archive holds the file, else
//     *TransferIncompleteError, and the landing zone no longer does, else
//     *PrefixNotEmptyError.
//
// The errors are returned unwrapped so that a Go Lambda reports their type
// names to the Step Functions retrier.
func (v *TransferVerifier) Check(ctx context.Context, req TransferRequest) (TransferCheck, error) {
	plan, err := req.Plan()
	if err != nil {
		return TransferCheck{}, err
	}
	only := func(o *VerifyOptions) {
		o.ExpectedBucketOwner = v.owner
		o.Match = func(rel string) bool { return rel == plan.File }
	}
	if req.Step == StepLandingToRaw {
		check, err := VerifyTransfer(ctx, v.api, plan.Source, plan.Dest, only)
		if err == nil && check.Objects == 0 {
			// Nothing in the landing zone to compare with: the file has not
			// arrived (or was archived by an earlier run). Only a copy in
			// the raw zone makes the step pass.
			raw, err := listSizes(ctx, v.api, plan.Dest, VerifyOptions{ExpectedBucketOwner: v.owner, Match: func(rel string) bool { return rel == plan.File }})
			if err != nil {
				return TransferCheck{}, err
			}
			if len(raw) == 0 {
				return TransferCheck{}, &TransferIncompleteError{Source: plan.Source, Dest: plan.Dest, Missing: []string{plan.File}}
			}
			return TransferCheck{Objects: 1, Bytes: raw[plan.File]}, nil
		}
		return check, err
	}
	archived, err := listSizes(ctx, v.api, plan.Dest, VerifyOptions{ExpectedBucketOwner: v.owner, Match: func(rel string) bool { return rel == plan.File }})
	if err != nil {
		return TransferCheck{}, err
	}
	if len(archived) == 0 {
		return TransferCheck{}, &TransferIncompleteError{Source: plan.Source, Dest: plan.Dest, Missing: []string{plan.File}}
	}
	if err := VerifyEmpty(ctx, v.api, plan.Source, only); err != nil {
		return TransferCheck{}, err
	}
	return TransferCheck{Objects: 1, Bytes: archived[plan.File]}, nil
}
