package etl

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
)

func TestRunWalkthrough(t *testing.T) {
	client := awstest.S3(t)
	ctx := context.Background()
	bucket := awstest.Name(t, "lake")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w, err := RunWalkthrough(ctx, client, bucket, &out)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range w.Runs {
		got = append(got, fmt.Sprintf("%d/%d %s", r.Rows, r.Quarantined, r.Files[0].Name))
	}
	want := []string{
		"20/0 year=2020/month=03/day=07/part-retail_sales_1_csv-00000.parquet",
		"4/1 year=2020/month=03/day=08/part-retail_sales_2_csv-00000.parquet",
		"20/0 year=2020/month=03/day=07/part-retail_sales_1_csv-00000.parquet",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("runs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if fmt.Sprint(w.Partitions) != "[2020/03/07 2020/03/08]" ||
		fmt.Sprint(w.Columns) != "[email_id string retailer_name string units_purchased bigint purchase_date date sale_id string]" {
		t.Fatalf("catalog %v %v", w.Partitions, w.Columns)
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: strPtr(RefinedPrefix + "/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 2 {
		t.Fatalf("refined zone holds %d objects, want 2 (the rerun must not add one)", len(list.Contents))
	}
	q, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: strPtr(QuarantinePrefix + "/retail_sales_2_csv.csv")})
	if err != nil {
		t.Fatalf("quarantine file of the day-two run: %v", err)
	}
	qb, _ := io.ReadAll(q.Body)
	q.Body.Close()
	if !strings.HasPrefix(string(qb), "line,column,reason,record\n4,purchase_date,bad value: not a date (layout dd/MM/yyyy),") {
		t.Fatalf("quarantine file %q", qb)
	}
	if ql, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: strPtr(QuarantinePrefix + "/")}); err != nil || len(ql.Contents) != 1 {
		t.Fatalf("quarantine zone: %v %v, want only the day-two file", ql, err)
	}
	dir := t.TempDir()
	if err := Mirror(ctx, client, bucket, RefinedPrefix+"/", dir); err != nil {
		t.Fatal(err)
	}
}

func strPtr(s string) *string { return &s }

func TestGenerateRetail(t *testing.T) {
	var b bytes.Buffer
	if err := GenerateRetail(&b, 20, 1); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 21 || lines[0] != "email_id,retailer_name,units_purchased,purchase_date,sale_id" {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
}
