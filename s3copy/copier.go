package s3copy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
	"github.com/lakekit/lakekit/internal/awserr"
	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// Copier copies S3 trees. Create it with New; it is safe for concurrent
// use, and its pacing and backoff are shared by every Copy running on it.
type Copier struct {
	client API
	opts   CopierOptions
	pacer  *pacer // connection faults: one backoff for every request
	// prefixes pace throttled prefixes (SlowDown) apart from the others.
	prefixes *prefixPacers

	mu    sync.Mutex
	total counters          // finished runs
	live  map[*run]struct{} // runs in progress
}

// New returns a Copier over client (an *s3.Client, or anything with the
// same methods). optFns adjust the defaults. It returns an *OptionError for
// an option it cannot honour: a negative count or duration, a
// MultipartThreshold above MaxCopyObjectSize, a PartSize outside
// MinPartSize..MaxPartSize, or MaxBackoff below MinBackoff.
func New(client API, optFns ...func(*CopierOptions)) (*Copier, error) {
	var o CopierOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	return &Copier{client: client, opts: o, pacer: newPacer(&o), prefixes: newPrefixPacers(&o), live: map[*run]struct{}{}}, nil
}

const copierOptions = "s3copy.CopierOptions"

// setDefaults checks o and fills its zero fields with the defaults.
func (o *CopierOptions) setDefaults() error {
	if err := errors.Join(
		opt.Min(copierOptions, "Concurrency", o.Concurrency, 0),
		opt.Min(copierOptions, "MaxConcurrency", o.MaxConcurrency, 0),
		opt.Min(copierOptions, "ListConcurrency", o.ListConcurrency, 0),
		opt.Range(copierOptions, "MultipartThreshold", o.MultipartThreshold, 0, MaxCopyObjectSize),
		opt.Min(copierOptions, "PartConcurrency", o.PartConcurrency, 0),
		opt.Min(copierOptions, "MaxAttempts", o.MaxAttempts, 0),
		opt.Min(copierOptions, "MinBackoff", o.MinBackoff, 0),
		opt.Min(copierOptions, "MaxBackoff", o.MaxBackoff, 0),
		opt.Min(copierOptions, "ProgressInterval", o.ProgressInterval, 0),
	); err != nil {
		return err
	}
	if o.PartSize != 0 {
		if err := opt.Range(copierOptions, "PartSize", o.PartSize, MinPartSize, MaxPartSize); err != nil {
			return err
		}
	}
	if o.Concurrency > 0 && o.MaxConcurrency > 0 {
		return &OptionError{Type: copierOptions, Field: "MaxConcurrency", Value: o.MaxConcurrency,
			Want: fmt.Sprintf("0 when Concurrency (%d) fixes the number", o.Concurrency)}
	}
	// Concurrency, ListConcurrency, ShardDepth and PartConcurrency stay
	// zero: adaptive (see the fields).
	o.MaxConcurrency = opt.Default(o.MaxConcurrency, DefaultMaxConcurrency)
	o.MultipartThreshold = opt.Default(o.MultipartThreshold, DefaultMultipartThreshold)
	o.PartSize = opt.Default(o.PartSize, DefaultPartSize)
	o.MaxAttempts = opt.Default(o.MaxAttempts, DefaultMaxAttempts)
	o.MinBackoff = opt.Default(o.MinBackoff, DefaultMinBackoff)
	o.MaxBackoff = opt.Default(o.MaxBackoff, DefaultMaxBackoff)
	if o.MaxBackoff < o.MinBackoff {
		return &OptionError{Type: copierOptions, Field: "MaxBackoff", Value: o.MaxBackoff, Want: fmt.Sprintf("at least MinBackoff (%v)", o.MinBackoff)}
	}
	o.ProgressInterval = opt.Default(o.ProgressInterval, DefaultProgressInterval)
	o.MaxConsecutiveFailures = opt.Default(o.MaxConsecutiveFailures, DefaultMaxConsecutiveFailures)
	o.Logger = opt.Logger(o.Logger)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
	}
	return nil
}

// OptionError is the error New returns for an options field it cannot
// honour (a negative count, a part size outside S3's limits, two fields that
// contradict each other). It names the options type, the field, the value
// and what is accepted; match it with errors.As.
type OptionError = opt.Error

// Stats returns the counters of every run on this Copier so far, the ones
// in progress included. Elapsed is the sum of the finished runs' durations
// plus the running ones' time so far.
func (c *Copier) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s counters
	s.add(&c.total)
	var elapsed time.Duration
	var conc, peak int
	for r := range c.live {
		s.add(&r.n)
		elapsed += c.opts.Now().Sub(r.start)
		conc += r.lim.current()
		peak += r.lim.peak()
	}
	st := s.snapshot()
	st.Concurrency, st.PeakConcurrency = conc, peak
	st.Elapsed += elapsed
	return st
}

// counters are a run's live statistics.
type counters struct {
	listed, copied, skipped, dryRun, deleted, failed, bytes               atomic.Int64
	bucket, list, copy, head, tagging, create, part, complete, abort, del atomic.Int64
	retries, throttles, faults                                            atomic.Int64
	elapsed                                                               atomic.Int64
}

func (c *counters) add(o *counters) {
	pairs := [][2]*atomic.Int64{
		{&c.listed, &o.listed}, {&c.copied, &o.copied}, {&c.skipped, &o.skipped}, {&c.dryRun, &o.dryRun},
		{&c.deleted, &o.deleted}, {&c.failed, &o.failed}, {&c.bytes, &o.bytes},
		{&c.bucket, &o.bucket}, {&c.list, &o.list}, {&c.copy, &o.copy}, {&c.head, &o.head}, {&c.tagging, &o.tagging},
		{&c.create, &o.create}, {&c.part, &o.part}, {&c.complete, &o.complete}, {&c.abort, &o.abort},
		{&c.del, &o.del}, {&c.retries, &o.retries}, {&c.throttles, &o.throttles}, {&c.faults, &o.faults},
		{&c.elapsed, &o.elapsed},
	}
	for _, p := range pairs {
		p[0].Add(p[1].Load())
	}
}

func (c *counters) snapshot() Stats {
	return Stats{
		Listed: c.listed.Load(), Copied: c.copied.Load(), Skipped: c.skipped.Load(), DryRun: c.dryRun.Load(),
		Deleted: c.deleted.Load(), Failed: c.failed.Load(), Bytes: c.bytes.Load(),
		Requests: Requests{
			Bucket: c.bucket.Load(), List: c.list.Load(), Copy: c.copy.Load(), Head: c.head.Load(), Tagging: c.tagging.Load(),
			CreateMultipart: c.create.Load(), UploadPartCopy: c.part.Load(), Complete: c.complete.Load(),
			Abort: c.abort.Load(), Delete: c.del.Load(),
		},
		Retries: c.retries.Load(), Throttles: c.throttles.Load(), Faults: c.faults.Load(),
		Elapsed: time.Duration(c.elapsed.Load()),
	}
}

// Object is one listed source object: what the copier needs to copy it
// without asking S3 again.
type Object struct {
	Key          string
	Size         int64
	ETag         string // as listed, quotes included
	StorageClass types.ObjectStorageClass
	LastModified time.Time
}

func objectFrom(o types.Object) Object {
	return Object{
		Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag),
		StorageClass: o.StorageClass, LastModified: aws.ToTime(o.LastModified),
	}
}

// task is one object for a worker; dst is set when the destination listing
// showed a (changed) object at the mapped key.
type task struct {
	src   Object
	dst   *Object
	check bool // sizes match but an ETag is multipart: compare checksums
}

// run is one Copy call.
type run struct {
	c        *Copier
	o        *CopierOptions
	src, dst Location
	n        counters
	start    time.Time
	sync     bool // the destination is listed alongside the source
	lim      *limiter
	tasks    chan task
	spawned  int // workers started, under lim.mu
	workers  sync.WaitGroup

	failMu sync.Mutex
	failed []ObjectResult

	manifestFails atomic.Int64 // failed Manifest.Record calls
	manifestErr   error        // the first, under failMu

	streak atomic.Int64              // objects failed in a row
	stop   atomic.Pointer[StopError] // set once: the run stops
}

// errStopped is what requests and sends get once the run has stopped; the
// objects it hits were not attempted and get no outcome.
var errStopped = errors.New("s3copy: run stopped")

// Copy copies every object under src to dst, mapping keys with
// CopierOptions.KeyMap. It first checks both buckets (HeadBucket: a missing or
// foreign bucket is a *BucketError before anything else is sent). It
// returns when every listed object has an outcome, or when ctx is done.
// Objects that fail are listed in Result.Failed and make the error a
// *CopyError; the run goes on past them, unless going on can only fail:
// then it stops with a *StopError (see CopierOptions.MaxConsecutiveFailures). A
// listing failure ends the run early with that error.
func (c *Copier) Copy(ctx context.Context, src, dst Location) (Result, error) {
	r, err := c.newRun(src, dst)
	if err != nil {
		return Result{}, err
	}
	defer c.endRun(r)
	if err := r.checkBuckets(ctx); err != nil {
		return r.result(ctx, err)
	}
	err = r.execute(ctx, func(ctx context.Context) error { return r.list(ctx) })
	return r.result(ctx, err)
}

// CopyObjects copies the given source objects (listed by the caller, e.g.
// a fan-out master) from src to dst, with the same options as Copy,
// bucket check included. Each object's key must start with src.Prefix.
// Skip-unchanged on a list of objects costs a HeadObject per object at the
// destination (there is no destination listing to compare with);
// DeleteRemoved is ignored.
func (c *Copier) CopyObjects(ctx context.Context, src, dst Location, objs []Object) (Result, error) {
	r, err := c.newRun(src, dst)
	if err != nil {
		return Result{}, err
	}
	r.sync = false
	defer c.endRun(r)
	if err := r.checkBuckets(ctx); err != nil {
		return r.result(ctx, err)
	}
	err = r.execute(ctx, func(ctx context.Context) error {
		for _, o := range objs {
			if !strings.HasPrefix(o.Key, src.Prefix) {
				r.fail(task{src: o}, "", "map", fmt.Errorf("key %q is not under %q", o.Key, src.Prefix), 0)
				continue
			}
			r.n.listed.Add(1)
			if err := r.send(ctx, task{src: o}); err != nil {
				return err
			}
		}
		return nil
	})
	return r.result(ctx, err)
}

func (c *Copier) newRun(src, dst Location) (*run, error) {
	if src.Bucket == "" || dst.Bucket == "" {
		return nil, errors.New("s3copy: empty bucket name")
	}
	if src.Bucket == dst.Bucket && (strings.HasPrefix(dst.Prefix, src.Prefix) || strings.HasPrefix(src.Prefix, dst.Prefix)) {
		return nil, fmt.Errorf("%w: %s and %s", ErrOverlap, src, dst)
	}
	if c.opts.DeleteRemoved && c.opts.KeyMap != nil {
		return nil, ErrDeleteNeedsPrefixMap
	}
	lim := newLimiter(c.opts.Concurrency, 0, false, c.opts.Now)
	if c.opts.Concurrency == 0 {
		lim = newLimiter(min(DefaultConcurrency, c.opts.MaxConcurrency), c.opts.MaxConcurrency, true, c.opts.Now)
	}
	r := &run{
		c: c, o: &c.opts, src: src, dst: dst, start: c.opts.Now(),
		sync:  c.opts.KeyMap == nil && (c.opts.SkipUnchanged || c.opts.DeleteRemoved),
		lim:   lim,
		tasks: make(chan task, lim.max()),
	}
	c.mu.Lock()
	c.live[r] = struct{}{}
	c.mu.Unlock()
	return r, nil
}

func (c *Copier) endRun(r *run) {
	c.mu.Lock()
	delete(c.live, r)
	c.total.add(&r.n)
	c.mu.Unlock()
}

// execute runs produce (which sends tasks) alongside the workers and the
// progress reporter, and waits for all of them.
//
// Requests use the caller's ctx as is: deriving a cancellable context here
// would make every request's own derived contexts register with one shared
// parent, a lock all the workers contend on.
func (r *run) execute(ctx context.Context, produce func(context.Context) error) error {
	// Workers are started up to the limit in force, and more as an
	// adaptive limit grows: each holds a task while it waits for a slot.
	r.lim.mu.Lock()
	r.lim.grow = func(n int) {
		for ; r.spawned < n; r.spawned++ {
			r.workers.Go(func() {
				for t := range r.tasks {
					if r.stop.Load() != nil {
						continue // drained: not attempted
					}
					r.lim.slots <- struct{}{}
					r.copyOne(ctx, t)
					r.lim.release()
				}
			})
		}
	}
	r.lim.grow(r.lim.limit)
	r.lim.mu.Unlock()
	progressDone := make(chan struct{})
	var progress sync.WaitGroup
	if r.o.Progress != nil {
		progress.Go(func() {
			tick := time.NewTicker(r.o.ProgressInterval)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
					if s := r.stats(); s.Listed > 0 || s.outcomes() > 0 {
						r.o.Progress(s)
					}
				case <-progressDone:
					return
				}
			}
		})
	}
	err := produce(ctx)
	if errors.Is(err, errStopped) {
		err = nil // the StopError says why
	}
	close(r.tasks)
	r.workers.Wait()
	close(progressDone)
	progress.Wait()
	r.n.elapsed.Store(int64(r.o.Now().Sub(r.start)))
	if r.o.Manifest != nil {
		fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), AbortTimeout)
		if ferr := r.o.Manifest.Flush(fctx); ferr != nil {
			err = errors.Join(err, fmt.Errorf("s3copy: flush manifest: %w", ferr))
		}
		fcancel()
		if n := r.manifestFails.Load(); n > 0 {
			r.failMu.Lock()
			merr := r.manifestErr
			r.failMu.Unlock()
			err = errors.Join(err, fmt.Errorf("s3copy: manifest: %d record(s) failed (a rerun copies those objects again); first: %w", n, merr))
		}
	}
	if st := r.stop.Load(); st != nil {
		if err == nil {
			err = st
		} else {
			err = errors.Join(st, err)
		}
	}
	// A failed run with nothing done reports no progress: zeros would read
	// as a finished run with nothing to copy.
	if s := r.stats(); r.o.Progress != nil && (err == nil || s.outcomes() > 0) {
		r.o.Progress(s)
	}
	return err
}

// outcomes is the number of objects whose outcome is known.
func (s Stats) outcomes() int64 { return s.Copied + s.Skipped + s.DryRun + s.Deleted + s.Failed }

func (r *run) stats() Stats {
	s := r.n.snapshot()
	s.Concurrency, s.PeakConcurrency = r.lim.current(), r.lim.peak()
	if s.Elapsed == 0 {
		s.Elapsed = r.o.Now().Sub(r.start)
	}
	return s
}

func (r *run) result(ctx context.Context, err error) (Result, error) {
	r.failMu.Lock()
	res := Result{Stats: r.stats(), Failed: r.failed}
	r.failMu.Unlock()
	if err == nil {
		err = ctx.Err()
	}
	// Failed objects make a *CopyError even when the run also ended with
	// another error (a listing failure, ctx's end, a manifest failure); a
	// StopError already says they failed.
	if len(res.Failed) > 0 && r.stop.Load() == nil {
		ce := &CopyError{Failed: int64(len(res.Failed)), First: res.Failed[0].Err}
		if err == nil {
			err = ce
		} else {
			err = errors.Join(err, ce)
		}
	}
	return res, err
}

// report counts an outcome and hands it to OnObject.
func (r *run) report(res ObjectResult) {
	switch res.Action {
	case ActionCopied:
		r.n.copied.Add(1)
		r.n.bytes.Add(res.Size)
	case ActionSkipped:
		r.n.skipped.Add(1)
	case ActionDryRun:
		r.n.dryRun.Add(1)
	case ActionDeleted:
		r.n.deleted.Add(1)
	case ActionFailed:
		r.n.failed.Add(1)
		r.failMu.Lock()
		r.failed = append(r.failed, res)
		r.failMu.Unlock()
		r.o.Logger.Warn("s3copy: object failed", "err", res.Err)
		r.failedInARow(res)
	}
	if res.Action != ActionFailed && r.streak.Load() != 0 {
		r.streak.Store(0)
	}
	if r.o.OnObject != nil {
		r.o.OnObject(res)
	}
}

func (r *run) fail(t task, dstKey, op string, err error, attempts int) {
	if errors.Is(err, errStopped) {
		return // not attempted: the run stopped
	}
	oe := &ObjectError{SrcKey: t.src.Key, DstKey: dstKey, Op: op, Err: err}
	var upload *uploadError
	if errors.As(err, &upload) {
		oe.UploadID = upload.id
		oe.Op = upload.op
		oe.Err = upload.err
	}
	r.report(ObjectResult{SrcKey: t.src.Key, DstKey: dstKey, Size: t.src.Size, Action: ActionFailed,
		Multipart: t.src.Size >= r.o.MultipartThreshold, Attempts: attempts, Err: oe})
}

// failedInARow counts a failed object towards the run's stop: at once for
// an error no object can escape, after MaxConsecutiveFailures otherwise.
// Key-mapping failures sent no request and failures caused by ctx's end
// are not the objects' fault; neither counts.
func (r *run) failedInARow(res ObjectResult) {
	var oe *ObjectError
	if errors.As(res.Err, &oe) && oe.Op == "map" ||
		errors.Is(res.Err, context.Canceled) || errors.Is(res.Err, context.DeadlineExceeded) {
		return
	}
	n := r.streak.Add(1)
	code := awserr.Code(res.Err)
	fatal := awserr.Fatal(res.Err)
	if !fatal && (r.o.MaxConsecutiveFailures < 0 || n < int64(r.o.MaxConsecutiveFailures)) {
		return
	}
	if r.stop.CompareAndSwap(nil, &StopError{Consecutive: int(n), Code: code, Fatal: fatal, Err: res.Err}) {
		r.o.Logger.Warn("s3copy: run stopped", "consecutive_failures", n, "code", code)
	}
}

// mapKey maps a source key and rejects destination keys that escape.
func (r *run) mapKey(srcKey string) (string, error) {
	var dstKey string
	var err error
	if r.o.KeyMap == nil {
		dstKey, err = PrefixMap(r.src, r.dst, srcKey)
	} else {
		dstKey, err = r.o.KeyMap(r.src, r.dst, srcKey)
	}
	if err != nil {
		return "", err
	}
	if err := CheckKey(r.dst.Prefix, dstKey); err != nil {
		return "", err
	}
	return dstKey, nil
}

// do sends one request with the per-prefix pacing, the shared backoff and
// per-request retries. pace is the prefix the request is paced by
// (paceKey of the key it reads or writes); count is the request counter of
// the operation. Once the run has stopped it sends nothing and returns
// errStopped.
func (r *run) do(ctx context.Context, pace string, count *atomic.Int64, f func(context.Context) error) (int, error) {
	return r.attempt(ctx, pace, count, f, true)
}

// attempt is do; with honourStop false it sends even on a stopped run
// (aborting a multipart upload must not be skipped).
func (r *run) attempt(ctx context.Context, pace string, count *atomic.Int64, f func(context.Context) error, honourStop bool) (int, error) {
	throttled := 0 // attempts answered with a throttle
	for attempt := 1; ; attempt++ {
		if honourStop && r.stop.Load() != nil {
			return attempt - 1, errStopped
		}
		if err := r.c.pacer.wait(ctx); err != nil {
			return attempt - 1, err
		}
		ps, err := r.c.prefixes.start(ctx, pace)
		if err != nil {
			return attempt - 1, err
		}
		count.Add(1)
		sent := r.o.Now()
		err = f(ctx)
		class := classify(err)
		took := r.o.Now().Sub(sent)
		r.c.prefixes.done(pace, ps, err != nil && class == errThrottle, took)
		if err == nil {
			r.lim.observe(took)
			r.c.pacer.success()
			return attempt, nil
		}
		if class == errThrottle {
			throttled++
			r.lim.throttle()
		}
		if class == errFatal || ctx.Err() != nil || attempt-throttled >= r.o.MaxAttempts ||
			throttled >= ThrottledAttemptsPerAttempt*r.o.MaxAttempts {
			return attempt, err
		}
		if class == errThrottle {
			r.n.throttles.Add(1)
			// The retry waits its own jittered backoff, based on the
			// throttled request's latency, on top of its prefix's pacing.
			if err := r.o.Sleep(ctx, backoff.FullJitter(throttled, max(r.o.MinBackoff, took), r.o.MaxBackoff)); err != nil {
				return attempt, err
			}
		} else {
			r.n.faults.Add(1)
			r.c.pacer.backoff()
		}
		r.n.retries.Add(1)
		r.o.Logger.Debug("s3copy: retrying", "attempt", attempt, "err", err)
	}
}

// noRetry turns the SDK's retryer off for the copier's requests (retries
// live in run.do, behind the shared pacer) and drops the invocation-id
// header, a random UUID per request that only serves the SDK's own retry
// bookkeeping, which is off. Signing, the user agent, clock-skew
// correction, Lambda's X-Ray trace propagation (recursion detection) and
// S3's 200-with-error handling are kept.
func noRetry(o *s3.Options) {
	o.Retryer = aws.NopRetryer{}
	o.APIOptions = append(o.APIOptions[:len(o.APIOptions):len(o.APIOptions)], leanStack)
}

// leanStack removes the middleware noRetry names from a request's stack.
func leanStack(s *middleware.Stack) error {
	_, _ = s.Build.Remove(idClientRequestID) // TestSDKMiddlewareIDs: found
	return nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
