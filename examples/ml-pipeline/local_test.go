package mlpipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/lakepipe/asl/local"
)

func TestRunLocal(t *testing.T) {
	rep, err := RunLocal(context.Background(), LocalConfig{S3: awstest.S3(t), Rows: 250})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Execution.Status != local.StatusSucceeded || rep.Rows != 250 || len(rep.Parquet) == 0 {
		t.Fatalf("%+v", rep)
	}
	for _, k := range rep.Parquet {
		if !strings.HasPrefix(k, "data/refined/customers/year=2019/month=08/day=21/") || !strings.HasSuffix(k, ".parquet") {
			t.Fatalf("parquet key %s", k)
		}
	}
	if len(rep.Landing) != 0 || len(rep.Archive) != 1 || rep.Archive[0] != "data/archive/2019-08-21/customers_20190821.csv" ||
		len(rep.Raw) != 1 || rep.Raw[0] != "data/raw/customers/year=2019/month=08/day=21/customers_20190821.csv" {
		t.Fatalf("zones: %+v", rep)
	}
	var out bytes.Buffer
	WriteReport(&out, rep)
	if !strings.Contains(out.String(), "250 rows") {
		t.Fatal(out.String())
	}
}
