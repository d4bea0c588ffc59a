package lakepipe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// DefaultPollInterval is how often crawler and job runs are polled, as in
// the seed's 30 s retry interval.
const DefaultPollInterval = 30 * time.Second

// StartCrawlerAPI and GetCrawlerAPI are the Glue calls of crawler control.
type StartCrawlerAPI interface {
	StartCrawler(ctx context.Context, in *glue.StartCrawlerInput, optFns ...func(*glue.Options)) (*glue.StartCrawlerOutput, error)
}

// GetCrawlerAPI reads a crawler's State and LastCrawl.
type GetCrawlerAPI interface {
	GetCrawler(ctx context.Context, in *glue.GetCrawlerInput, optFns ...func(*glue.Options)) (*glue.GetCrawlerOutput, error)
}

// CrawlerAPI is both: *glue.Client satisfies it.
type CrawlerAPI interface {
	StartCrawlerAPI
	GetCrawlerAPI
}

// PollOptions configures crawler and job polling (NewCrawlers, NewJobs).
type PollOptions struct {
	// PollInterval is the time between status reads. Default
	// DefaultPollInterval; a negative one is an *OptionError.
	PollInterval time.Duration
	// Sleep waits d or until ctx ends, returning ctx.Err(). Default a real
	// timer. Handlers run by the local ASL runner pass local.Sleep, so
	// that polling runs on the runner's (virtual) clock.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one debug line per poll. Default: silent.
	Logger *slog.Logger
}

func pollOptions(optFns []func(*PollOptions)) (PollOptions, error) {
	var o PollOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if err := opt.Min("lakepipe.PollOptions", "PollInterval", o.PollInterval, 0); err != nil {
		return o, err
	}
	o.PollInterval = opt.Default(o.PollInterval, DefaultPollInterval)
	if o.Sleep == nil {
		o.Sleep = backoff.Sleep
	}
	o.Logger = opt.Logger(o.Logger)
	return o, nil
}

// Crawlers starts and watches Glue crawlers. It is safe for concurrent use.
type Crawlers struct {
	api  CrawlerAPI
	opts PollOptions
}

// NewCrawlers returns crawler control over a Glue client. An invalid
// option is an *OptionError.
func NewCrawlers(api CrawlerAPI, optFns ...func(*PollOptions)) (*Crawlers, error) {
	o, err := pollOptions(optFns)
	if err != nil {
		return nil, err
	}
	return &Crawlers{api: api, opts: o}, nil
}

// CrawlStatus is a crawler's state as GetCrawler reports it.
type CrawlStatus struct {
	Crawler string `json:"crawler"`
	// State is RUNNING, STOPPING or READY.
	State string `json:"state"`
	// LastCrawl is SUCCEEDED, FAILED or CANCELLED ("" before any crawl).
	LastCrawl string `json:"last_crawl"`
	// Done is true when the crawler is READY and its last crawl succeeded.
	Done bool `json:"done"`
}

// Start starts the crawler. A crawler that is already running is not an
// error (Glue answers CrawlerRunningException): started is false then, and
// the caller waits for that crawl like for its own.
func (c *Crawlers) Start(ctx context.Context, name string) (started bool, err error) {
	_, err = c.api.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String(name)})
	var running *gluetypes.CrawlerRunningException
	if errors.As(err, &running) {
		c.opts.Logger.DebugContext(ctx, "crawler already running", "crawler", name)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("lakepipe: start crawler %s: %w", name, err)
	}
	return true, nil
}

// Status reads the crawler once. A crawler that is READY after a crawl
// that did not succeed yields its status and a *CrawlerFailedError.
func (c *Crawlers) Status(ctx context.Context, name string) (CrawlStatus, error) {
	out, err := c.api.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String(name)})
	if err != nil {
		return CrawlStatus{}, fmt.Errorf("lakepipe: get crawler %s: %w", name, err)
	}
	if out.Crawler == nil {
		return CrawlStatus{}, fmt.Errorf("lakepipe: get crawler %s: empty answer", name)
	}
	st := CrawlStatus{Crawler: name, State: string(out.Crawler.State)}
	var msg string
	if lc := out.Crawler.LastCrawl; lc != nil {
		st.LastCrawl = string(lc.Status)
		msg = aws.ToString(lc.ErrorMessage)
	}
	if out.Crawler.State != gluetypes.CrawlerStateReady {
		return st, nil
	}
	switch gluetypes.LastCrawlStatus(st.LastCrawl) {
	case gluetypes.LastCrawlStatusSucceeded:
		st.Done = true
		return st, nil
	case gluetypes.LastCrawlStatusFailed, gluetypes.LastCrawlStatusCancelled:
		return st, &CrawlerFailedError{Crawler: name, Status: st.LastCrawl, Message: msg}
	default:
		// READY with no crawl on record: it never ran.
		return st, &CrawlerFailedError{Crawler: name, Status: "NONE", Message: "crawler is READY and has no last crawl"}
	}
}

// Wait polls the crawler until it is READY: nil when its last crawl
// succeeded, a *CrawlerFailedError when it failed or was cancelled, or the
// context's error.
func (c *Crawlers) Wait(ctx context.Context, name string) (CrawlStatus, error) {
	return poll(ctx, c.opts, func() (CrawlStatus, bool, error) {
		st, err := c.Status(ctx, name)
		c.opts.Logger.DebugContext(ctx, "crawler polled", "crawler", name, "state", st.State, "last_crawl", st.LastCrawl)
		return st, st.Done, err
	})
}

// poll calls read until it reports done or an error, sleeping
// PollInterval between calls; it returns the last status read.
func poll[T any](ctx context.Context, o PollOptions, read func() (T, bool, error)) (T, error) {
	for {
		st, done, err := read()
		if err != nil || done {
			return st, err
		}
		if err := o.Sleep(ctx, o.PollInterval); err != nil {
			return st, err
		}
	}
}

// Run starts the crawler (or joins its running crawl) and waits for it.
func (c *Crawlers) Run(ctx context.Context, name string) (CrawlStatus, error) {
	if _, err := c.Start(ctx, name); err != nil {
		return CrawlStatus{}, err
	}
	return c.Wait(ctx, name)
}

// CrawlerRequest is the input of the crawler steps.
type CrawlerRequest struct {
	Crawler string `json:"crawler"`
}

// StartStep is the crawler-start Lambda handler: it starts the crawler
// (joining a running crawl) and returns at once; the state machine polls
// with StatusStep from a Wait/Choice loop, so no Lambda runs while the
// crawler does.
func (c *Crawlers) StartStep(ctx context.Context, req CrawlerRequest) (CrawlStatus, error) {
	if req.Crawler == "" {
		return CrawlStatus{}, errors.New("lakepipe: crawler step: no crawler name")
	}
	started, err := c.Start(ctx, req.Crawler)
	if err != nil {
		return CrawlStatus{}, err
	}
	st := CrawlStatus{Crawler: req.Crawler, State: string(gluetypes.CrawlerStateRunning)}
	c.opts.Logger.InfoContext(ctx, "crawler started", "crawler", req.Crawler, "joined_running", !started)
	return st, nil
}

// StatusStep is the crawler-status Lambda handler: one GetCrawler read.
// Done tells the state machine's Choice to move on; a failed or cancelled
// crawl is a *CrawlerFailedError (unwrapped, for the Catch to see its
// name), which the seed's GetCrawlerMetrics check took for success.
func (c *Crawlers) StatusStep(ctx context.Context, req CrawlerRequest) (CrawlStatus, error) {
	if req.Crawler == "" {
		return CrawlStatus{}, errors.New("lakepipe: crawler step: no crawler name")
	}
	return c.Status(ctx, req.Crawler)
}
