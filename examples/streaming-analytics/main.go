// Command streaming-analytics runs seed system 3 on this machine: the KDG
// template generates sensor readings, a Producer puts them into a
// kinesis-local stream, a polling Consumer feeds the post's KDA SQL
// application (package kda's engine), and two Firehose-style deliveries
// write the anomaly and output rows to an in-process S3 (gofakes3). It
// prints the counts per output and the S3 keys written.
//
//	go run ./examples/streaming-analytics -n 2000
//
// The Lambda version of the same application is in lambda/app.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakekit/lakekit/examples/streaming-analytics/seed"
	"github.com/lakekit/lakekit/internal/awstest"
)

func main() {
	n := flag.Int("n", 2000, "records to generate")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, *n)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "streaming-analytics:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, n int) error {
	kin, err := awstest.Start(ctx, awstest.KinesisLocal)
	if err != nil {
		return err
	}
	defer kin.Close()
	s3srv := awstest.StartS3()
	defer s3srv.Close()
	s3c := s3srv.S3()
	bucket := "streaming-analytics"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		return err
	}
	if err := seed.PrefixDemo(os.Stdout); err != nil {
		return err
	}
	rep, err := seed.RunLocal(ctx, seed.LocalClients{Kinesis: kin.Kinesis(), S3: s3c, Bucket: bucket},
		fmt.Sprintf("sensors-%d", time.Now().UnixNano()), n, uint64(time.Now().UnixNano()))
	if err != nil {
		return err
	}
	rep.Print(os.Stdout)
	return nil
}
