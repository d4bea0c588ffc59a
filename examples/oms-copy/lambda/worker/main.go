// Command worker is the oms-copy worker Lambda (the seed's slave,
// template.yaml): fed by the task queue, it copies each message's objects
// with s3copy (multipart above the threshold, metadata and tags carried).
// Environment: see examples/oms-copy/omsenv.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lakekit/lakekit/examples/oms-copy/omsenv"
)

func main() {
	f, err := omsenv.Fanout(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(f.HandleTasks)
}
