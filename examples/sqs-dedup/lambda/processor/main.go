// Command processor is the seed's Processor Lambda: an SQS event → each row
// applied once per key (idempotency keys in DynamoDB) → a partial batch
// response, so only the failed messages come back.
//
// Environment: IDEMPOTENCY_TABLE, KEY_FIELD (the row's unique column),
// optional OFFLOAD_BUCKET (resolve extended-client pointers from it) and
// EXPECTED_BUCKET_OWNER.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/examples/sqs-dedup/dedup"
	"github.com/lakekit/lakekit/sqsbatch"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	keyField := os.Getenv("KEY_FIELD")
	store, err := sqsbatch.NewDynamoStore(dynamodb.NewFromConfig(cfg), os.Getenv("IDEMPOTENCY_TABLE"))
	if err != nil {
		panic(err)
	}
	idem, err := sqsbatch.NewIdempotency(store, sqsbatch.KeyFromJSONField(keyField))
	if err != nil {
		panic(err)
	}
	var resolver *sqsbatch.Resolver
	if b := os.Getenv("OFFLOAD_BUCKET"); b != "" {
		resolver = &sqsbatch.Resolver{S3: s3.NewFromConfig(cfg), Buckets: []string{b}, ExpectedBucketOwner: os.Getenv("EXPECTED_BUCKET_OWNER")}
	}
	// The effect of the seed's processor: the row is processed (here,
	// recorded in the log by key; never the body).
	apply := func(ctx context.Context, key string, row map[string]string) error {
		log.Info("row processed", "key", key, "columns", len(row))
		return nil
	}
	lambda.Start(dedup.ProcessorHandler(idem, keyField, apply, resolver, log))
}
