package mlpipeline

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
	"github.com/lakekit/lakekit/lakepipe/gluetest"
)

const runLanded = "data/landing/customers_20190821.csv"

type pipelineRun struct {
	s3      *s3.Client
	bucket  string
	glue    *gluetest.Server
	clock   *local.VirtualClock
	runner  *local.Runner
	landing lakepipe.Landing

	mu      sync.Mutex
	jobArgs []map[string]string // the Glue job runs' arguments
	jobErr  error               // what the Glue job stand-in returns
}

// pipelineRunSetup wires the pipeline to the deployed steps: S3 on
// gofakes3, Glue crawlers and jobs on the local wire-protocol Glue, the
// local runner on a virtual clock. land says whether the file is in
// landing.
func pipelineRunSetup(t *testing.T, land bool) *pipelineRun {
	t.Helper()
	ctx := context.Background()
	c := awstest.S3(t)
	p := &pipelineRun{s3: c, bucket: awstest.Name(t, "lake")}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &p.bucket}); err != nil {
		t.Fatal(err)
	}
	if land {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &p.bucket, Key: aws.String(runLanded),
			Body: strings.NewReader("email_id,units_purchased\na@example.com,3\n")}); err != nil {
			t.Fatal(err)
		}
	}
	p.glue = startLocalGlue(map[string]gluetest.JobFunc{
		DefaultJobName: func(_ context.Context, args map[string]string) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.jobArgs = append(p.jobArgs, args)
			return p.jobErr
		},
	})
	t.Cleanup(func() { _ = p.glue.Close() })
	var err error
	if p.runner, p.clock, err = newLocalRunner(p.bucket, c, glue.NewFromConfig(p.glue.Config)); err != nil {
		t.Fatal(err)
	}
	parser, _ := lakepipe.NewLandingParser()
	if p.landing, err = parser.ParseKey(p.bucket, runLanded, "seq"); err != nil {
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

func (p *pipelineRun) exists(t *testing.T, key string) bool {
	t.Helper()
	_, err := p.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &p.bucket, Key: &key})
	return err == nil
}

func pipelineStates(ex *local.Execution) []string {
	var out []string
	for _, ev := range ex.History {
		if strings.HasSuffix(ev.Type, "StateEntered") {
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
		Archive lakepipe.TransferResult                `json:"archive_transfer"`
	}
	if err := json.Unmarshal(ex.Output, &out); err != nil {
		t.Fatal(err)
	}
	if out.GlueJob.JobRunState != "SUCCEEDED" || len(p.jobArgs) != 1 {
		t.Fatalf("glue job %+v, %d runs", out.GlueJob, len(p.jobArgs))
	}
	if args := p.jobArgs[0]; args["--year"] != "2019" || args["--month"] != "08" || args["--day"] != "21" ||
		args["--dataset"] != "customers" || args["--refined_prefix"] != DefaultRefinedPrefix {
		t.Fatalf("glue job arguments %v", args)
	}
	if !out.Archive.Deleted {
		t.Fatalf("archive %+v", out.Archive)
	}
	if !p.exists(t, "data/archive/2019-08-21/customers_20190821.csv") {
		t.Fatal("not archived")
	}
	if !p.exists(t, "data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv") {
		t.Fatal("not in raw")
	}
}

// TestPipelineRunCrawlerFails: the raw crawl ends FAILED (READY again, as
// Glue reports it); the execution fails in RawCrawlerFailed and the Glue
// job never starts. The seed's GetCrawlerMetrics check would have gone on.
func TestPipelineRunCrawlerFails(t *testing.T) {
	p := pipelineRunSetup(t, true)
	p.glue.SetCrawlResult(DefaultRawCrawler, "FAILED")
	ex := p.run(t)
	if ex.Status != local.StatusFailed || ex.FailedState != StateRawCrawlerFailed || ex.Error != StateRawCrawlerFailed {
		t.Fatalf("%s at %s: %s", ex.Status, ex.FailedState, ex.Error)
	}
	failed := ex.Events("TaskFailed")
	if len(failed) != 1 || failed[0].State != StateRawCrawlerStatus || failed[0].Error != lakepipe.ErrNameCrawlerFailed {
		t.Fatalf("task failures %+v", failed)
	}
	if n := p.glue.Calls("StartJobRun"); n != 0 {
		t.Fatalf("glue job started %d times", n)
	}
	var in struct{ Error struct{ Error, Cause string } }
	_ = json.Unmarshal(ex.Events("FailStateEntered")[0].Data, &in)
	if in.Error.Error != lakepipe.ErrNameCrawlerFailed {
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
		if ev.State != StateVerifyRaw || ev.Error != lakepipe.ErrNameTransferIncomplete {
			t.Fatalf("failure %+v", ev)
		}
	}
	if n := p.glue.Calls("StartCrawler"); n != 0 {
		t.Fatalf("crawler started %d times", n)
	}
}

func TestPipelineRunGlueJobFails(t *testing.T) {
	p := pipelineRunSetup(t, true)
	p.jobErr = errors.New("AnalysisException: path does not exist")
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
	if !p.exists(t, runLanded) {
		t.Fatal("landing file gone after a failed run")
	}
}
