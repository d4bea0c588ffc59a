// Command invoke-step-function is the Lambda that an S3 notification of a
// file landed in data/landing/ invokes: it parses the file name
// (customers_20190821.csv) and starts one pipeline execution per file.
//
//	STATE_MACHINE_ARN  the pipeline (required)
//	LANDING_PREFIX     default data/landing/
//	LANDING_PATTERN    default {name}_{yyyyMMdd}.csv
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakekit/lakekit/lakepipe"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	trig, err := lakepipe.NewTrigger(sfn.NewFromConfig(cfg), os.Getenv("STATE_MACHINE_ARN"), func(o *lakepipe.TriggerOptions) {
		o.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
		o.Landing = append(o.Landing, func(l *lakepipe.LandingOptions) {
			if p := os.Getenv("LANDING_PREFIX"); p != "" {
				l.Prefix = p
			}
			if p := os.Getenv("LANDING_PATTERN"); p != "" {
				l.Pattern = p
			}
		})
	})
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(trig.Handle)
}
