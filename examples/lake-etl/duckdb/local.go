package lakeduck

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/examples/lake-etl/etl"
	"github.com/lakekit/lakekit/internal/awstest"
)

// RunLocal runs the seed's walkthrough on local servers (gofakes3, a local
// Glue wire server), copies the refined zone to a temporary directory and
// queries it with DuckDB. It prints what happened to out.
func RunLocal(ctx context.Context, out io.Writer) error {
	s3srv := awstest.StartS3()
	defer s3srv.Close()
	client := s3srv.S3()
	bucket := "lake"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return err
	}
	if _, err := etl.RunWalkthrough(ctx, client, bucket, out); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "lake-etl-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if err := etl.Mirror(ctx, client, bucket, etl.RefinedPrefix+"/", dir); err != nil {
		return err
	}
	db, err := OpenRefined(ctx, dir)
	if err != nil {
		return err
	}
	defer db.Close()
	types, err := ColumnTypes(ctx, db, "SELECT * FROM refined")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "duckdb columns: %v\n", types)
	rows, err := db.QueryContext(ctx, `SELECT year, month, day, count(*), sum(units_purchased), min(purchase_date)
		FROM refined GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var y, m, d string
		var n, units int64
		var first time.Time
		if err := rows.Scan(&y, &m, &d, &n, &units, &first); err != nil {
			return err
		}
		fmt.Fprintf(out, "duckdb: year=%s/month=%s/day=%s %d rows, %d units, first purchase %s\n", y, m, d, n, units, first.Format("2006-01-02"))
	}
	return rows.Err()
}
