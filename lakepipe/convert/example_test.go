package convert_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/lakekit/lakekit/lakepipe/convert"
)

// The seed's LakeFormation job: purchase_date from dd/MM/yyyy to a date,
// partitioned by the processing date; a bad date is quarantined with its
// line number instead of failing the job (as long as bad records stay
// under MaxQuarantineRatio).
func ExampleConverter() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	csv := "email_id,retailer_name,units_purchased,purchase_date,sale_id\n" +
		"ann@example.com,\"Lowe's, Inc.\",3,05/03/2020,S1\n" +
		"bob@example.com,Target,1,31/02/2020,S2\n" +
		"eve@example.com,Costco,,07/03/2020,S3\n"
	var quarantine strings.Builder
	conv, err := convert.NewConverter(convert.DirSink(dir), func(o *convert.ConverterOptions) {
		o.Mapping = []convert.Mapping{
			{Source: "email_id", Column: convert.Column{Type: convert.TypeString}},
			{Source: "retailer_name", Column: convert.Column{Type: convert.TypeString}},
			{Source: "units_purchased", Column: convert.Column{Type: convert.TypeInt64}},
			{Source: "purchase_date", Column: convert.Column{Type: convert.TypeDate, Layout: "dd/MM/yyyy"}},
			{Source: "sale_id", Column: convert.Column{Type: convert.TypeString}},
		}
		o.Partitions = convert.ProcessingDatePartitions(time.Date(2020, 3, 8, 9, 0, 0, 0, time.UTC))
		o.Quarantine = &quarantine
		o.MaxQuarantineRatio = 0.5 // a tiny sample: one bad record in three is fine
		o.RunID = "retail_sales_1"
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := conv.Convert(context.Background(), strings.NewReader(csv))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("rows:", res.Rows, "quarantined:", res.Quarantined)
	for _, f := range res.Files {
		fmt.Println(f.Name, f.Partition)
	}
	var cols []string
	for _, c := range res.Schema.Columns {
		cols = append(cols, c.Name+" "+c.CatalogType())
	}
	fmt.Println(strings.Join(cols, ", "))
	fmt.Print(quarantine.String())
	// Output:
	// rows: 2 quarantined: 1
	// year=2020/month=03/day=08/part-retail_sales_1-00000.parquet [2020 03 08]
	// email_id string, retailer_name string, units_purchased bigint, purchase_date date, sale_id string
	// line,column,reason,record
	// 3,purchase_date,bad value: not a date (layout dd/MM/yyyy),"bob@example.com,Target,1,31/02/2020,S2"
}
