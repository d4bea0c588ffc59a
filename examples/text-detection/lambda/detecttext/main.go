// Command detecttext is seed system 2's API Lambda (template.yaml): POST
// /detecttext stores the uploaded image in BUCKET under KEY_PREFIX and
// returns the text Rekognition detects.
//
// Environment: BUCKET (required), KEY_PREFIX (default "uploads/"),
// BUCKET_OWNER (expected bucket owner account), ALLOW_ORIGIN (comma-separated
// origins allowed by CORS; default none, same-origin callers only).
package main

import (
	"context"
	"log"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/examples/text-detection/textapi"
	"github.com/lakekit/lakekit/rekog"
)

func main() {
	bucket := os.Getenv("BUCKET")
	if bucket == "" {
		log.Fatal("BUCKET is required")
	}
	prefix, ok := os.LookupEnv("KEY_PREFIX")
	if !ok {
		prefix = "uploads/"
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	svc, err := rekog.NewTextService(s3.NewFromConfig(cfg), bucket, rekog.NewRekognitionText(rekognition.NewFromConfig(cfg)),
		func(o *rekog.TextOptions) {
			o.Prefix = prefix
			o.ExpectedBucketOwner = os.Getenv("BUCKET_OWNER")
			o.Logger = logger
		})
	if err != nil {
		log.Fatal(err)
	}
	// ALLOW_ORIGIN: comma-separated origins allowed by CORS; empty (the
	// default) answers same-origin callers only.
	h := &textapi.Handler{Service: svc, AllowedOrigins: textapi.ParseOrigins(os.Getenv("ALLOW_ORIGIN")), Logger: logger}
	lambda.Start(h.Handle)
}
