package mlpipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/lakekit/lakekit/internal/awstest"
)

// localGlue is the Glue of the local run, served over Glue's real wire
// protocol so that the deployed crawler and job code paths run: crawlers
// move READY → RUNNING → STOPPING → READY, one step per GetCrawler, and end
// with LastCrawl SUCCEEDED (or the crawler's failWith); a job run executes a Go function (the local
// stand-in for the PySpark script) when first polled and ends SUCCEEDED or
// FAILED with its error.
type localGlue struct {
	mu       sync.Mutex
	crawlers map[string]*localCrawler
	jobs     map[string]func(ctx context.Context, args map[string]string) error
	runs     map[string]*localJobRun
	seq      int
}

type localCrawler struct {
	state, last string
	crawls      int
	failWith    string // the LastCrawl.Status of a failing crawl (tests); "" succeeds
}

type localJobRun struct {
	job, state, errMsg string
	args               map[string]string
}

func startLocalGlue(crawlers []string, jobs map[string]func(context.Context, map[string]string) error) (*awstest.WireServer, *localGlue) {
	g := &localGlue{crawlers: map[string]*localCrawler{}, jobs: jobs, runs: map[string]*localJobRun{}}
	for _, c := range crawlers {
		g.crawlers[c] = &localCrawler{state: "READY"}
	}
	w := awstest.StartWireServer("AWSGlue", "glue")
	w.HandleJSON("StartCrawler", g.startCrawler)
	w.HandleJSON("GetCrawler", g.getCrawler)
	w.HandleJSON("StartJobRun", g.startJobRun)
	w.HandleJSON("GetJobRun", g.getJobRun)
	return w, g
}

func notFound(what string) error {
	return &awstest.APIError{Code: "EntityNotFoundException", Message: what + " not found"}
}

func (g *localGlue) startCrawler(_ context.Context, body json.RawMessage) (any, error) {
	var in struct{ Name string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.crawlers[in.Name]
	if c == nil {
		return nil, notFound("Crawler " + in.Name)
	}
	if c.state != "READY" {
		return nil, &awstest.APIError{Code: "CrawlerRunningException", Message: "Crawler with name " + in.Name + " has already started"}
	}
	c.state = "RUNNING"
	c.crawls++
	return struct{}{}, nil
}

func (g *localGlue) getCrawler(_ context.Context, body json.RawMessage) (any, error) {
	var in struct{ Name string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	c := g.crawlers[in.Name]
	if c == nil {
		return nil, notFound("Crawler " + in.Name)
	}
	state := c.state
	switch c.state {
	case "RUNNING":
		c.state = "STOPPING"
	case "STOPPING":
		c.state, c.last = "READY", cmp.Or(c.failWith, "SUCCEEDED")
	}
	out := map[string]any{"Name": in.Name, "State": state, "DatabaseName": in.Name, "Version": c.crawls}
	if c.last != "" && state == "READY" {
		out["LastCrawl"] = map[string]any{"Status": c.last, "LogGroup": "/aws-glue/crawlers", "LogStream": in.Name}
	}
	return map[string]any{"Crawler": out}, nil
}

func (g *localGlue) startJobRun(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		JobName   string
		Arguments map[string]string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.jobs[in.JobName] == nil {
		return nil, notFound("Job " + in.JobName)
	}
	g.seq++
	id := fmt.Sprintf("jr_%064x", g.seq)
	g.runs[id] = &localJobRun{job: in.JobName, state: "STARTING", args: in.Arguments}
	return map[string]any{"JobRunId": id}, nil
}

func (g *localGlue) getJobRun(ctx context.Context, body json.RawMessage) (any, error) {
	var in struct{ JobName, RunId string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	g.mu.Lock()
	r := g.runs[in.RunId]
	if r == nil || r.job != in.JobName {
		g.mu.Unlock()
		return nil, notFound("Job run " + in.RunId)
	}
	state := r.state
	run := g.jobs[r.job]
	if state == "STARTING" {
		r.state = "RUNNING"
	}
	g.mu.Unlock()
	if state == "RUNNING" {
		// The job's work happens while it is RUNNING; the poll after it
		// sees the outcome.
		// A job run outlives the request that noticed it.
		err := run(context.WithoutCancel(ctx), r.args)
		g.mu.Lock()
		r.state = "SUCCEEDED"
		if err != nil {
			r.state, r.errMsg = "FAILED", err.Error()
		}
		g.mu.Unlock()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	out := map[string]any{"Id": in.RunId, "JobName": r.job, "JobRunState": state, "Arguments": r.args}
	if r.errMsg != "" && state == "FAILED" {
		out["ErrorMessage"] = r.errMsg
	}
	return map[string]any{"JobRun": out}, nil
}
