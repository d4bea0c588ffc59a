package lakepipe

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/s3copy"
)

// Transfer steps, as the seed's generic-file-transfer names them (without
// its "-file-transfer" suffix).
const (
	StepLandingToRaw     = "landing-to-raw"
	StepLandingToArchive = "landing-to-archive"
)

// TransferRequest is the input of the transfer and transfer-status steps:
// the zone prefixes come from the state machine definition, the landed
// file from the execution input.
type TransferRequest struct {
	Step              string `json:"step"` // StepLandingToRaw or StepLandingToArchive
	Bucket            string `json:"bucket"`
	SourcePrefix      string `json:"source_prefix"`      // the landing zone: data/landing/
	DestinationPrefix string `json:"destination_prefix"` // data/raw/ or data/archive/
	Key               string `json:"key"`                // the landed key
	Dataset           string `json:"dataset"`
	Year              string `json:"year"`
	Month             string `json:"month"`
	Day               string `json:"day"`
}

// TransferPlan is where a transfer copies one landed file.
type TransferPlan struct {
	Source s3copy.Location // the landing zone
	Dest   s3copy.Location // the raw partition or the archive day
	File   string          // the file name, the same in both
}

var (
	datasetRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	digitsRe  = regexp.MustCompile(`^[0-9]+$`)
)

// Plan checks the request and returns where the file goes:
//
//	landing-to-raw:     {destination_prefix}{dataset}/year={yyyy}/month={mm}/day={dd}/{file}
//	landing-to-archive: {destination_prefix}{yyyy}-{mm}-{dd}/{file}
//
// The key must sit directly in the source prefix, and no part may escape
// its prefix ("..", "/" in the dataset, a non-numeric date).
func (r TransferRequest) Plan() (TransferPlan, error) {
	bad := func(format string, args ...any) (TransferPlan, error) {
		return TransferPlan{}, fmt.Errorf("lakepipe: transfer request: "+format, args...)
	}
	if r.Bucket == "" {
		return bad("no bucket")
	}
	for _, p := range []string{r.SourcePrefix, r.DestinationPrefix} {
		if p != "" && (!strings.HasSuffix(p, "/") || strings.HasPrefix(p, "/") || path.Clean(p)+"/" != p) {
			return bad("prefix %q must be clean and end in /", p)
		}
	}
	if r.SourcePrefix == r.DestinationPrefix {
		return bad("source and destination prefixes are both %q", r.SourcePrefix)
	}
	file, ok := strings.CutPrefix(r.Key, r.SourcePrefix)
	if !ok || file == "" || strings.Contains(file, "/") || file == "." || file == ".." {
		return bad("key %q is not a file directly in %q", r.Key, r.SourcePrefix)
	}
	if len(r.Year) != 4 || len(r.Month) != 2 || len(r.Day) != 2 || !digitsRe.MatchString(r.Year+r.Month+r.Day) {
		return bad("date %q-%q-%q is not yyyy-mm-dd", r.Year, r.Month, r.Day)
	}
	plan := TransferPlan{Source: s3copy.Location{Bucket: r.Bucket, Prefix: r.SourcePrefix}, File: file}
	switch r.Step {
	case StepLandingToRaw:
		if !datasetRe.MatchString(r.Dataset) {
			return bad("dataset %q", r.Dataset)
		}
		plan.Dest = s3copy.Location{Bucket: r.Bucket, Prefix: fmt.Sprintf("%s%s/%s", r.DestinationPrefix, r.Dataset, HivePartition(r.Year, r.Month, r.Day))}
	case StepLandingToArchive:
		plan.Dest = s3copy.Location{Bucket: r.Bucket, Prefix: fmt.Sprintf("%s%s-%s-%s/", r.DestinationPrefix, r.Year, r.Month, r.Day)}
	default:
		return bad("unknown step %q", r.Step)
	}
	return plan, nil
}

// HivePartition returns "year=2019/month=08/day=21/".
func HivePartition(year, month, day string) string {
	return "year=" + year + "/month=" + month + "/day=" + day + "/"
}

// TransferOptions configures Transfers.
type TransferOptions struct {
	// ExpectedBucketOwner is sent with every request when set (copies,
	// listings, the archive delete).
	ExpectedBucketOwner string
	// Copier configures the s3copy.Copier; SkipUnchanged is always on, so
	// a re-run copies nothing twice. (s3copy compares the ETag CopyObject
	// returns with the listed one; the archive step also lists the copy and
	// compares its size before it deletes the source.)
	Copier []func(*s3copy.CopierOptions)
	// Logger gets one info line per transfer (keys and counts, never
	// contents). Default: silent.
	Logger *slog.Logger
}

// Transfers is the file-transfer step: it moves a landed file between
// zones with s3copy — landing → raw Hive partition (copy), landing →
// archive day (copy, verify, then delete). It is idempotent: running a
// step again skips what is already in place. It is safe for concurrent use.
type Transfers struct {
	api    s3copy.API
	copier *s3copy.Copier
	owner  string
	log    *slog.Logger
}

// NewTransfers returns the step over an S3 client. Copier options that
// s3copy.New refuses are its *OptionError.
func NewTransfers(api s3copy.API, optFns ...func(*TransferOptions)) (*Transfers, error) {
	var o TransferOptions
	for _, fn := range optFns {
		fn(&o)
	}
	o.Logger = opt.Logger(o.Logger)
	copier, err := s3copy.New(api, append(o.Copier, func(c *s3copy.CopierOptions) {
		c.SkipUnchanged = true
		c.ExpectedBucketOwner = o.ExpectedBucketOwner
		c.ExpectedSourceBucketOwner = o.ExpectedBucketOwner
	})...)
	if err != nil {
		return nil, err
	}
	return &Transfers{api: api, copier: copier, owner: o.ExpectedBucketOwner, log: o.Logger}, nil
}

// TransferResult is what one transfer step did.
type TransferResult struct {
	Step    string `json:"step"`
	Source  string `json:"source"`      // s3://bucket/key of the landed file
	Dest    string `json:"destination"` // s3://bucket/key of its copy
	Copied  int    `json:"copied"`      // 1 when copied now
	Skipped int    `json:"skipped"`     // 1 when already in place
	Bytes   int64  `json:"bytes"`
	Deleted bool   `json:"deleted"` // archive: the landing copy was deleted
	// Absent is set when the landed file was not found (and, for the
	// archive, not archived either): the verification step decides.
	Absent bool `json:"absent,omitempty"`
}

// Step runs one transfer step of a landed file. A file that is not (yet)
// in the landing zone is not an error here: the result says Absent and
// the transfer-status step, with its retrier, decides. A failed copy is
// returned with the s3copy error.
func (t *Transfers) Step(ctx context.Context, req TransferRequest) (TransferResult, error) {
	plan, err := req.Plan()
	if err != nil {
		return TransferResult{}, err
	}
	res := TransferResult{
		Step:   req.Step,
		Source: "s3://" + plan.Source.Bucket + "/" + plan.Source.Prefix + plan.File,
		Dest:   "s3://" + plan.Dest.Bucket + "/" + plan.Dest.Prefix + plan.File,
	}
	obj, found, err := t.find(ctx, plan.Source, plan.File)
	if err != nil {
		return res, err
	}
	if !found {
		res.Absent = true
		t.log.InfoContext(ctx, "landed file absent", "step", req.Step, "key", req.Key)
		return res, nil
	}
	out, err := t.copier.CopyObjects(ctx,
		s3copy.Location{Bucket: plan.Source.Bucket, Prefix: plan.Source.Prefix},
		s3copy.Location{Bucket: plan.Dest.Bucket, Prefix: plan.Dest.Prefix},
		[]s3copy.Object{obj})
	if err != nil {
		return res, fmt.Errorf("lakepipe: %s %s: %w", req.Step, req.Key, err)
	}
	res.Copied, res.Skipped = int(out.Stats.Copied), int(out.Stats.Skipped)
	res.Bytes = obj.Size
	if req.Step == StepLandingToArchive {
		// Delete only after the copy is verified in place, by key and size
		// (the landed size is the one just listed: no second listing).
		dst, copied, err := findListed(ctx, t.api, plan.Dest, plan.File, t.owner)
		if err != nil {
			return res, err
		}
		if !copied {
			return res, &TransferIncompleteError{Source: plan.Source, Dest: plan.Dest, Missing: []string{plan.File}}
		}
		if got := aws.ToInt64(dst.Size); got != obj.Size {
			return res, &TransferIncompleteError{Source: plan.Source, Dest: plan.Dest,
				Mismatched: []SizeMismatch{{Key: plan.File, SourceSize: obj.Size, DestSize: got}}}
		}
		if err := t.delete(ctx, plan.Source.Bucket, obj.Key); err != nil {
			return res, err
		}
		res.Deleted = true
	}
	t.log.InfoContext(ctx, "transferred", "step", req.Step, "key", req.Key, "copied", res.Copied, "skipped", res.Skipped, "deleted", res.Deleted)
	return res, nil
}

// find lists the one landed object (the listing gives the size and ETag
// the copier needs without a HEAD).
func (t *Transfers) find(ctx context.Context, loc s3copy.Location, file string) (s3copy.Object, bool, error) {
	o, found, err := findListed(ctx, t.api, loc, file, t.owner)
	if !found || err != nil {
		return s3copy.Object{}, false, err
	}
	return s3copy.Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag),
		StorageClass: o.StorageClass, LastModified: aws.ToTime(o.LastModified)}, true, nil
}

func (t *Transfers) delete(ctx context.Context, bucket, key string) error {
	in := &s3.DeleteObjectsInput{Bucket: aws.String(bucket), Delete: &s3types.Delete{
		Objects: []s3types.ObjectIdentifier{{Key: aws.String(key)}}, Quiet: aws.Bool(true)}}
	if t.owner != "" {
		in.ExpectedBucketOwner = aws.String(t.owner)
	}
	out, err := t.api.DeleteObjects(ctx, in)
	if err != nil {
		return fmt.Errorf("lakepipe: delete %s: %w", key, err)
	}
	if len(out.Errors) > 0 {
		e := out.Errors[0]
		return fmt.Errorf("lakepipe: delete %s: %s: %s", key, aws.ToString(e.Code), aws.ToString(e.Message))
	}
	return nil
}

// Stats returns the copier's counters over every step this Transfers ran.
func (t *Transfers) Stats() s3copy.Stats {
	if t.copier == nil {
		return s3copy.Stats{}
	}
	return t.copier.Stats()
}
