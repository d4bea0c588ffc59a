package local

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Service answers the Step Functions calls a trigger makes
// (StartExecution, DescribeExecution) with a Runner, so code written
// against the SDK client — an S3-notification Lambda starting executions —
// runs the state machine locally. StartExecution runs the execution to its
// end before it returns. It is safe for concurrent use.
type Service struct {
	runner *Runner
	arn    string

	mu         sync.Mutex
	executions map[string]*Execution
}

// NewService serves one state machine, known by stateMachineARN.
func NewService(r *Runner, stateMachineARN string) *Service {
	return &Service{runner: r, arn: stateMachineARN, executions: map[string]*Execution{}}
}

// ExecutionARN returns the ARN of the named execution.
func (s *Service) ExecutionARN(name string) string {
	return strings.Replace(s.arn, ":stateMachine:", ":execution:", 1) + ":" + name
}

// StartExecution runs an execution. A name already used is
// ExecutionAlreadyExists, as in Step Functions for a finished execution.
func (s *Service) StartExecution(ctx context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if aws.ToString(in.StateMachineArn) != s.arn {
		return nil, &sfntypes.StateMachineDoesNotExist{Message: aws.String("State Machine Does Not Exist: '" + aws.ToString(in.StateMachineArn) + "'")}
	}
	name := aws.ToString(in.Name)
	if name == "" {
		return nil, &sfntypes.InvalidName{Message: aws.String("the local service needs execution names")}
	}
	arn := s.ExecutionARN(name)
	s.mu.Lock()
	if _, ok := s.executions[arn]; ok {
		s.mu.Unlock()
		return nil, &sfntypes.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: '" + arn + "'")}
	}
	s.executions[arn] = nil // reserved while it runs
	s.mu.Unlock()
	ex, err := s.runner.Run(ctx, name, []byte(aws.ToString(in.Input)))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		delete(s.executions, arn)
		return nil, err
	}
	s.executions[arn] = ex
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String(arn), StartDate: aws.Time(ex.Start)}, nil
}

// DescribeExecution reports a finished execution.
func (s *Service) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	ex := s.Execution(aws.ToString(in.ExecutionArn))
	if ex == nil {
		return nil, &sfntypes.ExecutionDoesNotExist{Message: aws.String(fmt.Sprintf("Execution Does Not Exist: '%s'", aws.ToString(in.ExecutionArn)))}
	}
	out := &sfn.DescribeExecutionOutput{
		ExecutionArn: in.ExecutionArn, StateMachineArn: aws.String(s.arn), Name: aws.String(ex.Name),
		Status: sfntypes.ExecutionStatus(ex.Status), StartDate: aws.Time(ex.Start), StopDate: aws.Time(ex.Stop),
	}
	if len(ex.History) > 0 {
		out.Input = aws.String(string(ex.History[0].Data))
	}
	if ex.Status == StatusSucceeded {
		out.Output = aws.String(string(ex.Output))
	} else {
		out.Error, out.Cause = aws.String(ex.Error), aws.String(ex.Cause)
	}
	return out, nil
}

// Execution returns a finished execution by ARN, or nil.
func (s *Service) Execution(arn string) *Execution {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.executions[arn]
}
