// Command writer is the seed's Writer Lambda: an S3 ObjectCreated event →
// the CSV object streamed → one SQS message per row, in batches.
//
// Environment: QUEUE_URL, KEY_COLUMN (the CSV's unique column), optional
// OFFLOAD_BUCKET (bodies over the queue's limit go through S3, extended
// client format) and EXPECTED_BUCKET_OWNER.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/examples/sqs-dedup/dedup"
	"github.com/lakekit/lakekit/sqsbatch"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	lambda.Start(dedup.WriterHandler(s3.NewFromConfig(cfg), sqs.NewFromConfig(cfg, sqsbatch.SafeRequestBody), dedup.WriterConfig{
		QueueURL:      os.Getenv("QUEUE_URL"),
		KeyColumn:     os.Getenv("KEY_COLUMN"),
		OffloadBucket: os.Getenv("OFFLOAD_BUCKET"),
		BucketOwner:   os.Getenv("EXPECTED_BUCKET_OWNER"),
		Logger:        log,
	}))
}
