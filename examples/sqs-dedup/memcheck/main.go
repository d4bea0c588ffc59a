// Command memcheck measures the peak resident memory of writing a large CSV
// from S3 to SQS with sqsbatch: it generates a CSV of -mb megabytes on disk,
// uploads it to s3rver (a separate, disk-backed process), streams it back
// with OpenS3CSV through a Writer to fauxqs (purged every second so the
// emulator does not hold the data), and prints the process's peak RSS
// (VmHWM from /proc/self/status) next to the rows and bytes written.
//
//	go run ./examples/sqs-dedup/memcheck -mb 500
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

func main() {
	mb := flag.Int("mb", 500, "CSV size in MB")
	rowBytes := flag.Int("row", 4096, "approximate bytes per row")
	flag.Parse()
	if err := run(context.Background(), *mb, *rowBytes); err != nil {
		fmt.Fprintln(os.Stderr, "memcheck:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, mb, rowBytes int) error {
	dir, err := os.MkdirTemp("", "memcheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "big.csv")
	size, rows, err := generate(path, int64(mb)*1e6, rowBytes)
	if err != nil {
		return err
	}
	fmt.Printf("generated %s: %d rows, %.1f MB; RSS so far %s\n", path, rows, float64(size)/1e6, hwm())

	s3srv, err := awstest.Start(ctx, awstest.S3rver)
	if err != nil {
		return err
	}
	defer s3srv.Close()
	q, err := awstest.Start(ctx, awstest.Fauxqs)
	if err != nil {
		return err
	}
	defer q.Close()
	s3c, sqsc := s3srv.S3(), q.SQS()
	const bucket, key = "memcheck", "big.csv"
	if err := upload(ctx, s3c, bucket, key, path, size); err != nil {
		return err
	}
	qo, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("memcheck")})
	if err != nil {
		return err
	}
	defer purgeEverySecond(ctx, sqsc, aws.ToString(qo.QueueUrl))()
	if err := write(ctx, s3c, sqsc, bucket, key, aws.ToString(qo.QueueUrl)); err != nil {
		return err
	}
	fmt.Printf("peak RSS of this process (VmHWM): %s\n", hwm())
	return nil
}

// upload puts the file at path to bucket/key.
func upload(ctx context.Context, s3c *s3.Client, bucket, key, path string, size int64) error {
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: f, ContentLength: aws.Int64(size)}); err != nil {
		return err
	}
	fmt.Printf("uploaded to s3rver in %s; RSS so far %s\n", time.Since(start).Round(time.Millisecond), hwm())
	return nil
}

// purgeEverySecond purges the queue every second, so that the emulator
// does not hold the data, until the function it returns is called.
func purgeEverySecond(ctx context.Context, sqsc *sqs.Client, queueURL string) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_, _ = sqsc.PurgeQueue(ctx, &sqs.PurgeQueueInput{QueueUrl: aws.String(queueURL)})
			}
		}
	}()
	return func() { close(done) }
}

// write streams bucket/key's CSV rows to the queue with a Writer and
// prints what it sent.
func write(ctx context.Context, s3c *s3.Client, sqsc *sqs.Client, bucket, key, queueURL string) error {
	start := time.Now()
	src, err := sqsbatch.OpenS3CSV(ctx, s3c, bucket, key, "", func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id" })
	if err != nil {
		return err
	}
	defer src.Close()
	w, err := sqsbatch.NewWriter(sqsc, queueURL)
	if err != nil {
		return err
	}
	rep, err := sqsbatch.WriteCSV(ctx, src, w, sqsbatch.SkipMalformed)
	if err != nil {
		return err
	}
	if err := w.Close(ctx); err != nil {
		return err
	}
	el := time.Since(start)
	st := w.Stats()
	fmt.Printf("written: %d rows, %d sent, %d failed, %d malformed, %.1f MB of payload in %d requests, %s (%.0f msg/s, %.1f MB/s)\n",
		rep.Rows, rep.Sent, rep.FailedCount, rep.MalformedCount, float64(st.Bytes)/1e6, st.Requests, el.Round(time.Millisecond),
		float64(rep.Sent)/el.Seconds(), float64(st.Bytes)/1e6/el.Seconds())
	return nil
}

// generate writes a CSV of about target bytes with rows of about rowBytes,
// some fields quoted with commas and newlines.
func generate(path string, target int64, rowBytes int) (int64, int, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, 0, err
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	n, _ := bw.WriteString("id,customer,note,payload\n")
	size := int64(n)
	pad := strings.Repeat("p", rowBytes)
	rows := 0
	for size < target {
		line := fmt.Sprintf("row-%09d,\"Customer %d\",\"line one, with comma\nline two\",%s\n", rows, rows%1000, pad[:max(1, rowBytes-64)])
		n, err := bw.WriteString(line)
		if err != nil {
			return 0, 0, err
		}
		size += int64(n)
		rows++
	}
	if err := bw.Flush(); err != nil {
		return 0, 0, err
	}
	return size, rows, f.Close()
}

func hwm() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}
