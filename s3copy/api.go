package s3copy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// S3 service limits the copier respects.
const (
	// MaxCopyObjectSize is the largest object a single CopyObject can copy
	// (5 GiB); larger objects need multipart UploadPartCopy.
	MaxCopyObjectSize = 5 << 30
	// MinPartSize is the smallest part of a multipart upload except the last.
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part of a multipart upload.
	MaxPartSize = 5 << 30
	// MaxParts is the largest number of parts of a multipart upload.
	MaxParts = 10000
	// MaxKeyLength is the longest object key S3 accepts, in UTF-8 bytes.
	MaxKeyLength = 1024
	// MaxDeleteObjects is the most keys one DeleteObjects request takes.
	MaxDeleteObjects = 1000
)

// Defaults of the zero CopierOptions fields.
const (
	// DefaultConcurrency is where the adaptive concurrency starts and its
	// floor (CopierOptions.Concurrency); DefaultMaxConcurrency its ceiling
	// (CopierOptions.MaxConcurrency).
	DefaultConcurrency    = 64
	DefaultMaxConcurrency = 1024
	// DefaultListConcurrency is how many paginators a run starts with;
	// DefaultMaxListConcurrency how many it may grow to while the copies
	// wait for listed objects (CopierOptions.ListConcurrency).
	DefaultListConcurrency    = 4
	DefaultMaxListConcurrency = 64
	DefaultMultipartThreshold = 256 << 20
	DefaultPartSize           = 64 << 20
	DefaultPartConcurrency    = 8
	DefaultMaxAttempts        = 5
	// ThrottledAttemptsPerAttempt is how many throttled attempts a request
	// may have per CopierOptions.MaxAttempts.
	ThrottledAttemptsPerAttempt = 4
	DefaultMinBackoff           = 10 * time.Millisecond
	DefaultMaxBackoff           = 5 * time.Second
	DefaultProgressInterval     = time.Second
	// AbortTimeout bounds the clean-up a failed or cancelled run still
	// does on a fresh context (AbortMultipartUpload, the last manifest
	// flush), so that cleaning up never hangs.
	AbortTimeout = 30 * time.Second
	// DefaultMaxConsecutiveFailures is how many objects in a row may fail
	// before a run stops (CopierOptions.MaxConsecutiveFailures).
	DefaultMaxConsecutiveFailures = 100
)

// API is the set of S3 operations the copier calls, with the SDK's own
// signatures: pass an *s3.Client. Each operation is also declared on its own
// (ListAPI, CopyAPI, …) for callers that wrap only some of them.
type API interface {
	BucketAPI
	ListAPI
	CopyAPI
	HeadAPI
	TaggingAPI
	MultipartAPI
	DeleteAPI
}

// BucketAPI checks that a bucket exists and is the expected account's
// before a run sends anything else.
type BucketAPI interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
}

// ListAPI lists a bucket.
type ListAPI interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
}

// CopyAPI copies one object in one request.
type CopyAPI interface {
	CopyObject(ctx context.Context, in *s3.CopyObjectInput, optFns ...func(*s3.Options)) (*s3.CopyObjectOutput, error)
}

// HeadAPI reads an object's metadata (multipart copies, verification,
// skip-unchanged with a custom key mapping).
type HeadAPI interface {
	HeadObject(ctx context.Context, in *s3.HeadObjectInput, optFns ...func(*s3.Options)) (*s3.HeadObjectOutput, error)
}

// TaggingAPI reads an object's tags (multipart copies of tagged objects).
type TaggingAPI interface {
	GetObjectTagging(ctx context.Context, in *s3.GetObjectTaggingInput, optFns ...func(*s3.Options)) (*s3.GetObjectTaggingOutput, error)
}

// MultipartAPI copies an object in parts.
type MultipartAPI interface {
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPartCopy(ctx context.Context, in *s3.UploadPartCopyInput, optFns ...func(*s3.Options)) (*s3.UploadPartCopyOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

// DeleteAPI deletes objects (sync mode's DeleteRemoved).
type DeleteAPI interface {
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

var _ API = (*s3.Client)(nil)

// Location is an S3 tree: every object of Bucket whose key starts with
// Prefix. An empty Prefix is the whole bucket. A Prefix that does not end in
// "/" is used as is (it matches "logs" and "logs-old/…" alike); ParseLocation
// keeps what the caller wrote.
type Location struct {
	Bucket string `json:"bucket"`
	Prefix string `json:"prefix"`
}

// ParseLocation parses "s3://bucket/prefix" (the prefix may be empty).
func ParseLocation(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return Location{}, fmt.Errorf("s3copy: location %q: want s3://bucket/prefix", s)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return Location{}, fmt.Errorf("s3copy: location %q: empty bucket", s)
	}
	if len(prefix) > MaxKeyLength {
		return Location{}, fmt.Errorf("s3copy: location %q: prefix longer than %d bytes", s, MaxKeyLength)
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

// String returns the location as s3://bucket/prefix.
func (l Location) String() string { return "s3://" + l.Bucket + "/" + l.Prefix }

// KeyMapFunc maps a source key to its destination key. src and dst are the
// locations given to Copy; srcKey always starts with src.Prefix. The
// returned key must start with dst.Prefix and, below it, must not contain
// "." or ".." path segments, a leading "/" or be empty: such keys are
// rejected with ErrKeyEscapes and the object is reported failed. Returning
// an error fails that object only. It is called concurrently.
type KeyMapFunc func(src, dst Location, srcKey string) (dstKey string, err error)

// PrefixMap is the default KeyMapFunc: it replaces the leading src.Prefix
// with dst.Prefix (and only the leading one, unlike the seed's
// str.replace).
func PrefixMap(src, dst Location, srcKey string) (string, error) {
	rel, ok := strings.CutPrefix(srcKey, src.Prefix)
	if !ok {
		return "", fmt.Errorf("s3copy: key %q is not under %q", srcKey, src.Prefix)
	}
	return dst.Prefix + rel, nil
}

// EncryptionMode says how destination objects are encrypted.
type EncryptionMode int

const (
	// EncryptionBucketDefault sends no encryption headers on CopyObject:
	// S3 applies the destination bucket's default encryption. This is the
	// default because carrying each source object's own encryption on a
	// single CopyObject needs a HeadObject per object (CopyObject does not
	// keep it, and listings do not report it). Multipart copies read the
	// source's encryption anyway and carry it.
	EncryptionBucketDefault EncryptionMode = iota
	// EncryptionPreserve reads each source object's encryption (one
	// HeadObject per object) and applies it to the copy, including the
	// SSE-KMS key id and bucket-key setting.
	EncryptionPreserve
	// EncryptionSet applies CopierOptions.ServerSideEncryption and
	// CopierOptions.SSEKMSKeyID to every copy.
	EncryptionSet
)

// Overrides replace what is otherwise carried from each source object. A
// nil field keeps the source's value. Setting Metadata or any Content*
// field switches CopyObject to MetadataDirective REPLACE, which needs the
// source's other headers: the copier then reads them with one HeadObject
// per object.
type Overrides struct {
	Metadata           map[string]string
	ContentType        *string
	ContentEncoding    *string
	ContentDisposition *string
	ContentLanguage    *string
	CacheControl       *string
	// Tags replaces the source's tags (TaggingDirective REPLACE); an empty
	// non-nil map removes them.
	Tags map[string]string
	// StorageClass sets the destination storage class; "" keeps the
	// source's class as listed.
	StorageClass types.StorageClass
}

func (o *Overrides) replacesMetadata() bool {
	return o.Metadata != nil || o.ContentType != nil || o.ContentEncoding != nil ||
		o.ContentDisposition != nil || o.ContentLanguage != nil || o.CacheControl != nil
}

// CopierOptions configure a Copier. Every zero field means its documented default.
type CopierOptions struct {
	// Concurrency fixes the copy requests in flight for one Copy call,
	// parts of multipart copies included. Zero (the default) adapts it to
	// the latency the run observes: it starts at DefaultConcurrency (64),
	// never goes below it, doubles every round trip while the latency
	// stays flat, and is cut back in proportion once the latency grows
	// with it (the endpoint is queueing; see the package doc's "How a run
	// goes"), up to MaxConcurrency.
	Concurrency int
	// MaxConcurrency caps the adaptive concurrency. Default
	// DefaultMaxConcurrency (1,024); below DefaultConcurrency it is also
	// the floor. Setting it with Concurrency (which fixes the number) is
	// an *OptionError. Give the client a connection pool this large
	// (NewHTTPClient).
	MaxConcurrency int
	// ListConcurrency fixes the ListObjectsV2 paginators running at once,
	// one per shard. Zero (the default) starts DefaultListConcurrency (4)
	// and adds one, up to DefaultMaxListConcurrency (64), each time a
	// shard or a shard's page is done while the copy workers have no
	// listed object waiting and shards wait to be listed.
	ListConcurrency int
	// ShardDepth fixes how many "/"-levels below the source prefix the
	// listing is split into shards (the seed's master per folder is depth
	// 1); a negative value lists with a single paginator. Zero (the
	// default) splits the first level, and then splits a shard further
	// once its first page shows it is large: a first page that is not the
	// last and whose keys fall in at most 10 sub-folders
	// (about 100 keys each or more, S3's pages holding 1,000) is followed by a delimited listing of the rest of the
	// shard, whose sub-folders become shards of their own, listed the same
	// way. (A sync run, SkipUnchanged or DeleteRemoved with the default
	// KeyMap, merges two listings per shard and splits the first level
	// only.)
	ShardDepth int

	// MultipartThreshold is the size from which objects are copied with
	// multipart UploadPartCopy. Default DefaultMultipartThreshold (256 MiB);
	// at most MaxCopyObjectSize.
	MultipartThreshold int64
	// PartSize is the multipart part size. Default DefaultPartSize
	// (64 MiB); MinPartSize..MaxPartSize. It is raised for an object that
	// would need more than MaxParts parts.
	PartSize int64
	// PartConcurrency bounds the parts of one object copied at once; they
	// also count against Concurrency. Zero (the default) allows an eighth
	// of the run's concurrency in force when the object's copy starts,
	// at least DefaultPartConcurrency (8).
	PartConcurrency int

	// KeyMap maps source keys to destination keys. Nil (the default) is
	// PrefixMap, and lets SkipUnchanged and DeleteRemoved compare the two
	// listings; with any KeyMap set (PrefixMap itself included: functions
	// can't be compared) SkipUnchanged costs a HeadObject per object and
	// DeleteRemoved is refused.
	KeyMap KeyMapFunc

	// SkipUnchanged skips objects whose destination exists with the same
	// size and ETag (or, when an ETag is a multipart one and so not an MD5,
	// the same size and a destination not older than the source). With the
	// default KeyMap it lists the destination alongside the source (no
	// extra request per object); with a custom KeyMap it needs a HeadObject
	// per object.
	SkipUnchanged bool
	// DeleteRemoved deletes destination objects under dst.Prefix that have
	// no source object (sync). It requires the default KeyMap and implies
	// listing the destination.
	DeleteRemoved bool
	// DryRun lists and compares but writes nothing: results report what
	// would have been copied or deleted.
	DryRun bool

	// Overrides replace carried metadata, content headers, tags and storage
	// class. The zero value carries everything from the source.
	Overrides Overrides
	// Encryption selects how copies are encrypted. Default
	// EncryptionBucketDefault.
	Encryption           EncryptionMode
	ServerSideEncryption types.ServerSideEncryption // with EncryptionSet
	SSEKMSKeyID          string                     // with EncryptionSet and aws:kms
	ACL                  types.ObjectCannedACL      // "" sends none

	// ExpectedBucketOwner is the account expected to own the destination
	// bucket, ExpectedSourceBucketOwner the source's; "" sends none. They
	// are sent on every request that takes them (HeadBucket, listings,
	// copies, heads, tagging, multipart and delete requests).
	ExpectedBucketOwner       string
	ExpectedSourceBucketOwner string

	// SkipBucketCheck turns off the HeadBucket of both buckets that every
	// Copy and CopyObjects call sends before anything else (with the
	// expected owners). The check turns a missing, mistyped or foreign
	// bucket into one *BucketError instead of a failed request per
	// object; it needs s3:ListBucket on both buckets, which a role that
	// may only s3:PutObject into the destination lacks: such a role sets
	// this. Default false (check).
	SkipBucketCheck bool
	// MaxConsecutiveFailures stops a run with a *StopError once that many
	// objects in a row have failed (after their retries) with no object
	// copied or skipped in between: a run whose every copy is refused
	// (AccessDenied on the whole destination, a KMS key the role may not
	// use) ends after about MaxConsecutiveFailures + Concurrency requests
	// instead of one doomed request per object. Errors that no object can
	// escape (NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch,
	// ExpiredToken, …: see StopError) stop the run at the first one.
	// Failures of key mapping (no request sent) do not count. Default
	// DefaultMaxConsecutiveFailures (100); a negative value never stops.
	MaxConsecutiveFailures int

	// Verify checks every copy after it is written with a HeadObject on the
	// destination (size, and ETag where comparable). Without it,
	// single-request copies are still checked for free: the ETag CopyObject
	// returns is compared with the listed one when both are MD5s (see
	// ErrVerify).
	Verify bool
	// Manifest, when set, records completed objects and skips those an
	// earlier run completed (resume). See FileManifest and S3Manifest.
	Manifest Manifest

	// MaxAttempts bounds the attempts per request (per object for
	// single-request copies, per part for multipart ones) that fail other
	// than by a throttle. Default DefaultMaxAttempts (5). Throttled
	// attempts (SlowDown, 503, 429) count apart, up to
	// ThrottledAttemptsPerAttempt·MaxAttempts: while S3 splits a hot
	// partition a request may be throttled many times and still go
	// through. The SDK's own retryer is turned off for the
	// copier's requests: retries live here, behind the copier's pacing.
	MaxAttempts int
	// MinBackoff and MaxBackoff bound the shared backoff that connection
	// faults raise for every worker, and the jittered wait before a
	// throttled request (SlowDown, 503, 429) is sent again.
	// Defaults DefaultMinBackoff (10 ms) and DefaultMaxBackoff (5 s).
	MinBackoff, MaxBackoff time.Duration

	// OnObject, if set, is called once per source object (and per deleted
	// destination object) when its outcome is known. It is called from the
	// copy goroutines, concurrently; it must not block for long.
	OnObject func(ObjectResult)
	// Progress, if set, is called every ProgressInterval (default 1 s)
	// with a Stats snapshot of the run, and once at the end, from one
	// goroutine. It is not called while nothing has been listed or done
	// yet, and a run that fails before any object has an outcome (a
	// missing bucket, a failed first listing) does not call it at all: a
	// snapshot of zeros would read as "done, nothing to copy".
	Progress         func(Stats)
	ProgressInterval time.Duration

	// Now and Sleep are the clock the backoff waits on and Stats.Elapsed
	// is measured with (nil: time.Now and a real timer that ends early
	// with ctx.Err()). A simulated endpoint's clock goes here
	// (s3sim.Sim.Now and Sleep), so that backoffs and elapsed times are in
	// simulated time. Progress ticks on the real clock.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error

	// Logger receives debug records (retries) and warnings (failed
	// objects, with their keys); nil is silent. Object contents and
	// credentials are never logged.
	Logger *slog.Logger
}

// Action is what happened to one object.
type Action int

const (
	ActionCopied  Action = iota + 1 // written to the destination
	ActionSkipped                   // unchanged at the destination, or completed in the manifest
	ActionDryRun                    // would have been copied, or deleted if SrcKey is "" (DryRun)
	ActionDeleted                   // destination object removed (DeleteRemoved)
	ActionFailed                    // Err says why
)

func (a Action) String() string {
	switch a {
	case ActionCopied:
		return "copied"
	case ActionSkipped:
		return "skipped"
	case ActionDryRun:
		return "dry-run"
	case ActionDeleted:
		return "deleted"
	case ActionFailed:
		return "failed"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// ObjectResult is the outcome for one object.
type ObjectResult struct {
	SrcKey    string // "" for a deleted destination object
	DstKey    string
	Size      int64
	Action    Action
	Multipart bool
	Attempts  int   // requests sent for the object's copy, retries included
	Err       error // with ActionFailed: an *ObjectError
}

// Result is what one Copy call did.
type Result struct {
	Stats Stats
	// Failed holds one result per failed object, in completion order.
	Failed []ObjectResult
}

// Requests counts requests by operation. Bucket counts HeadBucket, Head
// HeadObject.
type Requests struct {
	Bucket, List, Copy, Head, Tagging, CreateMultipart, UploadPartCopy, Complete, Abort, Delete int64
}

// Total returns the sum over operations.
func (r Requests) Total() int64 {
	return r.Bucket + r.List + r.Copy + r.Head + r.Tagging + r.CreateMultipart + r.UploadPartCopy + r.Complete + r.Abort + r.Delete
}

// Stats is a snapshot of a run's counters.
type Stats struct {
	Listed  int64 // source objects listed
	Copied  int64
	Skipped int64
	DryRun  int64 // objects DryRun would copy or delete
	Deleted int64
	Failed  int64
	Bytes   int64 // bytes copied (source sizes of copied objects)

	Requests  Requests
	Retries   int64 // requests sent again after a retryable failure
	Throttles int64 // SlowDown / 503 / 429 answers
	Faults    int64 // connection resets, EOFs and timeouts

	// Concurrency is the copy requests the run allowed in flight when the
	// snapshot was taken (CopierOptions.Concurrency, or the adaptive
	// limit then), PeakConcurrency the most it allowed. Copier.Stats sums
	// them over the runs in progress.
	Concurrency, PeakConcurrency int

	Elapsed time.Duration
}

// ObjectsPerSecond is copied objects per second of Elapsed.
func (s Stats) ObjectsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Copied) / s.Elapsed.Seconds()
}

// MiBPerSecond is copied MiB per second of Elapsed.
func (s Stats) MiBPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Bytes) / (1 << 20) / s.Elapsed.Seconds()
}

// Sentinel errors; match with errors.Is.
var (
	// ErrKeyEscapes: a mapped key falls outside the destination prefix or
	// holds "." / ".." segments.
	ErrKeyEscapes = errors.New("s3copy: destination key escapes the destination prefix")
	// ErrKeyTooLong: a mapped key is longer than MaxKeyLength.
	ErrKeyTooLong = errors.New("s3copy: destination key longer than 1024 bytes")
	// ErrVerify: a copy does not match its source after being written
	// (its ETag differs from the listed one where both are MD5s, or, with
	// CopierOptions.Verify, its size or ETag read back differ).
	ErrVerify = errors.New("s3copy: copy does not match its source")
	// ErrSourceChanged: the source object changed between listing and copy.
	ErrSourceChanged = errors.New("s3copy: source object changed during the copy")
	// ErrOverlap: source and destination trees overlap (a copy would list
	// its own output).
	ErrOverlap = errors.New("s3copy: source and destination trees overlap")
	// ErrListing: a listing answer the copier cannot go on from (a
	// truncated page with no continuation token, or the same token
	// returned again), which would otherwise end the listing early in
	// silence or repeat it forever.
	ErrListing = errors.New("s3copy: listing cannot go on")
	// ErrDeleteNeedsPrefixMap: DeleteRemoved with a custom KeyMap.
	ErrDeleteNeedsPrefixMap = errors.New("s3copy: DeleteRemoved needs the default prefix key mapping")
)

// ObjectError is the error of one failed object.
type ObjectError struct {
	SrcKey   string
	DstKey   string
	Op       string // the S3 operation that failed last, or "map"/"verify"
	UploadID string // multipart upload that was aborted, if any
	Err      error
}

func (e *ObjectError) Error() string {
	return fmt.Sprintf("s3copy: %s %q → %q: %v", e.Op, e.SrcKey, e.DstKey, e.Err)
}

func (e *ObjectError) Unwrap() error { return e.Err }

// CopyError is returned by Copy when the run completed but some objects
// failed; Result.Failed lists them.
type CopyError struct {
	Failed int64
	First  error
}

func (e *CopyError) Error() string {
	return fmt.Sprintf("s3copy: %d object(s) failed; first: %v", e.Failed, e.First)
}

func (e *CopyError) Unwrap() error { return e.First }

// StopError is returned by Copy and CopyObjects when the run stopped
// early because going on could only fail: an error no object can escape
// (Code is one of NoSuchBucket, InvalidAccessKeyId, SignatureDoesNotMatch,
// ExpiredToken, InvalidToken, TokenRefreshRequired, AccountProblem,
// AllAccessDisabled, InvalidBucketName, PermanentRedirect,
// AuthorizationHeaderMalformed, NotSignedUp), or
// CopierOptions.MaxConsecutiveFailures objects in a row failed. Objects already
// finished have their outcome in Result (Failed lists the failures); the
// listed objects not yet started were not attempted and have none, and
// the listing was cut short. A Manifest still holds every completed
// object, so a run started again after the cause is fixed resumes.
type StopError struct {
	// Consecutive is the number of objects that had failed in a row.
	Consecutive int
	// Code is the S3 error code of the failure that stopped the run
	// ("AccessDenied", "NoSuchBucket"), "" when it had none (a
	// connection failure, an ErrVerify).
	Code string
	// Fatal is true when Code alone stopped the run (no object can
	// escape it), false when the run of consecutive failures did.
	Fatal bool
	// Err is the failure that stopped the run: an *ObjectError.
	Err error
}

func (e *StopError) Error() string {
	code := e.Code
	if code == "" {
		code = "no error code"
	}
	if e.Fatal {
		return fmt.Sprintf("s3copy: run stopped: %s fails every object; last: %v", code, e.Err)
	}
	return fmt.Sprintf("s3copy: run stopped after %d objects in a row failed (last %s); last: %v", e.Consecutive, code, e.Err)
}

func (e *StopError) Unwrap() error { return e.Err }
