package intake_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/s3copy/s3test"
	"github.com/lakekit/lakekit/sqsbatch"
	"github.com/lakekit/lakekit/sqsbatch/sqstest"

	"example.com/kit-user/intake"
)

// newIntake gives the code under test an S3 (gofakes3, in process), an SQS
// queue (fauxqs) and a DynamoDB table (dynalite), all on 127.0.0.1 and
// stopped when the test ends.
func newIntake(t *testing.T) (*intake.Intake, *s3test.Server, string) {
	t.Helper()
	s3srv := s3test.New(t)
	sqsSrv := sqstest.New(t)
	ddb := sqstest.NewDynamoDB(t)
	in := &intake.Intake{S3: s3srv.Client, SQS: sqsSrv.SQS, DynamoDB: ddb.Client, Table: "forwarded", QueueURL: sqsSrv.NewQueue(t, nil)}
	ctx := context.Background()
	if _, err := ddb.Client.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: &in.Table, BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("file"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("file"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	if err := dynamodb.NewTableExistsWaiter(ddb.Client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: &in.Table}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return in, s3srv, s3srv.NewBucket(t)
}

func put(t *testing.T, c *s3.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

// drain receives every message on the queue.
func drain(t *testing.T, c *sqs.Client, queue string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: &queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
		}
	}
}

func TestForwardSendsEveryRowOnce(t *testing.T) {
	ctx := context.Background()
	in, s3srv, bucket := newIntake(t)
	put(t, s3srv.Client, bucket, "incoming/orders.csv", "id,item,qty\n1,apples,3\n2,pears,1\n3,\"figs, dried\",12\n")

	n, err := in.Forward(ctx, bucket, "incoming/orders.csv")
	if err != nil || n != 3 {
		t.Fatalf("Forward: %d rows, %v", n, err)
	}
	got := drain(t, in.SQS, in.QueueURL)
	want := map[string]bool{
		`{"id": "1", "item": "apples", "qty": "3"}`:       true,
		`{"id": "2", "item": "pears", "qty": "1"}`:        true,
		`{"id": "3", "item": "figs, dried", "qty": "12"}`: true,
	}
	for _, b := range got {
		if !want[b] {
			t.Errorf("unexpected message %s", b)
		}
		delete(want, b)
	}
	if len(want) > 0 {
		t.Errorf("never sent: %v", want)
	}

	// The same file again (a duplicate S3 event): nothing is sent.
	if _, err := in.Forward(ctx, bucket, "incoming/orders.csv"); !errors.Is(err, intake.ErrSeen) {
		t.Fatalf("second Forward: %v", err)
	}
	if again := drain(t, in.SQS, in.QueueURL); len(again) != 0 {
		t.Fatalf("sent again: %q", again)
	}
}

func TestForwardMalformedRowCanBeRetried(t *testing.T) {
	ctx := context.Background()
	in, s3srv, bucket := newIntake(t)
	put(t, s3srv.Client, bucket, "incoming/bad.csv", "id,item\n1,apples\n2,pears,extra\n")

	_, err := in.Forward(ctx, bucket, "incoming/bad.csv")
	var rowErr *sqsbatch.RowError
	if !errors.As(err, &rowErr) || rowErr.Line != 3 {
		t.Fatalf("Forward: %v; want a RowError on line 3", err)
	}
	if sent := drain(t, in.SQS, in.QueueURL); len(sent) != 0 {
		t.Fatalf("a file with a bad row sent %q", sent)
	}
	// Fixed and delivered again: it goes through.
	put(t, s3srv.Client, bucket, "incoming/bad.csv", "id,item\n1,apples\n2,pears\n")
	if n, err := in.Forward(ctx, bucket, "incoming/bad.csv"); err != nil || n != 2 {
		t.Fatalf("retry: %d rows, %v", n, err)
	}
}
