package lakepipe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/lakekit/lakekit/internal/opt"
)

// StartExecutionAPI is the Step Functions call of the trigger.
type StartExecutionAPI interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, optFns ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// TriggerOptions configures a Trigger.
type TriggerOptions struct {
	// Landing configures the key parser (prefix, pattern).
	Landing []func(*LandingOptions)
	// Logger gets one line per execution started (info) and per key
	// skipped (warn). Default: silent.
	Logger *slog.Logger
}

// Trigger is the invoke-step-function Lambda: it turns S3 notifications of
// landed files into pipeline executions. It is safe for concurrent use.
type Trigger struct {
	api    StartExecutionAPI
	arn    string
	parser *LandingParser
	log    *slog.Logger
}

// NewTrigger returns a trigger that starts executions of the state machine.
func NewTrigger(api StartExecutionAPI, stateMachineARN string, optFns ...func(*TriggerOptions)) (*Trigger, error) {
	var o TriggerOptions
	for _, fn := range optFns {
		fn(&o)
	}
	p, err := NewLandingParser(o.Landing...)
	if err != nil {
		return nil, err
	}
	o.Logger = opt.Logger(o.Logger)
	return &Trigger{api: api, arn: stateMachineARN, parser: p, log: o.Logger}, nil
}

// TriggerResult reports what one notification did, per landed file.
type TriggerResult struct {
	Started    []StartedExecution `json:"started"`
	Duplicates []string           `json:"duplicates,omitempty"` // execution names already started
	Skipped    []string           `json:"skipped,omitempty"`    // keys that do not match the pattern
}

// StartedExecution is one execution started.
type StartedExecution struct {
	Name         string         `json:"name"`
	ExecutionARN string         `json:"execution_arn"`
	Input        ExecutionInput `json:"input"`
}

// Handle starts one execution per landed file of the event. A key that
// does not match the landing pattern is skipped and logged (retrying would
// not help); a duplicated notification finds its execution name taken
// (ExecutionAlreadyExists) and is reported as a duplicate. A failure to
// start an execution is returned, joined per file, so that Lambda retries
// the event: names already started are then duplicates.
func (t *Trigger) Handle(ctx context.Context, ev events.S3Event) (TriggerResult, error) {
	var res TriggerResult
	landings, perr := t.parser.ParseEvent(ev)
	if perr != nil {
		var km *KeyMismatchError
		list := []error{perr}
		if j, ok := perr.(interface{ Unwrap() []error }); ok {
			list = j.Unwrap()
		}
		for _, e := range list {
			if errors.As(e, &km) {
				res.Skipped = append(res.Skipped, km.Key)
			}
			t.log.WarnContext(ctx, "landed object skipped", "error", e)
		}
	}
	var errs []error
	for _, l := range landings {
		input, _ := json.Marshal(l.Input())
		out, err := t.api.StartExecution(ctx, &sfn.StartExecutionInput{
			StateMachineArn: aws.String(t.arn), Name: aws.String(l.ExecutionName), Input: aws.String(string(input)),
		})
		var exists *sfntypes.ExecutionAlreadyExists
		switch {
		case errors.As(err, &exists):
			res.Duplicates = append(res.Duplicates, l.ExecutionName)
			t.log.InfoContext(ctx, "execution already started", "execution", l.ExecutionName)
		case err != nil:
			errs = append(errs, fmt.Errorf("lakepipe: start execution %s for %s: %w", l.ExecutionName, l.Key, err))
		default:
			res.Started = append(res.Started, StartedExecution{Name: l.ExecutionName, ExecutionARN: aws.ToString(out.ExecutionArn), Input: l.Input()})
			t.log.InfoContext(ctx, "execution started", "execution", l.ExecutionName, "dataset", l.Dataset)
		}
	}
	return res, errors.Join(errs...)
}
