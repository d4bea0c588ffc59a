// Command kdadest is a KDA Lambda destination for the deploycheck tests:
// it answers DeliveryFailed the first time it sees a record whose data
// starts with "flaky", Ok otherwise, and prints "delivered <data>" for
// each row it answers Ok for (test data only: a real destination would
// not log rows).
package main

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	var mu sync.Mutex
	seen := map[string]int{}
	lambda.Start(func(_ context.Context, ev events.KinesisAnalyticsOutputDeliveryEvent) (events.KinesisAnalyticsOutputDeliveryResponse, error) {
		mu.Lock()
		defer mu.Unlock()
		var resp events.KinesisAnalyticsOutputDeliveryResponse
		for _, r := range ev.Records {
			seen[r.RecordID]++
			res := events.KinesisAnalyticsOutputDeliveryOK
			if strings.HasPrefix(string(r.Data), "flaky") && seen[r.RecordID] == 1 {
				res = events.KinesisAnalyticsOutputDeliveryFailed
			} else {
				fmt.Printf("delivered %s\n", r.Data)
			}
			resp.Records = append(resp.Records, events.KinesisAnalyticsOutputDeliveryResponseRecord{RecordID: r.RecordID, Result: res})
		}
		return resp, nil
	})
}
