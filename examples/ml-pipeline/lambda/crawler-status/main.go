// Command crawler-status is the pipeline's crawler status Lambda: one
// GetCrawler read returning {"state", "last_crawl", "done"}; a crawl that
// ended FAILED or CANCELLED is CrawlerFailedError, not success.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakekit/lakekit/lakepipe"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	c, err := lakepipe.NewCrawlers(glue.NewFromConfig(cfg))
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(c.StatusStep)
}
