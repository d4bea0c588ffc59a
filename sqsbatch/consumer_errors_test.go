package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// runUntilError runs cons and returns what Run returned; the 30 s bound
// only detects a hang (the old Run never returned on its own).
func runUntilError(t *testing.T, cons *sqsbatch.Consumer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := cons.Run(ctx)
	if ctx.Err() != nil {
		t.Fatalf("Run did not stop by itself (returned %v after the hang bound); stats %+v", err, cons.Stats())
	}
	return err
}

func nop(context.Context, types.Message) error { return nil }

// TestConsumerWrongQueueURLStops: a queue URL that names no queue on the
// server ends Run at once with a permanent *ReceiveError (the old Run spun
// until its context ended and returned nil).
func TestConsumerWrongQueueURLStops(t *testing.T) {
	c := awstest.SQS(t)
	url := newQueue(t, c, "wrong", nil) + "-typo"
	cons := must(sqsbatch.NewConsumer(c, url, nop, func(o *sqsbatch.ConsumerOptions) { o.WaitTime = time.Second }))
	err := runUntilError(t, cons)
	var re *sqsbatch.ReceiveError
	if !errors.As(err, &re) || !re.Permanent || re.QueueURL != url {
		t.Fatalf("Run = %v, want a permanent *ReceiveError", err)
	}
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("Run = %v does not unwrap to *types.QueueDoesNotExist", err)
	}
	st := cons.Stats()
	if st.ReceiveErrors < 1 || st.ReceiveErrors > sqsbatch.DefaultPollers || st.InFlight != 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("code %q; error: %v", re.Code, err)
}

// TestConsumerInvalidQueueURL: what cannot be a queue URL fails before any
// call.
func TestConsumerInvalidQueueURL(t *testing.T) {
	c := awstest.SQS(t)
	for _, u := range []string{"", "my-queue", "sqs.us-east-1.amazonaws.com/123456789012/q", "https://sqs.us-east-1.amazonaws.com/", "http://[::1", "arn:aws:sqs:us-east-1:123456789012:q"} {
		cons := must(sqsbatch.NewConsumer(c, u, nop))
		err := runUntilError(t, cons)
		var re *sqsbatch.ReceiveError
		if !errors.Is(err, sqsbatch.ErrInvalidQueueURL) || !errors.As(err, &re) || !re.Permanent {
			t.Errorf("%q: Run = %v, want ErrInvalidQueueURL in a permanent *ReceiveError", u, err)
		}
		if n := cons.Stats().ReceiveCalls; n != 0 {
			t.Errorf("%q: %d receive calls", u, n)
		}
	}
}

// TestConsumerClosedPortGivesUp: connection refused is transient: retried
// with backoff, and MaxReceiveFailures in a row end Run.
func TestConsumerClosedPortGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close()
	srv := awstest.Shared(t, awstest.Fauxqs)
	c := srv.SQS(func(o *sqs.Options) { o.BaseEndpoint = &endpoint; o.RetryMaxAttempts = 1 })
	cons := must(sqsbatch.NewConsumer(c, endpoint+"/000000000000/q", nop, func(o *sqsbatch.ConsumerOptions) {
		o.Pollers = 1
		o.MaxReceiveFailures = 4
	}))
	err = runUntilError(t, cons)
	var re *sqsbatch.ReceiveError
	if !errors.As(err, &re) || re.Permanent || re.Failures != 4 || re.Code != "" {
		t.Fatalf("Run = %v (%+v), want a transient *ReceiveError after 4 failures", err, re)
	}
	var op *net.OpError
	if !errors.As(err, &op) {
		t.Fatalf("Run = %v does not unwrap to *net.OpError", err)
	}
	if st := cons.Stats(); st.ReceiveErrors != 4 || st.ReceiveCalls != 4 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("error: %v", err)
}

// faultProxy forwards to fauxqs, except that fault, called with the
// operation name and how many calls of it came before, may answer instead
// (returning true).
func faultProxy(t *testing.T, fault func(w http.ResponseWriter, op string, n int) bool) (endpoint string) {
	t.Helper()
	target, err := url.Parse(awstest.Shared(t, awstest.Fauxqs).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a client going away mid-poll is expected
	counts := map[string]*atomic.Int64{"ReceiveMessage": {}, "DeleteMessageBatch": {}, "ChangeMessageVisibilityBatch": {}, "SendMessageBatch": {}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := r.Header.Get("X-Amz-Target")
		if i := len("AmazonSQS."); len(op) > i {
			op = op[i:]
		}
		if n, ok := counts[op]; ok && fault(w, op, int(n.Add(1)-1)) {
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func awsError(w http.ResponseWriter, status int, code, queryCode string) {
	if queryCode != "" {
		w.Header().Set("x-amzn-query-error", queryCode+";Sender")
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"injected %s"}`, code, code)
}

// resetConn drops the connection without an answer.
func resetConn(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		conn.Close()
	}
}

// TestConsumerRecoversFromTransientBlip: three failed receives in a row
// (a 503, a reset connection, throttling) are retried, and every message is
// then processed once.
func TestConsumerRecoversFromTransientBlip(t *testing.T) {
	c := awstest.SQS(t)
	queue := newQueue(t, c, "blip", nil)
	sendN(t, c, queue, 50, func(i int) string { return "m" + strconv.Itoa(i) })
	endpoint := faultProxy(t, func(w http.ResponseWriter, op string, n int) bool {
		if op != "ReceiveMessage" {
			return false
		}
		switch n {
		case 0:
			awsError(w, 503, "ServiceUnavailable", "")
		case 1:
			resetConn(w)
		case 2:
			awsError(w, 400, "RequestThrottled", "RequestThrottled")
		default:
			return false
		}
		return true
	})
	pc := awstest.Shared(t, awstest.Fauxqs).SQS(func(o *sqs.Options) { o.BaseEndpoint = &endpoint; o.RetryMaxAttempts = 1 })
	var handled atomic.Int64
	cons := must(sqsbatch.NewConsumer(pc, queue, func(context.Context, types.Message) error { handled.Add(1); return nil },
		func(o *sqsbatch.ConsumerOptions) { o.Pollers = 1; o.WaitTime = time.Second; o.MaxReceiveFailures = 4 }))
	runConsumer(t, cons, func() bool { return cons.Stats().Deleted == 50 })
	st := cons.Stats()
	if st.ReceiveErrors != 3 || st.Processed != 50 || handled.Load() != 50 || st.InFlight != 0 {
		t.Fatalf("stats %+v, handled %d", st, handled.Load())
	}
	if n := queueDepth(t, c, queue); n != 0 {
		t.Fatalf("%d messages left", n)
	}
}

// TestConsumerPermanentErrorsStop: each error that retrying cannot fix ends
// Run at the first receive, with the code; a permanent DeleteMessageBatch
// failure ends it with a *DeleteError.
func TestConsumerPermanentErrorsStop(t *testing.T) {
	c := awstest.SQS(t)
	queue := newQueue(t, c, "denied", nil)
	for _, tc := range []struct {
		status          int
		code, queryCode string
	}{
		{400, "AccessDeniedException", "AccessDenied"},
		{403, "InvalidClientTokenId", ""},
		{400, "UnrecognizedClientException", ""},
		{403, "SignatureDoesNotMatch", ""},
		{403, "IncompleteSignature", ""},
		{400, "KmsAccessDenied", "KMS.AccessDeniedException"},
		{400, "KmsDisabled", "KMS.DisabledException"},
		{400, "KmsNotFound", "KMS.NotFoundException"},
	} {
		t.Run(tc.code, func(t *testing.T) {
			endpoint := faultProxy(t, func(w http.ResponseWriter, op string, _ int) bool {
				awsError(w, tc.status, tc.code, tc.queryCode)
				return true
			})
			pc := awstest.Shared(t, awstest.Fauxqs).SQS(func(o *sqs.Options) { o.BaseEndpoint = &endpoint })
			cons := must(sqsbatch.NewConsumer(pc, queue, nop, func(o *sqsbatch.ConsumerOptions) { o.Pollers = 1 }))
			err := runUntilError(t, cons)
			want := tc.code
			if tc.queryCode != "" {
				want = tc.queryCode
			}
			var re *sqsbatch.ReceiveError
			if !errors.As(err, &re) || !re.Permanent || re.Code != want || re.Failures != 1 {
				t.Fatalf("Run = %v (%+v), want a permanent *ReceiveError with code %s", err, re, want)
			}
			if n := cons.Stats().ReceiveCalls; n != 1 {
				t.Fatalf("%d receive calls", n)
			}
		})
	}
	t.Run("DeleteAccessDenied", func(t *testing.T) {
		sendN(t, c, queue, 5, func(i int) string { return "d" + strconv.Itoa(i) })
		endpoint := faultProxy(t, func(w http.ResponseWriter, op string, _ int) bool {
			if op != "DeleteMessageBatch" {
				return false
			}
			awsError(w, 400, "AccessDeniedException", "AccessDenied")
			return true
		})
		pc := awstest.Shared(t, awstest.Fauxqs).SQS(func(o *sqs.Options) { o.BaseEndpoint = &endpoint })
		cons := must(sqsbatch.NewConsumer(pc, queue, nop, func(o *sqsbatch.ConsumerOptions) { o.Pollers = 1; o.WaitTime = time.Second }))
		err := runUntilError(t, cons)
		var de *sqsbatch.DeleteError
		if !errors.As(err, &de) || de.Code != "AccessDenied" || de.Entries < 1 {
			t.Fatalf("Run = %v, want a *DeleteError", err)
		}
		t.Logf("error: %v", err)
	})
}
