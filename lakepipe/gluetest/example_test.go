package gluetest_test

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakekit/lakekit/lakepipe/gluetest"
)

// In a test, srv := gluetest.New(t) starts the server and the test's
// end stops it; outside a test, as here, Start gives the same server and
// the caller closes it.
func Example() {
	srv := gluetest.Start()
	defer srv.Close()
	srv.AddCrawler("raw-zone")
	ctx := context.Background()
	srv.Client.StartCrawler(ctx, &glue.StartCrawlerInput{Name: aws.String("raw-zone")})
	for {
		out, err := srv.Client.GetCrawler(ctx, &glue.GetCrawlerInput{Name: aws.String("raw-zone")})
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(out.Crawler.State)
		if out.Crawler.LastCrawl != nil {
			fmt.Println("last crawl", out.Crawler.LastCrawl.Status)
			return
		}
	}
	// Output:
	// RUNNING
	// STOPPING
	// READY
	// last crawl SUCCEEDED
}
