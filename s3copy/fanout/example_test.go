package fanout_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
	"github.com/lakekit/lakekit/sqsbatch"
)

// Example copies a tree through the fan-out, with the masters and workers
// run on this machine by sqsbatch.NewEventSourceMapping (in AWS, by
// Lambda's event source mappings), and waits for Status to say Done.
func Example() {
	ctx := context.Background()
	s3srv := awstest.StartS3() // local S3 and SQS; use s3.NewFromConfig(cfg), sqs.NewFromConfig(cfg) against AWS
	defer s3srv.Close()
	sqsSrv, err := awstest.Start(ctx, awstest.Fauxqs)
	if err != nil {
		panic(err)
	}
	defer sqsSrv.Close()
	s3c, sqsc := s3srv.S3(), sqsSrv.SQS()
	s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lake")})
	for _, k := range []string{"raw/sales/dt=2024-01-01/a.csv", "raw/sales/dt=2024-01-02/b.csv", "raw/users/u.csv"} {
		s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lake"), Key: aws.String(k), Body: strings.NewReader("x")})
	}
	var queues []string
	for _, name := range []string{"shards", "tasks"} {
		q, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
		if err != nil {
			panic(err)
		}
		queues = append(queues, aws.ToString(q.QueueUrl))
	}

	copier, err := s3copy.New(s3c)
	if err != nil {
		panic(err)
	}
	f, err := fanout.New(s3c, sqsc, copier, queues[0], queues[1], func(o *fanout.FanoutOptions) {
		o.StatusLocation = s3copy.Location{Bucket: "lake", Prefix: "_jobs/"}
	})
	if err != nil {
		panic(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i, h := range []sqsbatch.BatchHandler{f.HandleShards, f.HandleTasks} {
		esm, err := sqsbatch.NewEventSourceMapping(sqsc, queues[i], h)
		if err != nil {
			panic(err)
		}
		wg.Go(func() { _ = esm.Run(runCtx) })
	}

	job := fanout.Job{ID: "job-1", Src: s3copy.Location{Bucket: "lake", Prefix: "raw/"}, Dst: s3copy.Location{Bucket: "lake", Prefix: "processed/"}}
	if err := f.Start(ctx, job); err != nil {
		panic(err)
	}
	var st fanout.Status
	for !st.Done {
		time.Sleep(50 * time.Millisecond)
		if st, err = f.Status(ctx, job.ID); err != nil {
			panic(err)
		}
	}
	stop()
	wg.Wait()
	fmt.Printf("done: %d listed, %d copied, %d failed\n", st.ObjectsListed, st.Copied, st.Failed)
	// Output:
	// done: 3 listed, 3 copied, 0 failed
}
