// Package omsenv reads the oms-copy Lambdas' configuration from their
// environment and builds the fan-out from it, so that each Lambda main is a
// few lines.
//
// Environment:
//
//	SHARD_QUEUE_URL      shard (master) queue URL, required
//	TASK_QUEUE_URL       task (worker) queue URL, required
//	STATUS_LOCATION      s3://bucket/prefix for the job counts (master, worker)
//	SHARD_DEPTH          folder levels split into shards (default 1)
//	TASK_OBJECTS         objects per task message (default 100)
//	CONCURRENCY          copies in flight per worker invocation (default 64)
//	MULTIPART_THRESHOLD  bytes from which multipart copy is used (default 256 MiB)
//	PART_SIZE            multipart part size in bytes (default 64 MiB)
//	PART_CONCURRENCY     parts of one object copied at once (default 8)
//	BUCKET_OWNER         expected owner of the destination and status buckets
//	SOURCE_BUCKET_OWNER  expected owner of the source bucket
package omsenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
)

// Fanout builds the fan-out (with its copier) from the environment.
func Fanout(ctx context.Context) (*fanout.Fanout, error) {
	conc, err := intEnv("CONCURRENCY")
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(s3copy.NewHTTPClient(conc)))
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	fc := fanout.FanoutOptions{
		ExpectedBucketOwner:       os.Getenv("BUCKET_OWNER"),
		ExpectedSourceBucketOwner: os.Getenv("SOURCE_BUCKET_OWNER"),
		Logger:                    logger,
	}
	if s := os.Getenv("STATUS_LOCATION"); s != "" {
		if fc.StatusLocation, err = s3copy.ParseLocation(s); err != nil {
			return nil, err
		}
	}
	if fc.ShardDepth, err = intEnv("SHARD_DEPTH"); err != nil {
		return nil, err
	}
	if fc.TaskObjects, err = intEnv("TASK_OBJECTS"); err != nil {
		return nil, err
	}
	threshold, err := intEnv("MULTIPART_THRESHOLD")
	if err != nil {
		return nil, err
	}
	partSize, err := intEnv("PART_SIZE")
	if err != nil {
		return nil, err
	}
	partConc, err := intEnv("PART_CONCURRENCY")
	if err != nil {
		return nil, err
	}
	client := s3.NewFromConfig(cfg)
	copier, err := s3copy.New(client, func(o *s3copy.CopierOptions) {
		o.Concurrency = conc
		o.MultipartThreshold = int64(threshold)
		o.PartSize = int64(partSize)
		o.PartConcurrency = partConc
		o.ExpectedBucketOwner = os.Getenv("BUCKET_OWNER")
		o.ExpectedSourceBucketOwner = os.Getenv("SOURCE_BUCKET_OWNER")
		o.Logger = logger
	})
	if err != nil {
		return nil, err
	}
	return fanout.New(client, sqs.NewFromConfig(cfg), copier, os.Getenv("SHARD_QUEUE_URL"), os.Getenv("TASK_QUEUE_URL"),
		func(o *fanout.FanoutOptions) { *o = fc })
}

func intEnv(name string) (int, error) {
	s := os.Getenv(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a non-negative integer", name, s)
	}
	return n, nil
}
