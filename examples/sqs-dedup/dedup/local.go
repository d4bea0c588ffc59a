package dedup

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/sqsbatch"
)

// Local is the system on local servers.
type Local struct {
	S3       *s3.Client
	SQS      *sqs.Client
	DynamoDB *dynamodb.Client // nil: an in-memory idempotency store
	Rows     int              // rows in the generated CSV; default 2,000
}

// Figures are what a local run did.
type Figures struct {
	CSVRows, UniqueKeys   int // data rows in the CSV; distinct order ids among them
	Malformed             int // rows skipped by the writer (per delivery of the S3 event)
	RowsWritten           int // messages sent, over both deliveries of the S3 event
	Offloaded             int // of which bodies went through S3 (extended-client format)
	Invocations           int // processor invocations
	MessagesProcessed     int // messages handed to the processor
	Applied, Duplicates   int // effects applied; messages suppressed as duplicates
	RetriedLater          int // messages put back because their key was in progress
	DLQ                   int // messages in the dead-letter queue at the end
	Elapsed               time.Duration
	Store                 string
	DuplicateRowsInSource int
}

// GenerateCSV returns a CSV of n orders in the seed's shape, with quoted
// commas and newlines, every 20th row repeated later in the file (the
// producer sends a row twice) and one malformed row. It returns the CSV and
// the number of distinct keys. One row is 1.5 MiB, over SQS's limit.
func GenerateCSV(n int) (data []byte, unique int) {
	var b bytes.Buffer
	b.WriteString("\xEF\xBB\xBForder_id,customer,amount,note\r\n")
	rows := 0
	for i := 0; rows < n; i++ {
		note := "standard"
		if i%50 == 0 {
			note = "\"gift, wrapped\r\nleave at door\""
		}
		line := fmt.Sprintf("ORD-%07d,\"Customer %d\",%d.%02d,%s\r\n", i, i%113, i%900, i%100, note)
		b.WriteString(line)
		rows++
		unique++
		if i%20 == 0 && rows < n {
			b.WriteString(line) // the same order again
			rows++
		}
		if i == n/2 {
			b.WriteString("ORD-BROKEN,\"unterminated, one field short\r\n\"\r\n")
		}
		if i == n/3 && rows < n {
			// Over SQS's 1 MiB: the writer offloads it to S3.
			fmt.Fprintf(&b, "ORD-LARGE,\"Customer large\",1.00,%s\r\n", strings.Repeat("L", 3<<19))
			rows++
			unique++
		}
	}
	return b.Bytes(), unique
}

func randSuffix() string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return hex.EncodeToString(r[:])
}

// Run plays seed system 1 end to end: it uploads a generated CSV to S3,
// delivers the S3 event to the Writer handler twice (S3 notifications are
// at least once), drains the queue through the Processor handler with a
// local event source mapping, and checks the ledger: every key applied
// exactly once.
func (l Local) Run(ctx context.Context) (Figures, error) {
	start := time.Now()
	rows := l.Rows
	if rows <= 0 {
		rows = 2000
	}
	var fig Figures
	sfx := randSuffix()
	bucket := "sqs-dedup-" + sfx
	if _, err := l.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		return fig, err
	}
	dlq, err := l.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("failed-messages-" + sfx)})
	if err != nil {
		return fig, err
	}
	dlqAttrs, err := l.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return fig, err
	}
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqAttrs.Attributes["QueueArn"], "maxReceiveCount": "5"})
	q, err := l.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("to-be-processed-" + sfx), Attributes: map[string]string{
		"VisibilityTimeout": "30", "RedrivePolicy": string(redrive),
	}})
	if err != nil {
		return fig, err
	}
	qAttrs, err := l.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return fig, err
	}

	var store sqsbatch.Store = &sqsbatch.MemoryStore{}
	fig.Store = "in-memory"
	if l.DynamoDB != nil {
		table := "idempotency-" + sfx
		if _, err := l.DynamoDB.CreateTable(ctx, sqsbatch.IdempotencyTableInput(table)); err != nil {
			return fig, err
		}
		if err := dynamodb.NewTableExistsWaiter(l.DynamoDB, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond }).
			Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 30*time.Second); err != nil {
			return fig, err
		}
		store = sqsbatch.NewDynamoStore(l.DynamoDB, table, "")
		fig.Store = "DynamoDB"
	}

	data, unique := GenerateCSV(rows)
	fig.CSVRows, fig.UniqueKeys, fig.DuplicateRowsInSource = rows, unique, rows-unique
	key := "incoming/orders 2026-11-26.csv"
	if _, err := l.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
		return fig, err
	}

	// The Writer Lambda, invoked twice with the same S3 event.
	writer := WriterHandler(l.S3, l.SQS, WriterConfig{QueueURL: aws.ToString(q.QueueUrl), KeyColumn: "order_id", OffloadBucket: bucket})
	ev := events.S3Event{Records: []events.S3EventRecord{{S3: events.S3Entity{
		Bucket: events.S3Bucket{Name: bucket}, Object: events.S3Object{Key: "incoming/orders+2026-11-26.csv"},
	}}}}
	for range 2 {
		sum, err := writer(ctx, ev)
		if err != nil {
			return fig, err
		}
		fig.RowsWritten += sum.Sent
		fig.Offloaded += sum.Offloaded
		fig.Malformed = sum.Malformed
	}

	// The Processor Lambda behind a local event source mapping.
	var mu sync.Mutex
	ledger := map[string]int{}
	idem := sqsbatch.NewIdempotency(store, sqsbatch.KeyFromJSONField("order_id"))
	processor := ProcessorHandler(idem, "order_id", func(ctx context.Context, key string, row map[string]string) error {
		mu.Lock()
		ledger[key]++
		mu.Unlock()
		return nil
	}, &sqsbatch.Resolver{S3: l.S3, Buckets: []string{bucket}}, nil)
	var invokes, handed atomic.Int64
	arn := qAttrs.Attributes["QueueArn"]
	invoke := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		invokes.Add(1)
		handed.Add(int64(len(ev.Records)))
		for i := range ev.Records {
			ev.Records[i].EventSourceARN = arn // the server's, with its region
		}
		return processor(ctx, ev)
	}
	// Lambda's mapping for the Processor: batches of up to 10, eight
	// invocations at once, the queue's 30 s visibility timeout.
	esm := sqsbatch.NewEventSourceMapping(l.SQS, aws.ToString(q.QueueUrl), invoke, func(o *sqsbatch.ConsumerOptions) {
		o.Pollers, o.WaitTime, o.VisibilityTimeout = 8, time.Second, 30*time.Second
	})
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- esm.Run(runCtx) }()
	for {
		if ctx.Err() != nil {
			cancel()
			<-done
			return fig, ctx.Err()
		}
		select {
		case err := <-done: // the mapping stopped by itself
			cancel()
			if err == nil {
				err = errors.New("dedup: event source mapping stopped before the queue drained")
			}
			return fig, err
		default:
		}
		if int(esm.Stats().Processed) >= fig.RowsWritten {
			n, err := depth(ctx, l.SQS, aws.ToString(q.QueueUrl))
			if err != nil {
				cancel()
				<-done
				return fig, err
			}
			if n == 0 {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		return fig, err
	}
	st := idem.Stats()
	fig.Invocations = int(invokes.Load())
	fig.MessagesProcessed = int(handed.Load())
	fig.Applied, fig.Duplicates, fig.RetriedLater = int(st.Applied), int(st.Duplicates), int(st.InProgress)
	d, err := l.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		return fig, err
	}
	fig.DLQ, _ = strconv.Atoi(d.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	fig.Elapsed = time.Since(start)

	for k, n := range ledger {
		if n != 1 {
			return fig, fmt.Errorf("key %s applied %d times", k, n)
		}
	}
	if len(ledger) != unique {
		return fig, fmt.Errorf("%d keys applied, want %d", len(ledger), unique)
	}
	return fig, nil
}

// depth returns the messages visible, in flight or delayed on a queue.
func depth(ctx context.Context, c *sqs.Client, url string) (int, error) {
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url, AttributeNames: []types.QueueAttributeName{
		types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
	}}, sqsbatch.SafeRequestBody)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range out.Attributes {
		i, _ := strconv.Atoi(v)
		n += i
	}
	return n, nil
}
