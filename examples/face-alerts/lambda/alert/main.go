// Command alert is seed system 6's Lambda, triggered by the stream
// processor's Kinesis data stream (with ReportBatchItemFailures): it decodes
// each record, classifies the faces and publishes alerts to SNS with a
// per-person suppression window and an unknown-face rate limit.
//
// Environment: TOPIC_ARN (required), ALERT_MODE (both|known|unknown,
// default both), KNOWN_WINDOW (default 5m), UNKNOWN_LIMIT and
// UNKNOWN_INTERVAL (default 3 per 5m), MATCH_THRESHOLD (default 0: trust
// the stream processor's FaceMatchThreshold).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/lakekit/lakekit/rekog"
)

func main() {
	topic, opts, err := optionsFromEnv(os.Getenv)
	if err != nil {
		log.Fatal(err)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	opts.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	a, err := rekog.NewAlerter(sns.NewFromConfig(cfg), topic, func(o *rekog.AlertOptions) { *o = opts })
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(a.HandleKinesisEvent)
}

// optionsFromEnv reads the topic and alert options; every malformed
// variable is reported.
func optionsFromEnv(getenv func(string) string) (string, rekog.AlertOptions, error) {
	var errs []error
	topic := getenv("TOPIC_ARN")
	if topic == "" {
		errs = append(errs, errors.New("TOPIC_ARN is required"))
	}
	dur := func(k string) time.Duration {
		v := getenv(k)
		if v == "" {
			return 0
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			errs = append(errs, fmt.Errorf("%s=%q: want a positive duration like 5m", k, v))
		}
		return d
	}
	num := func(k string, maxV float64) float64 {
		v := getenv(k)
		if v == "" {
			return 0
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < 0 || f > maxV {
			errs = append(errs, fmt.Errorf("%s=%q: want a number in 0–%v", k, v, maxV))
		}
		return f
	}
	opts := rekog.AlertOptions{
		KnownWindow: dur("KNOWN_WINDOW"), UnknownInterval: dur("UNKNOWN_INTERVAL"),
		UnknownLimit: int(num("UNKNOWN_LIMIT", 1e6)), Classifier: rekog.Classifier{Threshold: num("MATCH_THRESHOLD", 100)},
	}
	switch m := getenv("ALERT_MODE"); m {
	case "", "both":
	case "known":
		opts.Mode = rekog.AlertKnown
	case "unknown":
		opts.Mode = rekog.AlertUnknown
	default:
		errs = append(errs, fmt.Errorf("ALERT_MODE=%q: want both, known or unknown", m))
	}
	return topic, opts, errors.Join(errs...)
}
