package lakepipe

import (
	"fmt"
	"strings"

	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/s3copy"
)

// OptionError reports an options field a constructor refuses (its type,
// field, value and what it accepts).
type OptionError = opt.Error

// The error types below are named so that a Step Functions Retry or Catch
// can match them: a Go Lambda reports the type name of the returned error
// (for *TransferIncompleteError, "TransferIncompleteError") as errorType,
// and Step Functions uses that as the error name. A handler must return them
// unwrapped for the name to survive: fmt.Errorf("…: %w", err) would be
// reported as "wrapError".

// Error names as Step Functions sees them, for ErrorEquals.
const (
	ErrNameKeyMismatch        = "KeyMismatchError"
	ErrNameTransferIncomplete = "TransferIncompleteError"
	ErrNamePrefixNotEmpty     = "PrefixNotEmptyError"
	ErrNameCrawlerFailed      = "CrawlerFailedError"
	ErrNameJobRunFailed       = "JobRunFailedError"
)

// KeyMismatchError says that an object key does not match the landing
// pattern; no execution is started for it.
type KeyMismatchError struct {
	Key     string // the URL-decoded object key
	Pattern string // the landing pattern, with its prefix
	Reason  string
}

func (e *KeyMismatchError) Error() string {
	return fmt.Sprintf("lakepipe: key %q does not match landing pattern %q: %s", e.Key, e.Pattern, e.Reason)
}

// SizeMismatch is one object whose copy has a different size.
type SizeMismatch struct {
	Key        string // relative to the locations' prefixes
	SourceSize int64
	DestSize   int64
}

// TransferIncompleteError says that a destination does not yet hold every
// source object with the source's size. It is usually transient (a copy
// still running, S3 listing lag): retry it.
type TransferIncompleteError struct {
	Source, Dest s3copy.Location
	Missing      []string       // source keys (relative) absent at the destination
	Mismatched   []SizeMismatch // present with another size
}

func (e *TransferIncompleteError) Error() string {
	return fmt.Sprintf("lakepipe: transfer %s → %s incomplete: %d missing%s, %d of other size",
		e.Source, e.Dest, len(e.Missing), sample(e.Missing), len(e.Mismatched))
}

// PrefixNotEmptyError says that objects remain where none should (the
// landing zone after its files were archived).
type PrefixNotEmptyError struct {
	Location s3copy.Location
	Count    int
	Keys     []string // up to MaxReportedKeys of them
}

func (e *PrefixNotEmptyError) Error() string {
	return fmt.Sprintf("lakepipe: %s still holds %d object(s)%s", e.Location, e.Count, sample(e.Keys))
}

// CrawlerFailedError says that a crawl ended but did not succeed: its
// LastCrawl.Status is FAILED or CANCELLED. A Glue crawler that failed is
// READY again afterwards, so its State alone looks like success.
type CrawlerFailedError struct {
	Crawler string
	Status  string // FAILED or CANCELLED
	Message string // LastCrawl.ErrorMessage
}

func (e *CrawlerFailedError) Error() string {
	msg := fmt.Sprintf("lakepipe: crawler %s: last crawl %s", e.Crawler, e.Status)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// JobRunFailedError says that a Glue job run reached a terminal state other
// than SUCCEEDED (FAILED, TIMEOUT, STOPPED, ERROR, EXPIRED).
type JobRunFailedError struct {
	Job, RunID string
	State      string
	Message    string // JobRun.ErrorMessage
}

func (e *JobRunFailedError) Error() string {
	msg := fmt.Sprintf("lakepipe: glue job %s run %s ended %s", e.Job, e.RunID, e.State)
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// MaxReportedKeys bounds the keys an error carries, so that it stays well
// under the 32 KiB a Step Functions error cause may hold.
const MaxReportedKeys = 20

func sample(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	n := min(len(keys), 3)
	s := " (" + strings.Join(keys[:n], ", ")
	if len(keys) > n {
		s += ", …"
	}
	return s + ")"
}
