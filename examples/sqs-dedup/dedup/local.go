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
	env, err := l.setUp(ctx)
	if err != nil {
		return fig, err
	}
	store, err := l.store(ctx, env.suffix)
	if err != nil {
		return fig, err
	}
	fig.Store = "in-memory"
	if l.DynamoDB != nil {
		fig.Store = "DynamoDB"
	}

	data, unique := GenerateCSV(rows)
	fig.CSVRows, fig.UniqueKeys, fig.DuplicateRowsInSource = rows, unique, rows-unique
	key := "incoming/orders 2026-11-26.csv"
	if _, err := l.S3.PutObject(ctx, &s3.PutObjectInput{Bucket: &env.bucket, Key: &key, Body: bytes.NewReader(data)}); err != nil {
		return fig, err
	}
	if err := l.write(ctx, env, &fig); err != nil {
		return fig, err
	}
	ledger, err := l.process(ctx, env, store, &fig)
	if err != nil {
		return fig, err
	}
	d, err := l.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &env.dlqURL, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
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

// localEnv is what setUp made: a bucket, the queue and its dead-letter queue.
type localEnv struct {
	suffix, bucket             string
	queueURL, queueARN, dlqURL string
}

// setUp creates the seed's bucket, its dead-letter queue and its queue
// (visibility 30 s, five receives before the DLQ).
func (l Local) setUp(ctx context.Context) (localEnv, error) {
	env := localEnv{suffix: randSuffix()}
	env.bucket = "sqs-dedup-" + env.suffix
	if _, err := l.S3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &env.bucket}); err != nil {
		return env, err
	}
	dlqURL, dlqARN, err := l.createQueue(ctx, "failed-messages-"+env.suffix, nil)
	if err != nil {
		return env, err
	}
	env.dlqURL = dlqURL
	redrive, _ := json.Marshal(map[string]string{"deadLetterTargetArn": dlqARN, "maxReceiveCount": "5"})
	env.queueURL, env.queueARN, err = l.createQueue(ctx, "to-be-processed-"+env.suffix, map[string]string{
		"VisibilityTimeout": "30", "RedrivePolicy": string(redrive),
	})
	return env, err
}

// createQueue creates a queue and returns its URL and ARN.
func (l Local) createQueue(ctx context.Context, name string, attrs map[string]string) (url, arn string, err error) {
	q, err := l.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: &name, Attributes: attrs})
	if err != nil {
		return "", "", err
	}
	a, err := l.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", err
	}
	return aws.ToString(q.QueueUrl), a.Attributes["QueueArn"], nil
}

// store returns the idempotency store: a DynamoDB table when l has a
// DynamoDB client, else process memory.
func (l Local) store(ctx context.Context, suffix string) (sqsbatch.Store, error) {
	if l.DynamoDB == nil {
		return sqsbatch.NewMemoryStore(), nil
	}
	table := "idempotency-" + suffix
	if _, err := l.DynamoDB.CreateTable(ctx, sqsbatch.IdempotencyTableInput(table)); err != nil {
		return nil, err
	}
	if err := dynamodb.NewTableExistsWaiter(l.DynamoDB, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 50 * time.Millisecond }).
		Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 30*time.Second); err != nil {
		return nil, err
	}
	return sqsbatch.NewDynamoStore(l.DynamoDB, table)
}

// write invokes the Writer Lambda twice with the same S3 event.
func (l Local) write(ctx context.Context, env localEnv, fig *Figures) error {
	writer := WriterHandler(l.S3, l.SQS, WriterConfig{QueueURL: env.queueURL, KeyColumn: "order_id", OffloadBucket: env.bucket})
	ev := events.S3Event{Records: []events.S3EventRecord{{S3: events.S3Entity{
		Bucket: events.S3Bucket{Name: env.bucket}, Object: events.S3Object{Key: "incoming/orders+2026-11-26.csv"},
	}}}}
	for range 2 {
		sum, err := writer(ctx, ev)
		if err != nil {
			return err
		}
		fig.RowsWritten += sum.Sent
		fig.Offloaded += sum.Offloaded
		fig.Malformed = sum.Malformed
	}
	return nil
}

// process runs the Processor Lambda behind a local event source mapping
// until the queue is drained, and returns how often each key was applied.
func (l Local) process(ctx context.Context, env localEnv, store sqsbatch.Store, fig *Figures) (map[string]int, error) {
	var mu sync.Mutex
	ledger := map[string]int{}
	idem, err := sqsbatch.NewIdempotency(store, sqsbatch.KeyFromJSONField("order_id"))
	if err != nil {
		return nil, err
	}
	resolver, err := sqsbatch.NewResolver(l.S3, []string{env.bucket})
	if err != nil {
		return nil, err
	}
	processor := ProcessorHandler(idem, "order_id", func(ctx context.Context, key string, row map[string]string) error {
		mu.Lock()
		ledger[key]++
		mu.Unlock()
		return nil
	}, resolver, nil)
	var invokes, handed atomic.Int64
	invoke := func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		invokes.Add(1)
		handed.Add(int64(len(ev.Records)))
		for i := range ev.Records {
			ev.Records[i].EventSourceARN = env.queueARN // the server's, with its region
		}
		return processor(ctx, ev)
	}
	// Lambda's mapping for the Processor: batches of up to 10, eight
	// invocations at once, the queue's 30 s visibility timeout.
	esm, err := sqsbatch.NewEventSourceMapping(l.SQS, env.queueURL, invoke, func(o *sqsbatch.ConsumerOptions) {
		o.Pollers, o.WaitTime, o.VisibilityTimeout = 8, time.Second, 30*time.Second
	})
	if err != nil {
		return nil, err
	}
	if err := l.runUntilDrained(ctx, esm, env.queueURL, fig.RowsWritten); err != nil {
		return nil, err
	}
	st := idem.Stats()
	fig.Invocations = int(invokes.Load())
	fig.MessagesProcessed = int(handed.Load())
	fig.Applied, fig.Duplicates, fig.RetriedLater = int(st.Applied), int(st.Duplicates), int(st.InProgress)
	return ledger, nil
}

// runUntilDrained runs c until it has processed at least want messages and
// the queue is empty, then shuts it down.
func (l Local) runUntilDrained(ctx context.Context, c *sqsbatch.Consumer, queueURL string, want int) error {
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- c.Run(runCtx) }()
	stop := func(err error) error {
		cancel()
		<-done
		return err
	}
	for {
		if ctx.Err() != nil {
			return stop(ctx.Err())
		}
		select {
		case err := <-done: // the mapping stopped by itself
			if err == nil {
				err = errors.New("dedup: event source mapping stopped before the queue drained")
			}
			return err
		default:
		}
		if int(c.Stats().Processed) >= want {
			n, err := depth(ctx, l.SQS, queueURL)
			if err != nil {
				return stop(err)
			}
			if n == 0 {
				cancel()
				return <-done
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
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
