// Command file-transfer is the pipeline's generic file transfer Lambda:
// landing → raw Hive partition, or landing → archive day (copy, verify,
// delete), with s3copy; idempotent on re-run.
//
//	BUCKET_OWNER  expected bucket owner account id (optional)
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/lakepipe"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	t, err := lakepipe.NewTransfers(s3.NewFromConfig(cfg), func(o *lakepipe.TransferOptions) {
		o.ExpectedBucketOwner = os.Getenv("BUCKET_OWNER")
		o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(t.Step)
}
