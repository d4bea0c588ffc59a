// Command master is the oms-copy master Lambda (template.yaml): fed by the
// shard queue, it lists its shard, sends sub-folders back to the shard
// queue and objects to the task queue. Environment: see
// examples/oms-copy/omsenv.
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
	lambda.Start(f.HandleShards)
}
