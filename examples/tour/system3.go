package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakekit/lakekit/examples/streaming-analytics/seed"
	"github.com/lakekit/lakekit/examples/streaming-analytics/tickers"
	"github.com/lakekit/lakekit/internal/awstest"
)

// system3 runs seed system 3: KDG template → kinesis-local → the post's KDA
// SQL pumps (package kda) → Firehose-style deliveries → S3; then the
// ticker-analytics application, imported from its describe-application
// JSON, replayed over generated demo records, printing its output rows.
func system3(ctx context.Context, env *env, out io.Writer) error {
	kin, err := env.Node(ctx, awstest.KinesisLocal)
	if err != nil {
		return err
	}
	s3c := env.S3().S3()
	bucket := fmt.Sprintf("tour-streaming-%d", time.Now().UnixNano())
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		return err
	}
	if err := seed.PrefixDemo(out); err != nil {
		return err
	}
	rep, err := seed.RunLocal(ctx, seed.LocalClients{Kinesis: kin.Kinesis(), S3: s3c, Bucket: bucket},
		fmt.Sprintf("tour-sensors-%d", time.Now().UnixNano()), 1000, 2026)
	if err != nil {
		return err
	}
	rep.Print(out)
	// The second application: a described KDA app replayed unchanged.
	res, err := tickers.Run(ctx, tickers.Records(120, 2026, time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)))
	if err != nil {
		return err
	}
	res.Print(out)
	return nil
}
