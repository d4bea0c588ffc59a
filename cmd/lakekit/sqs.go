package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/sqsbatch"
)

func newSQS(a *app) *cobra.Command {
	c := group(&cobra.Command{Use: "sqs", Short: "Send CSV rows to SQS; inspect and redrive dead-letter queues"})
	dlq := group(&cobra.Command{Use: "dlq", Short: "Inspect and redrive a dead-letter queue"})
	dlq.AddCommand(newDLQInspect(a), newDLQRedrive(a))
	c.AddCommand(newSendCSV(a), dlq)
	return c
}

// isS3URL reports whether a command argument names an S3 object.
func isS3URL(s string) bool { return strings.HasPrefix(s, "s3://") }

// parseS3Object parses s3://bucket/key, which must name an object.
func parseS3Object(s string) (bucket, key string, err error) {
	loc, err := s3copy.ParseLocation(s)
	if err != nil {
		return "", "", usageError{err}
	}
	if loc.Prefix == "" || strings.HasSuffix(loc.Prefix, "/") {
		return "", "", usageError{fmt.Errorf("%s names no object (s3://bucket/key)", s)}
	}
	return loc.Bucket, loc.Prefix, nil
}

// sendCSVSummary is the --json summary of sqs send-csv.
type sendCSVSummary struct {
	Source         string         `json:"source"`
	Queue          string         `json:"queue"`
	Rows           int            `json:"rows"`
	Sent           int            `json:"sent"`
	Offloaded      int            `json:"offloaded"`
	MalformedCount int            `json:"malformed_count"`
	FailedCount    int            `json:"failed_count"`
	Malformed      []rowProblem   `json:"malformed,omitempty"`
	Failed         []failedRecord `json:"failed,omitempty"`
	Stopped        bool           `json:"stopped,omitempty"` // --on-malformed stop ended the run
}

type rowProblem struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

type failedRecord struct {
	Key   string `json:"key"`
	Error string `json:"error"`
}

func newSendCSV(a *app) *cobra.Command {
	var queue, key, onMalformed, keyAttr, offload, owner, delim string
	c := &cobra.Command{
		Use:   "send-csv (s3://BUCKET/KEY.csv | FILE) --queue URL --key COLUMN",
		Short: "Send each row of a CSV as one SQS message (the row as a JSON object)",
		Long: `Send each row of a CSV with a header row to an SQS queue, in batches, as a JSON
object of the row (the body seed system 1's writer sent). COLUMN holds each
row's unique key: the idempotency key of the consumer downstream, echoed in
errors, and sent as a message attribute with --key-attribute; on a FIFO queue
it is each message's deduplication id (a row sent twice within five minutes
is delivered once) and group id. A malformed row
(wrong field count, bare quote, bytes that are not UTF-8, empty key) is
reported by its line and skipped (--on-malformed skip, the default) or ends
the run (--on-malformed stop). Bodies over the queue's limit go through S3
with --offload-bucket (the SQS Extended Client format).

Exit status 1 when a row was malformed or a message could not be sent.`,
		Example: `  lakekit sqs send-csv s3://landing/orders.csv --queue https://sqs.us-east-1.amazonaws.com/123456789012/orders --key order_id
  lakekit --json sqs send-csv orders.csv --queue $QUEUE --key order_id --on-malformed stop`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "queue", "key"); err != nil {
				return err
			}
			onMal, err := parseOnMalformed(onMalformed)
			if err != nil {
				return err
			}
			comma, err := parseDelimiter(delim)
			if err != nil {
				return err
			}
			return a.sendCSV(cmd.Context(), sendCSVArgs{src: args[0], queue: queue, key: key, keyAttr: keyAttr,
				offload: offload, owner: owner, comma: comma, onMalformed: onMal})
		},
	}
	f := c.Flags()
	f.StringVar(&queue, "queue", "", "the queue `URL` (required)")
	f.StringVar(&key, "key", "", "the `COLUMN` holding each row's unique key (required)")
	f.StringVar(&onMalformed, "on-malformed", "skip", "what a malformed row does: skip (report it and go on) or stop")
	f.StringVar(&keyAttr, "key-attribute", "", "also send each row's key as a String message attribute `NAME`")
	f.StringVar(&offload, "offload-bucket", "", "send bodies over the queue's limit through S3 `BUCKET` (Extended Client format)")
	f.StringVar(&owner, "expected-bucket-owner", "", "the account `ID` that must own the source and offload buckets")
	f.StringVar(&delim, "delimiter", ",", "the field delimiter (one character; \\t for tab)")
	return c
}

// requireFlags is a usage error naming the flags of names that were not
// given (cobra's MarkFlagRequired error is untyped: it would exit 1).
func requireFlags(cmd *cobra.Command, names ...string) error {
	var missing []string
	for _, n := range names {
		if !cmd.Flags().Changed(n) {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usageError{fmt.Errorf("required flag(s) %s not set", strings.Join(missing, ", "))}
	}
	return nil
}

// exactArgs is cobra.ExactArgs as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func parseOnMalformed(s string) (sqsbatch.OnMalformed, error) {
	switch s {
	case "skip":
		return sqsbatch.SkipMalformed, nil
	case "stop":
		return sqsbatch.StopOnMalformed, nil
	}
	return 0, usageError{fmt.Errorf("--on-malformed %q: want skip or stop", s)}
}

func parseDelimiter(s string) (rune, error) {
	if s == `\t` {
		return '\t', nil
	}
	r := []rune(s)
	if len(r) != 1 || r[0] == '"' || r[0] == '\n' || r[0] == '\r' {
		return 0, usageError{fmt.Errorf("--delimiter %q: want one character other than a quote or line break", s)}
	}
	return r[0], nil
}

type sendCSVArgs struct {
	src, queue, key, keyAttr, offload, owner string
	comma                                    rune
	onMalformed                              sqsbatch.OnMalformed
}

func (a *app) sendCSV(ctx context.Context, in sendCSVArgs) error {
	var bucket, objKey string
	if isS3URL(in.src) {
		var err error
		if bucket, objKey, err = parseS3Object(in.src); err != nil {
			return err
		}
	}
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	s3c := a.s3Client(cfg)
	csvOpt := func(o *sqsbatch.CSVOptions) { o.KeyColumn, o.Comma = in.key, in.comma }
	var src *sqsbatch.CSVSource
	if bucket != "" {
		src, err = sqsbatch.OpenS3CSV(ctx, s3c, bucket, objKey, in.owner, csvOpt)
	} else {
		var f *os.File
		if f, err = os.Open(in.src); err != nil {
			return err
		}
		defer f.Close()
		src, err = sqsbatch.NewCSV(f, csvOpt)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", in.src, err)
	}
	defer src.Close()
	w, err := sqsbatch.NewWriter(sqs.NewFromConfig(cfg), in.queue, func(o *sqsbatch.WriterOptions) {
		o.KeyAttribute = in.keyAttr
		if in.offload != "" {
			o.Offload = &sqsbatch.Offload{S3: s3c, Bucket: in.offload, Prefix: "offload/", ExpectedBucketOwner: in.owner}
		}
	})
	if err != nil {
		return err
	}
	rep, err := sqsbatch.WriteCSV(ctx, src, w, in.onMalformed)
	if cerr := w.Close(ctx); err == nil {
		err = cerr
	}
	sum := sendCSVSummaryOf(in, rep, err)
	if perr := a.summary(sum, sum.text); perr != nil {
		return perr
	}
	return sendCSVError(sum, err)
}

func sendCSVSummaryOf(in sendCSVArgs, rep *sqsbatch.CSVReport, err error) sendCSVSummary {
	sum := sendCSVSummary{Source: in.src, Queue: in.queue}
	if rep == nil {
		return sum
	}
	sum.Rows, sum.Sent, sum.Offloaded = rep.Rows, rep.Sent, rep.Offloaded
	sum.MalformedCount, sum.FailedCount = rep.MalformedCount, rep.FailedCount
	for _, m := range rep.Malformed {
		sum.Malformed = append(sum.Malformed, rowProblem{Line: m.Line, Error: m.Err.Error()})
	}
	for _, f := range rep.Failed {
		sum.Failed = append(sum.Failed, failedRecord{Key: f.Key, Error: f.Err.Error()})
	}
	var re *sqsbatch.RowError
	sum.Stopped = errors.As(err, &re)
	return sum
}

func (s sendCSVSummary) text(w io.Writer) {
	for _, m := range s.Malformed {
		fmt.Fprintf(w, "%s:%d: malformed row: %s\n", s.Source, m.Line, m.Error)
	}
	for _, f := range s.Failed {
		fmt.Fprintf(w, "row %s not sent: %s\n", f.Key, f.Error)
	}
	fmt.Fprintf(w, "rows %d, sent %d (offloaded %d), malformed %d, failed %d\n", s.Rows, s.Sent, s.Offloaded, s.MalformedCount, s.FailedCount)
}

// sendCSVError is the command's error: the run's own, or a count of the
// problems the summary listed.
func sendCSVError(s sendCSVSummary, err error) error {
	var re *sqsbatch.RowError
	var se *sqsbatch.SendError
	switch {
	case errors.As(err, &re) && !errors.As(err, &se):
		return fmt.Errorf("%s:%d: stopped at a malformed row: %v", s.Source, re.Line, re.Err)
	case err != nil:
		return err
	case s.MalformedCount > 0:
		return fmt.Errorf("%d malformed rows skipped", s.MalformedCount)
	}
	return nil
}

// dlqMessage is one message as dlq inspect prints it.
type dlqMessage struct {
	MessageID    string            `json:"message_id"`
	ReceiveCount int               `json:"receive_count"`
	SentAt       string            `json:"sent_at,omitempty"`
	BodyBytes    int               `json:"body_bytes"`
	Attributes   map[string]string `json:"attributes,omitempty"`         // system attributes
	Message      map[string]string `json:"message_attributes,omitempty"` // message attributes (string and number values)
	Body         *string           `json:"body,omitempty"`               // only with --show-body
}

func newDLQInspect(a *app) *cobra.Command {
	var queue string
	var max int
	var showBody bool
	c := &cobra.Command{
		Use:   "inspect --queue URL",
		Short: "Print a dead-letter queue's messages without removing them",
		Long: `Print up to --max messages of a queue (a dead-letter queue) without deleting
any: each one's id, receive count, sent time, system and message attributes and
body size. Bodies are printed only with --show-body: they may hold personal
data. The messages are received (hidden for the scan) and then made visible
again, which counts toward their receive count: do not point it at a queue
that itself has a redrive policy.`,
		Example: `  lakekit sqs dlq inspect --queue https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq
  lakekit --json sqs dlq inspect --queue $DLQ --max 50 --show-body`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "queue"); err != nil {
				return err
			}
			if max < 1 {
				return usageError{fmt.Errorf("--max %d: want at least 1", max)}
			}
			ctx := cmd.Context()
			cfg, err := a.awsConfig(ctx)
			if err != nil {
				return err
			}
			msgs, err := sqsbatch.InspectDLQ(ctx, sqs.NewFromConfig(cfg), queue, max)
			if err != nil {
				return err
			}
			out := make([]dlqMessage, len(msgs))
			for i, m := range msgs {
				out[i] = dlqMessageOf(m, showBody)
			}
			return a.summary(struct {
				Queue    string       `json:"queue"`
				Messages []dlqMessage `json:"messages"`
			}{queue, out}, func(w io.Writer) { printDLQ(w, out) })
		},
	}
	c.Flags().StringVar(&queue, "queue", "", "the queue `URL` (required)")
	c.Flags().IntVar(&max, "max", 10, "print at most `N` messages")
	c.Flags().BoolVar(&showBody, "show-body", false, "print the message bodies too")
	return c
}

func dlqMessageOf(m types.Message, showBody bool) dlqMessage {
	d := dlqMessage{MessageID: aws.ToString(m.MessageId), BodyBytes: len(aws.ToString(m.Body)), Attributes: map[string]string{}}
	for k, v := range m.Attributes {
		switch k {
		case string(types.MessageSystemAttributeNameApproximateReceiveCount):
			d.ReceiveCount, _ = strconv.Atoi(v)
		case string(types.MessageSystemAttributeNameSentTimestamp):
			if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
				d.SentAt = time.UnixMilli(ms).UTC().Format(time.RFC3339Nano)
			}
		default:
			d.Attributes[k] = v
		}
	}
	if len(d.Attributes) == 0 {
		d.Attributes = nil
	}
	for k, v := range m.MessageAttributes {
		if d.Message == nil {
			d.Message = map[string]string{}
		}
		if v.StringValue != nil {
			d.Message[k] = *v.StringValue
		} else {
			d.Message[k] = fmt.Sprintf("(%s, %d bytes)", aws.ToString(v.DataType), len(v.BinaryValue))
		}
	}
	if showBody {
		d.Body = m.Body
	}
	return d
}

func printDLQ(w io.Writer, msgs []dlqMessage) {
	for _, m := range msgs {
		fmt.Fprintf(w, "%s  received %d times  sent %s  body %d bytes\n", m.MessageID, m.ReceiveCount, m.SentAt, m.BodyBytes)
		printAttrs(w, "attribute", m.Attributes)
		printAttrs(w, "message attribute", m.Message)
		if m.Body != nil {
			fmt.Fprintf(w, "  body: %s\n", *m.Body)
		}
	}
	fmt.Fprintf(w, "%d messages (none removed)\n", len(msgs))
}

func printAttrs(w io.Writer, kind string, attrs map[string]string) {
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %s %s=%s\n", kind, k, attrs[k])
	}
}

// redriveSummary is the --json summary of sqs dlq redrive.
type redriveSummary struct {
	DLQ string `json:"dlq"`
	To  string `json:"to"`
	// TaskHandle is set with --server-side: SQS moves the messages itself.
	TaskHandle string `json:"task_handle,omitempty"`
	Moved      int    `json:"moved"`
	Failed     int    `json:"failed"`
	Undeleted  int    `json:"undeleted"`
}

func newDLQRedrive(a *app) *cobra.Command {
	var queue, to string
	var max int
	var serverSide bool
	c := &cobra.Command{
		Use:   "redrive --queue DLQ [--to URL]",
		Short: "Move a dead-letter queue's messages back to a queue",
		Long: `Move the messages of a dead-letter queue to --to, or, without it, to the one
queue whose redrive policy names the DLQ (ListDeadLetterSourceQueues). Each
batch is received, sent to the target and only then deleted from the DLQ, so
no message is lost; one whose delete fails stays in the DLQ and is sent again
by the next redrive. Bodies, message attributes and FIFO group and
deduplication ids are kept. --server-side starts SQS's own move task instead
(StartMessageMoveTask: back to each message's source queue without --to) and
returns at once; where the server has none (local emulators), the messages are
moved here.

Exit status 1 when a message could not be moved.`,
		Example: `  lakekit sqs dlq redrive --queue https://sqs.us-east-1.amazonaws.com/123456789012/orders-dlq
  lakekit --json sqs dlq redrive --queue $DLQ --to $QUEUE --max 100`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := requireFlags(cmd, "queue"); err != nil {
				return err
			}
			if max < 0 {
				return usageError{fmt.Errorf("--max %d: want 0 (all) or more", max)}
			}
			if max == 0 {
				max = math.MaxInt
			}
			ctx := cmd.Context()
			cfg, err := a.awsConfig(ctx)
			if err != nil {
				return err
			}
			client := sqs.NewFromConfig(cfg)
			if serverSide {
				handle, err := startMoveTask(ctx, client, queue, to)
				if err == nil {
					return a.summary(redriveSummary{DLQ: queue, To: to, TaskHandle: handle}, func(w io.Writer) {
						fmt.Fprintf(w, "started SQS's move task %s (it runs on the server; see aws sqs list-message-move-tasks)\n", handle)
					})
				}
				if !sqsbatch.IsUnsupported(err) {
					return fmt.Errorf("starting the move task of %s: %w", queue, err)
				}
				fmt.Fprintln(a.stderr, "lakekit: the server has no StartMessageMoveTask; moving the messages here")
			}
			if to == "" {
				if to, err = redriveSource(ctx, client, queue); err != nil {
					return err
				}
			}
			rep, err := sqsbatch.Redrive(ctx, client, queue, to, max)
			sum := redriveSummary{DLQ: queue, To: to, Moved: rep.Moved, Failed: rep.Failed, Undeleted: rep.Undeleted}
			if perr := a.summary(sum, func(w io.Writer) {
				fmt.Fprintf(w, "moved %d to %s, failed %d, sent but not deleted %d\n", sum.Moved, sum.To, sum.Failed, sum.Undeleted)
			}); perr != nil {
				return perr
			}
			if err == nil && (rep.Failed > 0 || rep.Undeleted > 0) {
				err = fmt.Errorf("%d messages not moved, %d sent but not deleted from the DLQ", rep.Failed, rep.Undeleted)
			}
			return err
		},
	}
	c.Flags().StringVar(&queue, "queue", "", "the dead-letter queue's `URL` (required)")
	c.Flags().StringVar(&to, "to", "", "the target queue `URL` (default: the queue whose redrive policy names the DLQ)")
	c.Flags().IntVar(&max, "max", 0, "move at most `N` messages (0: all)")
	c.Flags().BoolVar(&serverSide, "server-side", false, "start SQS's move task (StartMessageMoveTask) instead of moving the messages here")
	return c
}

// startMoveTask starts SQS's move task from dlq to the queue to ("" for
// each message's source queue).
func startMoveTask(ctx context.Context, client *sqs.Client, dlq, to string) (string, error) {
	arn := func(url string) (string, error) {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}}, sqsbatch.SafeRequestBody)
		if err != nil {
			return "", err
		}
		return out.Attributes[string(types.QueueAttributeNameQueueArn)], nil
	}
	dlqARN, err := arn(dlq)
	if err != nil {
		return "", err
	}
	toARN := ""
	if to != "" {
		if toARN, err = arn(to); err != nil {
			return "", err
		}
	}
	return sqsbatch.StartMoveTask(ctx, client, dlqARN, toARN)
}

// redriveSource finds the one queue whose redrive policy names dlq: by
// ListDeadLetterSourceQueues, or, on a server without it (local
// emulators), by reading the redrive policy of every queue.
func redriveSource(ctx context.Context, client *sqs.Client, dlq string) (string, error) {
	var sources []string
	out, err := client.ListDeadLetterSourceQueues(ctx, &sqs.ListDeadLetterSourceQueuesInput{QueueUrl: &dlq}, sqsbatch.SafeRequestBody)
	switch {
	case err == nil:
		sources = out.QueueUrls
	case sqsbatch.IsUnsupported(err):
		if sources, err = scanRedriveSources(ctx, client, dlq); err != nil {
			return "", fmt.Errorf("finding the source queue of %s (pass --to): %w", dlq, err)
		}
	default:
		return "", fmt.Errorf("finding the source queue of %s (pass --to): %w", dlq, err)
	}
	switch len(sources) {
	case 1:
		return sources[0], nil
	case 0:
		return "", usageError{fmt.Errorf("no queue has %s as its dead-letter queue: pass --to", dlq)}
	}
	return "", usageError{fmt.Errorf("%d queues have %s as their dead-letter queue (%s): pass --to", len(sources), dlq, strings.Join(sources, ", "))}
}

// scanRedriveSources lists the queues whose RedrivePolicy targets dlq.
func scanRedriveSources(ctx context.Context, client *sqs.Client, dlq string) ([]string, error) {
	arnOf := func(url string) (string, map[string]string, error) {
		out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: &url,
			AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn, types.QueueAttributeNameRedrivePolicy}}, sqsbatch.SafeRequestBody)
		if err != nil {
			return "", nil, err
		}
		return out.Attributes[string(types.QueueAttributeNameQueueArn)], out.Attributes, nil
	}
	dlqARN, _, err := arnOf(dlq)
	if err != nil {
		return nil, err
	}
	var sources []string
	p := sqs.NewListQueuesPaginator(client, &sqs.ListQueuesInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, sqsbatch.SafeRequestBody)
		if err != nil {
			return nil, err
		}
		for _, url := range page.QueueUrls {
			_, attrs, err := arnOf(url)
			if err != nil {
				return nil, err
			}
			var policy struct {
				Target string `json:"deadLetterTargetArn"`
			}
			if json.Unmarshal([]byte(attrs[string(types.QueueAttributeNameRedrivePolicy)]), &policy) == nil && policy.Target == dlqARN {
				sources = append(sources, url)
			}
		}
	}
	return sources, nil
}
