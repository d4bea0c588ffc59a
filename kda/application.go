package kda

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/engine"
	"github.com/lakekit/lakekit/kda/internal/syntax"
)

// Application is a KDA SQL application as `aws kinesisanalytics
// describe-application` (API 2015-08-14) describes it: everything needed
// to run it (ParseApplication, Application.NewEngine).
type Application struct {
	Name string
	// ARN is the ApplicationARN (empty when the description has none):
	// the applicationArn of a LambdaSink's events.
	ARN string
	// Code is the ApplicationCode: the SQL.
	Code       string
	Inputs     []AppInput
	References []AppReference
	Outputs    []AppOutput
}

// AppInput is one of the application's InputDescriptions: a streaming
// source mapped to in-application input streams.
type AppInput struct {
	// NamePrefix is the input's NamePrefix ("SOURCE_SQL_STREAM").
	NamePrefix string
	// Streams are the in-application stream names, NamePrefix_001 up to
	// the InputParallelism count (InAppStreamNames when described).
	Streams []string
	Format  RecordFormat
	Columns []Column
	// SourceARN is the Kinesis data stream's or Firehose delivery
	// stream's ARN (empty when the description has none).
	SourceARN string
	// PreprocessorARN is the input preprocessing Lambda's ARN
	// (InputProcessingConfigurationDescription), empty without one.
	PreprocessorARN string
}

// AppReference is one of the application's
// ReferenceDataSourceDescriptions: an S3 object loaded as a table.
type AppReference struct {
	Table   string
	Bucket  string // from BucketARN
	Key     string
	Format  RecordFormat
	Columns []Column
}

// Destination kinds of an AppOutput.
const (
	DestinationKinesis  = "KINESIS_STREAM"
	DestinationFirehose = "FIREHOSE"
	DestinationLambda   = "LAMBDA"
)

// AppOutput is one of the application's OutputDescriptions: an
// in-application stream written to a destination.
type AppOutput struct {
	// Stream is the in-application stream (the output's Name).
	Stream string
	// Format is the DestinationSchema's RecordFormatType: "JSON" or "CSV".
	Format string
	// Kind is DestinationKinesis, DestinationFirehose or DestinationLambda;
	// ResourceARN the destination's ARN.
	Kind        string
	ResourceARN string
}

// ApplicationError is an application description that cannot run: Path is
// the JSON path of the missing or wrong piece
// ("ApplicationDetail.InputDescriptions[0].InputSchema.RecordColumns[2].SqlType").
// Err, when set, is the cause (a *SQLError for ApplicationCode).
type ApplicationError struct {
	Path string
	Msg  string
	Err  error
}

func (e *ApplicationError) Error() string { return "kda: application: " + e.Path + ": " + e.Msg }

// Unwrap returns the cause, if any.
func (e *ApplicationError) Unwrap() error { return e.Err }

// The JSON of describe-application, as far as running the application
// needs it. Fields are pointers where absence must be told from zero.
type describedApp struct {
	ApplicationDetail *struct {
		ApplicationName                 string
		ApplicationARN                  string
		ApplicationCode                 *string
		InputDescriptions               []describedInput
		ReferenceDataSourceDescriptions []describedReference
		OutputDescriptions              []describedOutput
	}
}

type describedInput struct {
	NamePrefix                              *string
	InAppStreamNames                        []string
	InputSchema                             *describedSchema
	InputParallelism                        *struct{ Count *int }
	KinesisStreamsInputDescription          *struct{ ResourceARN string }
	KinesisFirehoseInputDescription         *struct{ ResourceARN string }
	InputProcessingConfigurationDescription *struct {
		InputLambdaProcessorDescription *struct{ ResourceARN string }
	}
}

type describedSchema struct {
	RecordFormat *struct {
		RecordFormatType  *string
		MappingParameters *struct {
			JSONMappingParameters *struct{ RecordRowPath *string }
			CSVMappingParameters  *struct {
				RecordRowDelimiter    *string
				RecordColumnDelimiter *string
			}
		}
	}
	RecordEncoding *string
	RecordColumns  []struct {
		Name    *string
		SqlType *string
		Mapping *string
	}
}

type describedReference struct {
	TableName                        *string
	S3ReferenceDataSourceDescription *struct {
		BucketARN *string
		FileKey   *string
	}
	ReferenceSchema *describedSchema
}

type describedOutput struct {
	Name                             *string
	KinesisStreamsOutputDescription  *struct{ ResourceARN string }
	KinesisFirehoseOutputDescription *struct{ ResourceARN string }
	LambdaOutputDescription          *struct{ ResourceARN string }
	DestinationSchema                *struct{ RecordFormatType *string }
}

// ParseApplication reads the JSON that `aws kinesisanalytics
// describe-application --application-name NAME` prints
// ({"ApplicationDetail": …}). Every missing or
// wrong piece is an *ApplicationError naming its JSON path; the SQL itself
// is compiled by NewEngine.
func ParseApplication(data []byte) (*Application, error) {
	var d describedApp
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return nil, &ApplicationError{Path: "$", Msg: "not a describe-application JSON object: " + err.Error(), Err: err}
	}
	root := "ApplicationDetail"
	if d.ApplicationDetail == nil {
		return nil, &ApplicationError{Path: root, Msg: "missing"}
	}
	ad := d.ApplicationDetail
	app := &Application{Name: ad.ApplicationName, ARN: ad.ApplicationARN}
	if ad.ApplicationCode == nil || strings.TrimSpace(*ad.ApplicationCode) == "" {
		return nil, &ApplicationError{Path: root + ".ApplicationCode", Msg: "missing: the application has no SQL"}
	}
	app.Code = *ad.ApplicationCode
	if len(ad.InputDescriptions) == 0 {
		return nil, &ApplicationError{Path: root + ".InputDescriptions", Msg: "missing: the application has no input"}
	}
	streams := map[string]string{} // in-application name → path that declared it
	for i, in := range ad.InputDescriptions {
		ai, err := parseInput(fmt.Sprintf("%s.InputDescriptions[%d]", root, i), in, streams)
		if err != nil {
			return nil, err
		}
		app.Inputs = append(app.Inputs, ai)
	}
	for i, r := range ad.ReferenceDataSourceDescriptions {
		ar, err := parseReference(fmt.Sprintf("%s.ReferenceDataSourceDescriptions[%d]", root, i), r, streams)
		if err != nil {
			return nil, err
		}
		app.References = append(app.References, ar)
	}
	for i, o := range ad.OutputDescriptions {
		ao, err := parseOutput(fmt.Sprintf("%s.OutputDescriptions[%d]", root, i), o)
		if err != nil {
			return nil, err
		}
		app.Outputs = append(app.Outputs, ao)
	}
	return app, nil
}

func parseInput(path string, in describedInput, streams map[string]string) (AppInput, error) {
	var ai AppInput
	if in.NamePrefix == nil || *in.NamePrefix == "" {
		return ai, &ApplicationError{Path: path + ".NamePrefix", Msg: "missing"}
	}
	ai.NamePrefix = *in.NamePrefix
	n := 1
	if p := in.InputParallelism; p != nil && p.Count != nil {
		if *p.Count < 1 || *p.Count > 64 {
			return ai, &ApplicationError{Path: path + ".InputParallelism.Count", Msg: fmt.Sprintf("%d is not between 1 and 64", *p.Count)}
		}
		n = *p.Count
	}
	switch {
	case len(in.InAppStreamNames) > 0:
		if len(in.InAppStreamNames) != n {
			return ai, &ApplicationError{Path: path + ".InAppStreamNames",
				Msg: fmt.Sprintf("%d names for an InputParallelism of %d", len(in.InAppStreamNames), n)}
		}
		ai.Streams = append(ai.Streams, in.InAppStreamNames...)
	default:
		for k := 1; k <= n; k++ {
			ai.Streams = append(ai.Streams, fmt.Sprintf("%s_%03d", ai.NamePrefix, k))
		}
	}
	for k, s := range ai.Streams {
		if prev, dup := streams[s]; dup {
			return ai, &ApplicationError{Path: fmt.Sprintf("%s.InAppStreamNames[%d]", path, k), Msg: fmt.Sprintf("stream %q is also declared by %s", s, prev)}
		}
		streams[s] = path
	}
	if in.InputSchema == nil {
		return ai, &ApplicationError{Path: path + ".InputSchema", Msg: "missing"}
	}
	var err error
	if ai.Format, ai.Columns, err = parseSchema(path+".InputSchema", in.InputSchema); err != nil {
		return ai, err
	}
	switch {
	case in.KinesisStreamsInputDescription != nil:
		ai.SourceARN = in.KinesisStreamsInputDescription.ResourceARN
	case in.KinesisFirehoseInputDescription != nil:
		ai.SourceARN = in.KinesisFirehoseInputDescription.ResourceARN
	}
	if pc := in.InputProcessingConfigurationDescription; pc != nil && pc.InputLambdaProcessorDescription != nil {
		ai.PreprocessorARN = pc.InputLambdaProcessorDescription.ResourceARN
		if ai.PreprocessorARN == "" {
			return ai, &ApplicationError{Path: path + ".InputProcessingConfigurationDescription.InputLambdaProcessorDescription.ResourceARN", Msg: "missing"}
		}
	}
	return ai, nil
}

func parseReference(path string, r describedReference, streams map[string]string) (AppReference, error) {
	var ar AppReference
	if r.TableName == nil || *r.TableName == "" {
		return ar, &ApplicationError{Path: path + ".TableName", Msg: "missing"}
	}
	ar.Table = *r.TableName
	if prev, dup := streams[ar.Table]; dup {
		return ar, &ApplicationError{Path: path + ".TableName", Msg: fmt.Sprintf("%q is also declared by %s", ar.Table, prev)}
	}
	streams[ar.Table] = path
	s3 := r.S3ReferenceDataSourceDescription
	if s3 == nil {
		return ar, &ApplicationError{Path: path + ".S3ReferenceDataSourceDescription", Msg: "missing"}
	}
	if s3.BucketARN == nil {
		return ar, &ApplicationError{Path: path + ".S3ReferenceDataSourceDescription.BucketARN", Msg: "missing"}
	}
	bucket, ok := strings.CutPrefix(*s3.BucketARN, "arn:aws:s3:::")
	if !ok || bucket == "" || strings.Contains(bucket, "/") {
		return ar, &ApplicationError{Path: path + ".S3ReferenceDataSourceDescription.BucketARN", Msg: fmt.Sprintf("%q is not an S3 bucket ARN (arn:aws:s3:::bucket)", *s3.BucketARN)}
	}
	ar.Bucket = bucket
	if s3.FileKey == nil || *s3.FileKey == "" {
		return ar, &ApplicationError{Path: path + ".S3ReferenceDataSourceDescription.FileKey", Msg: "missing"}
	}
	ar.Key = *s3.FileKey
	if r.ReferenceSchema == nil {
		return ar, &ApplicationError{Path: path + ".ReferenceSchema", Msg: "missing"}
	}
	var err error
	ar.Format, ar.Columns, err = parseSchema(path+".ReferenceSchema", r.ReferenceSchema)
	return ar, err
}

func parseOutput(path string, o describedOutput) (AppOutput, error) {
	var ao AppOutput
	if o.Name == nil || *o.Name == "" {
		return ao, &ApplicationError{Path: path + ".Name", Msg: "missing"}
	}
	ao.Stream = *o.Name
	switch {
	case o.KinesisStreamsOutputDescription != nil:
		ao.Kind, ao.ResourceARN = DestinationKinesis, o.KinesisStreamsOutputDescription.ResourceARN
	case o.KinesisFirehoseOutputDescription != nil:
		ao.Kind, ao.ResourceARN = DestinationFirehose, o.KinesisFirehoseOutputDescription.ResourceARN
	case o.LambdaOutputDescription != nil:
		ao.Kind, ao.ResourceARN = DestinationLambda, o.LambdaOutputDescription.ResourceARN
	default:
		return ao, &ApplicationError{Path: path, Msg: "no KinesisStreamsOutputDescription, KinesisFirehoseOutputDescription or LambdaOutputDescription"}
	}
	ds := o.DestinationSchema
	if ds == nil || ds.RecordFormatType == nil {
		return ao, &ApplicationError{Path: path + ".DestinationSchema.RecordFormatType", Msg: "missing"}
	}
	switch *ds.RecordFormatType {
	case engine.FormatJSON, engine.FormatCSV:
		ao.Format = *ds.RecordFormatType
	default:
		return ao, &ApplicationError{Path: path + ".DestinationSchema.RecordFormatType", Msg: fmt.Sprintf("%q is not JSON or CSV", *ds.RecordFormatType)}
	}
	return ao, nil
}

// parseSchema reads an InputSchema or ReferenceSchema at path.
func parseSchema(path string, s *describedSchema) (RecordFormat, []Column, error) {
	var f RecordFormat
	rf := s.RecordFormat
	if rf == nil || rf.RecordFormatType == nil {
		return f, nil, &ApplicationError{Path: path + ".RecordFormat.RecordFormatType", Msg: "missing"}
	}
	mp := rf.MappingParameters
	switch *rf.RecordFormatType {
	case engine.FormatJSON:
		f.Type = engine.FormatJSON
		if mp != nil && mp.JSONMappingParameters != nil && mp.JSONMappingParameters.RecordRowPath != nil {
			if rp := *mp.JSONMappingParameters.RecordRowPath; rp != "$" {
				return f, nil, &ApplicationError{Path: path + ".RecordFormat.MappingParameters.JSONMappingParameters.RecordRowPath",
					Msg: fmt.Sprintf("%q is not supported (only \"$\": one row per record)", rp)}
			}
		}
	case engine.FormatCSV:
		f.Type = engine.FormatCSV
		if mp == nil || mp.CSVMappingParameters == nil {
			return f, nil, &ApplicationError{Path: path + ".RecordFormat.MappingParameters.CSVMappingParameters", Msg: "missing"}
		}
		c := mp.CSVMappingParameters
		if c.RecordRowDelimiter == nil || *c.RecordRowDelimiter == "" {
			return f, nil, &ApplicationError{Path: path + ".RecordFormat.MappingParameters.CSVMappingParameters.RecordRowDelimiter", Msg: "missing"}
		}
		if c.RecordColumnDelimiter == nil || *c.RecordColumnDelimiter == "" {
			return f, nil, &ApplicationError{Path: path + ".RecordFormat.MappingParameters.CSVMappingParameters.RecordColumnDelimiter", Msg: "missing"}
		}
		if *c.RecordRowDelimiter == *c.RecordColumnDelimiter {
			return f, nil, &ApplicationError{Path: path + ".RecordFormat.MappingParameters.CSVMappingParameters", Msg: "row and column delimiters are the same"}
		}
		f.RowDelimiter, f.ColumnDelimiter = *c.RecordRowDelimiter, *c.RecordColumnDelimiter
	default:
		return f, nil, &ApplicationError{Path: path + ".RecordFormat.RecordFormatType", Msg: fmt.Sprintf("%q is not JSON or CSV", *rf.RecordFormatType)}
	}
	if enc := s.RecordEncoding; enc != nil && *enc != "UTF-8" {
		return f, nil, &ApplicationError{Path: path + ".RecordEncoding", Msg: fmt.Sprintf("%q is not UTF-8, the only encoding KDA supports", *enc)}
	}
	if len(s.RecordColumns) == 0 {
		return f, nil, &ApplicationError{Path: path + ".RecordColumns", Msg: "missing: no columns"}
	}
	cols := make([]Column, 0, len(s.RecordColumns))
	seen := map[string]bool{}
	for i, rc := range s.RecordColumns {
		cp := fmt.Sprintf("%s.RecordColumns[%d]", path, i)
		if rc.Name == nil || *rc.Name == "" {
			return f, nil, &ApplicationError{Path: cp + ".Name", Msg: "missing"}
		}
		if seen[*rc.Name] {
			return f, nil, &ApplicationError{Path: cp + ".Name", Msg: fmt.Sprintf("duplicate column %q", *rc.Name)}
		}
		seen[*rc.Name] = true
		if rc.SqlType == nil || *rc.SqlType == "" {
			return f, nil, &ApplicationError{Path: cp + ".SqlType", Msg: "missing"}
		}
		typ, err := syntax.ParseType(*rc.SqlType)
		if err != nil {
			msg := err.Error()
			var se *SQLError
			if errors.As(err, &se) {
				msg = fmt.Sprintf("%q: %s", *rc.SqlType, se.Msg)
			}
			return f, nil, &ApplicationError{Path: cp + ".SqlType", Msg: msg, Err: err}
		}
		c := Column{Name: *rc.Name, Type: typ}
		if rc.Mapping != nil && f.Type == engine.FormatJSON {
			c.Mapping = *rc.Mapping
			if err := engine.CheckMapping(c); err != nil {
				return f, nil, &ApplicationError{Path: cp + ".Mapping", Msg: err.Error(), Err: err}
			}
		}
		cols = append(cols, c)
	}
	return f, cols, nil
}

// inputs returns the in-application input streams of the application, one
// per name of each AppInput, for NewEngine.
func (a *Application) inputs() []Input {
	var ins []Input
	for _, in := range a.Inputs {
		for _, s := range in.Streams {
			ins = append(ins, Input{Name: s, Columns: in.Columns, Format: in.Format})
		}
	}
	return ins
}

// NewEngine compiles the application's code over its input streams, with
// its reference tables in EngineOptions.Tables (LoadReferences). A SQL
// error is an *ApplicationError at ApplicationDetail.ApplicationCode
// wrapping the *SQLError; an output whose stream the code does not create,
// or a reference table not loaded, is an *ApplicationError at its entry.
func (a *Application) NewEngine(optFns ...func(*EngineOptions)) (*Engine, error) {
	var o EngineOptions
	for _, f := range optFns {
		f(&o)
	}
	for i, r := range a.References {
		found := false
		for _, t := range o.Tables {
			found = found || t.Name == r.Table
		}
		if !found {
			return nil, &ApplicationError{Path: fmt.Sprintf("ApplicationDetail.ReferenceDataSourceDescriptions[%d]", i),
				Msg: fmt.Sprintf("table %q is not loaded: pass it in EngineOptions.Tables (Application.LoadReferences)", r.Table)}
		}
	}
	e, err := NewEngine(a.Code, a.inputs(), optFns...)
	if err != nil {
		var se *SQLError
		if errors.As(err, &se) {
			return nil, &ApplicationError{Path: "ApplicationDetail.ApplicationCode", Msg: se.Error(), Err: err}
		}
		return nil, &ApplicationError{Path: "ApplicationDetail.InputDescriptions", Msg: err.Error(), Err: err}
	}
	for i, o := range a.Outputs {
		if _, err := e.Schema(o.Stream); err != nil {
			return nil, &ApplicationError{Path: fmt.Sprintf("ApplicationDetail.OutputDescriptions[%d].Name", i), Msg: err.Error(), Err: err}
		}
	}
	return e, nil
}
