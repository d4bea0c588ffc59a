package dedup_test

import (
	"context"
	"testing"

	"github.com/lakekit/lakekit/examples/sqs-dedup/dedup"
	"github.com/lakekit/lakekit/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestLocalRun plays the example end to end on local servers; Run itself
// fails unless every order was applied exactly once.
func TestLocalRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dynamo bool
	}{{"memory", false}, {"dynamodb", true}} {
		t.Run(tc.name, func(t *testing.T) {
			l := dedup.Local{S3: awstest.S3(t), SQS: awstest.SQS(t), Rows: 600}
			if tc.dynamo {
				l.DynamoDB = awstest.DynamoDB(t)
			}
			f, err := l.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", f)
			if f.Applied != f.UniqueKeys || f.RowsWritten != 2*f.CSVRows || f.Malformed != 1 || f.DLQ != 0 || f.Offloaded != 2 ||
				f.Duplicates != f.MessagesProcessed-f.Applied-f.RetriedLater {
				t.Fatalf("figures %+v", f)
			}
		})
	}
}
