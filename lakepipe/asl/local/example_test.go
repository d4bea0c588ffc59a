package local_test

import (
	"context"
	"fmt"
	"time"

	"github.com/lakekit/lakekit/lakepipe/asl"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
)

// TransferIncompleteError is what a Go Lambda returns while a copy is not
// there yet; Step Functions sees its type name.
type TransferIncompleteError struct{ Missing int }

func (e *TransferIncompleteError) Error() string { return fmt.Sprintf("%d missing", e.Missing) }

func ExampleRunner() {
	const fn = "arn:aws:lambda:us-west-2:123456789012:function:transfer-status"
	m := &asl.StateMachine{StartAt: "Verify"}
	m.Add("Verify", &asl.Task{
		Resource: fn,
		Retry: []asl.Retrier{{ErrorEquals: []string{"TransferIncompleteError"},
			IntervalSeconds: 30, BackoffRate: 2, MaxAttempts: asl.Int(5)}},
		Transition: asl.Transition{End: true},
	})
	clock := local.NewVirtualClock(time.Date(2019, 8, 21, 0, 0, 0, 0, time.UTC))
	r, err := local.New(m, func(o *local.RunnerOptions) { o.Now, o.Sleep = clock.Now, clock.Sleep })
	if err != nil {
		panic(err)
	}
	calls := 0
	r.Handle(fn, local.Func(func(ctx context.Context, in struct{ Year string }) (map[string]int, error) {
		if calls++; calls < 4 {
			return nil, &TransferIncompleteError{Missing: 1}
		}
		return map[string]int{"objects": 1}, nil
	}))
	ex, err := r.Run(context.Background(), "20190821-ab", []byte(`{"Year":"2019"}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(ex.Status, string(ex.Output))
	fmt.Println("waited", clock.Sleeps())
	// Output:
	// SUCCEEDED {"objects":1}
	// waited [30s 1m0s 2m0s]
}
