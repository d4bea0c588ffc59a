package s3copy

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/lakekit/lakekit/internal/backoff"
)

// pacer is the one backoff a Copier shares between all its workers, in the
// manner of rclone's pacer: while the service is throttling, requests are
// spaced out by a sleep that doubles on every throttle or fault and decays
// by a quarter on every success, so one throttled prefix slows the whole
// run instead of each worker retrying blindly. With no trouble the sleep is
// zero and a request costs one atomic load.
type pacer struct {
	min, max time.Duration
	sleep    atomic.Int64 // current spacing, ns; 0 = unpaced

	mu   sync.Mutex
	next time.Time // earliest time the next paced request may start
}

func newPacer(min, max time.Duration) *pacer {
	return &pacer{min: min, max: max}
}

// wait blocks until the caller may send a request.
func (p *pacer) wait(ctx context.Context) error {
	sleep := time.Duration(p.sleep.Load())
	if sleep == 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(sleep)
	p.mu.Unlock()
	return backoff.Sleep(ctx, time.Until(at))
}

// backoff raises the spacing after a throttle or a fault.
func (p *pacer) backoff() {
	p.mu.Lock()
	s := time.Duration(p.sleep.Load()) * 2
	if s < p.min {
		s = p.min
	}
	if s > p.max {
		s = p.max
	}
	p.sleep.Store(int64(s))
	p.mu.Unlock()
}

// success lowers the spacing after a request that went through.
func (p *pacer) success() {
	if p.sleep.Load() == 0 {
		return
	}
	p.mu.Lock()
	s := time.Duration(p.sleep.Load())
	s -= s / 4
	if s < p.min {
		s = 0
	}
	p.sleep.Store(int64(s))
	p.mu.Unlock()
}

// current returns the spacing now in force.
func (p *pacer) current() time.Duration { return time.Duration(p.sleep.Load()) }

// errClass sorts request errors for the one retry layer.
type errClass int

const (
	errFatal    errClass = iota // not worth retrying
	errThrottle                 // SlowDown, 503, 429: back off for everyone
	errFault                    // connection reset, EOF, timeout, 500: retry, back off
)

var throttleCodes = map[string]bool{
	"SlowDown": true, "Throttling": true, "ThrottlingException": true, "ThrottledException": true,
	"RequestThrottled": true, "RequestLimitExceeded": true, "TooManyRequests": true,
	"TooManyRequestsException": true, "ServiceUnavailable": true, "RequestThrottledException": true,
}

var faultCodes = map[string]bool{
	"InternalError": true, "RequestTimeout": true, "RequestTimeoutException": true,
	"OperationAborted": true, "ExpiredToken": false,
}

// classify decides whether err is worth another attempt. Context
// cancellation never is.
func classify(err error) errClass {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errFatal
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch code := re.HTTPStatusCode(); {
		case code == 503 || code == 429:
			return errThrottle
		case code >= 500:
			return errFault
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		if throttleCodes[ae.ErrorCode()] {
			return errThrottle
		}
		if faultCodes[ae.ErrorCode()] {
			return errFault
		}
		return errFatal
	}
	var send *smithyhttp.RequestSendError
	var deser *smithy.DeserializationError
	var netErr net.Error
	switch {
	case errors.As(err, &send), errors.As(err, &deser),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return errFault
	}
	return errFatal
}
