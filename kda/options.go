package kda

import (
	"log/slog"
	"strings"

	"github.com/lakekit/lakekit/internal/opt"
)

// OptionError is the error every constructor of this package returns for an
// options field it cannot honour (a negative duration, a value above a
// service limit, two fields that contradict each other). It names the
// options type, the field, the value and what is accepted; match it with
// errors.As.
type OptionError = opt.Error

// loggerOrDiscard is how each constructor replaces a nil Logger, once.
func loggerOrDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// isARN reports whether a stream argument is an ARN rather than a name.
func isARN(stream string) bool { return strings.HasPrefix(stream, "arn:") }
