package rekog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	rtypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/lakekit/lakekit/internal/opt"
)

// Stream processor defaults and limits.
const (
	// MaxStreamProcessorNameLen is the longest stream processor name.
	MaxStreamProcessorNameLen = 128
	// DefaultPollInterval is how often Wait describes a processor.
	DefaultPollInterval = 2 * time.Second
)

// StreamProcessorAPI is the set of Rekognition calls StreamProcessors makes:
// the whole lifecycle.
type StreamProcessorAPI interface {
	CreateStreamProcessor(ctx context.Context, in *rekognition.CreateStreamProcessorInput, optFns ...func(*rekognition.Options)) (*rekognition.CreateStreamProcessorOutput, error)
	StartStreamProcessor(ctx context.Context, in *rekognition.StartStreamProcessorInput, optFns ...func(*rekognition.Options)) (*rekognition.StartStreamProcessorOutput, error)
	StopStreamProcessor(ctx context.Context, in *rekognition.StopStreamProcessorInput, optFns ...func(*rekognition.Options)) (*rekognition.StopStreamProcessorOutput, error)
	DeleteStreamProcessor(ctx context.Context, in *rekognition.DeleteStreamProcessorInput, optFns ...func(*rekognition.Options)) (*rekognition.DeleteStreamProcessorOutput, error)
	DescribeStreamProcessor(ctx context.Context, in *rekognition.DescribeStreamProcessorInput, optFns ...func(*rekognition.Options)) (*rekognition.DescribeStreamProcessorOutput, error)
	ListStreamProcessors(ctx context.Context, in *rekognition.ListStreamProcessorsInput, optFns ...func(*rekognition.Options)) (*rekognition.ListStreamProcessorsOutput, error)
}

// ProcessorOptions configure StreamProcessors.
type ProcessorOptions struct {
	// PollInterval is the pause between DescribeStreamProcessor calls in
	// Wait. Default DefaultPollInterval.
	PollInterval time.Duration
	// Logger receives status transitions at debug level. Default: a
	// discarding logger.
	Logger *slog.Logger
}

// StreamProcessors manages face-search stream processors (the seed's
// Step 5 and Step 6).
type StreamProcessors struct {
	client StreamProcessorAPI
	opts   ProcessorOptions
}

// NewStreamProcessors returns a StreamProcessors using client. A negative
// PollInterval is an *OptionError.
func NewStreamProcessors(client StreamProcessorAPI, optFns ...func(*ProcessorOptions)) (*StreamProcessors, error) {
	p := &StreamProcessors{client: client}
	for _, fn := range optFns {
		fn(&p.opts)
	}
	if err := opt.Min("rekog.ProcessorOptions", "PollInterval", p.opts.PollInterval, 0); err != nil {
		return nil, err
	}
	p.opts.PollInterval = opt.Default(p.opts.PollInterval, DefaultPollInterval)
	p.opts.Logger = opt.Logger(p.opts.Logger)
	return p, nil
}

// FaceSearchProcessor is the seed's create-stream-processor JSON.
type FaceSearchProcessor struct {
	Name               string
	VideoStreamARN     string // input: Kinesis Video stream
	DataStreamARN      string // output: Kinesis data stream
	RoleARN            string
	CollectionID       string
	FaceMatchThreshold float64 // 0: service default (80)
}

var processorNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-]+$`)

// Validate checks the configuration before any call is made.
func (c FaceSearchProcessor) Validate() error {
	var errs []error
	if len(c.Name) > MaxStreamProcessorNameLen || !processorNamePattern.MatchString(c.Name) {
		errs = append(errs, &InvalidIDError{Kind: "stream processor name", ID: c.Name})
	}
	if err := ValidateCollectionID(c.CollectionID); err != nil {
		errs = append(errs, err)
	}
	for what, arn := range map[string]string{"VideoStreamARN": c.VideoStreamARN, "DataStreamARN": c.DataStreamARN, "RoleARN": c.RoleARN} {
		if len(arn) < 4 || arn[:4] != "arn:" {
			errs = append(errs, fmt.Errorf("rekog: %s %q is not an ARN", what, arn))
		}
	}
	if c.FaceMatchThreshold < 0 || c.FaceMatchThreshold > 100 {
		errs = append(errs, fmt.Errorf("rekog: FaceMatchThreshold %v outside 0–100", c.FaceMatchThreshold))
	}
	return errors.Join(errs...)
}

// Create creates the processor and returns its ARN. It is left STOPPED.
func (p *StreamProcessors) Create(ctx context.Context, c FaceSearchProcessor) (string, error) {
	if err := c.Validate(); err != nil {
		return "", err
	}
	fs := &rtypes.FaceSearchSettings{CollectionId: aws.String(c.CollectionID)}
	if c.FaceMatchThreshold > 0 {
		fs.FaceMatchThreshold = aws.Float32(float32(c.FaceMatchThreshold))
	}
	out, err := p.client.CreateStreamProcessor(ctx, &rekognition.CreateStreamProcessorInput{
		Name:     aws.String(c.Name),
		Input:    &rtypes.StreamProcessorInput{KinesisVideoStream: &rtypes.KinesisVideoStream{Arn: aws.String(c.VideoStreamARN)}},
		Output:   &rtypes.StreamProcessorOutput{KinesisDataStream: &rtypes.KinesisDataStream{Arn: aws.String(c.DataStreamARN)}},
		RoleArn:  aws.String(c.RoleARN),
		Settings: &rtypes.StreamProcessorSettings{FaceSearch: fs},
	})
	if err != nil {
		return "", fmt.Errorf("rekog: CreateStreamProcessor %s: %w", c.Name, err)
	}
	return aws.ToString(out.StreamProcessorArn), nil
}

// Start starts a STOPPED (or FAILED) processor; it moves to STARTING and
// then RUNNING: use Wait to know when it analyses video.
func (p *StreamProcessors) Start(ctx context.Context, name string) error {
	if _, err := p.client.StartStreamProcessor(ctx, &rekognition.StartStreamProcessorInput{Name: aws.String(name)}); err != nil {
		return fmt.Errorf("rekog: StartStreamProcessor %s: %w", name, err)
	}
	return nil
}

// Stop stops a RUNNING processor; it moves to STOPPING and then STOPPED.
func (p *StreamProcessors) Stop(ctx context.Context, name string) error {
	if _, err := p.client.StopStreamProcessor(ctx, &rekognition.StopStreamProcessorInput{Name: aws.String(name)}); err != nil {
		return fmt.Errorf("rekog: StopStreamProcessor %s: %w", name, err)
	}
	return nil
}

// Delete deletes a processor that is not running.
func (p *StreamProcessors) Delete(ctx context.Context, name string) error {
	if _, err := p.client.DeleteStreamProcessor(ctx, &rekognition.DeleteStreamProcessorInput{Name: aws.String(name)}); err != nil {
		return fmt.Errorf("rekog: DeleteStreamProcessor %s: %w", name, err)
	}
	return nil
}

// ProcessorInfo is a processor's description.
type ProcessorInfo struct {
	Name, ARN      string
	Status         rtypes.StreamProcessorStatus
	StatusMessage  string
	VideoStreamARN string
	DataStreamARN  string
	CollectionID   string
	Threshold      float64
}

// Describe returns a processor's status and configuration.
func (p *StreamProcessors) Describe(ctx context.Context, name string) (*ProcessorInfo, error) {
	out, err := p.client.DescribeStreamProcessor(ctx, &rekognition.DescribeStreamProcessorInput{Name: aws.String(name)})
	if err != nil {
		return nil, fmt.Errorf("rekog: DescribeStreamProcessor %s: %w", name, err)
	}
	info := &ProcessorInfo{Name: aws.ToString(out.Name), ARN: aws.ToString(out.StreamProcessorArn), Status: out.Status, StatusMessage: aws.ToString(out.StatusMessage)}
	if out.Input != nil && out.Input.KinesisVideoStream != nil {
		info.VideoStreamARN = aws.ToString(out.Input.KinesisVideoStream.Arn)
	}
	if out.Output != nil && out.Output.KinesisDataStream != nil {
		info.DataStreamARN = aws.ToString(out.Output.KinesisDataStream.Arn)
	}
	if out.Settings != nil && out.Settings.FaceSearch != nil {
		info.CollectionID = aws.ToString(out.Settings.FaceSearch.CollectionId)
		info.Threshold = float64(aws.ToFloat32(out.Settings.FaceSearch.FaceMatchThreshold))
	}
	return info, nil
}

// ProcessorSummary is one entry of List.
type ProcessorSummary struct {
	Name   string
	Status rtypes.StreamProcessorStatus
}

// List returns every stream processor, following NextToken.
func (p *StreamProcessors) List(ctx context.Context) ([]ProcessorSummary, error) {
	var out []ProcessorSummary
	pg := rekognition.NewListStreamProcessorsPaginator(p.client, &rekognition.ListStreamProcessorsInput{})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return out, fmt.Errorf("rekog: ListStreamProcessors: %w", err)
		}
		for _, s := range page.StreamProcessors {
			out = append(out, ProcessorSummary{Name: aws.ToString(s.Name), Status: s.Status})
		}
	}
	return out, nil
}

// ProcessorFailedError reports a processor that went FAILED while Wait
// waited for another status.
type ProcessorFailedError struct {
	Name, Message string
}

func (e *ProcessorFailedError) Error() string {
	return fmt.Sprintf("rekog: stream processor %s FAILED: %s", e.Name, e.Message)
}

// Wait describes the processor every PollInterval until its status is one
// of want, and returns its last description. FAILED, unless wanted, ends
// the wait with *ProcessorFailedError; ctx bounds the wait.
func (p *StreamProcessors) Wait(ctx context.Context, name string, want ...rtypes.StreamProcessorStatus) (*ProcessorInfo, error) {
	if len(want) == 0 {
		return nil, errors.New("rekog: Wait needs at least one status")
	}
	t := time.NewTimer(0)
	defer t.Stop()
	var last rtypes.StreamProcessorStatus
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("rekog: waiting for %s to be %v (last %s): %w", name, want, last, ctx.Err())
		case <-t.C:
		}
		info, err := p.Describe(ctx, name)
		if err != nil {
			return nil, err
		}
		if info.Status != last {
			p.opts.Logger.Debug("stream processor status", "name", name, "status", info.Status)
		}
		last = info.Status
		if slices.Contains(want, info.Status) {
			return info, nil
		}
		if info.Status == rtypes.StreamProcessorStatusFailed {
			return info, &ProcessorFailedError{Name: name, Message: info.StatusMessage}
		}
		t.Reset(p.opts.PollInterval)
	}
}
