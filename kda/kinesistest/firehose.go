package kinesistest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/firehose"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Firehose service limits the fake applies (Amazon Data Firehose quotas).
const (
	MaxBatchRecords = 500        // records per PutRecordBatch
	MaxBatchBytes   = 4 << 20    // bytes per PutRecordBatch
	MaxRecordBytes  = 1000 << 10 // bytes per record, before base64
)

// Firehose is a local Firehose: Direct PUT delivery streams served over
// the service's wire protocol (CreateDeliveryStream, DeleteDeliveryStream,
// PutRecord, PutRecordBatch) that keep the records they accepted.
type Firehose struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint.
	Config aws.Config
	// Client is a Firehose client for the server.
	Client *firehose.Client

	w *awslocal.WireServer

	mu      sync.Mutex
	streams map[string][][]byte
	fail    int // entries still to refuse
	seq     int
}

// NewFirehose starts a local Firehose with the given delivery streams,
// closed when the test ends. Puts to any other stream fail with
// ResourceNotFoundException, as on AWS, until it is created.
func NewFirehose(tb testing.TB, streams ...string) *Firehose {
	tb.Helper()
	f := StartFirehose(streams...)
	tb.Cleanup(func() { _ = f.Close() })
	return f
}

// StartFirehose is [NewFirehose] for programs that are not tests: the
// caller closes the server.
func StartFirehose(streams ...string) *Firehose {
	w := awslocal.StartWireServer("Firehose_20150804", "firehose")
	f := &Firehose{Endpoint: w.Endpoint, Config: w.Config, Client: firehose.NewFromConfig(w.Config), w: w, streams: map[string][][]byte{}}
	for _, s := range streams {
		f.streams[s] = nil
	}
	w.HandleJSON("CreateDeliveryStream", f.create)
	w.HandleJSON("DeleteDeliveryStream", f.delete)
	w.HandleJSON("PutRecord", f.putRecord)
	w.HandleJSON("PutRecordBatch", f.putRecordBatch)
	return f
}

// Records returns the records the delivery stream accepted, in order.
func (f *Firehose) Records(stream string) [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.streams[stream]...)
}

// FailNext makes the next n records put (by PutRecord or within a
// PutRecordBatch) fail with ServiceUnavailableException, the way Firehose
// refuses entries under load: PutRecordBatch answers 200 with those
// entries' ErrorCode set and FailedPutCount counting them; PutRecord
// answers the exception.
func (f *Firehose) FailNext(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail = n
}

// Calls returns how many requests the operation ("PutRecordBatch", …) has
// received.
func (f *Firehose) Calls(operation string) int { return f.w.Calls(operation) }

// Close stops the server. It is safe to call more than once.
func (f *Firehose) Close() error { return f.w.Close() }

func notFound(name string) error {
	return &awslocal.APIError{Code: "ResourceNotFoundException",
		Message: fmt.Sprintf("Firehose %s under account %s not found.", name, awslocal.AccountID)}
}

func invalid(msg string) error {
	return &awslocal.APIError{Code: "InvalidArgumentException", Message: msg}
}

func (f *Firehose) create(_ context.Context, body json.RawMessage) (any, error) {
	var in struct{ DeliveryStreamName string }
	if err := json.Unmarshal(body, &in); err != nil || in.DeliveryStreamName == "" {
		return nil, invalid("DeliveryStreamName is required")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.streams[in.DeliveryStreamName]; ok {
		return nil, &awslocal.APIError{Code: "ResourceInUseException", Message: "Firehose " + in.DeliveryStreamName + " under account " + awslocal.AccountID + " already exists."}
	}
	f.streams[in.DeliveryStreamName] = nil
	return map[string]string{"DeliveryStreamARN": fmt.Sprintf("arn:aws:firehose:%s:%s:deliverystream/%s", awslocal.Region, awslocal.AccountID, in.DeliveryStreamName)}, nil
}

func (f *Firehose) delete(_ context.Context, body json.RawMessage) (any, error) {
	var in struct{ DeliveryStreamName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid(err.Error())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.streams[in.DeliveryStreamName]; !ok {
		return nil, notFound(in.DeliveryStreamName)
	}
	delete(f.streams, in.DeliveryStreamName)
	return struct{}{}, nil
}

type record struct{ Data []byte }

// accept stores one record or refuses it (FailNext); f.mu is held.
func (f *Firehose) accept(stream string, r record) (id string, refused bool) {
	if f.fail > 0 {
		f.fail--
		return "", true
	}
	f.streams[stream] = append(f.streams[stream], r.Data)
	f.seq++
	return fmt.Sprintf("%056d", f.seq), false
}

func (f *Firehose) putRecord(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		DeliveryStreamName string
		Record             record
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid(err.Error())
	}
	if len(in.Record.Data) > MaxRecordBytes {
		return nil, invalid(fmt.Sprintf("Record size %d exceeds the limit of %d bytes", len(in.Record.Data), MaxRecordBytes))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.streams[in.DeliveryStreamName]; !ok {
		return nil, notFound(in.DeliveryStreamName)
	}
	id, refused := f.accept(in.DeliveryStreamName, in.Record)
	if refused {
		return nil, &awslocal.APIError{Status: 503, Code: "ServiceUnavailableException", Message: "Slow down."}
	}
	return map[string]any{"RecordId": id, "Encrypted": false}, nil
}

func (f *Firehose) putRecordBatch(_ context.Context, body json.RawMessage) (any, error) {
	var in struct {
		DeliveryStreamName string
		Records            []record
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid(err.Error())
	}
	if n := len(in.Records); n == 0 || n > MaxBatchRecords {
		return nil, invalid(fmt.Sprintf("1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and %d (got %d)", MaxBatchRecords, n))
	}
	size := 0
	for _, r := range in.Records {
		if len(r.Data) > MaxRecordBytes {
			return nil, invalid(fmt.Sprintf("Record size %d exceeds the limit of %d bytes", len(r.Data), MaxRecordBytes))
		}
		size += len(r.Data)
	}
	if size > MaxBatchBytes {
		return nil, invalid(fmt.Sprintf("Batch size %d exceeds the limit of %d bytes", size, MaxBatchBytes))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.streams[in.DeliveryStreamName]; !ok {
		return nil, notFound(in.DeliveryStreamName)
	}
	type entry struct {
		RecordId     string `json:",omitempty"`
		ErrorCode    string `json:",omitempty"`
		ErrorMessage string `json:",omitempty"`
	}
	out := struct {
		FailedPutCount   int
		Encrypted        bool
		RequestResponses []entry
	}{}
	for _, r := range in.Records {
		id, refused := f.accept(in.DeliveryStreamName, r)
		if refused {
			out.FailedPutCount++
			out.RequestResponses = append(out.RequestResponses, entry{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."})
			continue
		}
		out.RequestResponses = append(out.RequestResponses, entry{RecordId: id})
	}
	return out, nil
}
