package kda

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// deliveryFunc is a KDA Lambda destination written as one is for AWS: a
// Go function of aws-lambda-go's event types.
type deliveryFunc func(ctx context.Context, ev events.KinesisAnalyticsOutputDeliveryEvent) (events.KinesisAnalyticsOutputDeliveryResponse, error)

// lambdaServer is Lambda's REST Invoke API on 127.0.0.1:
// POST /2015-03-31/functions/{FunctionName}/invocations with the event as
// body, answered with the function's JSON; a function error is status 200
// with X-Amz-Function-Error: Unhandled and {"errorMessage","errorType"},
// as the Go runtime reports it; an unknown function is 404
// ResourceNotFoundException. raw, when set for a function, is its answer
// instead (a function answering something else than the response type).
type lambdaServer struct {
	*httptest.Server
	mu        sync.Mutex
	functions map[string]deliveryFunc
	raw       map[string]string
	hints     map[string][]int // recordId → retryHints received
	bodies    []int            // payload sizes
	invIDs    map[string]bool
	appARNs   map[string]bool
}

func newLambdaServer(t *testing.T) (*lambdaServer, *lambda.Client) {
	s := &lambdaServer{functions: map[string]deliveryFunc{}, raw: map[string]string{}, hints: map[string][]int{}, invIDs: map[string]bool{}, appARNs: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s, lambda.NewFromConfig(awslocal.ClientConfig(s.URL), func(o *lambda.Options) { o.Retryer = aws.NopRetryer{} })
}

func (s *lambdaServer) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
	name, ok2 := strings.CutSuffix(name, "/invocations")
	if !ok || !ok2 || r.Method != http.MethodPost || !strings.Contains(r.Header.Get("Authorization"), "/lambda/aws4_request") {
		http.Error(w, "not an Invoke request", http.StatusBadRequest)
		return
	}
	if it := r.Header.Get("X-Amz-Invocation-Type"); it != "RequestResponse" {
		http.Error(w, "invocation type "+it, http.StatusBadRequest)
		return
	}
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	fn, raw := s.functions[name], s.raw[name]
	s.mu.Unlock()
	if fn == nil && raw == "" {
		w.Header().Set("X-Amzn-Errortype", "ResourceNotFoundException")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprintf(w, `{"Type":"User","Message":"Function not found: %s"}`, name)
		return
	}
	if len(body) > MaxLambdaPayloadBytes {
		w.Header().Set("X-Amzn-Errortype", "RequestTooLargeException")
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		fmt.Fprint(w, `{"Type":"User","message":"Request must be smaller than 6291456 bytes for the InvokeFunction operation"}`)
		return
	}
	// What KDA sends beyond the events type: each record's retryHint.
	var meta struct {
		InvocationID   string `json:"invocationId"`
		ApplicationARN string `json:"applicationArn"`
		Records        []struct {
			RecordID string `json:"recordId"`
			Meta     struct {
				RetryHint *int `json:"retryHint"`
			} `json:"lambdaDeliveryRecordMetadata"`
		} `json:"records"`
	}
	var ev events.KinesisAnalyticsOutputDeliveryEvent
	if json.Unmarshal(body, &meta) != nil || json.Unmarshal(body, &ev) != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.bodies = append(s.bodies, len(body))
	s.invIDs[meta.InvocationID] = true
	s.appARNs[meta.ApplicationARN] = true
	for _, rec := range meta.Records {
		if rec.Meta.RetryHint != nil {
			s.hints[rec.RecordID] = append(s.hints[rec.RecordID], *rec.Meta.RetryHint)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if raw != "" {
		fmt.Fprint(w, raw)
		return
	}
	resp, err := fn(r.Context(), ev)
	if err != nil {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
		typ := reflect.TypeOf(err)
		for typ.Kind() == reflect.Pointer {
			typ = typ.Elem()
		}
		b, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": typ.Name()})
		w.Write(b)
		return
	}
	b, _ := json.Marshal(resp)
	w.Write(b)
}

func (s *lambdaServer) set(name string, fn deliveryFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.functions[name] = fn
}

// store is a destination function keeping every row it answered Ok for,
// and answering DeliveryFailed for a row the first fail times it sees it.
type store struct {
	mu   sync.Mutex
	rows []string
	seen map[string]int
	fail func(data string) int
}

func (st *store) handle(_ context.Context, ev events.KinesisAnalyticsOutputDeliveryEvent) (events.KinesisAnalyticsOutputDeliveryResponse, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	var resp events.KinesisAnalyticsOutputDeliveryResponse
	for _, r := range ev.Records {
		st.seen[r.RecordID]++
		res := events.KinesisAnalyticsOutputDeliveryOK
		if st.fail != nil && st.seen[r.RecordID] <= st.fail(string(r.Data)) {
			res = events.KinesisAnalyticsOutputDeliveryFailed
		} else {
			st.rows = append(st.rows, string(r.Data))
		}
		resp.Records = append(resp.Records, events.KinesisAnalyticsOutputDeliveryResponseRecord{RecordID: r.RecordID, Result: res})
	}
	return resp, nil
}

const destARN = "arn:aws:lambda:us-east-1:123456789012:function:kda-dest"

func newTestLambdaSink(t *testing.T, c InvokeAPI, fn string, opts ...func(*LambdaSinkOptions)) *LambdaSink {
	t.Helper()
	return must(NewLambdaSink(c, fn, append([]func(*LambdaSinkOptions){func(o *LambdaSinkOptions) {
		o.Sleep, o.ApplicationARN = noSleep, "arn:aws:kinesisanalytics:us-east-1:123456789012:application/app"
	}}, opts...)...))
}

// TestLambdaSinkRetriesDeliveryFailed: 1,000 rows in invocations of at
// most 4 KiB; every third row is answered DeliveryFailed once, then Ok
// when sent again with retryHint 1. Every row is stored once, in order of
// first success.
func TestLambdaSinkRetriesDeliveryFailed(t *testing.T) {
	ctx := context.Background()
	srv, c := newLambdaServer(t)
	st := &store{seen: map[string]int{}, fail: func(d string) int {
		var i int
		fmt.Sscanf(d, `{"i":%d}`, &i)
		return map[bool]int{true: 1}[i%3 == 0]
	}}
	srv.set(destARN, st.handle)
	sink := newTestLambdaSink(t, c, destARN, func(o *LambdaSinkOptions) { o.MaxPayloadBytes = 4 << 10 })
	const n = 1000
	want := map[string]bool{}
	for i := range n {
		row := fmt.Sprintf(`{"i":%d,"pad":"%s"}`, i, strings.Repeat("p", i%50))
		want[row] = true
		if err := sink.Put(ctx, []byte(row), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if len(st.rows) != n {
		t.Fatalf("function stored %d rows, want %d", len(st.rows), n)
	}
	for _, r := range st.rows {
		if !want[r] {
			t.Fatalf("row %q stored twice or never sent", r)
		}
		delete(want, r)
	}
	for _, b := range srv.bodies {
		if b > 4<<10 {
			t.Fatalf("invocation of %d bytes", b)
		}
	}
	retried := 0
	for id, h := range srv.hints {
		switch {
		case slices.Equal(h, []int{0, 1}):
			retried++
		case !slices.Equal(h, []int{0}):
			t.Fatalf("record %s got retryHints %v", id, h)
		}
	}
	stats := sink.Stats()
	if retried != 334 || stats.Records != n || stats.Retried != 334 || stats.Failed != 0 || int(stats.Invocations) != len(srv.bodies) || len(srv.invIDs) != len(srv.bodies) {
		t.Fatalf("retried %d, stats %+v, %d invocations, %d ids", retried, stats, len(srv.bodies), len(srv.invIDs))
	}
	if !srv.appARNs["arn:aws:kinesisanalytics:us-east-1:123456789012:application/app"] || len(srv.appARNs) != 1 {
		t.Fatalf("applicationArn %v", srv.appARNs)
	}
	if sink.Function() != destARN {
		t.Fatal(sink.Function())
	}
}

// TestLambdaSinkExhaustedRetries: a row the function answers
// DeliveryFailed for at every one of MaxAttempts deliveries is handed back
// in a *DestinationError with its recordId, out of the buffer; the rows
// next to it are delivered.
func TestLambdaSinkExhaustedRetries(t *testing.T) {
	ctx := context.Background()
	srv, c := newLambdaServer(t)
	st := &store{seen: map[string]int{}, fail: func(d string) int { return map[bool]int{true: 1 << 30}[d == "bad"] }}
	srv.set("kda-dest", st.handle)
	sink := newTestLambdaSink(t, c, "kda-dest", func(o *LambdaSinkOptions) { o.MaxAttempts = 3 })
	for _, r := range []string{"a", "bad", "c"} {
		if err := sink.Put(ctx, []byte(r), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	err := sink.Flush(ctx)
	var de *DestinationError
	var le *LambdaDeliveryError
	if !errors.As(err, &de) || len(de.Failed) != 1 || !errors.As(err, &le) || le.Attempts != 3 || le.Function != "kda-dest" {
		t.Fatalf("Flush: %v", err)
	}
	f := de.Failed[0]
	if string(f.Data) != "bad" || f.Buffered || f.RecordID != le.RecordID || !slices.Equal(srv.hints[f.RecordID], []int{0, 1, 2}) {
		t.Fatalf("failed %+v, hints %v", f, srv.hints[f.RecordID])
	}
	if msg := err.Error(); !strings.Contains(msg, "kda-dest") || !strings.Contains(msg, f.RecordID) || strings.Contains(msg, "bad") {
		t.Fatalf("message %q: want the function and record, not the data", msg)
	}
	if !slices.Equal(st.rows, []string{"a", "c"}) {
		t.Fatalf("stored %q", st.rows)
	}
	if err := sink.Flush(ctx); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	if s := sink.Stats(); s.Failed != 1 || s.Records != 2 || s.Retried != 2 {
		t.Fatalf("stats %+v", s)
	}
}

type destinationDown struct{ host string }

func (e *destinationDown) Error() string { return e.host + " is down" }

// TestLambdaSinkFunctionError: a function error (X-Amz-Function-Error)
// is a *LambdaFunctionError naming the function and the invocation's
// records, which stay buffered: once the function works, Flush delivers
// them.
func TestLambdaSinkFunctionError(t *testing.T) {
	ctx := context.Background()
	srv, c := newLambdaServer(t)
	srv.set("kda-dest", func(context.Context, events.KinesisAnalyticsOutputDeliveryEvent) (events.KinesisAnalyticsOutputDeliveryResponse, error) {
		return events.KinesisAnalyticsOutputDeliveryResponse{}, &destinationDown{host: "db"}
	})
	sink := newTestLambdaSink(t, c, "kda-dest")
	_ = sink.Put(ctx, []byte("x"), time.Time{})
	_ = sink.Put(ctx, []byte("y"), time.Time{})
	err := sink.Flush(ctx)
	var fe *LambdaFunctionError
	var de *DestinationError
	if !errors.As(err, &fe) || fe.Type != "Unhandled" || fe.ErrorType != "destinationDown" || fe.Message != "db is down" || len(fe.RecordIDs) != 2 || fe.Function != "kda-dest" {
		t.Fatalf("Flush: %v (%+v)", err, fe)
	}
	if !errors.As(err, &de) || len(de.Failed) != 2 || !de.Failed[0].Buffered || de.Failed[0].RecordID != fe.RecordIDs[0] {
		t.Fatalf("failed %+v", de)
	}
	st := &store{seen: map[string]int{}}
	srv.set("kda-dest", st.handle)
	if err := sink.Flush(ctx); err != nil || !slices.Equal(st.rows, []string{"x", "y"}) {
		t.Fatalf("after the fix: %v, stored %q", err, st.rows)
	}
}

// TestLambdaSinkMalformedResponse: an answer that is not the response
// JSON, or does not answer for exactly the records sent, is a
// *LambdaResponseError naming the record; the records stay buffered. A
// function that does not exist is Lambda's ResourceNotFoundException;
// a throttled invocation is retried.
func TestLambdaSinkMalformedResponse(t *testing.T) {
	ctx := context.Background()
	srv, c := newLambdaServer(t)
	ids := 0
	sink := newTestLambdaSink(t, c, "odd", func(o *LambdaSinkOptions) {
		o.NewID = func() string { ids++; return fmt.Sprint("id-", ids) }
	})
	for _, tc := range []struct{ raw, record, msg string }{
		{`not json`, "", "not a KinesisAnalyticsOutputDeliveryResponse"},
		{`{"records":[]} {}`, "", "data after"},
		{`{"result":"Ok"}`, "", `no "records"`},
		{`{"records":[{"recordId":"zzz","result":"Ok"}]}`, "zzz", "not sent"},
		{`{"records":[{"recordId":"id-1","result":"Ok"}]}`, "id-2", "not answered"},
		{`{"records":[{"recordId":"id-1","result":"Ok"},{"recordId":"id-1","result":"Ok"}]}`, "id-1", "twice"},
		{`{"records":[{"recordId":"id-1","result":"Ok"},{"recordId":"id-2","result":"Dropped"}]}`, "id-2", "not Ok or DeliveryFailed"},
	} {
		srv.mu.Lock()
		srv.raw["odd"] = tc.raw
		srv.mu.Unlock()
		if ids == 0 {
			_ = sink.Put(ctx, []byte("r1"), time.Time{})
			_ = sink.Put(ctx, []byte("r2"), time.Time{})
		}
		err := sink.Flush(ctx)
		var re *LambdaResponseError
		var de *DestinationError
		if !errors.As(err, &re) || re.RecordID != tc.record || !strings.Contains(err.Error(), tc.msg) || re.Function != "odd" {
			t.Fatalf("%s: %v", tc.raw, err)
		}
		if !errors.As(err, &de) || len(de.Failed) != 2 || !de.Failed[1].Buffered {
			t.Fatalf("%s: failed %+v", tc.raw, de)
		}
	}

	missing := newTestLambdaSink(t, c, "arn:aws:lambda:us-east-1:123456789012:function:missing")
	_ = missing.Put(ctx, []byte("r"), time.Time{})
	err := missing.Flush(ctx)
	var ae smithy.APIError
	var de *DestinationError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" || !errors.As(err, &de) || !de.Failed[0].Buffered || missing.Stats().Invocations != 1 {
		t.Fatalf("missing function: %v", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := missing.Flush(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}

	if _, err := NewLambdaSink(c, "f", func(o *LambdaSinkOptions) { o.MaxPayloadBytes = MaxLambdaPayloadBytes + 1 }); !errors.As(err, new(*OptionError)) {
		t.Fatalf("MaxPayloadBytes over the limit: %v", err)
	}
	small := newTestLambdaSink(t, c, "f", func(o *LambdaSinkOptions) { o.MaxPayloadBytes = 1000 })
	if err := small.Put(ctx, make([]byte, 1000), time.Time{}); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("row over an invocation: %v", err)
	}
}

// throttledOnce answers the first invocation as Lambda does when the
// function's concurrency is exhausted (429 TooManyRequestsException).
type throttledOnce struct {
	next    http.Handler
	mu      sync.Mutex
	tripped bool
}

func (h *throttledOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	first := !h.tripped
	h.tripped = true
	h.mu.Unlock()
	if first {
		w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"Reason":"ReservedFunctionConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}`)
		return
	}
	h.next.ServeHTTP(w, r)
}

func TestLambdaSinkRetriesThrottledInvocation(t *testing.T) {
	ctx := context.Background()
	srv, c := newLambdaServer(t)
	srv.Config.Handler = &throttledOnce{next: srv.Config.Handler}
	st := &store{seen: map[string]int{}}
	srv.set("kda-dest", st.handle)
	sink := newTestLambdaSink(t, c, "kda-dest")
	_ = sink.Put(ctx, []byte("a"), time.Time{})
	if err := sink.Flush(ctx); err != nil || !slices.Equal(st.rows, []string{"a"}) {
		t.Fatalf("%v, stored %q", err, st.rows)
	}
	for id, h := range srv.hints {
		if !slices.Equal(h, []int{1}) { // the throttled attempt never reached the function
			t.Fatalf("record %s: hints %v", id, h)
		}
	}
	if s := sink.Stats(); s.Invocations != 2 || s.Retried != 1 {
		t.Fatalf("stats %+v", s)
	}
}

// FuzzDecodeDeliveryResponse: whatever a function answers, decoding
// either fails with a *LambdaResponseError or accounts for every record
// sent, once.
func FuzzDecodeDeliveryResponse(f *testing.F) {
	f.Add(`{"records":[{"recordId":"a","result":"Ok"},{"recordId":"b","result":"DeliveryFailed"}]}`)
	f.Add(`{"records":[{"recordId":"a","result":"Ok"}]}`)
	f.Add(`{"records":null}`)
	f.Add(`[]`)
	f.Add(`{"records":[{"recordId":"b","result":"Ok"},{"recordId":"a","result":"Ok"}],"x":1}`)
	f.Fuzz(func(t *testing.T, payload string) {
		ok, err := decodeDeliveryResponse("f", []byte(payload), map[string]int{"a": 0, "b": 1})
		if err != nil {
			var re *LambdaResponseError
			if !errors.As(err, &re) || ok != nil {
				t.Fatalf("error %v of type %T", err, err)
			}
			return
		}
		if len(ok) != 2 {
			t.Fatalf("%d results", len(ok))
		}
	})
}
