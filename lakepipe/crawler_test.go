package lakepipe

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakekit/lakekit/internal/awstest"
)

// fakeGlueCrawler holds crawlers the way Glue does: StartCrawler moves READY
// to RUNNING, each GetCrawler moves a running crawler one step on (RUNNING,
// STOPPING, READY) and READY then reports the crawl's outcome in LastCrawl.
type fakeGlueCrawler struct {
	mu       sync.Mutex
	state    map[string]string
	last     map[string]string // LastCrawl.Status
	outcome  map[string]string // the outcome of the next crawl; SUCCEEDED when unset
	runSteps int               // GetCrawler reads spent in RUNNING; 1 when zero
	seen     map[string][]string
	running  map[string]int
}

func fakeGlueCrawlerServe(t testing.TB, w *awstest.WireServer, names ...string) *fakeGlueCrawler {
	f := &fakeGlueCrawler{state: map[string]string{}, last: map[string]string{}, outcome: map[string]string{}, seen: map[string][]string{}, running: map[string]int{}}
	for _, n := range names {
		f.state[n] = "READY"
	}
	w.HandleJSON("StartCrawler", func(_ context.Context, body json.RawMessage) (any, error) {
		var in struct{ Name string }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		st, ok := f.state[in.Name]
		switch {
		case !ok:
			return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Crawler with name " + in.Name + " not found"}
		case st != "READY":
			return nil, &awstest.APIError{Code: "CrawlerRunningException", Message: "Crawler with name " + in.Name + " has already started"}
		}
		f.state[in.Name] = "RUNNING"
		f.running[in.Name] = 0
		return struct{}{}, nil
	})
	w.HandleJSON("GetCrawler", func(_ context.Context, body json.RawMessage) (any, error) {
		var in struct{ Name string }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		st, ok := f.state[in.Name]
		if !ok {
			return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Crawler with name " + in.Name + " not found"}
		}
		f.seen[in.Name] = append(f.seen[in.Name], st)
		switch st {
		case "RUNNING":
			f.running[in.Name]++
			if f.running[in.Name] >= max(f.runSteps, 1) {
				f.state[in.Name] = "STOPPING"
			}
		case "STOPPING":
			f.state[in.Name] = "READY"
			out := f.outcome[in.Name]
			if out == "" {
				out = "SUCCEEDED"
			}
			f.last[in.Name] = out
		}
		crawler := map[string]any{
			"Name": in.Name, "Role": "arn:aws:iam::123456789012:role/service-role/AWSGlueServiceRole-raw",
			"DatabaseName": "raw", "State": st, "Version": 3,
			"Targets": map[string]any{"S3Targets": []any{map[string]any{"Path": "s3://bucketname/data/raw/customers/"}}},
		}
		if l := f.last[in.Name]; l != "" && st == "READY" {
			lc := map[string]any{"Status": l, "LogGroup": "/aws-glue/crawlers", "LogStream": in.Name,
				"MessagePrefix": "0c3e5d2f-64d5-4b1b-9b62-4b3d6a0f0a1e", "StartTime": 1.566388800e9}
			if l == "FAILED" {
				lc["ErrorMessage"] = "Internal Service Exception"
			}
			crawler["LastCrawl"] = lc
		}
		return map[string]any{"Crawler": crawler}, nil
	})
	return f
}

// fakeGlueSleeper is a virtual clock: Sleep returns at once and adds up.
type fakeGlueSleeper struct {
	mu     sync.Mutex
	slept  time.Duration
	sleeps int
}

func (s *fakeGlueSleeper) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slept += d
	s.sleeps++
	return ctx.Err()
}

func TestCrawlerRun(t *testing.T) {
	ctx := context.Background()
	w := awstest.NewWireServer(t, "AWSGlue", "glue")
	f := fakeGlueCrawlerServe(t, w, "raw", "refined")
	f.outcome["refined"] = "FAILED"
	clock := &fakeGlueSleeper{}
	c := must(NewCrawlers(glue.NewFromConfig(w.Config), func(o *PollOptions) { o.Sleep = clock.sleep }))

	st, err := c.Run(ctx, "raw")
	if err != nil || !st.Done || st.State != "READY" || st.LastCrawl != "SUCCEEDED" {
		t.Fatalf("raw: %+v %v", st, err)
	}
	if want := []string{"RUNNING", "STOPPING", "READY"}; !slices.Equal(f.seen["raw"], want) {
		t.Fatalf("polled states %v, want %v", f.seen["raw"], want)
	}
	if clock.sleeps != 2 || clock.slept != 2*DefaultPollInterval {
		t.Fatalf("slept %d times, %s", clock.sleeps, clock.slept)
	}

	// A failed crawl ends READY too: it must be an error, not success.
	st, err = c.Run(ctx, "refined")
	var failed *CrawlerFailedError
	if !errors.As(err, &failed) || failed.Status != "FAILED" || failed.Message != "Internal Service Exception" || st.Done {
		t.Fatalf("refined: %+v %v", st, err)
	}

	var nf interface{ ErrorCode() string }
	if _, err := c.Start(ctx, "nope"); !errors.As(err, &nf) || nf.ErrorCode() != "EntityNotFoundException" {
		t.Fatalf("unknown crawler: %v", err)
	}
}

func TestCrawlerAlreadyRunning(t *testing.T) {
	ctx := context.Background()
	w := awstest.NewWireServer(t, "AWSGlue", "glue")
	f := fakeGlueCrawlerServe(t, w, "raw")
	f.runSteps = 3
	clock := &fakeGlueSleeper{}
	c := must(NewCrawlers(glue.NewFromConfig(w.Config), func(o *PollOptions) { o.Sleep = clock.sleep; o.PollInterval = 5 * time.Second }))
	if started, err := c.Start(ctx, "raw"); !started || err != nil {
		t.Fatalf("first start: %v %v", started, err)
	}
	// CrawlerRunningException: joins the running crawl.
	if started, err := c.Start(ctx, "raw"); started || err != nil {
		t.Fatalf("second start: %v %v", started, err)
	}
	st, err := c.Status(ctx, "raw")
	if err != nil || st.Done || st.State != "RUNNING" {
		t.Fatalf("status while running: %+v %v", st, err)
	}
	st, err = c.Wait(ctx, "raw")
	if err != nil || !st.Done {
		t.Fatalf("wait: %+v %v", st, err)
	}
	if got := w.Calls("StartCrawler"); got != 2 {
		t.Fatalf("StartCrawler calls %d", got)
	}
	if clock.slept != 3*5*time.Second { // RUNNING, RUNNING, STOPPING, then READY
		t.Fatalf("slept %s", clock.slept)
	}
	// A cancelled wait returns the context's error.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := c.Wait(cctx, "raw"); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
