package rekog

import (
	"github.com/lakekit/lakekit/internal/opt"
)

// OptionError reports an options field a constructor or decoder of this
// package refuses (NewAlerter, NewStreamProcessors, NewFaceGate,
// NewTextService, DecodeImage, ValidateImage): the options type, the
// field, the value and what it accepts. Branch on it with errors.As.
type OptionError = opt.Error
