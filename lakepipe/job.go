package lakepipe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/lakepipe/asl/local"
)

// GlueStartJobRunSync is the Step Functions Glue service integration that
// starts a job run and waits for it to end: the resource a
// [Jobs.SyncHandler] is registered for in the local runner.
const GlueStartJobRunSync = "arn:aws:states:::glue:startJobRun.sync"

// JobAPI is the Glue calls of job control: *glue.Client satisfies it.
type JobAPI interface {
	StartJobRun(ctx context.Context, in *glue.StartJobRunInput, optFns ...func(*glue.Options)) (*glue.StartJobRunOutput, error)
	GetJobRun(ctx context.Context, in *glue.GetJobRunInput, optFns ...func(*glue.Options)) (*glue.GetJobRunOutput, error)
}

// Jobs starts Glue job runs and waits for them. It is safe for concurrent
// use.
type Jobs struct {
	api  JobAPI
	opts PollOptions
}

// NewJobs returns job control over a Glue client. An invalid option is an
// *OptionError.
func NewJobs(api JobAPI, optFns ...func(*PollOptions)) (*Jobs, error) {
	o, err := pollOptions(optFns)
	if err != nil {
		return nil, err
	}
	return &Jobs{api: api, opts: o}, nil
}

// JobRunStatus is one read of a job run.
type JobRunStatus struct {
	Job   string `json:"job"`
	RunID string `json:"run_id"`
	// State is a Glue JobRunState: STARTING, RUNNING, STOPPING, WAITING,
	// SUCCEEDED, FAILED, STOPPED, TIMEOUT, ERROR or EXPIRED.
	State string `json:"state"`
	// Done is true when the run SUCCEEDED.
	Done bool `json:"done"`
}

// PartitionArgs returns the job arguments of a processing date, as the
// seed's job reads them (--year 2019 --month 08 --day 21), merged with
// extra.
func PartitionArgs(date time.Time, extra map[string]string) map[string]string {
	args := map[string]string{"--year": date.Format("2006"), "--month": date.Format("01"), "--day": date.Format("02")}
	maps.Copy(args, extra)
	return args
}

// Start starts a run of the job with the arguments and returns its id.
func (j *Jobs) Start(ctx context.Context, job string, args map[string]string) (string, error) {
	out, err := j.api.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String(job), Arguments: args})
	if err != nil {
		return "", fmt.Errorf("lakepipe: start job %s: %w", job, err)
	}
	return aws.ToString(out.JobRunId), nil
}

// Status reads the run once. A run in a terminal state other than
// SUCCEEDED yields its status and a *JobRunFailedError.
func (j *Jobs) Status(ctx context.Context, job, runID string) (JobRunStatus, error) {
	out, err := j.api.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String(job), RunId: aws.String(runID)})
	if err != nil {
		return JobRunStatus{}, fmt.Errorf("lakepipe: get job run %s/%s: %w", job, runID, err)
	}
	if out.JobRun == nil {
		return JobRunStatus{}, fmt.Errorf("lakepipe: get job run %s/%s: empty answer", job, runID)
	}
	st := JobRunStatus{Job: job, RunID: runID, State: string(out.JobRun.JobRunState)}
	switch out.JobRun.JobRunState {
	case gluetypes.JobRunStateSucceeded:
		st.Done = true
	case gluetypes.JobRunStateFailed, gluetypes.JobRunStateStopped, gluetypes.JobRunStateTimeout,
		gluetypes.JobRunStateError, gluetypes.JobRunStateExpired:
		return st, &JobRunFailedError{Job: job, RunID: runID, State: st.State, Message: aws.ToString(out.JobRun.ErrorMessage)}
	}
	return st, nil
}

// Wait polls the run until it reaches a terminal state.
func (j *Jobs) Wait(ctx context.Context, job, runID string) (JobRunStatus, error) {
	return poll(ctx, j.opts, func() (JobRunStatus, bool, error) {
		st, err := j.Status(ctx, job, runID)
		j.opts.Logger.DebugContext(ctx, "job run polled", "job", job, "run", runID, "state", st.State)
		return st, st.Done, err
	})
}

// Run starts the job and waits for the run to end, as the
// glue:startJobRun.sync integration does.
func (j *Jobs) Run(ctx context.Context, job string, args map[string]string) (JobRunStatus, error) {
	id, err := j.Start(ctx, job, args)
	if err != nil {
		return JobRunStatus{}, err
	}
	return j.Wait(ctx, job, id)
}

// SyncHandler returns a handler for the local runner that does what the
// glue:startJobRun.sync integration does: it takes {"JobName",
// "Arguments"}, starts the run, polls it to its end (on the runner's
// clock), and returns the JobRun ({"Id", "JobName", "JobRunState",
// "Arguments"}). A run that does not succeed fails the task with
// States.TaskFailed and the run as the cause; a Glue error with code C is
// "Glue.C", as Step Functions names service integration errors.
func (j *Jobs) SyncHandler() local.Handler {
	return func(ctx context.Context, input json.RawMessage) (json.RawMessage, error) {
		var in struct {
			JobName   string
			Arguments map[string]string
		}
		if err := json.Unmarshal(input, &in); err != nil || in.JobName == "" {
			return nil, &local.TaskError{Name: "States.Runtime", Cause: fmt.Sprintf("glue:startJobRun.sync input %s: no JobName", input)}
		}
		st, err := j.Run(ctx, in.JobName, in.Arguments)
		run := map[string]any{"Id": st.RunID, "JobName": in.JobName, "JobRunState": st.State, "Arguments": in.Arguments}
		var failed *JobRunFailedError
		var apiErr smithy.APIError
		switch {
		case errors.As(err, &failed):
			run["ErrorMessage"] = failed.Message
			cause, _ := json.Marshal(run)
			return nil, &local.TaskError{Name: "States.TaskFailed", Cause: string(cause)}
		case errors.As(err, &apiErr):
			return nil, &local.TaskError{Name: "Glue." + apiErr.ErrorCode(), Cause: apiErr.ErrorMessage()}
		case err != nil:
			return nil, err
		}
		return json.Marshal(run)
	}
}
