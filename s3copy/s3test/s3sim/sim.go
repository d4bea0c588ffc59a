package s3sim

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/inproc"
	"github.com/lakekit/lakekit/internal/opt"
)

// Defaults of the zero SimOptions fields: the model's numbers.
const (
	// DefaultFirstByteMedian and DefaultFirstByteSigma make the first-byte
	// latency lognormal: median 130 ms, σ 0.3 (10th percentile 88 ms,
	// 90th 191 ms, 99th 261 ms, 99.9th 329 ms), AWS's "100–200 ms" with a tail.
	DefaultFirstByteMedian = 130 * time.Millisecond
	DefaultFirstByteSigma  = 0.3
	// DefaultLatencyCap cuts the lognormal's tail.
	DefaultLatencyCap = 2 * time.Second
	// DefaultListPerKey is added to a ListObjectsV2 answer per entry
	// returned: a full page of 1,000 takes 100 ms more than a request.
	DefaultListPerKey = 100 * time.Microsecond
	// DefaultCopyBandwidth is the bytes per second one CopyObject or
	// UploadPartCopy request copies (100 MB/s: a 5 GiB CopyObject takes
	// 54 s, as measured in-region).
	DefaultCopyBandwidth = 100e6
	// DefaultWriteRate and DefaultReadRate are S3's request rates per
	// partitioned prefix and per second: PUT/COPY/POST/DELETE and GET/HEAD.
	DefaultWriteRate = 3500
	DefaultReadRate  = 5500
	// DefaultSplitAfter is how many consecutive simulated seconds a
	// partition must be under sustained load before it splits.
	DefaultSplitAfter = 10 * time.Second
	// DefaultMaxConnections is how many requests the endpoint serves at
	// once; more wait for a connection.
	DefaultMaxConnections = 1024
	// DefaultTimeScale runs in real time.
	DefaultTimeScale = 1.0
)

// S3 limits the endpoint enforces.
const (
	// MaxKeys is the most entries one ListObjectsV2 page holds.
	MaxKeys = 1000
	// MaxBodySize is the largest PutObject body the endpoint stores: it
	// keeps metadata, and bodies only for small objects (status records).
	MaxBodySize = 1 << 20
)

// SimOptions configure a Sim. Every zero field means its documented default.
type SimOptions struct {
	// TimeScale is the wall-clock seconds one simulated second takes
	// (default 1; 0.1 runs ten times faster). Every figure the Sim reports
	// is in simulated time; clients must wait in simulated time too (give
	// them Sim.Now and Sim.Sleep).
	TimeScale float64
	// Seed seeds the latency draws (default 1): request n's latency
	// depends only on Seed and n.
	Seed uint64
	// FirstByteMedian and FirstByteSigma are the lognormal first-byte
	// latency of every request (defaults DefaultFirstByteMedian,
	// DefaultFirstByteSigma); ConstantLatency makes every request take
	// FirstByteMedian exactly.
	FirstByteMedian time.Duration
	FirstByteSigma  float64
	ConstantLatency bool
	// LatencyCap is the longest first-byte latency (default DefaultLatencyCap).
	LatencyCap time.Duration
	// ListPerKey is the time a listing answer takes per entry (default
	// DefaultListPerKey).
	ListPerKey time.Duration
	// CopyBandwidth is the bytes per second of one copy request (default
	// DefaultCopyBandwidth).
	CopyBandwidth float64
	// WriteRate and ReadRate are the requests per second one partition
	// accepts; above them it answers 503 SlowDown (defaults
	// DefaultWriteRate, DefaultReadRate).
	WriteRate, ReadRate int
	// Partitions are the partitioned prefixes each bucket starts with, as
	// "bucket/prefix"; every bucket is one partition besides (its empty
	// prefix). Default none: a bucket starts as one partition.
	Partitions []string
	// SplitAfter is how long a partition must be under sustained load
	// (offered at least half its limit, accepted and throttled requests
	// of one class, in every second) before it splits:
	// one new partition per next key segment of the keys it served (per
	// next character below the last "/"). Default DefaultSplitAfter; a
	// negative value never splits.
	SplitAfter time.Duration
	// MaxConnections is how many requests the endpoint serves at once
	// (default DefaultMaxConnections); the others wait their turn.
	MaxConnections int
	// SeriesDepth, when positive, keeps per-second counters (Stats.Prefixes)
	// for every key prefix of SeriesDepth "/"-separated segments
	// ("processed/folder1/" is depth 2), whatever S3's partitions are: the
	// view of a client that paces by prefix. Default 0: none.
	SeriesDepth int
	// Now and Sleep are the wall clock (nil: time.Now and a real timer);
	// inside a testing/synctest bubble the defaults are already virtual.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

const simOptions = "s3sim.SimOptions"

// OptionError is the error New returns for an option it cannot honour.
type OptionError = opt.Error

func (o *SimOptions) setDefaults() error {
	if err := errors.Join(
		opt.Min(simOptions, "TimeScale", o.TimeScale, 0),
		opt.Min(simOptions, "FirstByteMedian", o.FirstByteMedian, 0),
		opt.Min(simOptions, "FirstByteSigma", o.FirstByteSigma, 0),
		opt.Min(simOptions, "LatencyCap", o.LatencyCap, 0),
		opt.Min(simOptions, "ListPerKey", o.ListPerKey, 0),
		opt.Min(simOptions, "CopyBandwidth", o.CopyBandwidth, 0),
		opt.Min(simOptions, "WriteRate", o.WriteRate, 0),
		opt.Min(simOptions, "ReadRate", o.ReadRate, 0),
		opt.Min(simOptions, "MaxConnections", o.MaxConnections, 0),
		opt.Min(simOptions, "SeriesDepth", o.SeriesDepth, 0),
	); err != nil {
		return err
	}
	o.TimeScale = opt.Default(o.TimeScale, DefaultTimeScale)
	o.Seed = opt.Default(o.Seed, 1)
	o.FirstByteMedian = opt.Default(o.FirstByteMedian, DefaultFirstByteMedian)
	o.FirstByteSigma = opt.Default(o.FirstByteSigma, DefaultFirstByteSigma)
	o.LatencyCap = opt.Default(o.LatencyCap, DefaultLatencyCap)
	o.ListPerKey = opt.Default(o.ListPerKey, DefaultListPerKey)
	o.CopyBandwidth = opt.Default(o.CopyBandwidth, DefaultCopyBandwidth)
	o.WriteRate = opt.Default(o.WriteRate, DefaultWriteRate)
	o.ReadRate = opt.Default(o.ReadRate, DefaultReadRate)
	o.SplitAfter = opt.Default(o.SplitAfter, DefaultSplitAfter)
	o.MaxConnections = opt.Default(o.MaxConnections, DefaultMaxConnections)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
	}
	return nil
}

// Sim is a simulated S3 endpoint: an http.Handler speaking S3's REST
// protocol (path-style) over metadata only, with S3's latencies and limits.
type Sim struct {
	o         SimOptions
	wallStart time.Time
	seq       atomic.Uint64
	conns     chan struct{}

	store store

	mu      sync.Mutex // partitions and counters
	parts   map[string]*bucketParts
	order   []*partition // creation order
	ops     [numOps]int64
	series  map[string]*prefixSeries // "bucket/prefix" at SeriesDepth
	slow    int64
	queued  int64
	active  int
	maxConn int
}

// New returns a Sim with no buckets. It returns an *OptionError for a
// negative option.
func New(optFns ...func(*SimOptions)) (*Sim, error) {
	var o SimOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	s := &Sim{o: o, conns: make(chan struct{}, o.MaxConnections), parts: map[string]*bucketParts{}, series: map[string]*prefixSeries{}}
	s.store.buckets = map[string]*bucket{}
	s.wallStart = o.Now()
	for _, p := range o.Partitions {
		b, prefix, _ := cutBucket(p)
		s.bucketParts(b).add(s, prefix, 0)
	}
	return s, nil
}

// Now returns the simulated time: the wall clock's time since New, divided
// by TimeScale, after the moment New was called.
func (s *Sim) Now() time.Time { return s.wallStart.Add(s.Elapsed()) }

// Elapsed returns the simulated time since New.
func (s *Sim) Elapsed() time.Duration {
	return time.Duration(float64(s.o.Now().Sub(s.wallStart)) / s.o.TimeScale)
}

// Sleep waits d of simulated time, or until ctx is done.
func (s *Sim) Sleep(ctx context.Context, d time.Duration) error {
	return s.o.Sleep(ctx, time.Duration(float64(d)*s.o.TimeScale))
}

// latency draws request n's first-byte latency.
func (s *Sim) latency(n uint64) time.Duration {
	if s.o.ConstantLatency || s.o.FirstByteSigma == 0 {
		return s.o.FirstByteMedian
	}
	r := rand.New(rand.NewPCG(s.o.Seed, n))
	d := time.Duration(float64(s.o.FirstByteMedian) * math.Exp(s.o.FirstByteSigma*r.NormFloat64()))
	return min(d, s.o.LatencyCap)
}

// MeanLatency is the mean first-byte latency of the model (the lognormal's
// mean, median·e^(σ²/2), ignoring the cap).
func (s *Sim) MeanLatency() time.Duration {
	if s.o.ConstantLatency {
		return s.o.FirstByteMedian
	}
	return time.Duration(float64(s.o.FirstByteMedian) * math.Exp(s.o.FirstByteSigma*s.o.FirstByteSigma/2))
}

// Options returns the options in force, defaults filled in.
func (s *Sim) Options() SimOptions { return s.o }

// Transport returns an http.RoundTripper that serves requests in the
// calling goroutine, without a network: the cheapest client, and one that
// runs inside a testing/synctest bubble.
func (s *Sim) Transport() http.RoundTripper { return inproc.Transport(s) }

// Endpoint is the base URL Client uses with Transport; any host will do,
// as Transport never dials.
const Endpoint = "http://s3sim.invalid"

// Client returns an S3 client on the Sim through Transport: path-style,
// static credentials, region us-east-1, checksums only where required.
// optFns apply after these settings.
func (s *Sim) Client(optFns ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region:                     "us-east-1",
		Credentials:                credentials.NewStaticCredentialsProvider("s3sim", "s3sim", ""),
		BaseEndpoint:               aws.String(Endpoint),
		UsePathStyle:               true,
		HTTPClient:                 &http.Client{Transport: s.Transport()},
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, optFns...)
}
