package kvs

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lakekit/lakekit/internal/opt"
)

// OptionError reports an options field a constructor of this package
// refuses (NewProducer, NewMuxer, NewEndpointCache): the options type, the
// field, the value and what it accepts. Branch on it with errors.As.
type OptionError = opt.Error

// PutMedia request headers.
const (
	HeaderStreamName    = "x-amzn-stream-name"
	HeaderStreamARN     = "x-amzn-stream-arn"
	HeaderTimecodeType  = "x-amzn-fragment-timecode-type"
	HeaderProducerStart = "x-amzn-producer-start-timestamp"
)

// PutMediaPath is the path of the PutMedia operation on the data endpoint.
const PutMediaPath = "/putMedia"

// Producer defaults: the values zero ProducerOptions fields take.
const (
	DefaultMaxBufferSize  = 64 << 20
	DefaultMaxRetries     = 8
	DefaultRetryBaseDelay = 100 * time.Millisecond
	DefaultRetryMaxDelay  = 5 * time.Second
	DefaultAckTimeout     = 30 * time.Second
)

// credentialsExpiryWindow is how early cached temporary credentials are
// refreshed, so that each new connection gets ones that outlive TokenMargin.
const credentialsExpiryWindow = 5 * time.Minute

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

// ProducerOptions configures a Producer. Zero fields take the documented
// defaults; negative durations and sizes are an *OptionError.
type ProducerOptions struct {
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

	// Now gives the time that decides connection rotation and endpoint
	// refresh. Default time.Now. (Signatures and Stats latencies always use
	// the wall clock.)
	Now func() time.Time
	// ConnectionLifetime: a connection is ended at the first fragment
	// boundary after this long, and a new one opened, before KVS's
	// MaxConnectionDuration. Default DefaultConnectionLifetime; at most
	// MaxConnectionDuration.
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
	// Default DefaultMaxRetries; negative means no limit.
	MaxRetries int
	// RetryBaseDelay and RetryMaxDelay bound the exponential backoff with
	// full jitter between failed connections. Defaults
	// DefaultRetryBaseDelay and DefaultRetryMaxDelay; the base may not
	// exceed the maximum.
	RetryBaseDelay, RetryMaxDelay time.Duration
	// AckTimeout bounds the silence of a connection: when fragments are in
	// flight and for this long no acknowledgement (IDLE included) arrives
	// and no byte can be written, the connection is deemed stalled,
	// dropped, and its unpersisted fragments are sent again on a new one.
	// It also bounds the wait for the last acknowledgements after the body
	// ends. Default DefaultAckTimeout (KVS sends IDLE every few seconds on
	// a quiet connection).
	AckTimeout time.Duration

	// Logger receives connection events at info level and per-fragment
	// events at debug level; frame bytes and credentials are never logged.
	// Default: a discarding logger.
	Logger *slog.Logger
	// OnAck, when set, is called synchronously for every acknowledgement,
	// from the goroutine reading them; it must not block.
	OnAck func(Ack)
}

const producerOptions = "kvs.ProducerOptions"

// setDefaults validates o and fills in the defaults of its zero fields.
func (o *ProducerOptions) setDefaults() error {
	if o.Credentials == nil {
		return &OptionError{Type: producerOptions, Field: "Credentials", Value: nil, Want: "a provider when the client is not a *kinesisvideo.Client"}
	}
	if o.Region == "" {
		return &OptionError{Type: producerOptions, Field: "Region", Value: `""`, Want: "a region when the client is not a *kinesisvideo.Client"}
	}
	for _, c := range []struct {
		field string
		v     time.Duration
	}{
		{"EndpointTTL", o.EndpointTTL}, {"RetryBaseDelay", o.RetryBaseDelay},
		{"RetryMaxDelay", o.RetryMaxDelay}, {"AckTimeout", o.AckTimeout},
	} {
		if err := opt.Min(producerOptions, c.field, c.v, 0); err != nil {
			return err
		}
	}
	if err := opt.Range(producerOptions, "ConnectionLifetime", o.ConnectionLifetime, 0, MaxConnectionDuration); err != nil {
		return err
	}
	if err := opt.Min(producerOptions, "MaxBufferSize", o.MaxBufferSize, 0); err != nil {
		return err
	}
	if o.BufferPolicy != DropOldest && o.BufferPolicy != Block {
		return &OptionError{Type: producerOptions, Field: "BufferPolicy", Value: o.BufferPolicy, Want: "DropOldest or Block"}
	}
	o.ConnectionLifetime = opt.Default(o.ConnectionLifetime, DefaultConnectionLifetime)
	o.MaxBufferSize = opt.Default(o.MaxBufferSize, DefaultMaxBufferSize)
	o.MaxRetries = opt.Default(o.MaxRetries, DefaultMaxRetries)
	o.RetryBaseDelay = opt.Default(o.RetryBaseDelay, DefaultRetryBaseDelay)
	o.RetryMaxDelay = opt.Default(o.RetryMaxDelay, DefaultRetryMaxDelay)
	o.AckTimeout = opt.Default(o.AckTimeout, DefaultAckTimeout)
	if o.RetryBaseDelay > o.RetryMaxDelay {
		return &OptionError{Type: producerOptions, Field: "RetryBaseDelay", Value: o.RetryBaseDelay, Want: "at most RetryMaxDelay (" + o.RetryMaxDelay.String() + ")"}
	}
	if _, ok := o.Credentials.(*aws.CredentialsCache); !ok {
		o.Credentials = aws.NewCredentialsCache(o.Credentials, func(co *aws.CredentialsCacheOptions) {
			co.ExpiryWindow = credentialsExpiryWindow
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
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.StartTime.IsZero() {
		o.StartTime = time.Now()
	}
	o.Logger = opt.Logger(o.Logger)
	return nil
}
