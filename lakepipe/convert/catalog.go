package convert

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	gluetypes "github.com/aws/aws-sdk-go-v2/service/glue/types"
	"github.com/lakekit/lakekit/internal/opt"
)

// MaxBatchCreatePartitions is Glue's limit of partitions per
// BatchCreatePartition request.
const MaxBatchCreatePartitions = 100

// Hive classes of a Parquet table, as a Glue crawler writes them.
const (
	ParquetInputFormat  = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
	ParquetOutputFormat = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
	ParquetSerDe        = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
)

// GetTableAPI, CreateTableAPI, UpdateTableAPI and BatchCreatePartitionAPI
// are the Glue operations the catalog uses; *glue.Client has them all.
type GetTableAPI interface {
	GetTable(ctx context.Context, in *glue.GetTableInput, optFns ...func(*glue.Options)) (*glue.GetTableOutput, error)
}

// CreateTableAPI creates a table.
type CreateTableAPI interface {
	CreateTable(ctx context.Context, in *glue.CreateTableInput, optFns ...func(*glue.Options)) (*glue.CreateTableOutput, error)
}

// UpdateTableAPI updates a table.
type UpdateTableAPI interface {
	UpdateTable(ctx context.Context, in *glue.UpdateTableInput, optFns ...func(*glue.Options)) (*glue.UpdateTableOutput, error)
}

// BatchCreatePartitionAPI adds partitions.
type BatchCreatePartitionAPI interface {
	BatchCreatePartition(ctx context.Context, in *glue.BatchCreatePartitionInput, optFns ...func(*glue.Options)) (*glue.BatchCreatePartitionOutput, error)
}

// CatalogAPI is everything Catalog calls.
type CatalogAPI interface {
	GetTableAPI
	CreateTableAPI
	UpdateTableAPI
	BatchCreatePartitionAPI
}

// CatalogOptions configure a Catalog.
type CatalogOptions struct {
	// CatalogID is the account id of the Data Catalog. Default: the
	// caller's.
	CatalogID string
	// Logger receives one info line per table change. Nil: silent.
	Logger *slog.Logger
}

// Catalog registers converter output in the Glue Data Catalog directly, so
// that neither a crawler nor MSCK REPAIR TABLE is needed.
type Catalog struct {
	api  CatalogAPI
	opts CatalogOptions
}

// NewCatalog returns a Catalog on a Glue client. No CatalogOptions value
// is invalid today; the error is there so that the constructor keeps the
// one shape of the library.
func NewCatalog(api CatalogAPI, optFns ...func(*CatalogOptions)) (*Catalog, error) {
	c := &Catalog{api: api}
	for _, fn := range optFns {
		fn(&c.opts)
	}
	c.opts.Logger = opt.Logger(c.opts.Logger)
	return c, nil
}

// TableSpec describes a Parquet table.
type TableSpec struct {
	Database      string
	Table         string
	Location      string // s3://bucket/prefix/ of the table
	Columns       []Column
	PartitionKeys []string // partition columns, all of type string as Athena reads Hive paths
	Compression   Compression
	Description   string
}

// TableSpecFor builds the spec of a conversion's output.
func TableSpecFor(res *Result, database, table, location string, comp Compression) TableSpec {
	return TableSpec{Database: database, Table: table, Location: location,
		Columns: res.Schema.Columns, PartitionKeys: res.PartitionKeys, Compression: comp}
}

// TableAction says what EnsureTable did.
type TableAction string

// Table actions.
const (
	TableCreated   TableAction = "created"
	TableUpdated   TableAction = "updated"
	TableUnchanged TableAction = "unchanged"
)

// PartitionKeysChangedError reports a table whose partition keys differ
// from the spec's: its existing partitions would no longer match, so the
// catalog refuses to change them.
type PartitionKeysChangedError struct {
	Table      string
	Have, Want []string
}

func (e *PartitionKeysChangedError) Error() string {
	return fmt.Sprintf("convert: table %s is partitioned by %v, not %v", e.Table, e.Have, e.Want)
}

func (s TableSpec) storage(location string) *gluetypes.StorageDescriptor {
	cols := make([]gluetypes.Column, len(s.Columns))
	for i, c := range s.Columns {
		cols[i] = gluetypes.Column{Name: aws.String(c.Name), Type: aws.String(c.CatalogType())}
	}
	return &gluetypes.StorageDescriptor{
		Columns:      cols,
		Location:     aws.String(location),
		InputFormat:  aws.String(ParquetInputFormat),
		OutputFormat: aws.String(ParquetOutputFormat),
		Compressed:   s.Compression != Uncompressed,
		SerdeInfo: &gluetypes.SerDeInfo{
			SerializationLibrary: aws.String(ParquetSerDe),
			Parameters:           map[string]string{"serialization.format": "1"},
		},
	}
}

func (s TableSpec) input() *gluetypes.TableInput {
	keys := make([]gluetypes.Column, len(s.PartitionKeys))
	for i, k := range s.PartitionKeys {
		keys[i] = gluetypes.Column{Name: aws.String(k), Type: aws.String("string")}
	}
	in := &gluetypes.TableInput{
		Name:              aws.String(s.Table),
		TableType:         aws.String("EXTERNAL_TABLE"),
		StorageDescriptor: s.storage(s.location()),
		PartitionKeys:     keys,
		Parameters: map[string]string{
			"classification":      "parquet",
			"EXTERNAL":            "TRUE",
			"parquet.compression": strings.ToUpper(s.Compression.name()),
		},
	}
	if s.Description != "" {
		in.Description = aws.String(s.Description)
	}
	return in
}

func (s TableSpec) location() string { return strings.TrimSuffix(s.Location, "/") + "/" }

func (c Compression) name() string {
	switch c {
	case Zstd:
		return "zstd"
	case Gzip:
		return "gzip"
	case Uncompressed:
		return "uncompressed"
	}
	return "snappy"
}

func (c *Catalog) catalogID() *string {
	if c.opts.CatalogID == "" {
		return nil
	}
	return aws.String(c.opts.CatalogID)
}

// EnsureTable creates the table, or updates its columns and location when
// they differ from the spec. Columns are compared by name and type, in
// order.
func (c *Catalog) EnsureTable(ctx context.Context, spec TableSpec) (TableAction, error) {
	got, err := c.api.GetTable(ctx, &glue.GetTableInput{CatalogId: c.catalogID(), DatabaseName: &spec.Database, Name: &spec.Table})
	var nf *gluetypes.EntityNotFoundException
	switch {
	case errors.As(err, &nf):
		_, err := c.api.CreateTable(ctx, &glue.CreateTableInput{CatalogId: c.catalogID(), DatabaseName: &spec.Database, TableInput: spec.input()})
		var exists *gluetypes.AlreadyExistsException
		if errors.As(err, &exists) { // created meanwhile by another run: check it
			return c.EnsureTable(ctx, spec)
		}
		if err != nil {
			return "", fmt.Errorf("convert: creating table %s.%s: %w", spec.Database, spec.Table, err)
		}
		c.opts.Logger.Info("convert: table created", "database", spec.Database, "table", spec.Table)
		return TableCreated, nil
	case err != nil:
		return "", fmt.Errorf("convert: reading table %s.%s: %w", spec.Database, spec.Table, err)
	}
	t := got.Table
	var have []string
	for _, k := range t.PartitionKeys {
		have = append(have, aws.ToString(k.Name))
	}
	if !slices.Equal(have, spec.PartitionKeys) && !(len(have) == 0 && len(spec.PartitionKeys) == 0) {
		return "", &PartitionKeysChangedError{Table: spec.Database + "." + spec.Table, Have: have, Want: spec.PartitionKeys}
	}
	if t.StorageDescriptor != nil && sameColumns(t.StorageDescriptor.Columns, spec.Columns) &&
		aws.ToString(t.StorageDescriptor.Location) == spec.location() {
		return TableUnchanged, nil
	}
	if _, err := c.api.UpdateTable(ctx, &glue.UpdateTableInput{CatalogId: c.catalogID(), DatabaseName: &spec.Database, TableInput: spec.input()}); err != nil {
		return "", fmt.Errorf("convert: updating table %s.%s: %w", spec.Database, spec.Table, err)
	}
	c.opts.Logger.Info("convert: table updated", "database", spec.Database, "table", spec.Table)
	return TableUpdated, nil
}

func sameColumns(have []gluetypes.Column, want []Column) bool {
	if len(have) != len(want) {
		return false
	}
	for i, c := range want {
		if aws.ToString(have[i].Name) != c.Name || !strings.EqualFold(aws.ToString(have[i].Type), c.CatalogType()) {
			return false
		}
	}
	return true
}

// PartitionResult is the outcome for one partition.
type PartitionResult struct {
	Values  []string
	Created bool  // false with a nil Err: it existed already
	Err     error // a failure for this partition only
}

// AddPartitions adds the partitions (values in PartitionKeys order) under
// the table's location, MaxBatchCreatePartitions per request. A partition
// that exists already is not an error. The returned error is for requests
// that failed as a whole; per-partition failures are in the results.
func (c *Catalog) AddPartitions(ctx context.Context, spec TableSpec, values [][]string) ([]PartitionResult, error) {
	results := make([]PartitionResult, len(values))
	for start := 0; start < len(values); start += MaxBatchCreatePartitions {
		batch := values[start:min(start+MaxBatchCreatePartitions, len(values))]
		inputs := make([]gluetypes.PartitionInput, len(batch))
		for i, vals := range batch {
			if len(vals) != len(spec.PartitionKeys) {
				return results, fmt.Errorf("convert: partition %v has %d values for keys %v", vals, len(vals), spec.PartitionKeys)
			}
			var path strings.Builder
			for k, v := range vals {
				path.WriteString(spec.PartitionKeys[k] + "=" + escapePartitionValue(v) + "/")
			}
			inputs[i] = gluetypes.PartitionInput{Values: vals, StorageDescriptor: spec.storage(spec.location() + path.String())}
			results[start+i] = PartitionResult{Values: vals, Created: true}
		}
		out, err := c.api.BatchCreatePartition(ctx, &glue.BatchCreatePartitionInput{
			CatalogId: c.catalogID(), DatabaseName: &spec.Database, TableName: &spec.Table, PartitionInputList: inputs,
		})
		if err != nil {
			return results, fmt.Errorf("convert: adding partitions to %s.%s: %w", spec.Database, spec.Table, err)
		}
		for _, e := range out.Errors {
			for i, vals := range batch {
				if !slices.Equal(vals, e.PartitionValues) {
					continue
				}
				r := &results[start+i]
				r.Created = false
				code, msg := "", ""
				if e.ErrorDetail != nil {
					code, msg = aws.ToString(e.ErrorDetail.ErrorCode), aws.ToString(e.ErrorDetail.ErrorMessage)
				}
				if code != "AlreadyExistsException" {
					r.Err = fmt.Errorf("convert: partition %v: %s: %s", vals, code, msg)
				}
			}
		}
	}
	return results, nil
}

// Register makes a conversion's output queryable: it ensures the table and
// adds the partitions the conversion wrote.
func (c *Catalog) Register(ctx context.Context, spec TableSpec, res *Result) (TableAction, []PartitionResult, error) {
	action, err := c.EnsureTable(ctx, spec)
	if err != nil {
		return "", nil, err
	}
	if len(spec.PartitionKeys) == 0 {
		return action, nil, nil
	}
	var values [][]string
	for _, f := range res.Files {
		if !slices.ContainsFunc(values, func(v []string) bool { return slices.Equal(v, f.Partition) }) {
			values = append(values, f.Partition)
		}
	}
	parts, err := c.AddPartitions(ctx, spec, values)
	return action, parts, err
}
