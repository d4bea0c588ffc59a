package lakepipe

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
)

type pipelineRun struct {
	s3      *s3.Client
	bucket  string
	glue    *awstest.WireServer
	crawler *fakeGlueCrawler
	jobs    *fakeGlueJobs
	clock   *local.VirtualClock
	runner  *local.Runner
	landing Landing
}

// pipelineRunSetup wires the seed pipeline to the real steps: S3 on
// gofakes3, Glue crawlers and jobs on a wire-protocol server, the local
// runner on a virtual clock. land says whether the file is in landing.
func pipelineRunSetup(t *testing.T, land bool) *pipelineRun {
	t.Helper()
	c := awstest.S3(t)
	p := &pipelineRun{s3: c, bucket: landingBucket(t, c), glue: awstest.NewWireServer(t, "AWSGlue", "glue")}
	if land {
		landingPut(t, c, p.bucket, map[string]string{"data/landing/customers_20190821.csv": "email_id,units_purchased\na@example.com,3\n"})
	}
	p.crawler = fakeGlueCrawlerServe(t, p.glue, "raw", "refined")
	p.jobs = fakeGlueJobsServe(p.glue, "raw-refined")

	fns := SeedFunctions("us-west-2", "123456789012")
	def, err := SeedPipeline(PipelineConfig{Bucket: p.bucket, Functions: fns})
	if err != nil {
		t.Fatal(err)
	}
	p.clock = local.NewVirtualClock(time.Date(2019, 8, 21, 6, 0, 0, 0, time.UTC))
	p.runner, err = local.New(def, func(o *local.RunnerOptions) { o.Now, o.Sleep = p.clock.Now, p.clock.Sleep })
	if err != nil {
		t.Fatal(err)
	}
	gc := glue.NewFromConfig(p.glue.Config)
	onRunnerClock := func(o *PollOptions) { o.Sleep = local.Sleep }
	crawlers := NewCrawlers(gc, onRunnerClock)
	p.runner.Handle(fns.FileTransfer, local.Func(NewTransfers(c).Step))
	p.runner.Handle(fns.TransferStatus, local.Func(NewTransferVerifier(c, "").Check))
	p.runner.Handle(fns.CrawlerStart, local.Func(crawlers.StartStep))
	p.runner.Handle(fns.CrawlerStatus, local.Func(crawlers.StatusStep))
	p.runner.Handle(GlueStartJobRunSync, NewJobs(gc, onRunnerClock).SyncHandler())

	parser, _ := NewLandingParser()
	if p.landing, err = parser.ParseKey(p.bucket, "data/landing/customers_20190821.csv", "seq"); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pipelineRun) run(t *testing.T) *local.Execution {
	t.Helper()
	in, _ := json.Marshal(p.landing.Input())
	ex, err := p.runner.Run(context.Background(), p.landing.ExecutionName, in)
	if err != nil {
		t.Fatal(err)
	}
	return ex
}

func pipelineStates(ex *local.Execution) []string {
	var out []string
	for _, ev := range ex.History {
		if len(ev.Type) > len("StateEntered") && ev.Type[len(ev.Type)-len("StateEntered"):] == "StateEntered" {
			out = append(out, ev.State)
		}
	}
	return out
}

func TestPipelineRunSucceeds(t *testing.T) {
	p := pipelineRunSetup(t, true)
	ex := p.run(t)
	if ex.Status != local.StatusSucceeded {
		t.Fatalf("%s at %s: %s %s", ex.Status, ex.FailedState, ex.Error, ex.Cause)
	}
	want := []string{StateLandingToRaw, StateVerifyRaw,
		StateStartRawCrawler, StateWaitRawCrawler, StateRawCrawlerStatus, StateRawCrawlerDone,
		StateWaitRawCrawler, StateRawCrawlerStatus, StateRawCrawlerDone,
		StateWaitRawCrawler, StateRawCrawlerStatus, StateRawCrawlerDone,
		StateGlueJob,
		StateStartRefinedCrawler, StateWaitRefinedCrawler, StateRefinedCrawlerStatus, StateRefinedCrawlerDone,
		StateWaitRefinedCrawler, StateRefinedCrawlerStatus, StateRefinedCrawlerDone,
		StateWaitRefinedCrawler, StateRefinedCrawlerStatus, StateRefinedCrawlerDone,
		StateLandingToArchive, StateVerifyArchive, StateSucceeded}
	if got := pipelineStates(ex); !slices.Equal(got, want) {
		t.Fatalf("states\n%v\nwant\n%v", got, want)
	}
	// Six 30 s crawler waits and two 30 s job polls on the virtual clock.
	if got := ex.Stop.Sub(ex.Start); got != 8*30*time.Second {
		t.Fatalf("virtual duration %s", got)
	}
	var out struct {
		GlueJob struct{ JobRunID, JobRunState string } `json:"glue_job"`
		Archive TransferResult                         `json:"archive_transfer"`
	}
	if err := json.Unmarshal(ex.Output, &out); err != nil {
		t.Fatal(err)
	}
	run := p.jobs.runs[out.GlueJob.JobRunID]
	if out.GlueJob.JobRunState != "SUCCEEDED" || run == nil || run.args["--year"] != "2019" || run.args["--month"] != "08" ||
		run.args["--day"] != "21" || run.args["--dataset"] != "customers" || run.args["--refined_prefix"] != DefaultRefinedPrefix {
		t.Fatalf("glue job %+v, run %+v", out.GlueJob, run)
	}
	if !out.Archive.Deleted {
		t.Fatalf("archive %+v", out.Archive)
	}
	if _, ok := transferGet(t, p.s3, p.bucket, "data/archive/2019-08-21/customers_20190821.csv"); !ok {
		t.Fatal("not archived")
	}
	if _, ok := transferGet(t, p.s3, p.bucket, "data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv"); !ok {
		t.Fatal("not in raw")
	}
}

// TestPipelineRunCrawlerFails: the raw crawl ends FAILED (READY again, as
// Glue reports it); the execution fails in RawCrawlerFailed and the Glue
// job never starts. The seed's GetCrawlerMetrics check would have gone on.
func TestPipelineRunCrawlerFails(t *testing.T) {
	p := pipelineRunSetup(t, true)
	p.crawler.outcome["raw"] = "FAILED"
	ex := p.run(t)
	if ex.Status != local.StatusFailed || ex.FailedState != StateRawCrawlerFailed || ex.Error != StateRawCrawlerFailed {
		t.Fatalf("%s at %s: %s", ex.Status, ex.FailedState, ex.Error)
	}
	failed := ex.Events("TaskFailed")
	if len(failed) != 1 || failed[0].State != StateRawCrawlerStatus || failed[0].Error != ErrNameCrawlerFailed {
		t.Fatalf("task failures %+v", failed)
	}
	if n := p.glue.Calls("StartJobRun"); n != 0 {
		t.Fatalf("glue job started %d times", n)
	}
	var in struct{ Error struct{ Error, Cause string } }
	_ = json.Unmarshal(ex.Events("FailStateEntered")[0].Data, &in)
	if in.Error.Error != ErrNameCrawlerFailed {
		t.Fatalf("Fail state input %s", ex.Events("FailStateEntered")[0].Data)
	}
}

// TestPipelineRunFileNeverArrives: the verification retries
// TransferIncompleteError at 30, 60, 120, 240 and 480 s, then the
// execution fails in LandingToRawFailed.
func TestPipelineRunFileNeverArrives(t *testing.T) {
	p := pipelineRunSetup(t, false)
	ex := p.run(t)
	if ex.Status != local.StatusFailed || ex.FailedState != StateLandingToRawFailed {
		t.Fatalf("%s at %s: %s", ex.Status, ex.FailedState, ex.Error)
	}
	want := []time.Duration{30 * time.Second, 60 * time.Second, 120 * time.Second, 240 * time.Second, 480 * time.Second}
	if got := p.clock.Sleeps(); !slices.Equal(got, want) {
		t.Fatalf("retry intervals %v, want %v", got, want)
	}
	failed := ex.Events("TaskFailed")
	if len(failed) != 6 {
		t.Fatalf("%d failed attempts", len(failed))
	}
	for _, ev := range failed {
		if ev.State != StateVerifyRaw || ev.Error != ErrNameTransferIncomplete {
			t.Fatalf("failure %+v", ev)
		}
	}
	if n := p.glue.Calls("StartCrawler"); n != 0 {
		t.Fatalf("crawler started %d times", n)
	}
}

func TestPipelineRunGlueJobFails(t *testing.T) {
	p := pipelineRunSetup(t, true)
	p.jobs.outcome["raw-refined"] = "FAILED"
	ex := p.run(t)
	if ex.Status != local.StatusFailed || ex.FailedState != StateGlueJobFailed {
		t.Fatalf("%s at %s: %s", ex.Status, ex.FailedState, ex.Error)
	}
	failed := ex.Events("TaskFailed")
	if len(failed) != 1 || failed[0].State != StateGlueJob || failed[0].Error != "States.TaskFailed" {
		t.Fatalf("task failures %+v", failed)
	}
	var cause struct{ JobRunState, ErrorMessage string }
	if err := json.Unmarshal([]byte(failed[0].Cause), &cause); err != nil || cause.JobRunState != "FAILED" || cause.ErrorMessage == "" {
		t.Fatalf("cause %q", failed[0].Cause)
	}
	// The landing file stays for a re-run.
	if _, ok := transferGet(t, p.s3, p.bucket, "data/landing/customers_20190821.csv"); !ok {
		t.Fatal("landing file gone after a failed run")
	}
}
