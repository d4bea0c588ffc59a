package kda

import (
	"context"
	"strings"
	"time"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// OptionError is the error every constructor of this package returns for an
// options field it cannot honour (a negative duration, a value above a
// service limit, two fields that contradict each other). It names the
// options type, the field, the value and what is accepted; match it with
// errors.As.
type OptionError = opt.Error

// orNow is how each constructor replaces a nil Now: time.Now.
func orNow(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// orSleep is how each constructor replaces a nil Sleep: a real timer that
// ends early with ctx.Err().
func orSleep(sleep func(context.Context, time.Duration) error) func(context.Context, time.Duration) error {
	if sleep == nil {
		return backoff.Sleep
	}
	return sleep
}

// isARN reports whether a stream argument is an ARN rather than a name.
func isARN(stream string) bool { return strings.HasPrefix(stream, "arn:") }
