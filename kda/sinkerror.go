package kda

import (
	"fmt"
)

// FailedRecord is one row a KinesisSink or LambdaSink did not deliver.
type FailedRecord struct {
	// Data is the row as the sink would have sent it: resend it or keep
	// it in a dead-letter store.
	Data []byte
	// RecordID is the LambdaSink's recordId for the row; empty for a
	// KinesisSink.
	RecordID string
	// Err is why: ErrRecordTooLarge, a *RecordError, a *LambdaDeliveryError,
	// a *LambdaFunctionError, a *LambdaResponseError, the request's error
	// or ctx's.
	Err error
	// Buffered reports that the row is still in the sink's buffer: the
	// next Put or Flush sends it again. A row the destination itself
	// refused after the last attempt (Kinesis' per-record error, Lambda's
	// DeliveryFailed) is not: it lives only in Data.
	Buffered bool
}

// DestinationError is the error of a KinesisSink or LambdaSink that could
// not deliver rows: one FailedRecord per row, never a silent drop. Its
// message names the destination and the first row, never a row's data.
// errors.As reaches each row's Err (Unwrap returns them all).
type DestinationError struct {
	// Kind is DestinationKinesis or DestinationLambda.
	Kind string
	// Name is the stream's name or ARN, or the function's name or ARN.
	Name   string
	Failed []FailedRecord
}

func (e *DestinationError) Error() string {
	what := "kinesis stream"
	if e.Kind == DestinationLambda {
		what = "lambda function"
	}
	if len(e.Failed) == 0 {
		return fmt.Sprintf("kda: %s %s: no record failed", what, e.Name)
	}
	first := e.Failed[0]
	rec := "a record"
	if first.RecordID != "" {
		rec = "record " + first.RecordID
	}
	more := ""
	if len(e.Failed) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(e.Failed)-1)
	}
	return fmt.Sprintf("kda: %s %s: %s not delivered%s: %v", what, e.Name, rec, more, first.Err)
}

// Unwrap returns each failed row's error.
func (e *DestinationError) Unwrap() []error {
	errs := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		errs[i] = f.Err
	}
	return errs
}
