package kda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/firehose"
	"github.com/lakekit/lakekit/internal/awstest"
)

// fakeFirehose is a Firehose delivery stream behind the real wire protocol:
// it keeps what it accepted and fails some entries the way the service
// does under load (ServiceUnavailableException per entry), plus one whole
// request.
type fakeFirehose struct {
	mu        sync.Mutex
	stream    string
	got       []string
	seen      map[string]int
	batches   []int
	failCalls int
}

func (f *fakeFirehose) install(w *awstest.WireServer) {
	w.HandleJSON("PutRecordBatch", func(_ context.Context, body json.RawMessage) (any, error) {
		var in struct {
			DeliveryStreamName string
			Records            []struct{ Data []byte }
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, &awstest.APIError{Code: "InvalidArgumentException", Message: err.Error()}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if in.DeliveryStreamName != f.stream {
			return nil, &awstest.APIError{Code: "ResourceNotFoundException", Message: "Firehose " + in.DeliveryStreamName + " not found under account 000000000000."}
		}
		if f.failCalls > 0 {
			f.failCalls--
			return nil, &awstest.APIError{Status: 503, Code: "ServiceUnavailableException", Message: "Slow down."}
		}
		size := 0
		type resp struct {
			RecordId, ErrorCode, ErrorMessage string `json:",omitempty"`
		}
		out := struct {
			FailedPutCount   int
			Encrypted        bool
			RequestResponses []resp
		}{}
		for i, r := range in.Records {
			size += len(r.Data)
			k := string(r.Data)
			f.seen[k]++
			if f.seen[k] == 1 && i%5 == 2 {
				out.FailedPutCount++
				out.RequestResponses = append(out.RequestResponses, resp{ErrorCode: "ServiceUnavailableException", ErrorMessage: "Slow down."})
				continue
			}
			f.got = append(f.got, k)
			out.RequestResponses = append(out.RequestResponses, resp{RecordId: fmt.Sprintf("rec-%d", len(f.got))})
		}
		f.batches = append(f.batches, len(in.Records))
		if size > MaxFirehoseBatchBytes {
			return nil, &awstest.APIError{Code: "InvalidArgumentException", Message: "batch too large"}
		}
		return out, nil
	})
}

func TestFirehoseSinkRetriesFailedEntries(t *testing.T) {
	ctx := context.Background()
	w := awstest.NewWireServer(t, "Firehose_20150804", "firehose")
	fake := &fakeFirehose{stream: "anomaly-delivery-stream", seen: map[string]int{}, failCalls: 1}
	fake.install(w)
	client := firehose.NewFromConfig(w.Config)
	sink := must(NewFirehoseSink(client, "anomaly-delivery-stream", func(o *FirehoseSinkOptions) { o.Sleep = noSleep }))
	const n = 1234
	for i := range n {
		if err := sink.Put(ctx, fmt.Appendf(nil, `{"i":%d}`, i), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(fake.got) != n {
		t.Fatalf("firehose got %d records, want %d", len(fake.got), n)
	}
	uniq := map[string]bool{}
	for _, g := range fake.got {
		if uniq[g] || !strings.HasSuffix(g, "}\n") {
			t.Fatalf("record %q twice or without newline", g)
		}
		uniq[g] = true
	}
	for _, b := range fake.batches {
		if b > MaxFirehoseBatchRecords {
			t.Fatalf("batch of %d", b)
		}
	}
	st := sink.Stats()
	if st.Records != n || st.Retried < n/5 {
		t.Fatalf("stats %+v", st)
	}
	// A stream that does not exist: the error is returned and nothing retried forever.
	bad := must(NewFirehoseSink(client, "missing", func(o *FirehoseSinkOptions) { o.Sleep = noSleep }))
	_ = bad.Put(ctx, []byte("x"), time.Time{})
	if err := bad.Flush(ctx); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("missing stream: %v", err)
	}
	var fe *FirehoseError
	if errors.As(bad.Flush(ctx), &fe) {
		t.Fatal("unexpected per-record error")
	}
}
