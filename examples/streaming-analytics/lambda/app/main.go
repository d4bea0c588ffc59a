// Command app is seed system 3's KDA application as a Lambda function with a
// Kinesis trigger (enable ReportBatchItemFailures on the event source
// mapping). It runs the post's SQL on each batch and delivers the anomaly
// and output rows to S3 the way the post's Firehose streams did, flushing
// before it returns so nothing stays buffered in a frozen sandbox.
//
// Environment: BUCKET (required), EXPECTED_BUCKET_OWNER (optional account
// id). Windows (GROUP BY STEP) would need state across invocations; the
// seed's pumps are stateless filters, which suit Lambda.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakekit/lakekit/examples/streaming-analytics/seed"
	"github.com/lakekit/lakekit/kda"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("aws config", "error", err)
		os.Exit(1)
	}
	pl, err := seed.NewPipeline(s3.NewFromConfig(cfg), os.Getenv("BUCKET"), nil, func(o *kda.DeliveryOptions) {
		o.ExpectedBucketOwner = os.Getenv("EXPECTED_BUCKET_OWNER")
		o.Logger = log
	})
	if err != nil {
		log.Error("pipeline", "error", err)
		os.Exit(1)
	}
	lambda.Start(kda.NewLambdaHandler(pl.App.HandleRecord, func(o *kda.LambdaOptions) {
		o.AfterBatch = pl.App.Flush
		o.Logger = log
	}))
}
