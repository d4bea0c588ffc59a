package awstest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/aws/smithy-go"

	"github.com/lakekit/lakekit/internal/awstest"
)

// fakeCrawler keeps a crawler's state the way Glue does: StartCrawler moves
// READY to RUNNING, each GetCrawler moves it one step on (RUNNING, STOPPING,
// READY), and a second StartCrawler while it runs is CrawlerRunningException.
type fakeCrawler struct {
	mu    sync.Mutex
	state string
}

func (f *fakeCrawler) install(w *awstest.WireServer) {
	w.HandleJSON("StartCrawler", func(_ context.Context, body json.RawMessage) (any, error) {
		var in struct{ Name string }
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if in.Name != "raw-zone" {
			return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Crawler with name " + in.Name + " not found"}
		}
		if f.state != "READY" {
			return nil, &awstest.APIError{Code: "CrawlerRunningException", Message: "Crawler with name raw-zone has already started"}
		}
		f.state = "RUNNING"
		return struct{}{}, nil
	})
	w.HandleJSON("GetCrawler", func(_ context.Context, _ json.RawMessage) (any, error) {
		f.mu.Lock()
		defer f.mu.Unlock()
		state := f.state
		switch f.state {
		case "RUNNING":
			f.state = "STOPPING"
		case "STOPPING":
			f.state = "READY"
		}
		// Shape of the GetCrawler response in the Glue API reference.
		return map[string]any{"Crawler": map[string]any{
			"Name":         "raw-zone",
			"Role":         "arn:aws:iam::123456789012:role/service-role/AWSGlueServiceRole-raw",
			"DatabaseName": "ml_raw",
			"State":        state,
			"Targets":      map[string]any{"S3Targets": []any{map[string]any{"Path": "s3://example-lake/data/raw/customers/"}}},
			"LastCrawl": map[string]any{
				"Status": "SUCCEEDED", "LogGroup": "/aws-glue/crawlers", "LogStream": "raw-zone",
				"MessagePrefix": "0c3e5d2f-64d5-4b1b-9b62-4b3d6a0f0a1e", "StartTime": 1.566388800e9,
			},
			"Version": 3,
		}}, nil
	})
}

// TestWireServerGlue proves the real Glue client runs against a WireServer:
// serialization, X-Amz-Target dispatch, SigV4 scope, modelled exceptions and
// stateful answers.
func TestWireServerGlue(t *testing.T) {
	ctx := context.Background()
	w := awstest.NewWireServer(t, "AWSGlue", "glue")
	(&fakeCrawler{state: "READY"}).install(w)
	c := glue.NewFromConfig(w.Config)

	if _, err := c.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("raw-zone")}); err != nil {
		t.Fatal(err)
	}
	var running *gluetypes.CrawlerRunningException
	if _, err := c.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("raw-zone")}); !errors.As(err, &running) {
		t.Fatalf("second start: %v, want CrawlerRunningException", err)
	}
	var states []gluetypes.CrawlerState
	for range 3 {
		out, err := c.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String("raw-zone")})
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, out.Crawler.State)
		if out.Crawler.LastCrawl.Status != gluetypes.LastCrawlStatusSucceeded || out.Crawler.LastCrawl.StartTime.Year() != 2019 {
			t.Fatalf("LastCrawl decoded as %+v", out.Crawler.LastCrawl)
		}
	}
	if want := []gluetypes.CrawlerState{"RUNNING", "STOPPING", "READY"}; !slices.Equal(states, want) {
		t.Fatalf("states %v, want %v", states, want)
	}
	var notFound *gluetypes.EntityNotFoundException
	if _, err := c.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("nope")}); !errors.As(err, &notFound) {
		t.Fatalf("unknown crawler: %v, want EntityNotFoundException", err)
	}
	if got := w.Calls("StartCrawler"); got != 3 {
		t.Fatalf("StartCrawler calls: %d, want 3", got)
	}

	var apiErr smithy.APIError
	if _, err := c.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("j"), RunId: aws.String("r")}); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnknownOperationException" {
		t.Fatalf("unhandled operation: %v", err)
	}

	// An unsigned request is refused, as AWS would.
	anon := glue.NewFromConfig(w.Config, func(o *glue.Options) { o.Credentials = aws.AnonymousCredentials{} })
	if _, err := anon.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String("raw-zone")}); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("unsigned request: %v", err)
	}
}

// TestWireServerWrappedAPIError: a handler may wrap its *APIError; the
// client still gets the modelled exception, not InternalFailure.
func TestWireServerWrappedAPIError(t *testing.T) {
	w := awstest.NewWireServer(t, "AWSGlue", "glue")
	w.HandleJSON("GetJob", func(_ context.Context, _ json.RawMessage) (any, error) {
		return nil, fmt.Errorf("looking up job: %w", &awstest.APIError{Code: "EntityNotFoundException", Message: "Job not found"})
	})
	c := glue.NewFromConfig(w.Config)
	var notFound *gluetypes.EntityNotFoundException
	if _, err := c.GetJob(context.Background(), &glue.GetJobInput{JobName: aws.String("j")}); !errors.As(err, &notFound) {
		t.Fatalf("wrapped APIError: %v, want EntityNotFoundException", err)
	}
}
