package gluetest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/lakekit/lakekit/lakepipe/gluetest"
)

func TestCrawler(t *testing.T) {
	ctx := context.Background()
	srv := gluetest.New(t)
	srv.AddCrawler("raw")
	if _, err := srv.Client.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("raw")}); err != nil {
		t.Fatal(err)
	}
	var running *gluetypes.CrawlerRunningException
	if _, err := srv.Client.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("raw")}); !errors.As(err, &running) {
		t.Fatalf("second start: %v", err)
	}
	var states []string
	for range 3 {
		out, err := srv.Client.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String("raw")})
		if err != nil {
			t.Fatal(err)
		}
		states = append(states, string(out.Crawler.State))
		if out.Crawler.LastCrawl != nil {
			states = append(states, string(out.Crawler.LastCrawl.Status))
		}
	}
	if got := strings.Join(states, " "); got != "RUNNING STOPPING READY SUCCEEDED" || srv.Crawls("raw") != 1 {
		t.Fatalf("states %s, %d crawls", got, srv.Crawls("raw"))
	}
	// A failing crawl ends READY with LastCrawl FAILED.
	srv.SetCrawlResult("raw", "FAILED")
	if _, err := srv.Client.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("raw")}); err != nil {
		t.Fatal(err)
	}
	var last string
	for range 3 {
		out, err := srv.Client.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String("raw")})
		if err != nil {
			t.Fatal(err)
		}
		if out.Crawler.LastCrawl != nil {
			last = string(out.Crawler.LastCrawl.Status)
		}
	}
	if last != "FAILED" || srv.Calls("StartCrawler") != 3 {
		t.Fatalf("last crawl %q, %d StartCrawler calls", last, srv.Calls("StartCrawler"))
	}
	var nf *gluetypes.EntityNotFoundException
	if _, err := srv.Client.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String("none")}); !errors.As(err, &nf) {
		t.Fatalf("unknown crawler: %v", err)
	}
}

func TestJobRun(t *testing.T) {
	ctx := context.Background()
	srv := gluetest.New(t)
	srv.AddJob("etl", func(_ context.Context, args map[string]string) error {
		if args["--day"] == "" {
			return errors.New("no --day")
		}
		return nil
	})
	poll := func(args map[string]string) (states []string, msg string) {
		run, err := srv.Client.StartJobRun(ctx, &glue.StartJobRunInput{JobName: aws.String("etl"), Arguments: args})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			out, err := srv.Client.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String("etl"), RunId: run.JobRunId})
			if err != nil {
				t.Fatal(err)
			}
			states = append(states, string(out.JobRun.JobRunState))
			msg = aws.ToString(out.JobRun.ErrorMessage)
		}
		return states, msg
	}
	if s, _ := poll(map[string]string{"--day": "2024-01-01"}); strings.Join(s, " ") != "STARTING RUNNING SUCCEEDED" {
		t.Fatalf("states %v", s)
	}
	if s, msg := poll(nil); s[2] != "FAILED" || msg != "no --day" {
		t.Fatalf("states %v, message %q", s, msg)
	}
}

func TestCatalog(t *testing.T) {
	ctx := context.Background()
	srv := gluetest.New(t)
	in := &gluetypes.TableInput{Name: aws.String("sales"), PartitionKeys: []gluetypes.Column{{Name: aws.String("dt"), Type: aws.String("string")}},
		StorageDescriptor: &gluetypes.StorageDescriptor{Columns: []gluetypes.Column{{Name: aws.String("id"), Type: aws.String("bigint")}}}}
	var nf *gluetypes.EntityNotFoundException
	if _, err := srv.Client.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("sales")}); !errors.As(err, &nf) {
		t.Fatalf("missing table: %v", err)
	}
	if _, err := srv.Client.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: in}); err != nil {
		t.Fatal(err)
	}
	var exists *gluetypes.AlreadyExistsException
	if _, err := srv.Client.CreateTable(ctx, &glue.CreateTableInput{DatabaseName: aws.String("lake"), TableInput: in}); !errors.As(err, &exists) {
		t.Fatalf("second create: %v", err)
	}
	got, err := srv.Client.GetTable(ctx, &glue.GetTableInput{DatabaseName: aws.String("lake"), Name: aws.String("sales")})
	if err != nil || aws.ToString(got.Table.StorageDescriptor.Columns[0].Name) != "id" || aws.ToString(got.Table.DatabaseName) != "lake" {
		t.Fatalf("table %+v, %v", got, err)
	}
	in.StorageDescriptor.Columns = append(in.StorageDescriptor.Columns, gluetypes.Column{Name: aws.String("total"), Type: aws.String("double")})
	if _, err := srv.Client.UpdateTable(ctx, &glue.UpdateTableInput{DatabaseName: aws.String("lake"), TableInput: in}); err != nil {
		t.Fatal(err)
	}
	if raw, ok := srv.Table("lake", "sales"); !ok || !strings.Contains(string(raw), `"total"`) {
		t.Fatalf("table %s", raw)
	}
	parts := func(vs ...string) []gluetypes.PartitionInput {
		var p []gluetypes.PartitionInput
		for _, v := range vs {
			p = append(p, gluetypes.PartitionInput{Values: []string{v}})
		}
		return p
	}
	if _, err := srv.Client.BatchCreatePartition(ctx, &glue.BatchCreatePartitionInput{DatabaseName: aws.String("lake"), TableName: aws.String("sales"), PartitionInputList: parts("2024-01-01")}); err != nil {
		t.Fatal(err)
	}
	out, err := srv.Client.BatchCreatePartition(ctx, &glue.BatchCreatePartitionInput{DatabaseName: aws.String("lake"), TableName: aws.String("sales"), PartitionInputList: parts("2024-01-01", "2024-01-02")})
	if err != nil || len(out.Errors) != 1 || aws.ToString(out.Errors[0].ErrorDetail.ErrorCode) != "AlreadyExistsException" {
		t.Fatalf("errors %+v, %v", out, err)
	}
	list, err := srv.Client.GetPartitions(ctx, &glue.GetPartitionsInput{DatabaseName: aws.String("lake"), TableName: aws.String("sales")})
	if err != nil || len(list.Partitions) != 2 || len(srv.Partitions("lake", "sales")) != 2 {
		t.Fatalf("partitions %+v, %v", list, err)
	}
}
