package lakepipe

import (
	"errors"
	"testing"
	"time"

	"github.com/lakekit/lakekit/lakepipe/asl/local"
	"github.com/lakekit/lakekit/s3copy"
)

// TestErrNamesAreTypeNames: the ErrName… constants that a definition's
// Retry and Catch match on are the names a Go Lambda (and the local
// runner) report for the step errors.
func TestErrNamesAreTypeNames(t *testing.T) {
	for name, err := range map[string]error{ErrNameTransferIncomplete: &TransferIncompleteError{}, ErrNamePrefixNotEmpty: &PrefixNotEmptyError{},
		ErrNameCrawlerFailed: &CrawlerFailedError{}, ErrNameJobRunFailed: &JobRunFailedError{}, ErrNameKeyMismatch: &KeyMismatchError{}} {
		if got := local.ErrorName(err); got != name {
			t.Errorf("%T reported as %q, the constant says %q", err, got, name)
		}
	}
}

// TestConstructorsRefuseInvalidOptions: a negative poll interval and copier
// options s3copy refuses are an *OptionError naming the field, not a
// silent default.
func TestConstructorsRefuseInvalidOptions(t *testing.T) {
	negative := func(o *PollOptions) { o.PollInterval = -time.Second }
	_, cerr := NewCrawlers(nil, negative)
	_, jerr := NewJobs(nil, negative)
	_, terr := NewTransfers(nil, func(o *TransferOptions) {
		o.Copier = append(o.Copier, func(c *s3copy.CopierOptions) { c.Concurrency = -1 })
	})
	for name, tc := range map[string]struct {
		err   error
		field string
	}{"NewCrawlers": {cerr, "PollInterval"}, "NewJobs": {jerr, "PollInterval"}, "NewTransfers": {terr, "Concurrency"}} {
		var oe *OptionError
		if !errors.As(tc.err, &oe) || oe.Field != tc.field {
			t.Errorf("%s: %v, want an *OptionError for %s", name, tc.err, tc.field)
		}
	}
	if _, err := NewCrawlers(nil); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
