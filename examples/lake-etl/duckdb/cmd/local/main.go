// Command local runs the LakeFormation ETL walkthrough on this machine:
// gofakes3 for S3, a local Glue wire server, DuckDB for the query.
//
//	cd examples/lake-etl/duckdb && go run ./cmd/local
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	lakeduck "github.com/lakekit/lakekit/examples/lake-etl/duckdb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := lakeduck.RunLocal(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "lake-etl:", err)
		os.Exit(1)
	}
}
