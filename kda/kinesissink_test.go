package kda

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/internal/awstest"
)

// TestKinesisSinkWritesEveryRow: 1,234 rows through a KinesisSink whose
// buffer holds 100 reach kinesis-local once each and in order (one shard,
// no retry), in requests of at most 100.
func TestKinesisSinkWritesEveryRow(t *testing.T) {
	ctx := context.Background()
	kc := awstest.Kinesis(t)
	arn := newStream(t, kc, 1)
	proxy := &throttlingProxy{next: kc, seen: map[string]int{}, failFirst: func([]byte) string { return "" }}
	p := must(NewProducer(proxy, arn, func(o *ProducerOptions) { o.Sleep = noSleep }))
	sink := must(NewKinesisSink(p, func(o *KinesisSinkOptions) { o.MaxBufferedRecords = 100 }))
	if sink.Stream() != arn {
		t.Fatalf("stream %q", sink.Stream())
	}
	const n = 1234
	var want []string
	for i := range n {
		row := fmt.Sprintf(`{"i":%d}`, i)
		want = append(want, row)
		if err := sink.Put(ctx, []byte(row), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if got := p.Stats().Records; got != 1200 {
		t.Fatalf("%d records sent before Flush, want 1200 (12 full buffers)", got)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sink.Flush(ctx); err != nil { // nothing left: no request
		t.Fatal(err)
	}
	if got := streamData(t, kc, arn); !slices.Equal(got, want) {
		t.Fatalf("stream holds %d rows, want %d in order", len(got), len(want))
	}
	if st := p.Stats(); st.Requests != 13 || st.Failed != 0 {
		t.Fatalf("producer stats %+v", st)
	}
	if _, err := NewKinesisSink(p, func(o *KinesisSinkOptions) { o.MaxBufferedBytes = -1 }); !errors.As(err, new(*OptionError)) {
		t.Fatalf("MaxBufferedBytes -1: %v", err)
	}
}

// TestKinesisSinkReportsRejectedRows: rows kinesis-local's stream still
// rejects after the last attempt come back in a *DestinationError naming
// the stream, with their data, out of the buffer; the others are written.
// A row over the record size is refused at Put; a stream that does not
// exist keeps every row buffered, reported as such.
func TestKinesisSinkReportsRejectedRows(t *testing.T) {
	ctx := context.Background()
	kc := awstest.Kinesis(t)
	arn := newStream(t, kc, 1)
	proxy := &throttlingProxy{next: kc, seen: map[string]int{}, failFirst: func(d []byte) string {
		switch string(d) {
		case `{"i":3}`:
			return "KMSAccessDeniedException" // not retryable
		case `{"i":5}`:
			return "ProvisionedThroughputExceededException" // retryable, but MaxAttempts is 1
		}
		return ""
	}}
	p := must(NewProducer(proxy, arn, func(o *ProducerOptions) { o.Sleep, o.MaxAttempts, o.MaxRecordBytes = noSleep, 1, 100 }))
	sink := must(NewKinesisSink(p))
	for i := range 8 {
		if err := sink.Put(ctx, fmt.Appendf(nil, `{"i":%d}`, i), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	err := sink.Flush(ctx)
	var de *DestinationError
	if !errors.As(err, &de) || de.Kind != DestinationKinesis || de.Name != arn || len(de.Failed) != 2 {
		t.Fatalf("Flush: %v", err)
	}
	if !strings.Contains(err.Error(), arn) || strings.Contains(err.Error(), `{"i":3}`) {
		t.Fatalf("message %q: want the stream, not the data", err)
	}
	var re *RecordError
	if !errors.As(err, &re) || re.Code != "KMSAccessDeniedException" {
		t.Fatalf("RecordError %+v", re)
	}
	for k, f := range de.Failed {
		if f.Buffered || string(f.Data) != []string{`{"i":3}`, `{"i":5}`}[k] {
			t.Fatalf("failed[%d] = %+v", k, f)
		}
	}
	if got, want := streamData(t, kc, arn), []string{`{"i":0}`, `{"i":1}`, `{"i":2}`, `{"i":4}`, `{"i":6}`, `{"i":7}`}; !slices.Equal(got, want) {
		t.Fatalf("stream holds %q, want %q", got, want)
	}
	if err := sink.Flush(ctx); err != nil { // the rejected rows are not resent
		t.Fatal(err)
	}
	if err := sink.Put(ctx, []byte(strings.Repeat("x", 100)), time.Time{}); !errors.Is(err, ErrRecordTooLarge) || !errors.As(err, &de) {
		t.Fatalf("large row: %v", err)
	}

	missing := strings.Replace(arn, "stream/", "stream/missing-", 1)
	gone := must(NewKinesisSink(must(NewProducer(kc, missing, func(o *ProducerOptions) { o.Sleep = noSleep }))))
	_ = gone.Put(ctx, []byte("a"), time.Time{})
	_ = gone.Put(ctx, []byte("b"), time.Time{})
	for range 2 { // still buffered: the second Flush reports both again
		err = gone.Flush(ctx)
		if !errors.As(err, &de) || len(de.Failed) != 2 || !de.Failed[0].Buffered || !strings.Contains(err.Error(), "ResourceNotFoundException") {
			t.Fatalf("missing stream: %v", err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := gone.Flush(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}
