package bench

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/internal/sqsceiling"
	"github.com/lakekit/lakekit/sqsbatch"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const (
	n        = 20000
	bodySize = 200
)

func bodies() []string { return sqsceiling.Bodies(n, bodySize) }

func queue(b *testing.B, c *sqs.Client) string {
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(awstest.Name(b, "peer"))})
	if err != nil {
		b.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func drop(c *sqs.Client, url string) {
	_, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: &url})
}

func rawSend(b *testing.B, c *sqs.Client, url string, msgs []string, conc int) float64 {
	rate, err := sqsceiling.Send(context.Background(), c, url, msgs, conc)
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

func rawReceive(b *testing.B, c *sqs.Client, url string, pollers int) float64 {
	rate, err := sqsceiling.Receive(context.Background(), c, url, pollers, n)
	if err != nil {
		b.Fatal(err)
	}
	return rate
}

func node(b *testing.B, script string, args ...string) float64 {
	modules := filepath.Dir(filepath.Dir(awstest.NodeTool(b, "sqs-producer/package.json")))
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("node", append([]string{filepath.Join(filepath.Dir(file), script), modules}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr // Node prints version warnings there
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s: %v\n%s%s", script, err, out, stderr.String())
	}
	var rate float64
	if _, err := fmt.Sscanf(strings.TrimSpace(string(out)), "msgs/s %g", &rate); err != nil {
		b.Fatalf("%s printed %q", script, out)
	}
	return rate
}

func median(xs []float64) float64 { return sqsceiling.Median(xs) }

// BenchmarkPeersProducer: raw SendMessageBatch loop (best of 32/64
// concurrent), the sqsbatch Writer and npm sqs-producer (best of 1 and 32
// concurrent send calls), 20,000 × 200 B each, on one fauxqs.
func BenchmarkPeersProducer(b *testing.B) {
	srv := awstest.Shared(b, awstest.Fauxqs)
	c := srv.SQS()
	msgs := bodies()
	var raw, writer, peer []float64
	for b.Loop() {
		best := 0.0
		for _, conc := range []int{32, 64} {
			url := queue(b, c)
			best = max(best, rawSend(b, c, url, msgs, conc))
			drop(c, url)
		}
		raw = append(raw, best)

		url := queue(b, c)
		w, err := sqsbatch.NewWriter(c, url)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for _, m := range msgs {
			if _, err := w.Send(context.Background(), sqsbatch.Message{Body: m}); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(context.Background()); err != nil {
			b.Fatal(err)
		}
		writer = append(writer, n/time.Since(start).Seconds())
		drop(c, url)

		pbest := 0.0
		for _, conc := range []string{"1", "32"} {
			url := queue(b, c)
			pbest = max(pbest, node(b, "producer.mjs", srv.Endpoint, url, strconv.Itoa(n), strconv.Itoa(bodySize), conc))
			drop(c, url)
		}
		peer = append(peer, pbest)
	}
	b.ReportMetric(median(raw), "raw-msgs/s")
	b.ReportMetric(median(writer), "sqsbatch-msgs/s")
	b.ReportMetric(median(peer), "sqs-producer-msgs/s")
	b.ReportMetric(median(writer)/median(raw), "sqsbatch/raw")
	b.ReportMetric(median(peer)/median(raw), "sqs-producer/raw")
	b.ReportMetric(median(writer)/median(peer), "sqsbatch/sqs-producer")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkPeersConsumer: raw receive + DeleteMessageBatch with 8 pollers,
// the sqsbatch Consumer (8 pollers, 80 workers, no-op handler) and npm
// sqs-consumer (8 consumers, batch handler), 20,000 messages each, on one
// fauxqs.
func BenchmarkPeersConsumer(b *testing.B) {
	srv := awstest.Shared(b, awstest.Fauxqs)
	c := srv.SQS()
	msgs := bodies()
	fill := func() string {
		url := queue(b, c)
		rawSend(b, c, url, msgs, 32)
		return url
	}
	var raw, cons, peer []float64
	for b.Loop() {
		url := fill()
		raw = append(raw, rawReceive(b, c, url, 8))
		drop(c, url)

		url = fill()
		consumer, err := sqsbatch.NewConsumer(c, url, func(context.Context, types.Message) error { return nil },
			func(o *sqsbatch.ConsumerOptions) { o.Pollers = 8; o.Workers = 80 })
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		start := time.Now()
		go func() { done <- consumer.Run(ctx) }()
		for consumer.Stats().Deleted < n {
			time.Sleep(2 * time.Millisecond)
		}
		cons = append(cons, n/time.Since(start).Seconds())
		cancel()
		<-done
		drop(c, url)

		url = fill()
		peer = append(peer, node(b, "consumer.mjs", srv.Endpoint, url, strconv.Itoa(n), "8"))
		drop(c, url)
	}
	b.ReportMetric(median(raw), "raw-msgs/s")
	b.ReportMetric(median(cons), "sqsbatch-msgs/s")
	b.ReportMetric(median(peer), "sqs-consumer-msgs/s")
	b.ReportMetric(median(cons)/median(raw), "sqsbatch/raw")
	b.ReportMetric(median(peer)/median(raw), "sqs-consumer/raw")
	b.ReportMetric(median(cons)/median(peer), "sqsbatch/sqs-consumer")
	b.ReportMetric(0, "ns/op")
}
