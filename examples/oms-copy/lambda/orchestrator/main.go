// Command orchestrator is the oms-copy orchestrator Lambda (template.yaml):
// invoked with {"id": "job-1", "src": "s3://bucket/raw/", "dst":
// "s3://bucket/processed/"}, it starts the job by sending its root shard to
// the shard queue. Environment: see examples/oms-copy/omsenv.
package main

import (
	"context"
	"log"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/lakekit/lakekit/examples/oms-copy/omsenv"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
)

// StartEvent is the orchestrator's input.
type StartEvent struct {
	ID  string `json:"id"`
	Src string `json:"src"`
	Dst string `json:"dst"`
}

func main() {
	f, err := omsenv.Fanout(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	lambda.Start(func(ctx context.Context, ev StartEvent) (map[string]string, error) {
		src, err := s3copy.ParseLocation(ev.Src)
		if err != nil {
			return nil, err
		}
		dst, err := s3copy.ParseLocation(ev.Dst)
		if err != nil {
			return nil, err
		}
		if err := f.Start(ctx, fanout.Job{ID: ev.ID, Src: src, Dst: dst}); err != nil {
			return nil, err
		}
		return map[string]string{"job": ev.ID}, nil
	})
}
