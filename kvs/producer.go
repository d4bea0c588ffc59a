package kvs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
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

// PutMedia request headers.
const (
	HeaderStreamName     = "x-amzn-stream-name"
	HeaderStreamARN      = "x-amzn-stream-arn"
	HeaderTimecodeType   = "x-amzn-fragment-timecode-type"
	HeaderProducerStart  = "x-amzn-producer-start-timestamp"
	PutMediaPath         = "/putMedia"
	DefaultMaxBufferSize = 64 << 20
)

// BufferPolicy says what Put does when the buffer of unpersisted fragments
// is full.
type BufferPolicy int

const (
	// DropOldest drops the oldest whole fragment not being sent: a live
	// camera keeps its latest video, as the AWS producer SDKs do.
	DropOldest BufferPolicy = iota
	// Block makes Put wait (or fail with its context) until PERSISTED
	// acknowledgements free space.
	Block
)

// Options configures a Producer. Zero fields take the documented defaults.
type Options struct {
	// Credentials sign the PutMedia requests. Default: the credentials of
	// the client passed to NewProducer, if it is a *kinesisvideo.Client.
	Credentials aws.CredentialsProvider
	// Region of the stream. Default: the client's region.
	Region string
	// HTTPClient sends PutMedia requests. It must not have a Timeout: the
	// request lasts as long as the stream. Default: a client with
	// http.DefaultTransport's settings, HTTP/1.1 only.
	HTTPClient *http.Client

	// FragmentDuration, MaxFragmentDuration and TimecodeType configure the
	// muxer (see MuxerOptions).
	FragmentDuration    time.Duration
	MaxFragmentDuration time.Duration
	TimecodeType        TimecodeType
	// StartTime is the wall-clock time of PTS 0, sent as
	// x-amzn-producer-start-timestamp. Default: the wall-clock time of
	// NewProducer.
	StartTime time.Time

	// Clock decides connection rotation and endpoint refresh. Default: the
	// wall clock. (Signatures and Stats latencies always use the wall
	// clock.)
	Clock Clock
	// ConnectionLifetime: a connection is ended at the first fragment
	// boundary after this long, and a new one opened, before KVS's
	// MaxConnectionDuration. Default DefaultConnectionLifetime.
	ConnectionLifetime time.Duration
	// EndpointTTL is how long a GetDataEndpoint answer is used. Default
	// DefaultEndpointTTL.
	EndpointTTL time.Duration

	// MaxBufferSize bounds the bytes of fragments kept until PERSISTED.
	// Default DefaultMaxBufferSize (64 MiB). The fragment being muxed and
	// the one being sent are never dropped, so the buffer can exceed the
	// bound by up to two fragments.
	MaxBufferSize int64
	// BufferPolicy applies when the buffer is full. Default DropOldest.
	BufferPolicy BufferPolicy

	// MaxRetries is how many connections in a row may fail before the
	// producer gives up (Put and Close then return the last error).
	// Default 8; negative means no limit.
	MaxRetries int
	// RetryBaseDelay and RetryMaxDelay bound the exponential backoff with
	// full jitter between failed connections. Defaults 100 ms and 5 s.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// AckTimeout bounds the silence of a connection: when fragments are in
	// flight and for this long no acknowledgement (IDLE included) arrives
	// and no byte can be written, the connection is deemed stalled, dropped,
	// and its unpersisted fragments are sent again on a new one. It also bounds the wait for the
	// last acknowledgements after the body ends. Default 30 s (KVS sends
	// IDLE every few seconds on a quiet connection).
	AckTimeout time.Duration

	// Logger receives connection events at info level and per-fragment
	// events at debug level; frame bytes and credentials are never logged.
	// Nil is silent.
	Logger *slog.Logger
	// OnAck, when set, is called synchronously for every acknowledgement,
	// from the goroutine reading them; it must not block.
	OnAck func(Ack)
}

// Stats is a snapshot of a producer's counters.
type Stats struct {
	FramesPut          int64 // frames muxed into fragments
	FramesSkipped      int64 // frames dropped waiting for a key frame
	Fragments          int64 // fragments started
	FragmentsSent      int64 // fragments fully written to a connection, resends included
	FragmentsResent    int64 // of FragmentsSent, sends after the first
	FragmentsPersisted int64
	FragmentsDropped   int64 // dropped by the buffer policy or a fragment ERROR
	BytesSent          int64
	AcksBuffering      int64
	AcksReceived       int64
	AcksPersisted      int64
	AcksError          int64
	AcksIdle           int64
	Connections        int64 // PutMedia requests made
	FailedConnections  int64
	Rotations          int64 // connections ended on ConnectionLifetime
	BufferedBytes      int64
	BufferedFragments  int
	// Latency from the last byte of a fragment written to its PERSISTED
	// acknowledgement.
	PersistLatencyLast, PersistLatencyMax, PersistLatencyTotal time.Duration
}

// PersistLatencyMean returns the mean send-to-PERSISTED latency.
func (s Stats) PersistLatencyMean() time.Duration {
	if s.AcksPersisted == 0 {
		return 0
	}
	return s.PersistLatencyTotal / time.Duration(s.AcksPersisted)
}

// ErrClosed is returned by Put after Close.
var ErrClosed = errors.New("kvs: producer closed")

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

type fragment struct {
	seq      uint64
	timecode int64
	// chunks are the muxer's outputs, kept as they are (no copy into one
	// buffer): the Cluster header with the first frame, then one
	// SimpleBlock per frame.
	chunks   [][]byte
	size     int64
	complete bool
	sends    int
	sentAt   time.Time
}

// Producer streams H.264 frames to a Kinesis video stream with PutMedia: it
// muxes them into key-frame-aligned Matroska fragments, keeps each fragment
// until KVS acknowledges it PERSISTED, and on an ERROR acknowledgement or a
// dropped connection reconnects and sends again every fragment not yet
// persisted.
type Producer struct {
	opts   Options
	stream StreamRef
	cache  *EndpointCache
	muxer  *Muxer
	signer *v4.Signer

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every state change
	frags    []*fragment   // not yet persisted, in order
	bufBytes int64
	nextSeq  uint64
	sending  uint64    // seq of the fragment the current connection writes; 0 none
	lastSeen time.Time // last acknowledgement received or bytes written
	closing  bool
	fatal    error
	stats    Stats
	started  bool
	done     chan struct{}
	cancel   context.CancelFunc
}

// NewProducer returns a producer for the stream (a name, or an ARN starting
// with "arn:"), resolving its endpoint with client. The track's
// CodecPrivate is required (see TrackFromAVCConfig).
func NewProducer(client GetDataEndpointAPI, stream string, track Track, optFns ...func(*Options)) (*Producer, error) {
	if stream == "" {
		return nil, errNoStream
	}
	var o Options
	if c, ok := client.(*kinesisvideo.Client); ok {
		co := c.Options()
		o.Credentials, o.Region = co.Credentials, co.Region
	}
	for _, f := range optFns {
		f(&o)
	}
	if o.Credentials == nil || o.Region == "" {
		return nil, errors.New("kvs: Options.Credentials and Options.Region are required when the client is not a *kinesisvideo.Client")
	}
	if _, ok := o.Credentials.(*aws.CredentialsCache); !ok {
		// Refresh temporary credentials well before they expire, so that
		// each new connection gets ones that outlive TokenMargin.
		o.Credentials = aws.NewCredentialsCache(o.Credentials, func(co *aws.CredentialsCacheOptions) {
			co.ExpiryWindow = 5 * time.Minute
		})
	}
	if o.HTTPClient == nil {
		// PutMedia is specified over HTTP/1.1 with chunked transfer
		// encoding, as the AWS producer SDKs send it.
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.ForceAttemptHTTP2 = false
		t.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
		o.HTTPClient = &http.Client{Transport: t}
	}
	if o.Clock == nil {
		o.Clock = wallClock{}
	}
	if o.StartTime.IsZero() {
		o.StartTime = time.Now()
	}
	if o.ConnectionLifetime <= 0 {
		o.ConnectionLifetime = DefaultConnectionLifetime
	}
	if o.ConnectionLifetime > MaxConnectionDuration {
		return nil, fmt.Errorf("kvs: ConnectionLifetime %v over MaxConnectionDuration %v", o.ConnectionLifetime, MaxConnectionDuration)
	}
	if o.MaxBufferSize <= 0 {
		o.MaxBufferSize = DefaultMaxBufferSize
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = 8
	}
	if o.RetryBaseDelay <= 0 {
		o.RetryBaseDelay = 100 * time.Millisecond
	}
	if o.RetryMaxDelay <= 0 {
		o.RetryMaxDelay = 5 * time.Second
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	m, err := NewMuxer(track, func(mo *MuxerOptions) {
		mo.FragmentDuration, mo.MaxFragmentDuration = o.FragmentDuration, o.MaxFragmentDuration
		mo.TimecodeType, mo.StartTime = o.TimecodeType, o.StartTime
	})
	if err != nil {
		return nil, err
	}
	o.TimecodeType = m.Options().TimecodeType
	return &Producer{
		opts:    o,
		stream:  StreamRef(stream),
		cache:   NewEndpointCache(client, StreamRef(stream), o.EndpointTTL, o.Clock),
		muxer:   m,
		signer:  v4.NewSigner(),
		changed: make(chan struct{}),
		nextSeq: 1,
		done:    make(chan struct{}),
	}, nil
}

// Endpoints returns the producer's endpoint cache.
func (p *Producer) Endpoints() *EndpointCache { return p.cache }

// Stats returns a snapshot of the counters.
func (p *Producer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.BufferedBytes, s.BufferedFragments = p.bufBytes, len(p.frags)
	return s
}

// notify wakes every waiter; p.mu must be held.
func (p *Producer) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// wait releases p.mu until the state changes or ctx ends, then retakes it.
func (p *Producer) wait(ctx context.Context) error {
	ch := p.changed
	p.mu.Unlock()
	defer p.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Put muxes a frame and queues it for sending; it returns once the frame is
// buffered, not when it is persisted. The frame's bytes are copied: f.Data
// may be reused when Put returns. Frames before the first key frame,
// and frames that would make a fragment longer than MaxFragmentDuration,
// are skipped (Stats.FramesSkipped) and Put returns nil. Put returns the
// producer's fatal error once it has given up, and ErrClosed after Close.
// With the Block policy it waits for buffer space until ctx ends.
func (p *Producer) Put(ctx context.Context, f Frame) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fatal != nil {
		return p.fatal
	}
	if p.closing {
		return ErrClosed
	}
	if !p.started {
		p.started = true
		runCtx, cancel := context.WithCancel(context.Background())
		p.cancel = cancel
		go p.run(runCtx)
	}
	for p.bufBytes+int64(len(f.Data)) > p.opts.MaxBufferSize && len(p.frags) > 1 {
		if p.opts.BufferPolicy == Block {
			if err := p.wait(ctx); err != nil {
				return err
			}
			if p.fatal != nil {
				return p.fatal
			}
			continue
		}
		if !p.dropOldest() {
			break
		}
	}
	c, err := p.muxer.WriteFrame(f)
	if errors.Is(err, ErrNeedKeyFrame) {
		p.stats.FramesSkipped++
		return nil
	}
	if err != nil {
		return err
	}
	p.stats.FramesPut++
	if c.NewFragment || len(p.frags) == 0 || p.frags[len(p.frags)-1].complete {
		if n := len(p.frags); n > 0 {
			p.frags[n-1].complete = true
		}
		if !c.NewFragment {
			// The fragment this frame belongs to was dropped whole; so is
			// the frame.
			p.stats.FramesSkipped++
			p.stats.FramesPut--
			p.notify()
			return nil
		}
		p.frags = append(p.frags, &fragment{seq: p.nextSeq, timecode: c.Timecode, chunks: [][]byte{c.Data}, size: int64(len(c.Data))})
		p.nextSeq++
		p.stats.Fragments++
	} else {
		tail := p.frags[len(p.frags)-1]
		tail.chunks = append(tail.chunks, c.Data)
		tail.size += int64(len(c.Data))
	}
	p.bufBytes += int64(len(c.Data))
	p.notify()
	return nil
}

// dropOldest drops the oldest fragment that is neither being sent nor being
// muxed; p.mu must be held.
func (p *Producer) dropOldest() bool {
	for i, f := range p.frags {
		if f.seq == p.sending || !f.complete {
			continue
		}
		p.removeAt(i)
		p.stats.FragmentsDropped++
		p.opts.Logger.Warn("kvs: buffer full, dropped fragment", "stream", string(p.stream), "timecode", f.timecode)
		return true
	}
	return false
}

func (p *Producer) removeAt(i int) {
	p.bufBytes -= p.frags[i].size
	p.frags = append(p.frags[:i], p.frags[i+1:]...)
}

// Close ends the stream: the last fragment is closed and Close waits until
// every fragment is persisted (or dropped), the producer gives up, or ctx
// ends. It then stops the producer.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		if n := len(p.frags); n > 0 {
			p.frags[n-1].complete = true
		}
		p.notify()
	}
	started := p.started
	p.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancel()
		<-p.done
		p.mu.Lock()
		n := len(p.frags)
		p.mu.Unlock()
		return fmt.Errorf("kvs: close with %d fragments not persisted: %w", n, ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fatal != nil {
		return p.fatal
	}
	return nil
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
	req, err := http.NewRequestWithContext(connCtx, http.MethodPost, endpoint+PutMediaPath, pr)
	if err != nil {
		return err
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
		return fmt.Errorf("kvs: credentials: %w", err)
	}
	// The connection ends at the first fragment boundary after its
	// lifetime, or before its credentials expire.
	now := p.opts.Clock.Now()
	if cc, ok := p.opts.Credentials.(*aws.CredentialsCache); ok && creds.CanExpire && !creds.Expires.Add(-TokenMargin).After(now) {
		// About to expire: ask the provider for fresh ones.
		cc.Invalidate()
		if creds, err = cc.Retrieve(ctx); err != nil {
			return fmt.Errorf("kvs: credentials: %w", err)
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
		return fmt.Errorf("kvs: sign PutMedia: %w", err)
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
		if !p.opts.Clock.Now().Before(deadline) {
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
