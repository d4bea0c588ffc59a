package fanout_test

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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy/fanout"
)

// pollUntil runs Poll until it returns; the 30 s bound only detects a hang.
func pollUntil(t *testing.T, c fanout.ReceiveAPI, queueURL string, h fanout.Handler, opts fanout.PollOptions) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := fanout.Poll(ctx, c, queueURL, h, opts)
	if ctx.Err() != nil {
		t.Fatalf("Poll did not stop by itself (returned %v)", err)
	}
	return err
}

func countRecords(n *atomic.Int64) fanout.Handler {
	return func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		n.Add(int64(len(ev.Records)))
		return events.SQSEventResponse{}, nil
	}
}

// flakyProxy forwards to fauxqs after failing the first `fail` receives
// (a 503, then a reset connection, then throttling, in turn).
func flakyProxy(t *testing.T, fail int64) string {
	target, err := url.Parse(awstest.Shared(t, awstest.Fauxqs).Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0)
	var receives atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ReceiveMessage") {
			if n := receives.Add(1) - 1; n < fail {
				switch n % 3 {
				case 0:
					w.WriteHeader(http.StatusServiceUnavailable)
					fmt.Fprint(w, `{"__type":"com.amazonaws.sqs#ServiceUnavailable","message":"injected"}`)
				case 1:
					if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
						conn.Close()
					}
				case 2:
					w.Header().Set("x-amzn-query-error", "RequestThrottled;Sender")
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprint(w, `{"__type":"com.amazonaws.sqs#RequestThrottled","message":"injected"}`)
				}
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPollRetriesTransientErrors: three failed receives in a row are
// retried (the old Poll returned the first, and the callers dropped it, so
// a poller silently stopped), and every message is then handled and
// deleted.
func TestPollRetriesTransientErrors(t *testing.T) {
	sqsc := awstest.SQS(t)
	q := queue(t, sqsc, "blip")
	for i := range 3 {
		var entries []types.SendMessageBatchRequestEntry
		for j := range 10 {
			entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(fmt.Sprint(i*10 + j))})
		}
		if _, err := sqsc.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: &q, Entries: entries}); err != nil {
			t.Fatal(err)
		}
	}
	endpoint := flakyProxy(t, 3)
	pc := awstest.Shared(t, awstest.Fauxqs).SQS(func(o *sqs.Options) { o.BaseEndpoint = &endpoint; o.RetryMaxAttempts = 1 })
	var n atomic.Int64
	err := pollUntil(t, pc, q, countRecords(&n), fanout.PollOptions{IdleExit: 2, MaxFailures: 4})
	if err != nil {
		t.Fatalf("Poll = %v", err)
	}
	if n.Load() != 30 {
		t.Fatalf("%d records handled, want 30", n.Load())
	}
}

// TestPollStops: a missing queue ends Poll at the first receive with a
// permanent *PollError; a closed port after MaxFailures in a row.
func TestPollStops(t *testing.T) {
	sqsc := awstest.SQS(t)
	missing := queue(t, sqsc, "missing") + "-typo"
	var n atomic.Int64
	err := pollUntil(t, sqsc, missing, countRecords(&n), fanout.PollOptions{})
	var pe *fanout.PollError
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &pe) || !pe.Permanent || pe.Failures != 1 || pe.Op != "ReceiveMessage" || !errors.As(err, &qdne) {
		t.Fatalf("missing queue: Poll = %v, want a permanent *PollError", err)
	}
	t.Logf("missing queue: %v", err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	cc := awstest.Shared(t, awstest.Fauxqs).SQS(func(o *sqs.Options) { o.BaseEndpoint = &closed; o.RetryMaxAttempts = 1 })
	err = pollUntil(t, cc, closed+"/000000000000/q", countRecords(&n), fanout.PollOptions{MaxFailures: 3})
	if !errors.As(err, &pe) || pe.Permanent || pe.Failures != 3 {
		t.Fatalf("closed port: Poll = %v, want a transient *PollError after 3 failures", err)
	}
	t.Logf("closed port: %v", err)
}
