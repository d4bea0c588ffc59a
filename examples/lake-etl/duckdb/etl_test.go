package lakeduck

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestRunLocal(t *testing.T) {
	var out bytes.Buffer
	if err := RunLocal(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, want := range []string{
		"retail_sales_1.csv on 2020-03-07: 20 rows → year=2020/month=03/day=07/",
		"retail_sales_2.csv on 2020-03-08: 4 rows → year=2020/month=03/day=08/part-retail_sales_2_csv-00000.parquet",
		", 1 quarantined\n",
		"(rerun: the same file rewritten, no duplicate rows)",
		"partitions [2020/03/07 2020/03/08]",
		"purchase_date date",
		"[purchase_date DATE]", "[year VARCHAR]",
		"duckdb: year=2020/month=03/day=07 20 rows", // the rerun replaced, not duplicated
		"duckdb: year=2020/month=03/day=08 4 rows",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q:\n%s", want, s)
		}
	}
}
