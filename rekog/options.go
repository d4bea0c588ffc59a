package rekog

import (
	"log/slog"

	"github.com/lakekit/lakekit/internal/opt"
)

// OptionError reports an options field a constructor or decoder of this
// package refuses (NewAlerter, NewStreamProcessors, NewFaceGate,
// NewTextService, DecodeImage, ValidateImage): the options type, the
// field, the value and what it accepts. Branch on it with errors.As.
type OptionError = opt.Error

// orDiscard returns l, or a logger that discards everything when l is nil:
// constructors replace a nil Logger once, so no call site checks.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
