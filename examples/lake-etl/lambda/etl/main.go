// Command etl is the raw → refined ETL as an AWS Lambda: an S3
// ObjectCreated notification on the raw prefix converts the object into the
// refined zone under today's processing-date partition and registers the
// partition in the Glue Data Catalog.
//
// Environment: REFINED_PREFIX (refined/retail_sales), GLUE_DATABASE
// (merchandise), GLUE_TABLE (refined_retail_sales), BUCKET_OWNER (expected
// bucket owner account id, optional).
package main

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/examples/lake-etl/etl"
	"github.com/lakekit/lakekit/lakepipe/convert"
)

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	s3c := s3.NewFromConfig(cfg)
	cat, err := convert.NewCatalog(glue.NewFromConfig(cfg), func(o *convert.CatalogOptions) { o.Logger = logger })
	if err != nil {
		panic(err)
	}
	lambda.Start(func(ctx context.Context, ev events.S3Event) error {
		for _, r := range ev.Records {
			key, err := url.QueryUnescape(r.S3.Object.Key) // S3 events URL-encode keys
			if err != nil {
				return err
			}
			job := &etl.Job{S3: s3c, Catalog: cat, Bucket: r.S3.Bucket.Name, Logger: logger,
				RefinedPrefix:    env("REFINED_PREFIX", "refined/retail_sales"),
				QuarantinePrefix: env("QUARANTINE_PREFIX", "quarantine/retail_sales"),
				Database:         env("GLUE_DATABASE", "merchandise"), Table: env("GLUE_TABLE", "refined_retail_sales"),
				ExpectedBucketOwner: os.Getenv("BUCKET_OWNER")}
			res, err := job.Run(ctx, key, time.Now())
			if err != nil {
				return err // the event is retried; a rerun replaces, never duplicates
			}
			logger.Info("converted", "key", key, "rows", res.Rows, "quarantined", res.Quarantined)
		}
		return nil
	})
}
