package sqsbatch_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/sqsbatch"
)

func TestNewLambdaHandler(t *testing.T) {
	event := func(arn string, bodies ...string) events.SQSEvent {
		var ev events.SQSEvent
		for i, b := range bodies {
			ev.Records = append(ev.Records, events.SQSMessage{
				MessageId: fmt.Sprintf("id-%d", i), ReceiptHandle: "rh", Body: b, EventSourceARN: arn,
				Attributes:        map[string]string{"ApproximateReceiveCount": "1"},
				MessageAttributes: map[string]events.SQSMessageAttribute{"k": {DataType: "String", StringValue: aws.String("v")}},
			})
		}
		return ev
	}
	var (
		mu      sync.Mutex
		handled []string
	)
	h := func(ctx context.Context, m types.Message) error {
		if aws.ToString(m.MessageAttributes["k"].StringValue) != "v" || m.Attributes["ApproximateReceiveCount"] != "1" {
			return errors.New("attributes lost")
		}
		mu.Lock()
		handled = append(handled, aws.ToString(m.Body))
		mu.Unlock()
		if aws.ToString(m.Body) == "bad" {
			return errors.New("bad row")
		}
		return nil
	}
	for _, tc := range []struct {
		name        string
		arn         string
		bodies      []string
		wantFailed  []string
		wantHandled []string
	}{
		{"standard: only the failures", "arn:aws:sqs:us-east-1:000000000000:rows", []string{"a", "bad", "c", "bad"}, []string{"id-1", "id-3"}, []string{"a", "bad", "c", "bad"}},
		{"fifo: stop at the first failure", "arn:aws:sqs:us-east-1:000000000000:rows.fifo", []string{"a", "bad", "c", "d"}, []string{"id-1", "id-2", "id-3"}, []string{"a", "bad"}},
		{"all good", "arn:aws:sqs:us-east-1:000000000000:rows", []string{"a", "b"}, nil, []string{"a", "b"}},
		{"standard, concurrent", "arn:aws:sqs:us-east-1:000000000000:rows", []string{"a", "bad", "c", "bad"}, []string{"id-1", "id-3"}, []string{"a", "bad", "bad", "c"}},
		{"fifo ignores concurrency", "arn:aws:sqs:us-east-1:000000000000:rows.fifo", []string{"a", "bad", "c", "d"}, []string{"id-1", "id-2", "id-3"}, []string{"a", "bad"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			handled = nil
			conc := 1
			if strings.Contains(tc.name, "concurren") {
				conc = 3
			}
			resp, err := sqsbatch.NewLambdaHandler(h, func(o *sqsbatch.LambdaOptions) { o.Concurrency = conc })(context.Background(), event(tc.arn, tc.bodies...))
			if err != nil {
				t.Fatal(err)
			}
			var failed []string
			for _, f := range resp.BatchItemFailures {
				failed = append(failed, f.ItemIdentifier)
			}
			mu.Lock()
			defer mu.Unlock()
			if conc > 1 {
				sort.Strings(handled)
			}
			if fmt.Sprint(failed) != fmt.Sprint(tc.wantFailed) || fmt.Sprint(handled) != fmt.Sprint(tc.wantHandled) {
				t.Fatalf("failed %v handled %v, want %v %v", failed, handled, tc.wantFailed, tc.wantHandled)
			}
		})
	}
}

// TestLambdaIdempotent: the same row delivered in two invocations (SQS
// delivered it twice, or the producer sent it twice) has its effect once.
func TestLambdaIdempotent(t *testing.T) {
	idem := must(sqsbatch.NewIdempotency(&sqsbatch.MemoryStore{}, sqsbatch.KeyFromJSONField("id")))
	effects := map[string]int{}
	h := sqsbatch.NewLambdaHandler(idem.Wrap(func(ctx context.Context, m types.Message) error {
		k, _ := sqsbatch.KeyFromJSONField("id")(m)
		effects[k]++
		return nil
	}))
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "m1", Body: `{"id":"r1"}`}, {MessageId: "m2", Body: `{"id":"r2"}`}, {MessageId: "m3", Body: `{"id":"r1"}`},
	}}
	for range 2 {
		resp, err := h(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatal(resp, err)
		}
	}
	if effects["r1"] != 1 || effects["r2"] != 1 {
		t.Fatalf("effects %v", effects)
	}
	if st := idem.Stats(); st.Applied != 2 || st.Duplicates != 4 {
		t.Fatalf("stats %+v", st)
	}
}
