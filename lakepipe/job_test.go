package lakepipe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakekit/lakekit/internal/awstest"
)

// fakeGlueJobs runs Glue jobs the way GetJobRun reports them: a run goes
// STARTING → RUNNING → its outcome, one step per GetJobRun.
type fakeGlueJobs struct {
	mu      sync.Mutex
	outcome map[string]string // job → terminal state; SUCCEEDED when unset
	runs    map[string]*fakeGlueJobRun
	seq     int
}

type fakeGlueJobRun struct {
	job, state string
	args       map[string]string
}

func fakeGlueJobsServe(w *awstest.WireServer, jobs ...string) *fakeGlueJobs {
	f := &fakeGlueJobs{outcome: map[string]string{}, runs: map[string]*fakeGlueJobRun{}}
	known := map[string]bool{}
	for _, j := range jobs {
		known[j] = true
	}
	w.HandleJSON("StartJobRun", func(_ context.Context, body json.RawMessage) (any, error) {
		var in struct {
			JobName   string
			Arguments map[string]string
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		if !known[in.JobName] {
			return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Job " + in.JobName + " not found"}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		f.seq++
		id := fmt.Sprintf("jr_%064x", f.seq)
		f.runs[id] = &fakeGlueJobRun{job: in.JobName, state: "STARTING", args: in.Arguments}
		return map[string]any{"JobRunId": id}, nil
	})
	w.HandleJSON("GetJobRun", func(_ context.Context, body json.RawMessage) (any, error) {
		var in struct{ JobName, RunId string }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		r := f.runs[in.RunId]
		if r == nil || r.job != in.JobName {
			return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Job run " + in.RunId + " not found"}
		}
		state := r.state
		switch r.state {
		case "STARTING":
			r.state = "RUNNING"
		case "RUNNING":
			r.state = f.outcome[r.job]
			if r.state == "" {
				r.state = "SUCCEEDED"
			}
		}
		run := map[string]any{"Id": in.RunId, "JobName": r.job, "JobRunState": state, "Arguments": r.args,
			"StartedOn": 1.566388800e9, "Attempt": 0, "GlueVersion": "4.0"}
		if state == "FAILED" {
			run["ErrorMessage"] = "AnalysisException: Path does not exist"
		}
		return map[string]any{"JobRun": run}, nil
	})
	return f
}

func TestJobRun(t *testing.T) {
	ctx := context.Background()
	w := awstest.NewWireServer(t, "AWSGlue", "glue")
	f := fakeGlueJobsServe(w, "raw-refined", "broken")
	f.outcome["broken"] = "FAILED"
	clock := &fakeGlueSleeper{}
	j := must(NewJobs(glue.NewFromConfig(w.Config), func(o *PollOptions) { o.Sleep = clock.sleep }))

	args := PartitionArgs(time.Date(2019, 8, 21, 0, 0, 0, 0, time.UTC), map[string]string{"--refined_prefix": "data/refined"})
	st, err := j.Run(ctx, "raw-refined", args)
	if err != nil || !st.Done || st.State != "SUCCEEDED" {
		t.Fatalf("run: %+v %v", st, err)
	}
	want := map[string]string{"--year": "2019", "--month": "08", "--day": "21", "--refined_prefix": "data/refined"}
	if got := f.runs[st.RunID].args; !maps.Equal(got, want) {
		t.Fatalf("arguments %v", got)
	}
	if clock.sleeps != 2 {
		t.Fatalf("polled with %d sleeps", clock.sleeps)
	}

	st, err = j.Run(ctx, "broken", nil)
	var failed *JobRunFailedError
	if !errors.As(err, &failed) || failed.State != "FAILED" || failed.RunID != st.RunID || failed.Message == "" {
		t.Fatalf("broken: %+v %v", st, err)
	}
	if _, err := j.Run(ctx, "nope", nil); err == nil || errors.As(err, &failed) {
		t.Fatalf("unknown job: %v", err)
	}
}
