package convert

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/lakekit/lakekit/internal/awstest"
)

// catFakeGlue keeps tables and partitions as the Glue Data Catalog does,
// behind the real AWS JSON 1.1 wire protocol.
type catFakeGlue struct {
	mu     sync.Mutex
	tables map[string]json.RawMessage            // db.table → TableInput
	parts  map[string]map[string]json.RawMessage // db.table → values → PartitionInput
}

type catTableReq struct {
	DatabaseName string
	Name         string
	TableInput   json.RawMessage
}

func catInstall(w *awstest.WireServer) *catFakeGlue {
	f := &catFakeGlue{tables: map[string]json.RawMessage{}, parts: map[string]map[string]json.RawMessage{}}
	w.HandleJSON("GetTable", func(_ context.Context, body json.RawMessage) (any, error) {
		var in catTableReq
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		t, ok := f.tables[in.DatabaseName+"."+in.Name]
		if !ok {
			return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Table " + in.Name + " not found."}
		}
		var table map[string]any
		_ = json.Unmarshal(t, &table)
		table["DatabaseName"] = in.DatabaseName
		table["CreateTime"] = 1.6149e9
		return map[string]any{"Table": table}, nil
	})
	put := func(create bool) awstest.JSONHandler {
		return func(_ context.Context, body json.RawMessage) (any, error) {
			var in catTableReq
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, err
			}
			var ti struct{ Name string }
			_ = json.Unmarshal(in.TableInput, &ti)
			key := in.DatabaseName + "." + ti.Name
			f.mu.Lock()
			defer f.mu.Unlock()
			_, exists := f.tables[key]
			if create && exists {
				return nil, &awstest.APIError{Code: "AlreadyExistsException", Message: "Table already exists."}
			}
			if !create && !exists {
				return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Table not found."}
			}
			f.tables[key] = in.TableInput
			return struct{}{}, nil
		}
	}
	w.HandleJSON("CreateTable", put(true))
	w.HandleJSON("UpdateTable", put(false))
	w.HandleJSON("BatchCreatePartition", func(_ context.Context, body json.RawMessage) (any, error) {
		var in struct {
			DatabaseName, TableName string
			PartitionInputList      []json.RawMessage
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		if len(in.PartitionInputList) > MaxBatchCreatePartitions {
			return nil, &awstest.APIError{Code: "ValidationException", Message: "too many partitions"}
		}
		key := in.DatabaseName + "." + in.TableName
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.tables[key]; !ok {
			return nil, &awstest.APIError{Code: "EntityNotFoundException", Message: "Table not found."}
		}
		if f.parts[key] == nil {
			f.parts[key] = map[string]json.RawMessage{}
		}
		var errs []any
		for _, p := range in.PartitionInputList {
			var pi struct{ Values []string }
			_ = json.Unmarshal(p, &pi)
			vk := strings.Join(pi.Values, "/")
			if _, ok := f.parts[key][vk]; ok {
				errs = append(errs, map[string]any{"PartitionValues": pi.Values,
					"ErrorDetail": map[string]any{"ErrorCode": "AlreadyExistsException", "ErrorMessage": "Partition already exists."}})
				continue
			}
			f.parts[key][vk] = p
		}
		return map[string]any{"Errors": errs}, nil
	})
	return f
}

func TestCatalogRegister(t *testing.T) {
	w := awstest.NewWireServer(t, "AWSGlue", "glue")
	fake := catInstall(w)
	cat, _ := NewCatalog(glue.NewFromConfig(w.Config))
	ctx := context.Background()

	res, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
		o.Mapping = []Mapping{
			{Source: "email_id", Column: Column{Type: TypeString}},
			{Source: "units_purchased", Column: Column{Type: TypeInt64}},
			{Source: "purchase_date", Column: Column{Type: TypeDate, Layout: "dd/MM/yyyy"}},
			{Source: "price", Column: Column{Type: TypeDecimal, Precision: 10, Scale: 2}},
		}
		o.Partitions = DatePartitions("purchase_date")
	}).Convert(ctx, strings.NewReader("email_id,units_purchased,purchase_date,price\na,1,05/03/2021,1.5\nb,2,06/03/2021,2\nc,3,06/03/2021,3\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec := TableSpecFor(res, "merchandise", "refined_retail_sales", "s3://lake/refined/retail_sales", Snappy)
	action, parts, err := cat.Register(ctx, spec, res)
	if err != nil || action != TableCreated {
		t.Fatalf("action %v err %v", action, err)
	}
	if len(parts) != 2 || !parts[0].Created || !parts[1].Created {
		t.Fatalf("partitions %+v", parts)
	}
	var table struct {
		TableType         string
		PartitionKeys     []struct{ Name, Type string }
		Parameters        map[string]string
		StorageDescriptor struct {
			Location, InputFormat string
			Columns               []struct{ Name, Type string }
			SerdeInfo             struct{ SerializationLibrary string }
		}
	}
	_ = json.Unmarshal(fake.tables["merchandise.refined_retail_sales"], &table)
	cols := fmt.Sprint(table.StorageDescriptor.Columns)
	if cols != "[{email_id string} {units_purchased bigint} {purchase_date date} {price decimal(10,2)}]" ||
		fmt.Sprint(table.PartitionKeys) != "[{year string} {month string} {day string}]" ||
		table.StorageDescriptor.Location != "s3://lake/refined/retail_sales/" ||
		table.StorageDescriptor.SerdeInfo.SerializationLibrary != ParquetSerDe ||
		table.Parameters["classification"] != "parquet" || table.TableType != "EXTERNAL_TABLE" {
		t.Fatalf("table %+v", table)
	}
	var p struct{ StorageDescriptor struct{ Location string } }
	_ = json.Unmarshal(fake.parts["merchandise.refined_retail_sales"]["2021/03/06"], &p)
	if p.StorageDescriptor.Location != "s3://lake/refined/retail_sales/year=2021/month=03/day=06/" {
		t.Fatalf("partition location %q", p.StorageDescriptor.Location)
	}

	// A rerun changes nothing; existing partitions are not errors.
	action, parts, err = cat.Register(ctx, spec, res)
	if err != nil || action != TableUnchanged || parts[0].Created || parts[0].Err != nil {
		t.Fatalf("rerun: action %v parts %+v err %v", action, parts, err)
	}
	if w.Calls("UpdateTable") != 0 {
		t.Fatalf("UpdateTable called for an unchanged table")
	}

	// A new column updates the table.
	spec.Columns = append(slices.Clone(spec.Columns), Column{Name: "sale_id", Type: TypeString})
	if action, err := cat.EnsureTable(ctx, spec); err != nil || action != TableUpdated {
		t.Fatalf("update: %v %v", action, err)
	}

	// Changing partition keys is refused.
	spec.PartitionKeys = []string{"dt"}
	var pk *PartitionKeysChangedError
	if _, err := cat.EnsureTable(ctx, spec); !errors.As(err, &pk) {
		t.Fatalf("err = %v, want *PartitionKeysChangedError", err)
	}
}

func TestCatalogAddPartitionsBatches(t *testing.T) {
	w := awstest.NewWireServer(t, "AWSGlue", "glue")
	catInstall(w)
	cat, _ := NewCatalog(glue.NewFromConfig(w.Config))
	spec := TableSpec{Database: "d", Table: "t", Location: "s3://b/t/", Columns: []Column{{Name: "x", Type: TypeInt64}}, PartitionKeys: []string{"k"}}
	if _, err := cat.EnsureTable(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	var vals [][]string
	for i := range 250 {
		vals = append(vals, []string{fmt.Sprint(i % 240)}) // 10 repeats
	}
	res, err := cat.AddPartitions(context.Background(), spec, vals)
	if err != nil {
		t.Fatal(err)
	}
	created := 0
	for _, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if r.Created {
			created++
		}
	}
	if created != 240 || w.Calls("BatchCreatePartition") != 3 {
		t.Fatalf("created %d in %d calls", created, w.Calls("BatchCreatePartition"))
	}
}
