package kda

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/internal/backoff"
	"github.com/lakekit/lakekit/internal/opt"
)

// InvokeAPI is the Lambda call a LambdaSink makes.
type InvokeAPI interface {
	Invoke(ctx context.Context, in *lambda.InvokeInput, optFns ...func(*lambda.Options)) (*lambda.InvokeOutput, error)
}

// MaxLambdaPayloadBytes is Lambda's limit on a synchronous
// (RequestResponse) invocation's request payload: 6 MB.
const MaxLambdaPayloadBytes = 6 << 20

// LambdaSinkOptions configures a LambdaSink.
type LambdaSinkOptions struct {
	// ApplicationARN is the event's applicationArn. Default: empty.
	ApplicationARN string
	// MaxPayloadBytes bounds one invocation's event JSON. Default and
	// maximum MaxLambdaPayloadBytes.
	MaxPayloadBytes int
	// MaxAttempts bounds the invocations that carry one row (the first,
	// then one per DeliveryFailed or transient Invoke failure). Default
	// DefaultMaxAttempts.
	MaxAttempts int
	// BackoffBase and BackoffMax shape the jittered backoff between
	// attempts. Defaults DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// Sleep waits between attempts. Default: a real timer that ends early
	// with ctx.Err().
	Sleep func(ctx context.Context, d time.Duration) error
	// NewID returns the invocationId of each invocation and the recordId
	// of each row (unique within an invocation). Default: 128 random bits
	// in hex. It may be called from several goroutines at once.
	NewID func() string
	// Logger gets a debug line per retried invocation (counts and
	// recordIds, never data). Default: discarded.
	Logger *slog.Logger
}

// LambdaSinkStats is a snapshot of a LambdaSink's counters.
type LambdaSinkStats struct {
	Records     int64 // rows the function answered Ok for
	Failed      int64 // rows handed back in a *DestinationError and out of the buffer
	Retried     int64 // row deliveries retried (DeliveryFailed or a transient failure)
	Invocations int64
}

// LambdaFunctionError is an invocation the function itself failed
// (Invoke's FunctionError, the X-Amz-Function-Error header): Type is
// "Unhandled" or "Handled", ErrorType and Message are from the payload
// ({"errorType","errorMessage"}) when it has them.
type LambdaFunctionError struct {
	Function, Type     string
	ErrorType, Message string
	RecordIDs          []string // the rows of the invocation
	InvocationID       string
}

func (e *LambdaFunctionError) Error() string {
	return fmt.Sprintf("lambda function %s failed (%s) on invocation %s of %d record(s): %s: %s", e.Function, e.Type, e.InvocationID, len(e.RecordIDs), e.ErrorType, e.Message)
}

// LambdaResponseError is a function answer that is not a
// KinesisAnalyticsOutputDeliveryResponse for the invocation's rows: not
// that JSON, a recordId it was not sent or sent twice, a result other
// than Ok or DeliveryFailed, or a row it does not answer for (RecordID
// names the row, empty when the whole answer is wrong).
type LambdaResponseError struct {
	Function, RecordID, Msg string
}

func (e *LambdaResponseError) Error() string {
	if e.RecordID == "" {
		return fmt.Sprintf("lambda function %s: %s", e.Function, e.Msg)
	}
	return fmt.Sprintf("lambda function %s: record %s: %s", e.Function, e.RecordID, e.Msg)
}

// LambdaDeliveryError is a row the function still answered DeliveryFailed
// for at the last attempt.
type LambdaDeliveryError struct {
	Function, RecordID string
	Attempts           int
}

func (e *LambdaDeliveryError) Error() string {
	return fmt.Sprintf("lambda function %s answered DeliveryFailed for record %s after %d attempt(s)", e.Function, e.RecordID, e.Attempts)
}

// LambdaSink is a Sink delivering rows to a Lambda function the way a KDA
// application's LAMBDA destination does: a synchronous invocation
// (RequestResponse) whose payload is a KinesisAnalyticsOutputDeliveryEvent
// (aws-lambda-go's events type, each record also carrying
// lambdaDeliveryRecordMetadata.retryHint), and whose answer is a
// KinesisAnalyticsOutputDeliveryResponse with one result per recordId.
// Rows are buffered until they fill an invocation (MaxPayloadBytes) and
// at Flush. Rows answered DeliveryFailed are sent again, with their
// recordId and retryHint incremented, after a jittered backoff, up to
// MaxAttempts; so are all rows of an invocation Lambda refused as
// throttled or unavailable.
//
// No row is dropped silently. A row still DeliveryFailed after the last
// attempt is a *LambdaDeliveryError in a *DestinationError and leaves the
// buffer. A function error (*LambdaFunctionError), an answer that is not
// the response JSON or does not account for every row
// (*LambdaResponseError), any other Invoke error, or ctx ending, stops
// the send: the invocation's rows (and the ones not sent yet) stay
// buffered for the next Flush and are reported as Buffered — the
// function may then see a row twice (at-least-once).
//
// A LambdaSink is safe for concurrent use; it invokes the function one
// invocation at a time.
type LambdaSink struct {
	client   InvokeAPI
	function string
	opts     LambdaSinkOptions
	overhead int // bytes of an event with no records

	mu      sync.Mutex
	pending []lambdaRow
	size    int
	stats   LambdaSinkStats
}

type lambdaRow struct {
	id    string
	data  []byte
	retry int // retryHint: deliveries of this row so far
}

// lambdaDeliveryRecord is events.KinesisAnalyticsOutputDeliveryEventRecord
// with the lambdaDeliveryRecordMetadata that KDA sends and the events type
// leaves out.
type lambdaDeliveryRecord struct {
	events.KinesisAnalyticsOutputDeliveryEventRecord
	LambdaDeliveryRecordMetadata struct {
		RetryHint int `json:"retryHint"`
	} `json:"lambdaDeliveryRecordMetadata"`
}

type lambdaDeliveryEvent struct {
	InvocationID   string                 `json:"invocationId"`
	ApplicationARN string                 `json:"applicationArn"`
	Records        []lambdaDeliveryRecord `json:"records"`
}

// NewLambdaSink returns a sink invoking function (a name, or a function
// ARN, with a version or alias if wanted). Options it cannot honour are an
// *OptionError.
func NewLambdaSink(client InvokeAPI, function string, optFns ...func(*LambdaSinkOptions)) (*LambdaSink, error) {
	if function == "" {
		return nil, errors.New("kda: NewLambdaSink needs a function name or ARN")
	}
	var o LambdaSinkOptions
	for _, f := range optFns {
		f(&o)
	}
	const typ = "kda.LambdaSinkOptions"
	o.MaxPayloadBytes = opt.Default(o.MaxPayloadBytes, MaxLambdaPayloadBytes)
	o.MaxAttempts = opt.Default(o.MaxAttempts, DefaultMaxAttempts)
	o.BackoffBase = opt.Default(o.BackoffBase, DefaultBackoffBase)
	o.BackoffMax = opt.Default(o.BackoffMax, DefaultBackoffMax)
	if err := errors.Join(
		opt.Range(typ, "MaxPayloadBytes", o.MaxPayloadBytes, 1, MaxLambdaPayloadBytes),
		opt.Min(typ, "MaxAttempts", o.MaxAttempts, 1),
		opt.Min(typ, "BackoffBase", o.BackoffBase, 0),
		opt.Min(typ, "BackoffMax", o.BackoffMax, o.BackoffBase),
	); err != nil {
		return nil, err
	}
	if o.NewID == nil {
		o.NewID = randomID
	}
	o.Sleep = orSleep(o.Sleep)
	o.Logger = opt.Logger(o.Logger)
	s := &LambdaSink{client: client, function: function, opts: o}
	// The empty event with the longest invocationId NewID may return is
	// not known; allow 256 bytes for it.
	empty, err := json.Marshal(lambdaDeliveryEvent{ApplicationARN: o.ApplicationARN, Records: []lambdaDeliveryRecord{}})
	if err != nil {
		return nil, err
	}
	s.overhead = len(empty) + 256
	return s, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Function returns the function's name or ARN.
func (s *LambdaSink) Function() string { return s.function }

// Stats returns a snapshot of the counters.
func (s *LambdaSink) Stats() LambdaSinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// rowBytes bounds a row's share of the event JSON: its base64 data, its
// recordId (hex or JSON-escaped: at most 6 bytes a byte), the field names
// and a retryHint of up to 20 digits.
func rowBytes(id string, data []byte) int {
	return base64.StdEncoding.EncodedLen(len(data)) + 6*len(id) + len(`{"recordId":"","data":"","lambdaDeliveryRecordMetadata":{"retryHint":}},`) + 20
}

// Put buffers a row, first sending the buffer when the row would not fit
// in the same invocation. A row that cannot fit in any invocation is
// refused at once; when sending the buffer fails, the row is not
// buffered and the error is returned.
func (s *LambdaSink) Put(ctx context.Context, record []byte, _ time.Time) error {
	r := lambdaRow{id: s.opts.NewID(), data: append([]byte(nil), record...)}
	n := rowBytes(r.id, r.data)
	if s.overhead+n > s.opts.MaxPayloadBytes {
		return &DestinationError{Kind: DestinationLambda, Name: s.function, Failed: []FailedRecord{{Data: r.data, RecordID: r.id,
			Err: fmt.Errorf("%w: %d bytes of data do not fit in a %d-byte invocation", ErrRecordTooLarge, len(r.data), s.opts.MaxPayloadBytes)}}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 && s.overhead+s.size+n > s.opts.MaxPayloadBytes {
		if err := s.sendLocked(ctx); err != nil {
			return err
		}
	}
	s.pending = append(s.pending, r)
	s.size += n
	return nil
}

// Flush sends the buffered rows.
func (s *LambdaSink) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sendLocked(ctx)
}

// sendLocked delivers s.pending, invocation by invocation, until every row
// is answered Ok or given up on, or a stop: then the rows not answered
// stay in s.pending.
func (s *LambdaSink) sendLocked(ctx context.Context) error {
	var failed []FailedRecord
	for attempt := 1; len(s.pending) > 0; attempt++ {
		if attempt > 1 {
			if err := s.opts.Sleep(ctx, backoff.FullJitter(attempt, s.opts.BackoffBase, s.opts.BackoffMax)); err != nil {
				return s.stop(failed, err)
			}
		}
		var retry []lambdaRow
		for len(s.pending) > 0 {
			k, size := 0, 0
			for k < len(s.pending) && (k == 0 || s.overhead+size+rowBytes(s.pending[k].id, s.pending[k].data) <= s.opts.MaxPayloadBytes) {
				size += rowBytes(s.pending[k].id, s.pending[k].data)
				k++
			}
			batch := s.pending[:k]
			results, err := s.invoke(ctx, batch)
			if err != nil {
				var ae smithy.APIError
				transient := ctx.Err() == nil && (!errors.As(err, &ae) || transientLambdaCode(ae.ErrorCode()))
				var fe *LambdaFunctionError
				var re *LambdaResponseError
				if errors.As(err, &fe) || errors.As(err, &re) || !transient || batch[0].retry+1 >= s.opts.MaxAttempts {
					s.pending = append(retry, s.pending...)
					return s.stop(failed, err)
				}
				for i := range batch {
					batch[i].retry++
				}
				s.stats.Retried += int64(len(batch))
				retry = append(retry, batch...)
				s.pending = s.pending[k:]
				continue
			}
			nRetry := 0
			for i, ok := range results {
				r := batch[i]
				switch {
				case ok:
					s.stats.Records++
				case r.retry+1 < s.opts.MaxAttempts:
					r.retry++
					retry = append(retry, r)
					nRetry++
				default:
					s.stats.Failed++
					failed = append(failed, FailedRecord{Data: r.data, RecordID: r.id,
						Err: &LambdaDeliveryError{Function: s.function, RecordID: r.id, Attempts: r.retry + 1}})
				}
			}
			if nRetry > 0 {
				s.stats.Retried += int64(nRetry)
				s.opts.Logger.Debug("kda: retrying rows the Lambda destination answered DeliveryFailed", "function", s.function, "records", nRetry, "of", len(batch), "attempt", attempt)
			}
			s.pending = s.pending[k:]
		}
		s.pending = retry
	}
	s.pending, s.size = nil, 0
	if len(failed) > 0 {
		return &DestinationError{Kind: DestinationLambda, Name: s.function, Failed: failed}
	}
	return nil
}

// stop ends a send: the rows in s.pending stay buffered, reported with err
// after the rows given up on.
func (s *LambdaSink) stop(failed []FailedRecord, err error) error {
	s.size = 0
	for _, r := range s.pending {
		s.size += rowBytes(r.id, r.data)
		failed = append(failed, FailedRecord{Data: r.data, RecordID: r.id, Err: err, Buffered: true})
	}
	return &DestinationError{Kind: DestinationLambda, Name: s.function, Failed: failed}
}

func transientLambdaCode(code string) bool {
	switch code {
	case "TooManyRequestsException", "ServiceException", "ResourceNotReadyException", "ResourceConflictException",
		"EC2ThrottledException", "ENILimitReachedException", "SubnetIPAddressLimitReachedException", "ThrottlingException":
		return true
	}
	return false
}

// invoke sends one invocation and returns, per row of batch, whether the
// function answered Ok.
func (s *LambdaSink) invoke(ctx context.Context, batch []lambdaRow) ([]bool, error) {
	ev := lambdaDeliveryEvent{InvocationID: s.opts.NewID(), ApplicationARN: s.opts.ApplicationARN, Records: make([]lambdaDeliveryRecord, len(batch))}
	for i, r := range batch {
		ev.Records[i].RecordID, ev.Records[i].Data = r.id, r.data
		ev.Records[i].LambdaDeliveryRecordMetadata.RetryHint = r.retry
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	if len(payload) > s.opts.MaxPayloadBytes { // rowBytes is an upper bound: a bug if reached
		return nil, fmt.Errorf("kda: LambdaSink built a %d-byte invocation, over %d", len(payload), s.opts.MaxPayloadBytes)
	}
	s.stats.Invocations++
	out, err := s.client.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(s.function), InvocationType: lambdatypes.InvocationTypeRequestResponse, Payload: payload})
	if err != nil {
		return nil, err
	}
	if out.FunctionError != nil {
		fe := &LambdaFunctionError{Function: s.function, Type: aws.ToString(out.FunctionError), InvocationID: ev.InvocationID}
		var body struct{ ErrorType, ErrorMessage string }
		if json.Unmarshal(out.Payload, &body) == nil {
			fe.ErrorType, fe.Message = body.ErrorType, body.ErrorMessage
		}
		for _, r := range batch {
			fe.RecordIDs = append(fe.RecordIDs, r.id)
		}
		return nil, fe
	}
	ids := make(map[string]int, len(batch))
	for i, r := range batch {
		ids[r.id] = i
	}
	return decodeDeliveryResponse(s.function, out.Payload, ids)
}

// decodeDeliveryResponse reads a function's KinesisAnalyticsOutputDelivery
// Response: ids maps each recordId sent to its index; the result has one
// entry per id, true for Ok. Anything else is a *LambdaResponseError.
func decodeDeliveryResponse(function string, payload []byte, ids map[string]int) ([]bool, error) {
	var resp struct {
		Records *[]events.KinesisAnalyticsOutputDeliveryResponseRecord `json:"records"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	if err := dec.Decode(&resp); err != nil {
		return nil, &LambdaResponseError{Function: function, Msg: "the answer is not a KinesisAnalyticsOutputDeliveryResponse: " + err.Error()}
	}
	if dec.More() {
		return nil, &LambdaResponseError{Function: function, Msg: "the answer has data after its JSON object"}
	}
	if resp.Records == nil {
		return nil, &LambdaResponseError{Function: function, Msg: `the answer has no "records"`}
	}
	ok := make([]bool, len(ids))
	seen := make([]bool, len(ids))
	for _, r := range *resp.Records {
		i, known := ids[r.RecordID]
		switch {
		case !known:
			return nil, &LambdaResponseError{Function: function, RecordID: r.RecordID, Msg: "answered, but not sent in this invocation"}
		case seen[i]:
			return nil, &LambdaResponseError{Function: function, RecordID: r.RecordID, Msg: "answered twice"}
		}
		seen[i] = true
		switch r.Result {
		case events.KinesisAnalyticsOutputDeliveryOK:
			ok[i] = true
		case events.KinesisAnalyticsOutputDeliveryFailed:
		default:
			return nil, &LambdaResponseError{Function: function, RecordID: r.RecordID, Msg: fmt.Sprintf("result %q is not Ok or DeliveryFailed", r.Result)}
		}
	}
	for id, i := range ids {
		if !seen[i] {
			return nil, &LambdaResponseError{Function: function, RecordID: id, Msg: "sent but not answered"}
		}
	}
	return ok, nil
}
