package kvs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo/types"

	"github.com/lakekit/lakekit/internal/opt"
)

// GetDataEndpointAPI is the Kinesis Video control-plane call the producer
// makes; *kinesisvideo.Client implements it.
type GetDataEndpointAPI interface {
	GetDataEndpoint(ctx context.Context, in *kinesisvideo.GetDataEndpointInput, optFns ...func(*kinesisvideo.Options)) (*kinesisvideo.GetDataEndpointOutput, error)
}

// Connection limits. KVS ends a PutMedia connection after
// MaxConnectionDuration (ErrorId 4003); the producer rotates before, after
// DefaultConnectionLifetime, and refreshes the data endpoint on the same
// schedule.
const (
	MaxConnectionDuration     = 45 * time.Minute
	DefaultConnectionLifetime = 40 * time.Minute
	DefaultEndpointTTL        = 40 * time.Minute
)

// StreamRef names a stream by name or ARN: a value starting with "arn:" is
// an ARN.
type StreamRef string

// IsARN reports whether the reference is an ARN.
func (s StreamRef) IsARN() bool { return strings.HasPrefix(string(s), "arn:") }

// EndpointCache resolves and caches the PUT_MEDIA data endpoint of a stream.
// Safe for concurrent use; concurrent misses share one call.
type EndpointCache struct {
	api    GetDataEndpointAPI
	stream StreamRef
	ttl    time.Duration
	now    func() time.Time

	mu       sync.Mutex
	endpoint string
	fetched  time.Time
	calls    int
}

// EndpointCacheOptions configures an EndpointCache. Zero fields take the
// documented defaults.
type EndpointCacheOptions struct {
	// TTL is how long a GetDataEndpoint answer is used. Default
	// DefaultEndpointTTL; negative is an error.
	TTL time.Duration
	// Now gives the time the TTL is measured on. Default time.Now.
	Now func() time.Time
}

// NewEndpointCache returns a cache of the PUT_MEDIA endpoint of stream
// (a name, or an ARN starting with "arn:"). It returns an *OptionError for
// a negative TTL.
func NewEndpointCache(api GetDataEndpointAPI, stream StreamRef, optFns ...func(*EndpointCacheOptions)) (*EndpointCache, error) {
	if stream == "" {
		return nil, errNoStream
	}
	var o EndpointCacheOptions
	for _, f := range optFns {
		f(&o)
	}
	if err := opt.Min("kvs.EndpointCacheOptions", "TTL", o.TTL, 0); err != nil {
		return nil, err
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &EndpointCache{api: api, stream: stream, ttl: opt.Default(o.TTL, DefaultEndpointTTL), now: o.Now}, nil
}

// Get returns the cached endpoint, calling GetDataEndpoint when there is
// none or it is older than the TTL.
func (c *EndpointCache) Get(ctx context.Context) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endpoint != "" && c.now().Sub(c.fetched) < c.ttl {
		return c.endpoint, nil
	}
	in := &kinesisvideo.GetDataEndpointInput{APIName: types.APINamePutMedia}
	if c.stream.IsARN() {
		in.StreamARN = aws.String(string(c.stream))
	} else {
		in.StreamName = aws.String(string(c.stream))
	}
	c.calls++
	out, err := c.api.GetDataEndpoint(ctx, in)
	if err != nil {
		return "", fmt.Errorf("kvs: GetDataEndpoint %s: %w", c.stream, err)
	}
	ep := aws.ToString(out.DataEndpoint)
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("kvs: GetDataEndpoint %s returned unusable endpoint %q", c.stream, ep)
	}
	c.endpoint, c.fetched = strings.TrimSuffix(ep, "/"), c.now()
	return c.endpoint, nil
}

// Invalidate forgets the endpoint, so the next Get calls the service again;
// the producer calls it after a connection failure.
func (c *EndpointCache) Invalidate() {
	c.mu.Lock()
	c.endpoint = ""
	c.mu.Unlock()
}

// Calls returns how many GetDataEndpoint calls the cache has made.
func (c *EndpointCache) Calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

var errNoStream = errors.New("kvs: a stream name or ARN is required")
