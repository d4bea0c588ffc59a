package lakepipe

import (
	"testing"

	"github.com/lakekit/lakekit/lakepipe/asl/local"
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
