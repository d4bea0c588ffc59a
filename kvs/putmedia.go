package kvs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go"
	"github.com/lakekit/lakekit/internal/backoff"
)

// SigningName is the SigV4 service name of Kinesis Video, data plane
// included.
const SigningName = "kinesisvideo"

// EmptyPayloadHash is the hex SHA-256 of the empty string: PutMedia's body is
// an endless stream, so the signature covers the headers and this hash, as
// the AWS producer SDKs do.
const EmptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// HTTPError is a PutMedia request answered with a status other than 200.
type HTTPError struct {
	StatusCode int
	ErrorType  string // x-amzn-ErrorType, without the ":url" suffix
	Message    string
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("kvs: PutMedia HTTP %d %s: %s", e.StatusCode, e.ErrorType, e.Message)
}

// Retryable reports whether a new connection may succeed: server errors,
// throttling and limits yes; authorization, missing stream and invalid
// arguments no.
func (e *HTTPError) Retryable() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests ||
		e.StatusCode == http.StatusRequestTimeout || strings.Contains(e.ErrorType, "LimitExceeded")
}

// run opens connections while there is something to send.
func (p *Producer) run(ctx context.Context) {
	defer close(p.done)
	defer p.cancel()
	failures := 0
	for {
		p.mu.Lock()
		for len(p.frags) == 0 && !p.closing && p.fatal == nil {
			if p.wait(ctx) != nil {
				break
			}
		}
		stop := p.fatal != nil || ctx.Err() != nil || (p.closing && len(p.frags) == 0)
		p.mu.Unlock()
		if stop {
			return
		}
		p.mu.Lock()
		persistedBefore := p.stats.FragmentsPersisted
		p.mu.Unlock()
		err := p.connection(ctx)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		p.mu.Lock()
		p.stats.FailedConnections++
		fatal := p.fatal
		if p.stats.FragmentsPersisted > persistedBefore {
			// The connection worked for a while: MaxRetries counts
			// failures in a row, not over the producer's life.
			failures = 0
		}
		p.mu.Unlock()
		if fatal == nil && isFinal(err) {
			fatal = err
		}
		failures++
		if fatal == nil && p.opts.MaxRetries >= 0 && failures > p.opts.MaxRetries {
			fatal = fmt.Errorf("kvs: giving up after %d failed connections: %w", failures, err)
		}
		if fatal != nil {
			p.mu.Lock()
			p.fatal = fatal
			p.notify()
			p.mu.Unlock()
			p.opts.Logger.Error("kvs: producer stopped", "stream", string(p.stream), "err", fatal)
			return
		}
		p.cache.Invalidate()
		d := p.backoff(failures)
		p.opts.Logger.Info("kvs: PutMedia connection failed, reconnecting", "stream", string(p.stream), "err", err, "in", d)
		if backoff.Sleep(ctx, d) != nil {
			return
		}
	}
}

// isFinal reports whether a connection error cannot go away by retrying: a
// PutMedia status like 403 or 404, or a GetDataEndpoint answer saying the
// stream does not exist or access is denied.
func isFinal(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return !he.Retryable()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException", "NotAuthorizedException", "InvalidArgumentException",
			"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException":
			return true
		}
	}
	return false
}

func (p *Producer) backoff(failures int) time.Duration {
	return backoff.FullJitter(failures, p.opts.RetryBaseDelay, p.opts.RetryMaxDelay)
}

// TokenMargin is how long before its credentials expire a connection is
// rotated.
const TokenMargin = time.Minute

var errAckTimeout = errors.New("kvs: no acknowledgement within AckTimeout: connection stalled")

// watchAcks cancels the connection when fragments are in flight and for
// AckTimeout no acknowledgement has come and no byte could be written. It
// returns a stop function.
func (p *Producer) watchAcks(ctx context.Context, cancel context.CancelCauseFunc) func() {
	p.mu.Lock()
	p.lastSeen = time.Now()
	p.mu.Unlock()
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(max(p.opts.AckTimeout/4, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				p.mu.Lock()
				inFlight := false
				for _, f := range p.frags {
					if f.sends > 0 || (f.seq == p.sending) {
						inFlight = true
						break
					}
				}
				stalled := inFlight && time.Since(p.lastSeen) > p.opts.AckTimeout
				p.mu.Unlock()
				if stalled {
					p.opts.Logger.Info("kvs: PutMedia connection stalled", "stream", string(p.stream), "after", p.opts.AckTimeout)
					cancel(errAckTimeout)
					return
				}
			}
		}
	}()
	return func() { close(done) }
}

var (
	errServerClosed = errors.New("kvs: PutMedia response ended while sending")
	errUnpersisted  = errors.New("kvs: PutMedia connection ended before fragments were persisted")
)

// newRequest builds and signs a PutMedia request whose body is body, and
// returns when the connection must end: at its lifetime, or before its
// credentials expire.
func (p *Producer) newRequest(ctx context.Context, endpoint string, body io.Reader) (*http.Request, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+PutMediaPath, body)
	if err != nil {
		return nil, time.Time{}, err
	}
	req.ContentLength = -1
	if p.stream.IsARN() {
		req.Header.Set(HeaderStreamARN, string(p.stream))
	} else {
		req.Header.Set(HeaderStreamName, string(p.stream))
	}
	req.Header.Set(HeaderTimecodeType, string(p.opts.TimecodeType))
	req.Header.Set(HeaderProducerStart, FormatProducerTimestamp(p.opts.StartTime))
	req.Header.Set("Accept", "*/*")
	creds, err := p.opts.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("kvs: credentials: %w", err)
	}
	now := p.opts.Now()
	if cc, ok := p.opts.Credentials.(*aws.CredentialsCache); ok && creds.CanExpire && !creds.Expires.Add(-TokenMargin).After(now) {
		// About to expire: ask the provider for fresh ones.
		cc.Invalidate()
		if creds, err = cc.Retrieve(ctx); err != nil {
			return nil, time.Time{}, fmt.Errorf("kvs: credentials: %w", err)
		}
	}
	deadline := now.Add(p.opts.ConnectionLifetime)
	if creds.CanExpire && creds.Expires.Add(-TokenMargin).Before(deadline) {
		if creds.Expires.Add(-TokenMargin).After(now) {
			deadline = creds.Expires.Add(-TokenMargin)
		} else {
			p.opts.Logger.Warn("kvs: credentials expire within TokenMargin; connection not bounded by them", "expires", creds.Expires)
		}
	}
	if err := p.signer.SignHTTP(ctx, creds, req, EmptyPayloadHash, SigningName, p.opts.Region, time.Now().UTC()); err != nil {
		return nil, time.Time{}, fmt.Errorf("kvs: sign PutMedia: %w", err)
	}
	return req, deadline, nil
}

// connection runs one PutMedia request: it sends the header and every
// unpersisted fragment, then new ones as they come, until the stream closes,
// the connection lifetime passes (returning nil), or something fails.
func (p *Producer) connection(ctx context.Context) error {
	endpoint, err := p.cache.Get(ctx)
	if err != nil {
		return err
	}
	connCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	pr, pw := io.Pipe()
	defer pw.Close()
	req, deadline, err := p.newRequest(connCtx, endpoint, pr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.stats.Connections++
	p.mu.Unlock()
	p.opts.Logger.Info("kvs: PutMedia connection", "stream", string(p.stream), "endpoint", endpoint)

	// The response carries the acknowledgements while the body is sent.
	readerDone := make(chan error, 1)
	var bodyEnded atomic.Bool
	go func() {
		err := p.readAcks(req, &bodyEnded)
		if err == nil {
			err = io.EOF
		}
		readerDone <- err
		cancel(err)
		_ = pr.CloseWithError(err)
	}()

	stopWatch := p.watchAcks(connCtx, cancel)
	defer stopWatch()
	ended, lastSent, err := p.send(connCtx, pw, deadline)
	bodyEnded.Store(true)
	if err != nil {
		if c := context.Cause(connCtx); c != nil && c != io.EOF {
			err = c
		}
		cancel(err)
		_ = pw.CloseWithError(err)
		<-readerDone
		return err
	}
	_ = pw.Close()
	// The body has ended: wait for the last acknowledgements.
	t := time.NewTimer(p.opts.AckTimeout)
	defer t.Stop()
	select {
	case rerr := <-readerDone:
		if rerr != io.EOF {
			return rerr
		}
	case <-t.C:
		cancel(errors.New("kvs: timed out waiting for acknowledgements"))
		return <-readerDone
	}
	p.mu.Lock()
	unpersisted := 0
	for _, f := range p.frags {
		if f.seq <= lastSent {
			unpersisted++
		}
	}
	p.mu.Unlock()
	if unpersisted > 0 {
		return fmt.Errorf("%w: %d fragments", errUnpersisted, unpersisted)
	}
	if ended == endRotate {
		p.mu.Lock()
		p.stats.Rotations++
		p.mu.Unlock()
		p.opts.Logger.Info("kvs: PutMedia connection rotated", "stream", string(p.stream))
	}
	return nil
}

type endReason int

const (
	endClose endReason = iota
	endRotate
)

// send writes the stream to the request body.
func (p *Producer) send(ctx context.Context, w io.Writer, deadline time.Time) (reason endReason, lastSent uint64, err error) {
	if _, err := w.Write(p.muxer.Header()); err != nil {
		return 0, 0, err
	}
	p.mu.Lock()
	defer func() {
		p.sending = 0
		p.mu.Unlock()
	}()
	var cur uint64  // seq being sent
	ci, off := 0, 0 // chunk of cur being sent, offset in it
	if len(p.frags) > 0 {
		cur = p.frags[0].seq
	} else {
		cur = p.nextSeq
	}
	for {
		if cause := context.Cause(ctx); cause != nil {
			return 0, lastSent, cause
		}
		if p.fatal != nil {
			return 0, lastSent, p.fatal
		}
		f := p.find(cur, ci == 0 && off == 0)
		if f == nil {
			if p.closing {
				return endClose, lastSent, nil
			}
			if err := p.wait(ctx); err != nil {
				return 0, lastSent, context.Cause(ctx)
			}
			continue
		}
		if f.seq != cur {
			cur, ci, off = f.seq, 0, 0
		}
		p.sending = cur
		if ci < len(f.chunks) {
			chunk := f.chunks[ci][off:]
			p.mu.Unlock()
			n, werr := w.Write(chunk)
			p.mu.Lock()
			if off += n; off == len(f.chunks[ci]) {
				ci, off = ci+1, 0
			}
			p.stats.BytesSent += int64(n)
			if n > 0 {
				// A slow uplink still sending a large fragment is not a
				// stalled connection.
				p.lastSeen = time.Now()
			}
			if werr != nil {
				return 0, lastSent, werr
			}
			continue
		}
		if !f.complete {
			if err := p.wait(ctx); err != nil {
				return 0, lastSent, context.Cause(ctx)
			}
			continue
		}
		// The fragment is fully written.
		f.sends++
		f.sentAt = time.Now()
		p.stats.FragmentsSent++
		if f.sends > 1 {
			p.stats.FragmentsResent++
		}
		lastSent = cur
		cur, ci, off = cur+1, 0, 0
		if !p.opts.Now().Before(deadline) {
			return endRotate, lastSent, nil
		}
	}
}

// find returns the buffered fragment with the given seq, or, when next is
// true and it is gone (persisted or dropped), the first one after it.
func (p *Producer) find(seq uint64, next bool) *fragment {
	for _, f := range p.frags {
		if f.seq == seq || (next && f.seq > seq) {
			return f
		}
	}
	return nil
}

// readAcks performs the request and applies the acknowledgements.
func (p *Producer) readAcks(req *http.Request, bodyEnded *atomic.Bool) error {
	resp, err := p.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("kvs: PutMedia: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return readHTTPError(resp)
	}
	dec := NewAckDecoder(resp.Body)
	for {
		a, err := dec.Next()
		if err == io.EOF {
			if !bodyEnded.Load() {
				return errServerClosed
			}
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.applyAck(a); err != nil {
			return err
		}
		if p.opts.OnAck != nil {
			p.opts.OnAck(a)
		}
	}
}

func readHTTPError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	e := &HTTPError{StatusCode: resp.StatusCode, ErrorType: resp.Header.Get("x-amzn-ErrorType")}
	e.ErrorType, _, _ = strings.Cut(e.ErrorType, ":")
	var msg struct {
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	if json.Unmarshal(body, &msg) == nil {
		e.Message = msg.Message + msg.Message2
	}
	return e
}

// applyAck updates the buffer for one acknowledgement. A non-nil error ends
// the connection.
func (p *Producer) applyAck(a Ack) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lastSeen = time.Now()
	idx := -1
	if a.HasTimecode {
		for i, f := range p.frags {
			if f.timecode == a.FragmentTimecode {
				idx = i
				break
			}
		}
	}
	switch a.EventType {
	case AckBuffering:
		p.stats.AcksBuffering++
	case AckReceived:
		p.stats.AcksReceived++
	case AckIdle:
		p.stats.AcksIdle++
	case AckPersisted:
		p.stats.AcksPersisted++
		if idx >= 0 {
			f := p.frags[idx]
			if !f.sentAt.IsZero() {
				lat := time.Since(f.sentAt)
				p.stats.PersistLatencyLast = lat
				p.stats.PersistLatencyTotal += lat
				p.stats.PersistLatencyMax = max(p.stats.PersistLatencyMax, lat)
			}
			p.removeAt(idx)
			p.stats.FragmentsPersisted++
			p.notify()
		}
		p.opts.Logger.Debug("kvs: fragment persisted", "timecode", a.FragmentTimecode, "number", a.FragmentNumber)
	case AckError:
		p.stats.AcksError++
		ferr := &FragmentError{Ack: a}
		switch a.ErrorID.Class() {
		case ClassFatal:
			p.fatal = ferr
			p.notify()
			return ferr
		case ClassDropFragment:
			if idx >= 0 && p.frags[idx].complete {
				p.removeAt(idx)
				p.stats.FragmentsDropped++
			}
			p.opts.Logger.Warn("kvs: fragment rejected, dropped", "stream", string(p.stream), "err", ferr)
			p.notify()
			// KVS stops reading after an error: reconnect without it.
			return ferr
		default:
			p.opts.Logger.Info("kvs: fragment error, will resend", "stream", string(p.stream), "err", ferr)
			return ferr
		}
	}
	return nil
}

// FormatProducerTimestamp formats a time as x-amzn-producer-start-timestamp
// wants it: seconds since the epoch with millisecond decimals.
func FormatProducerTimestamp(t time.Time) string {
	ms := t.UnixMilli()
	return fmt.Sprintf("%d.%03d", ms/1000, ms%1000)
}
