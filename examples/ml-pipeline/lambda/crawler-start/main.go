// Command crawler-start is the pipeline's crawler invocation Lambda: it
// starts the crawler named in its input ({"crawler": "raw"}), treating
// CrawlerRunningException as "already running".
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

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
	c, err := lakepipe.NewCrawlers(glue.NewFromConfig(cfg), func(o *lakepipe.PollOptions) {
		o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(c.StartStep)
}
