package lakepipe

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakekit/lakekit/s3copy"
)

// ListObjectsV2API is the S3 call verification makes.
type ListObjectsV2API interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

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
func VerifyTransfer(ctx context.Context, api ListObjectsV2API, src, dst s3copy.Location, optFns ...func(*VerifyOptions)) (TransferCheck, error) {
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
	for _, rel := range slices.Sorted(maps.Keys(srcObjs)) {
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
func VerifyEmpty(ctx context.Context, api ListObjectsV2API, loc s3copy.Location, optFns ...func(*VerifyOptions)) error {
	o := verifyOptions(optFns)
	objs, err := listSizes(ctx, api, loc, o)
	if err != nil {
		return err
	}
	if len(objs) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(objs))
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
func listSizes(ctx context.Context, api ListObjectsV2API, loc s3copy.Location, o VerifyOptions) (map[string]int64, error) {
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

// TransferVerifier is the transfer-status step: it checks a landed file's
// transfer as the state machine's retrier expects, returning a named error
// while the transfer is not complete. It is safe for concurrent use.
type TransferVerifier struct {
	api   ListObjectsV2API
	owner string
}

// TransferVerifierOptions configures a TransferVerifier.
type TransferVerifierOptions struct {
	// ExpectedBucketOwner is sent with every listing when set.
	ExpectedBucketOwner string
}

// NewTransferVerifier returns the step over an S3 client. It refuses no
// option today; the error is there for the one shape of constructors.
func NewTransferVerifier(api ListObjectsV2API, optFns ...func(*TransferVerifierOptions)) (*TransferVerifier, error) {
	var o TransferVerifierOptions
	for _, fn := range optFns {
		fn(&o)
	}
	return &TransferVerifier{api: api, owner: o.ExpectedBucketOwner}, nil
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
	// Each zone is read with one listing narrowed to the file's own key, not
	// a listing of the whole zone: a busy landing zone holds many files.
	src, landed, err := findListed(ctx, v.api, plan.Source, plan.File, v.owner)
	if err != nil {
		return TransferCheck{}, err
	}
	dst, copied, err := findListed(ctx, v.api, plan.Dest, plan.File, v.owner)
	if err != nil {
		return TransferCheck{}, err
	}
	if !copied {
		return TransferCheck{}, &TransferIncompleteError{Source: plan.Source, Dest: plan.Dest, Missing: []string{plan.File}}
	}
	if req.Step == StepLandingToRaw {
		// A landing copy that is gone (not arrived, or archived by an earlier
		// run) leaves nothing to compare with: the raw copy alone passes.
		if landed && aws.ToInt64(src.Size) != aws.ToInt64(dst.Size) {
			return TransferCheck{}, &TransferIncompleteError{Source: plan.Source, Dest: plan.Dest,
				Mismatched: []SizeMismatch{{Key: plan.File, SourceSize: aws.ToInt64(src.Size), DestSize: aws.ToInt64(dst.Size)}}}
		}
		return TransferCheck{Objects: 1, Bytes: aws.ToInt64(dst.Size)}, nil
	}
	if landed {
		return TransferCheck{}, &PrefixNotEmptyError{Location: plan.Source, Count: 1, Keys: []string{plan.File}}
	}
	return TransferCheck{Objects: 1, Bytes: aws.ToInt64(dst.Size)}, nil
}

// findListed finds loc.Prefix+file with one ListObjectsV2 narrowed to that
// key (the exact key sorts first among the keys it prefixes), which gives
// the size and ETag without a HEAD and without listing the whole prefix.
func findListed(ctx context.Context, api ListObjectsV2API, loc s3copy.Location, file, owner string) (s3types.Object, bool, error) {
	key := loc.Prefix + file
	in := &s3.ListObjectsV2Input{Bucket: aws.String(loc.Bucket), Prefix: aws.String(key), MaxKeys: aws.Int32(1)}
	if owner != "" {
		in.ExpectedBucketOwner = aws.String(owner)
	}
	out, err := api.ListObjectsV2(ctx, in)
	if err != nil {
		return s3types.Object{}, false, fmt.Errorf("lakepipe: list %s: %w", key, err)
	}
	for _, o := range out.Contents {
		if aws.ToString(o.Key) == key {
			return o, true, nil
		}
	}
	return s3types.Object{}, false, nil
}
