package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// TestWriterKeysThatAreInvalidEntryIDs sends messages whose keys would be
// refused as batch entry Ids (the seed used them as Ids): spaces, slashes,
// non-ASCII, over 80 characters, duplicates. Every message gets a result
// carrying its key, and every body arrives once.
func TestWriterKeysThatAreInvalidEntryIDs(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "ids", nil)
	keys := []string{"a b", "x/y", "clé", strings.Repeat("k", 81), "dup", "dup", "", "ok_1-2", "quote\"d", "tab\t"}
	var msgs []sqsbatch.Message
	for i := range 95 {
		k := keys[i%len(keys)]
		msgs = append(msgs, sqsbatch.Message{Key: k, Body: fmt.Sprintf(`{"n":%d}`, i)})
	}
	cc := &countingSQS{Client: c}
	w := must(sqsbatch.NewWriter(cc, url))
	results, err := w.SendAll(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil || r.MessageID == "" || r.Key != msgs[i].Key || r.Index != int64(i) || r.Attempts != 1 {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if got := cc.sendBatches.Load(); got != 10 {
		t.Errorf("%d SendMessageBatch calls for 95 messages, want 10", got)
	}
	if st := w.Stats(); st.Sent != 95 || st.Failed != 0 || st.Requests != 10 {
		t.Errorf("stats %+v", st)
	}
	got := map[string]int{}
	for _, m := range drain(t, c, url) {
		got[aws.ToString(m.Body)]++
	}
	for i := range 95 {
		if n := got[fmt.Sprintf(`{"n":%d}`, i)]; n != 1 {
			t.Errorf("message %d received %d times", i, n)
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Send(ctx, sqsbatch.Message{Body: "late"}); !errors.Is(err, sqsbatch.ErrClosed) {
		t.Fatalf("Send after Close: %v", err)
	}
}

// TestWriterCutsBatchesByBytes checks batches are cut by payload size
// (bodies plus attributes) as well as by count.
func TestWriterCutsBatchesByBytes(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "bytes", nil)
	attr := map[string]types.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("row")}}
	for _, tc := range []struct {
		name      string
		maxBatch  int
		bodyBytes int
		n         int
		wantSizes []int
	}{
		{"1MiB/300KiB", 0, 300 << 10, 7, []int{3, 3, 1}},
		{"256KiB/100KiB", sqsbatch.LegacyMaxBatchBytes, 100 << 10, 5, []int{2, 2, 1}},
		// 25 KiB + 13 attribute bytes: 10 fit in 256 KiB, by count first.
		{"256KiB/25KiB", sqsbatch.LegacyMaxBatchBytes, 25 << 10, 12, []int{10, 2}},
		// 256 KiB exactly: one per batch once the attribute is counted.
		{"256KiB/exact", sqsbatch.LegacyMaxBatchBytes, 256<<10 - 13, 2, []int{1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cc := &countingSQS{Client: c}
			w := must(sqsbatch.NewWriter(cc, url, func(o *sqsbatch.WriterOptions) {
				o.MaxBatchBytes = tc.maxBatch
				o.MaxInFlight = 1 // keeps batchSizes in send order
			}))
			var msgs []sqsbatch.Message
			for i := range tc.n {
				msgs = append(msgs, sqsbatch.Message{Key: strconv.Itoa(i), Body: strings.Repeat("x", tc.bodyBytes), Attributes: attr})
			}
			results, err := w.SendAll(ctx, msgs)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range results {
				if r.Err != nil {
					t.Fatal(r.Err)
				}
			}
			if fmt.Sprint(cc.batchSizes) != fmt.Sprint(tc.wantSizes) {
				t.Fatalf("batches %v, want %v", cc.batchSizes, tc.wantSizes)
			}
			if got := len(drain(t, c, url)); got != tc.n {
				t.Fatalf("received %d of %d", got, tc.n)
			}
		})
	}
}

// TestWriterMessageThatCanNeverFit gives a 2 MiB body a *TooLargeError
// before any request is sent, while its neighbours go through.
func TestWriterMessageThatCanNeverFit(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "huge", nil)
	cc := &countingSQS{Client: c}
	w := must(sqsbatch.NewWriter(cc, url))
	huge := strings.Repeat("h", 2<<20)
	results, err := w.SendAll(ctx, []sqsbatch.Message{{Key: "small", Body: "s"}, {Key: "row-2MiB", Body: huge}, {Key: "small2", Body: "t"}})
	if se := sendError(t, err, 3, 2, 1); se.First[0].Key != "row-2MiB" {
		t.Fatalf("first failure %+v", se.First[0])
	}
	var tl *sqsbatch.TooLargeError
	if !errors.As(results[1].Err, &tl) || tl.Key != "row-2MiB" || tl.Index != 1 || tl.Size != 2<<20 || tl.Limit != sqsbatch.DefaultMaxMessageBytes {
		t.Fatalf("2 MiB message: %+v", results[1])
	}
	if results[0].Err != nil || results[2].Err != nil {
		t.Fatalf("neighbours: %+v %+v", results[0], results[2])
	}
	if cc.sendBatches.Load() != 1 || cc.batchSizes[0] != 2 {
		t.Fatalf("batches %v", cc.batchSizes)
	}
	// Send reports it too, synchronously.
	if _, err := w.Send(ctx, sqsbatch.Message{Key: "again", Body: huge}); !errors.As(err, &tl) {
		t.Fatalf("Send: %v", err)
	}
}

// TestWriterPartialBatchFailure makes SQS refuse some entries of a batch:
// the queue's MaximumMessageSize is 1 KiB but the writer was not told. The
// refused entries carry typed errors with the caller's key and are not
// retried (SenderFault); the others are sent. After ReadQueueLimits the
// writer refuses them itself, before sending.
func TestWriterPartialBatchFailure(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "partial", map[string]string{"MaximumMessageSize": "1024"})
	var msgs []sqsbatch.Message
	for i := range 10 {
		body := strings.Repeat("s", 100)
		if i%3 == 0 {
			body = strings.Repeat("L", 2000)
		}
		msgs = append(msgs, sqsbatch.Message{Key: "row-" + strconv.Itoa(i), Body: body})
	}
	cc := &countingSQS{Client: c}
	w := must(sqsbatch.NewWriter(cc, url))
	results, err := w.SendAll(ctx, msgs)
	sendError(t, err, 10, 6, 4)
	for i, r := range results {
		var ee *sqsbatch.EntryError
		if i%3 == 0 {
			if !errors.As(r.Err, &ee) || !ee.SenderFault || ee.Key != msgs[i].Key || ee.Attempts != 1 || ee.Code == "" {
				t.Fatalf("result %d: %+v", i, r)
			}
		} else if r.Err != nil {
			t.Fatalf("result %d: %v", i, r.Err)
		}
	}
	if cc.sendBatches.Load() != 1 {
		t.Fatalf("%d requests: refused entries were retried", cc.sendBatches.Load())
	}
	if got := len(drain(t, c, url)); got != 6 {
		t.Fatalf("received %d, want 6", got)
	}

	w2 := must(sqsbatch.NewWriter(cc, url))
	if err := w2.ReadQueueLimits(ctx, c); err != nil {
		t.Fatal(err)
	}
	results, err = w2.SendAll(ctx, msgs)
	sendError(t, err, 10, 6, 4)
	for i, r := range results {
		var tl *sqsbatch.TooLargeError
		if i%3 == 0 && (!errors.As(r.Err, &tl) || tl.Limit != 1024) {
			t.Fatalf("result %d after ReadQueueLimits: %+v", i, r)
		}
	}
	if cc.sendBatches.Load() != 2 {
		t.Fatalf("%d requests in total, want 2", cc.sendBatches.Load())
	}
}

// flakySQS turns chosen entries into SenderFault=false failures without
// sending them, a given number of times each, and passes the rest to the
// real server.
type flakySQS struct {
	*sqs.Client
	mu       sync.Mutex
	failures map[string]int // body -> remaining failures
	calls    int
}

func (f *flakySQS) SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error) {
	f.mu.Lock()
	f.calls++
	var pass []types.SendMessageBatchRequestEntry
	var failed []types.BatchResultErrorEntry
	for _, e := range in.Entries {
		if f.failures[aws.ToString(e.MessageBody)] > 0 {
			f.failures[aws.ToString(e.MessageBody)]--
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("injected"), SenderFault: false})
			continue
		}
		pass = append(pass, e)
	}
	f.mu.Unlock()
	out := &sqs.SendMessageBatchOutput{}
	if len(pass) > 0 {
		cp := *in
		cp.Entries = pass
		real, err := f.Client.SendMessageBatch(ctx, &cp, optFns...)
		if err != nil {
			return nil, err
		}
		out = real
	}
	out.Failed = append(out.Failed, failed...)
	return out, nil
}

// TestWriterRetriesServerFaults retries only the entries that failed with
// SenderFault=false, gives up after MaxAttempts, and sends each retried
// message once.
func TestWriterRetriesServerFaults(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "retry", nil)
	f := &flakySQS{Client: c, failures: map[string]int{"m1": 1, "m4": 2, "m7": 99}}
	var seen sync.Map
	w := must(sqsbatch.NewWriter(f, url, func(o *sqsbatch.WriterOptions) {
		o.MaxAttempts = 3
		o.BaseBackoff = 1
		o.OnResult = func(r sqsbatch.Result) { seen.Store(r.Index, r) }
	}))
	var msgs []sqsbatch.Message
	for i := range 10 {
		msgs = append(msgs, sqsbatch.Message{Key: "k" + strconv.Itoa(i), Body: "m" + strconv.Itoa(i)})
	}
	results, err := w.SendAll(ctx, msgs)
	if se := sendError(t, err, 10, 9, 1); se.First[0].Key != "k7" {
		t.Fatalf("first failure %+v", se.First[0])
	}
	for i, r := range results {
		want := map[int]int{1: 2, 4: 3, 7: 3}[i]
		if want == 0 {
			want = 1
		}
		if r.Attempts != want {
			t.Errorf("message %d: %d attempts, want %d", i, r.Attempts, want)
		}
		var ee *sqsbatch.EntryError
		if i == 7 {
			if !errors.As(r.Err, &ee) || ee.SenderFault || ee.Attempts != 3 || ee.Key != "k7" {
				t.Errorf("message 7: %+v", r)
			}
		} else if r.Err != nil {
			t.Errorf("message %d: %v", i, r.Err)
		}
		if v, ok := seen.Load(int64(i)); !ok || v.(sqsbatch.Result).Attempts != r.Attempts {
			t.Errorf("OnResult for %d: %v", i, v)
		}
	}
	if st := w.Stats(); st.Retried != 1+2+2 || st.Requests != 3 || st.Sent != 9 || st.Failed != 1 {
		t.Errorf("stats %+v", st)
	}
	got := map[string]int{}
	for _, m := range drain(t, c, url) {
		got[aws.ToString(m.Body)]++
	}
	if len(got) != 9 || got["m1"] != 1 || got["m4"] != 1 || got["m7"] != 0 {
		t.Fatalf("received %v", got)
	}
}

// TestWriteCSVFIFO writes a CSV twice to a FIFO queue: each row's key is
// its deduplication id, so the second pass is accepted but nothing is
// delivered twice; a key SQS would refuse as an id is sent hashed.
func TestWriteCSVFIFO(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "csvfifo", map[string]string{"FifoQueue": "true"})
	in := "id,v\n1,a\n2,b\norder 3 (café),c\n"
	for range 2 {
		src, err := sqsbatch.NewCSV(strings.NewReader(in), func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id" })
		if err != nil {
			t.Fatal(err)
		}
		w := must(sqsbatch.NewWriter(c, url))
		rep, err := sqsbatch.WriteCSV(ctx, src, w, sqsbatch.StopOnMalformed)
		if err != nil || rep.Sent != 3 {
			t.Fatalf("WriteCSV: %v %+v", err, rep)
		}
	}
	msgs := drain(t, c, url)
	if len(msgs) != 3 {
		t.Fatalf("received %d messages, want 3 (the second pass deduplicated)", len(msgs))
	}
}

// TestWriterFIFO sends to a FIFO queue with group and deduplication ids:
// order within a group holds, and a resent deduplication id is not
// delivered twice.
func TestWriterFIFO(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "fifo", map[string]string{"FifoQueue": "true"})
	w := must(sqsbatch.NewWriter(c, url))
	var msgs []sqsbatch.Message
	for i := range 25 {
		msgs = append(msgs, sqsbatch.Message{Key: strconv.Itoa(i), Body: strconv.Itoa(i), GroupID: "g" + strconv.Itoa(i%2), DeduplicationID: "d" + strconv.Itoa(i)})
	}
	// The same rows again: deduplicated by SQS within 5 minutes.
	msgs = append(msgs, msgs[:5]...)
	results, err := w.SendAll(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil || r.SequenceNumber == "" {
			t.Fatalf("result %d: %+v", i, r)
		}
		if i >= 25 && r.MessageID != results[i-25].MessageID {
			t.Fatalf("duplicate %d got a new message id", i)
		}
	}
	// A FIFO message without a group id is refused by SQS, per entry.
	res, _ := w.SendAll(ctx, []sqsbatch.Message{{Key: "nogroup", Body: "x", DeduplicationID: "x"}})
	var ee *sqsbatch.EntryError
	if !errors.As(res[0].Err, &ee) || !ee.SenderFault {
		t.Fatalf("no group id: %+v", res[0])
	}
	var last = map[string]int{"g0": -1, "g1": -1}
	n := 0
	for _, m := range drain(t, c, url) {
		v, _ := strconv.Atoi(aws.ToString(m.Body))
		g := "g" + strconv.Itoa(v%2)
		if v <= last[g] {
			t.Fatalf("group %s: %d after %d", g, v, last[g])
		}
		last[g] = v
		n++
	}
	if n != 25 {
		t.Fatalf("received %d, want 25", n)
	}
}

// TestWriterLinger sends a partial batch once Linger has passed, without
// Flush.
func TestWriterLinger(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "linger", nil)
	got := make(chan sqsbatch.Result, 3)
	w := must(sqsbatch.NewWriter(c, url, func(o *sqsbatch.WriterOptions) {
		o.Linger = 20 * time.Millisecond
		o.OnResult = func(r sqsbatch.Result) { got <- r }
	}))
	for i := range 3 {
		if _, err := w.Send(ctx, sqsbatch.Message{Key: strconv.Itoa(i), Body: "b"}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		select {
		case r := <-got:
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the partial batch was never sent")
		}
	}
	if st := w.Stats(); st.Requests != 1 || st.Sent != 3 {
		t.Fatalf("stats %+v", st)
	}
}

// sendError checks that err is a *SendError with these counts.
func sendError(t *testing.T, err error, messages, sent, failed int64) *sqsbatch.SendError {
	t.Helper()
	var se *sqsbatch.SendError
	if !errors.As(err, &se) || se.Messages != messages || se.Sent != sent || se.Failed != failed || int64(len(se.First)) != min(failed, sqsbatch.MaxSendErrorSamples) {
		t.Fatalf("got %v (%+v), want a *SendError: %d messages, %d sent, %d failed", err, se, messages, sent, failed)
	}
	return se
}

// senderGoroutines counts the goroutines running a Writer's sender loop.
func senderGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "sqsbatch.(*Writer).sender(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestWriterSenderGoroutines: the goroutines that send batches are kept
// for the next batch (a new goroutine per batch grew its stack through the
// SDK's call chain on every request, about 7% of the client's CPU), their
// number stays near MaxInFlight, and they go away: at once on Close, and
// after an idle second when the Writer is dropped without Close.
func TestWriterSenderGoroutines(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	url := newQueue(t, c, "senders", nil)
	// Writers that earlier tests dropped without Close stop their senders
	// after an idle second; counting from before that made the figures
	// below negative on a loaded machine.
	if !waitFor(t, 5*time.Second, func() bool { return senderGoroutines() == 0 }) {
		t.Fatalf("%d sender goroutines of earlier tests still running 5 s after they went idle", senderGoroutines())
	}
	const base = 0
	const inFlight = 4
	send := func(w *sqsbatch.Writer) {
		for i := range 400 {
			if _, err := w.Send(ctx, sqsbatch.Message{Body: strconv.Itoa(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	w := must(sqsbatch.NewWriter(c, url, func(o *sqsbatch.WriterOptions) { o.MaxInFlight = inFlight }))
	send(w)
	kept := senderGoroutines() - base
	t.Logf("%d sender goroutines kept after 40 batches at MaxInFlight %d", kept, inFlight)
	if kept < 1 || kept > 2*inFlight {
		t.Errorf("%d sender goroutines after Flush, want 1..%d", kept, 2*inFlight)
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if !waitFor(t, 2*time.Second, func() bool { return senderGoroutines() == base }) {
		t.Errorf("%d sender goroutines left 2 s after Close", senderGoroutines()-base)
	}

	dropped := must(sqsbatch.NewWriter(c, url, func(o *sqsbatch.WriterOptions) { o.MaxInFlight = inFlight }))
	send(dropped) // never closed
	if !waitFor(t, 10*time.Second, func() bool { return senderGoroutines() == base }) {
		t.Errorf("%d sender goroutines left 10 s after an unclosed Writer went idle", senderGoroutines()-base)
	}
	if got := len(drain(t, c, url)); got != 800 {
		t.Errorf("%d messages on the queue, want 800", got)
	}
}
