package main

import (
	"context"
	"io"

	mlpipeline "github.com/lakekit/lakekit/examples/ml-pipeline"
)

// system5 lands customers_20190821.csv in the tour's S3 and runs the seed's
// Step Functions pipeline (transfer, verify, crawlers, Glue job as CSV →
// Parquet, archive) on the local runner with a virtual clock.
func system5(ctx context.Context, env *env, out io.Writer) error {
	rep, err := mlpipeline.RunLocal(ctx, mlpipeline.LocalConfig{S3: env.S3().S3(), Bucket: "tour-ml-pipeline", Rows: 2000})
	if rep != nil {
		mlpipeline.WriteReport(out, rep)
	}
	return err
}
