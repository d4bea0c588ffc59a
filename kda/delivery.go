package kda

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awserr"
	"github.com/lakekit/lakekit/internal/opt"
)

// PutObjectAPI is the S3 call a Delivery makes.
type PutObjectAPI interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// Firehose buffering limits and defaults for an S3 destination.
const (
	MinBufferSize         = 1 << 20
	MaxBufferSize         = 128 << 20
	DefaultBufferSize     = 5 << 20
	MaxBufferInterval     = 900 * time.Second
	DefaultBufferInterval = 300 * time.Second
	// DefaultErrorOutputPrefix is DeliveryOptions.ErrorOutputPrefix' default.
	DefaultErrorOutputPrefix = "!{firehose:error-output-type}/"
)

// Compression is the object compression of a Delivery.
type Compression string

// Supported compressions.
const (
	Uncompressed Compression = ""
	GZIP         Compression = "GZIP"
)

// DeliveryOptions configures a Delivery.
type DeliveryOptions struct {
	// Prefix is the Firehose S3 prefix (see ParsePrefix). Default "": objects
	// go under yyyy/MM/dd/HH/.
	Prefix string
	// ErrorOutputPrefix is where PutError records go. Default
	// DefaultErrorOutputPrefix (plus the default time prefix).
	ErrorOutputPrefix string
	// BufferSize flushes a buffer when it reaches this many bytes. Default
	// DefaultBufferSize (5 MiB); must be within [MinBufferSize,
	// MaxBufferSize] unless AllowSmallBuffers.
	BufferSize int
	// BufferInterval flushes a buffer this long after its oldest record
	// arrived (checked by Tick and Put). Default DefaultBufferInterval
	// (300 s); at most MaxBufferInterval. A record older than that when a
	// Put or Tick comes is written then.
	BufferInterval time.Duration
	// AllowSmallBuffers lifts the 1 MiB minimum of BufferSize (tests, tours).
	AllowSmallBuffers bool
	// Compression of each object. Default Uncompressed; GZIP adds ".gz".
	Compression Compression
	// NoNewline writes records back to back, as Firehose does unless its
	// newline-delimiter option is set. Default false: one record per line
	// (JSON Lines), which Athena and Glue need.
	NoNewline bool
	// Location is the zone of !{timestamp:…} and of object names. Default UTC.
	Location *time.Location
	// WeekFields defines Y and w. Default (zero) WeekFieldsUS.
	WeekFields WeekFields
	// Version is the delivery stream version in object names. Default 1.
	Version int
	// ExpectedBucketOwner is passed on every PutObject when set.
	ExpectedBucketOwner string
	// Now is the clock for arrival times and intervals. Default time.Now.
	Now func() time.Time
	// Sleep waits between Run's ticks. Default: a real timer that ends
	// early with ctx.Err().
	Sleep func(ctx context.Context, d time.Duration) error
	// Seed makes random strings and object ids reproducible. Default 0:
	// random.
	Seed uint64
	// OnObject, when set, is called synchronously after each object is
	// written, with its key and record count.
	OnObject func(key string, records int)
	// MaxTickFailures is how many of Run's ticks in a row may fail to
	// write (the records stay buffered for the next) before Run ends with
	// the last error; an error retrying cannot fix (NoSuchBucket, access
	// denied) ends it at the first. Default DefaultMaxTickFailures;
	// negative: retry for ever.
	MaxTickFailures int
	// Logger gets a warning per week-based prefix field and a debug line per
	// object (key and size, never data). Default: discarded.
	Logger *slog.Logger
}

// DefaultMaxTickFailures is DeliveryOptions.MaxTickFailures' default.
const DefaultMaxTickFailures = 10

// DeliveryStats is a snapshot of a Delivery's counters.
type DeliveryStats struct {
	Records, ErrorRecords int64
	Objects               int64
	Bytes                 int64 // bytes written to S3, after compression
	Failures              int64 // failed PutObject calls
}

// Delivery is a Firehose-style S3 destination: it buffers records and
// writes each buffer as one object named like Firehose's, under a prefix
// evaluated at the oldest record's arrival time.
type Delivery struct {
	client PutObjectAPI
	bucket string
	stream string
	opts   DeliveryOptions
	prefix *Prefix
	errPfx *Prefix

	mu    sync.Mutex
	rnd   *rand.Rand
	main  buffer
	errs  map[string]*buffer // by error output type
	stats DeliveryStats
}

type buffer struct {
	data    bytes.Buffer
	records int
	oldest  time.Time
}

// NewDelivery returns a Delivery writing to bucket for the named delivery
// stream. It fails on an invalid prefix or option.
func NewDelivery(client PutObjectAPI, bucket, streamName string, optFns ...func(*DeliveryOptions)) (*Delivery, error) {
	var o DeliveryOptions
	for _, f := range optFns {
		f(&o)
	}
	if bucket == "" || streamName == "" {
		return nil, errors.New("kda: NewDelivery needs a bucket and a delivery stream name")
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	p, err := ParsePrefix(o.Prefix)
	if err != nil {
		return nil, err
	}
	ep, err := parsePrefix(o.ErrorOutputPrefix, errorPrefix)
	if err != nil {
		return nil, err
	}
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	d := &Delivery{client: client, bucket: bucket, stream: streamName, opts: o, prefix: p, errPfx: ep,
		rnd: rand.New(rand.NewPCG(seed, ^seed)), errs: map[string]*buffer{}}
	for _, w := range append(p.Warnings, ep.Warnings...) {
		o.Logger.Warn("kda: delivery prefix", "stream", streamName, "warning", w)
	}
	return d, nil
}

func (o *DeliveryOptions) setDefaults() error {
	const typ = "kda.DeliveryOptions"
	o.ErrorOutputPrefix = opt.Default(o.ErrorOutputPrefix, DefaultErrorOutputPrefix)
	o.BufferSize = opt.Default(o.BufferSize, DefaultBufferSize)
	o.BufferInterval = opt.Default(o.BufferInterval, DefaultBufferInterval)
	o.Version = opt.Default(o.Version, 1)
	minSize := MinBufferSize
	if o.AllowSmallBuffers {
		minSize = 1
	}
	if err := errors.Join(
		opt.Range(typ, "BufferSize", o.BufferSize, minSize, MaxBufferSize),
		opt.Range(typ, "BufferInterval", o.BufferInterval, 0, MaxBufferInterval),
		opt.Min(typ, "Version", o.Version, 1),
	); err != nil {
		return err
	}
	if o.Compression != Uncompressed && o.Compression != GZIP {
		return &OptionError{Type: typ, Field: "Compression", Value: o.Compression, Want: "Uncompressed or GZIP"}
	}
	o.MaxTickFailures = opt.Default(o.MaxTickFailures, DefaultMaxTickFailures)
	o.Now, o.Sleep = orNow(o.Now), orSleep(o.Sleep)
	o.Location = cmp.Or(o.Location, time.UTC)
	o.Logger = opt.Logger(o.Logger)
	return nil
}

// Warnings returns the prefix warnings (for example YYYY) found by
// NewDelivery.
func (d *Delivery) Warnings() []string {
	return append(append([]string(nil), d.prefix.Warnings...), d.errPfx.Warnings...)
}

// Put buffers one record that arrived at arrival (zero: DeliveryOptions.Now) and
// writes the buffer when it is full or older than BufferInterval. A failed
// write returns a *DeliveryError and keeps the buffer, this record
// included, for the next attempt: do not Put the record again unless
// duplicates are acceptable (delivery is at-least-once, as Firehose's).
func (d *Delivery) Put(ctx context.Context, record []byte, arrival time.Time) error {
	return d.put(ctx, &d.main, "", record, arrival)
}

// PutError buffers a record for the error output prefix under an error
// output type (for example ErrorOutputProcessingFailed).
func (d *Delivery) PutError(ctx context.Context, record []byte, errorOutputType string, arrival time.Time) error {
	d.mu.Lock()
	b := d.errs[errorOutputType]
	if b == nil {
		b = &buffer{}
		d.errs[errorOutputType] = b
	}
	d.mu.Unlock()
	return d.put(ctx, b, errorOutputType, record, arrival)
}

func (d *Delivery) put(ctx context.Context, b *buffer, errType string, record []byte, arrival time.Time) error {
	now := d.opts.Now()
	if arrival.IsZero() {
		arrival = now
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if b.records == 0 || arrival.Before(b.oldest) {
		b.oldest = arrival
	}
	b.data.Write(record)
	if !d.opts.NoNewline {
		b.data.WriteByte('\n')
	}
	b.records++
	if errType == "" {
		d.stats.Records++
	} else {
		d.stats.ErrorRecords++
	}
	if b.data.Len() >= d.opts.BufferSize || now.Sub(b.oldest) >= d.opts.BufferInterval {
		return d.flushLocked(ctx, b, errType)
	}
	return nil
}

// Tick writes every buffer whose oldest record is BufferInterval old. Call
// it periodically (Run does) so that a quiet stream is still delivered.
func (d *Delivery) Tick(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.opts.Now()
	var errs []error
	if d.main.records > 0 && now.Sub(d.main.oldest) >= d.opts.BufferInterval {
		errs = append(errs, d.flushLocked(ctx, &d.main, ""))
	}
	for t, b := range d.errs {
		if b.records > 0 && now.Sub(b.oldest) >= d.opts.BufferInterval {
			errs = append(errs, d.flushLocked(ctx, b, t))
		}
	}
	return errors.Join(errs...)
}

// Run calls Tick every interval until ctx is done, then Flushes with a
// fresh 30-second context. It returns the final Flush's error. It ends
// early with the Tick's *DeliveryError when a write fails with an error
// retrying cannot fix (the bucket does not exist, access denied), or after
// MaxTickFailures failing ticks in a row: the records stay buffered (Flush
// may be tried again), but a destination that cannot be written no longer
// goes unnoticed while they pile up.
func (d *Delivery) Run(ctx context.Context, interval time.Duration) error {
	failures := 0
	for d.opts.Sleep(ctx, interval) == nil {
		err := d.Tick(ctx)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			break
		}
		failures++
		if awserr.Permanent(err) || (d.opts.MaxTickFailures > 0 && failures >= d.opts.MaxTickFailures) {
			return err
		}
		d.opts.Logger.Warn("kda: delivery tick", "stream", d.stream, "error", err, "failures", failures)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return d.Flush(fctx)
}

// Flush writes every non-empty buffer now.
func (d *Delivery) Flush(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	errs := []error{d.flushLocked(ctx, &d.main, "")}
	for t, b := range d.errs {
		errs = append(errs, d.flushLocked(ctx, b, t))
	}
	return errors.Join(errs...)
}

// Stats returns a snapshot of the counters.
func (d *Delivery) Stats() DeliveryStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

const randomAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// ObjectKey returns the key Firehose gives an object: prefix, then
// <stream>-<version>-yyyy-MM-dd-HH-mm-ss-<uuid>.
func (d *Delivery) objectKey(b *buffer, errType string) string {
	rs := make([]byte, 11)
	for i := range rs {
		rs[i] = randomAlphabet[d.rnd.IntN(len(randomAlphabet))]
	}
	pv := PrefixValues{Time: b.oldest, Location: d.opts.Location, WeekFields: d.opts.WeekFields, RandomString: string(rs), ErrorOutputType: errType}
	pfx := d.prefix
	if errType != "" {
		pfx = d.errPfx
	}
	key := pfx.Render(pv) + fmt.Sprintf("%s-%d-%s-", d.stream, d.opts.Version, b.oldest.In(d.opts.Location).Format("2006-01-02-15-04-05"))
	key = string(appendUUID([]byte(key), d.rnd))
	if d.opts.Compression == GZIP {
		key += ".gz"
	}
	return key
}

func (d *Delivery) flushLocked(ctx context.Context, b *buffer, errType string) error {
	if b.records == 0 {
		return nil
	}
	body := b.data.Bytes()
	if d.opts.Compression == GZIP {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		_, _ = zw.Write(body)
		if err := zw.Close(); err != nil {
			return err
		}
		body = z.Bytes()
	}
	key := d.objectKey(b, errType)
	in := &s3.PutObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(key), Body: bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body)))}
	if d.opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(d.opts.ExpectedBucketOwner)
	}
	if _, err := d.client.PutObject(ctx, in); err != nil {
		d.stats.Failures++
		return &DeliveryError{Key: key, Records: b.records, Err: err}
	}
	n := b.records
	d.stats.Objects++
	d.stats.Bytes += int64(len(body))
	b.data.Reset()
	b.records = 0
	d.opts.Logger.Debug("kda: delivered object", "stream", d.stream, "key", key, "records", n, "bytes", len(body))
	if d.opts.OnObject != nil {
		d.opts.OnObject(key, n)
	}
	return nil
}

// DeliveryError is a failed object write. The records stay buffered and
// are written by the next Put, Tick or Flush.
type DeliveryError struct {
	Key     string
	Records int
	Err     error
}

func (e *DeliveryError) Error() string {
	return fmt.Sprintf("kda: writing %d records to %s: %v", e.Records, e.Key, e.Err)
}

func (e *DeliveryError) Unwrap() error { return e.Err }
