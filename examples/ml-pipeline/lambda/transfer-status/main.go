// Command transfer-status is the pipeline's transfer verification Lambda:
// it returns TransferIncompleteError or PrefixNotEmptyError (by those type
// names, which the state machine's retriers match) until the landed file
// is in place with its size.
//
//	BUCKET_OWNER  expected bucket owner account id (optional)
package main

import (
	"context"
	"log"
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
	v, err := lakepipe.NewTransferVerifier(s3.NewFromConfig(cfg), func(o *lakepipe.TransferVerifierOptions) {
		o.ExpectedBucketOwner = os.Getenv("BUCKET_OWNER")
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(v.Check)
}
