package kda

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Destinations are the clients Application.OutputSinks builds an
// application's destinations with, one per destination kind, and each
// sink's options. A kind the application does not use may be nil.
//
// None of the three APIs (Kinesis PutRecords, Firehose PutRecordBatch,
// Lambda Invoke) takes an expected-owner parameter the way S3's
// ExpectedBucketOwner does: a destination is named by its ARN, whose
// account is the check (Kinesis and Lambda are addressed by the full
// ARN; Firehose by name in the client's own account, as PutRecordBatch
// allows nothing else).
type Destinations struct {
	// Kinesis writes KINESIS_STREAM destinations (a *kinesis.Client).
	Kinesis PutRecordsAPI
	// Firehose writes FIREHOSE destinations (a *firehose.Client).
	Firehose PutRecordBatchAPI
	// Lambda invokes LAMBDA destinations (a *lambda.Client).
	Lambda InvokeAPI

	// Producer, KinesisSink, FirehoseSink and LambdaSink, when set, adjust
	// the options of every sink of their kind (after OutputSinks set the
	// ones the description decides: a CSV destination's FirehoseSink
	// NoNewline, since CSV rows end with one; a LambdaSink's
	// ApplicationARN).
	Producer     func(*ProducerOptions)
	KinesisSink  func(*KinesisSinkOptions)
	FirehoseSink func(*FirehoseSinkOptions)
	LambdaSink   func(*LambdaSinkOptions)
}

// OutputSinks builds one Output per AppOutput, in order, with the
// output's Format: a KinesisSink (through a Producer addressing the
// stream by its ARN) for DestinationKinesis, a FirehoseSink (the delivery
// stream's name from its ARN) for DestinationFirehose, a LambdaSink (the
// function's ARN, version or alias included) for DestinationLambda. A
// ResourceARN that is not an ARN of its kind, or a kind whose client d
// lacks, is an *ApplicationError naming the JSON path
// (ApplicationDetail.OutputDescriptions[i].…ResourceARN).
func (a *Application) OutputSinks(d Destinations) ([]Output, error) {
	outs := make([]Output, 0, len(a.Outputs))
	for i, o := range a.Outputs {
		path := fmt.Sprintf("ApplicationDetail.OutputDescriptions[%d]", i)
		sink, err := a.outputSink(path, o, d)
		if err != nil {
			return nil, err
		}
		outs = append(outs, Output{Stream: o.Stream, Sink: sink, Format: o.Format})
	}
	return outs, nil
}

func (a *Application) outputSink(path string, o AppOutput, d Destinations) (Sink, error) {
	field, service, resource, client := "", "", "", false
	switch o.Kind {
	case DestinationKinesis:
		field, service, resource, client = "KinesisStreamsOutputDescription", "kinesis", "stream/", d.Kinesis != nil
	case DestinationFirehose:
		field, service, resource, client = "KinesisFirehoseOutputDescription", "firehose", "deliverystream/", d.Firehose != nil
	case DestinationLambda:
		field, service, resource, client = "LambdaOutputDescription", "lambda", "function:", d.Lambda != nil
	default:
		return nil, &ApplicationError{Path: path, Msg: fmt.Sprintf("destination kind %q is not %s, %s or %s", o.Kind, DestinationKinesis, DestinationFirehose, DestinationLambda)}
	}
	path += "." + field
	if !client {
		return nil, &ApplicationError{Path: path, Msg: fmt.Sprintf("a %s destination, but Destinations has no %s client", o.Kind, service)}
	}
	name, err := destinationName(o.ResourceARN, service, resource)
	if err != nil {
		return nil, &ApplicationError{Path: path + ".ResourceARN", Msg: err.Error(), Err: err}
	}
	switch o.Kind {
	case DestinationKinesis:
		p, err := NewProducer(d.Kinesis, o.ResourceARN, optsOf(d.Producer)...)
		if err != nil {
			return nil, err
		}
		return NewKinesisSink(p, optsOf(d.KinesisSink)...)
	case DestinationFirehose:
		csv := o.Format == FormatCSV
		return NewFirehoseSink(d.Firehose, name, append([]func(*FirehoseSinkOptions){func(fo *FirehoseSinkOptions) { fo.NoNewline = csv }}, optsOf(d.FirehoseSink)...)...)
	default:
		return NewLambdaSink(d.Lambda, o.ResourceARN, append([]func(*LambdaSinkOptions){func(lo *LambdaSinkOptions) { lo.ApplicationARN = a.ARN }}, optsOf(d.LambdaSink)...)...)
	}
}

func optsOf[T any](f func(*T)) []func(*T) {
	if f == nil {
		return nil
	}
	return []func(*T){f}
}

// destinationName checks that s is an ARN of service whose resource starts
// with prefix ("stream/", "deliverystream/", "function:") and returns the
// resource's name.
func destinationName(s, service, prefix string) (string, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%q is not an ARN: %w", s, err)
	}
	name, ok := strings.CutPrefix(a.Resource, prefix)
	if a.Service != service || !ok || name == "" || a.Region == "" || a.AccountID == "" {
		return "", fmt.Errorf("%q is not a %s ARN (arn:aws:%s:REGION:ACCOUNT:%sNAME)", s, service, service, prefix)
	}
	if prefix != "function:" && strings.ContainsAny(name, "/:") {
		return "", fmt.Errorf("%q is not a %s ARN: %q is not a name", s, service, name)
	}
	return name, nil
}

// NewApp runs the application on engine (from a.NewEngine) with every
// output of its description delivered to its destination (OutputSinks):
// give it the application's description and its SQL, and it runs. The
// App feeds the application's one in-application input stream; an
// application with more (InputParallelism above 1, several inputs) is an
// *ApplicationError, as one App cannot choose among them.
func (a *Application) NewApp(engine *Engine, d Destinations) (*App, error) {
	ins := a.inputs()
	if len(ins) != 1 {
		return nil, &ApplicationError{Path: "ApplicationDetail.InputDescriptions", Msg: fmt.Sprintf("%d in-application input streams: an App feeds one", len(ins))}
	}
	outs, err := a.OutputSinks(d)
	if err != nil {
		return nil, err
	}
	return NewApp(engine, ins[0].Name, outs...)
}
