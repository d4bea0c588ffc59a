package s3cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lakekit/lakekit/s3copy"
)

// Summary is a copy run's outcome, as `lakekit --json s3 cp` prints it.
type Summary struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	DryRun      bool   `json:"dry_run"`
	Listed      int64  `json:"listed"`
	Copied      int64  `json:"copied"`
	Skipped     int64  `json:"skipped"`
	// WouldChange counts the objects a dry run would copy or delete.
	WouldChange      int64     `json:"would_change"`
	Deleted          int64     `json:"deleted"`
	Failed           int64     `json:"failed"`
	Bytes            int64     `json:"bytes"`
	Requests         int64     `json:"requests"`
	RequestsByOp     Requests  `json:"requests_by_operation"`
	Retries          int64     `json:"retries"`
	Throttles        int64     `json:"throttles"`
	Seconds          float64   `json:"seconds"`
	ObjectsPerSecond float64   `json:"objects_per_second"`
	MiBPerSecond     float64   `json:"mib_per_second"`
	Failures         []Failure `json:"failures"`
	// Error is why the run stopped early ("" when it ran to the end,
	// failed objects or not).
	Error string `json:"error,omitempty"`
}

// Requests counts a run's requests by S3 operation.
type Requests struct {
	HeadBucket              int64 `json:"HeadBucket"`
	ListObjectsV2           int64 `json:"ListObjectsV2"`
	CopyObject              int64 `json:"CopyObject"`
	HeadObject              int64 `json:"HeadObject"`
	GetObjectTagging        int64 `json:"GetObjectTagging"`
	CreateMultipartUpload   int64 `json:"CreateMultipartUpload"`
	UploadPartCopy          int64 `json:"UploadPartCopy"`
	CompleteMultipartUpload int64 `json:"CompleteMultipartUpload"`
	AbortMultipartUpload    int64 `json:"AbortMultipartUpload"`
	DeleteObjects           int64 `json:"DeleteObjects"`
}

// Failure is one failed object of a Summary.
type Failure struct {
	Key    string `json:"key"`
	DstKey string `json:"destination_key"`
	Error  string `json:"error"`
}

// NewSummary sums up the run of Copy from src to dst that returned res
// and err.
func NewSummary(src, dst s3copy.Location, dryRun bool, res s3copy.Result, err error) Summary {
	st := res.Stats
	s := Summary{
		Source: src.String(), Destination: dst.String(), DryRun: dryRun,
		Listed: st.Listed, Copied: st.Copied, Skipped: st.Skipped, WouldChange: st.DryRun, Deleted: st.Deleted, Failed: st.Failed,
		Bytes: st.Bytes, Requests: st.Requests.Total(), RequestsByOp: Requests{
			st.Requests.Bucket, st.Requests.List, st.Requests.Copy, st.Requests.Head, st.Requests.Tagging,
			st.Requests.CreateMultipart, st.Requests.UploadPartCopy, st.Requests.Complete, st.Requests.Abort, st.Requests.Delete}, Retries: st.Retries, Throttles: st.Throttles,
		Seconds: st.Elapsed.Seconds(), ObjectsPerSecond: st.ObjectsPerSecond(), MiBPerSecond: st.MiBPerSecond(),
		Failures: []Failure{},
	}
	for _, fr := range res.Failed {
		s.Failures = append(s.Failures, Failure{Key: fr.SrcKey, DstKey: fr.DstKey, Error: fr.Err.Error()})
	}
	if ce := (*s3copy.CopyError)(nil); err != nil && !errors.As(err, &ce) {
		s.Error = err.Error()
	}
	return s
}

// WriteText writes the summary as one line.
func (s Summary) WriteText(w io.Writer) {
	verb := "copied"
	if s.DryRun {
		verb = "would change"
	}
	fmt.Fprintf(w, "%s → %s: %d listed, %d %s, %d skipped, %d deleted, %d failed; %s in %s (%.0f objects/s, %.1f MiB/s); %d requests, %d retries\n",
		s.Source, s.Destination, s.Listed, s.Copied+s.WouldChange, verb, s.Skipped, s.Deleted, s.Failed,
		mib(s.Bytes), (time.Duration(s.Seconds * float64(time.Second))).Round(time.Millisecond), s.ObjectsPerSecond, s.MiBPerSecond, s.Requests, s.Retries)
}

// WriteFailures writes one line per failed object of res, each naming
// its source key, after prefix ("lakekit: ").
func WriteFailures(w io.Writer, prefix string, src s3copy.Location, res s3copy.Result) {
	for _, fr := range res.Failed {
		fmt.Fprintf(w, "%sfailed: s3://%s/%s: %v\n", prefix, src.Bucket, fr.SrcKey, fr.Err)
	}
}

// mib formats n bytes in MiB.
func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// OpenManifest opens a resume manifest: an S3 location ("s3://bucket/prefix/",
// owner if not empty its expected owner) or a local file; nil for "". The
// function it returns closes a file manifest.
func OpenManifest(ctx context.Context, client s3copy.ManifestS3API, path, owner string) (s3copy.Manifest, func(), error) {
	switch {
	case strings.HasPrefix(path, "s3://"):
		loc, err := s3copy.ParseLocation(path)
		if err != nil {
			return nil, nil, err
		}
		m, err := s3copy.OpenS3Manifest(ctx, client, loc, owner)
		if err != nil {
			return nil, nil, err
		}
		return m, func() {}, nil
	case path != "":
		fm, err := s3copy.OpenFileManifest(path)
		if err != nil {
			return nil, nil, err
		}
		return fm, func() { fm.Close() }, nil
	}
	return nil, func() {}, nil
}
