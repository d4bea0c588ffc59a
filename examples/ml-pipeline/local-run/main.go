// Command local runs seed system 5 end to end on this machine: an
// in-process S3, a local Glue wire server, and the state machine on the
// local runner with a virtual clock.
//
//	go run ./examples/ml-pipeline/local-run -rows 5000
package main

import (
	"context"
	"flag"
	"log"
	"os"

	"github.com/lakekit/lakekit/examples/ml-pipeline"
	"github.com/lakekit/lakekit/internal/awstest"
)

func main() {
	rows := flag.Int("rows", 1000, "rows in the landed customers file")
	flag.Parse()
	srv := awstest.StartS3()
	defer srv.Close()
	rep, err := mlpipeline.RunLocal(context.Background(), mlpipeline.LocalConfig{S3: srv.S3(), Rows: *rows})
	if rep != nil {
		mlpipeline.WriteReport(os.Stdout, rep)
	}
	if err != nil {
		log.Fatal(err)
	}
}
