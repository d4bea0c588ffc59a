package convert

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/lakekit/lakekit/internal/javatime"
)

// Type is a column type of the converter's output, named as the Glue Data
// Catalog and Athena name it.
type Type int

// The column types. The zero Type is invalid.
const (
	TypeString    Type = iota + 1 // Parquet BYTE_ARRAY (STRING); Glue string
	TypeInt64                     // Parquet INT64; Glue bigint
	TypeFloat64                   // Parquet DOUBLE; Glue double
	TypeBool                      // Parquet BOOLEAN; Glue boolean
	TypeDate                      // Parquet INT32 (DATE), days since 1970-01-01; Glue date
	TypeTimestamp                 // Parquet INT64 TIMESTAMP(MICROS, not adjusted to UTC); Glue timestamp
	TypeDecimal                   // Parquet INT64 DECIMAL(precision ≤ 18, scale); Glue decimal(p,s)
)

// MaxDecimalPrecision is the largest decimal precision the converter writes
// (an INT64 unscaled value holds 18 digits).
const MaxDecimalPrecision = 18

// String returns the Glue/Hive name of the type.
func (t Type) String() string {
	switch t {
	case TypeString:
		return "string"
	case TypeInt64:
		return "bigint"
	case TypeFloat64:
		return "double"
	case TypeBool:
		return "boolean"
	case TypeDate:
		return "date"
	case TypeTimestamp:
		return "timestamp"
	case TypeDecimal:
		return "decimal"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// ParseType parses a type name as Glue's ApplyMapping, Hive and Go write it:
// "string", "long"/"bigint"/"int64", "int"/"integer", "double"/"float64",
// "boolean"/"bool", "date", "timestamp", "decimal". "int" maps to
// TypeInt64: the converter never narrows.
func ParseType(name string) (Type, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "string", "varchar", "char":
		return TypeString, nil
	case "long", "bigint", "int64", "int", "integer", "smallint", "tinyint":
		return TypeInt64, nil
	case "double", "float64", "float":
		return TypeFloat64, nil
	case "boolean", "bool":
		return TypeBool, nil
	case "date":
		return TypeDate, nil
	case "timestamp":
		return TypeTimestamp, nil
	case "decimal":
		return TypeDecimal, nil
	}
	return 0, fmt.Errorf("convert: unknown type %q", name)
}

// Column is one column of the converter's output schema.
type Column struct {
	Name      string // column name in the Parquet file and the catalog
	Type      Type
	Layout    string // TypeDate/TypeTimestamp: the text layout, Java DateTimeFormatter style ("dd/MM/yyyy"; yy is 2000–2099 as in Spark) or Go style ("02/01/2006")
	Precision int    // TypeDecimal: total digits, 1..MaxDecimalPrecision
	Scale     int    // TypeDecimal: digits after the point
}

// CatalogType returns the column's type as the Glue Data Catalog stores it
// ("decimal(10,2)" for decimals).
func (c Column) CatalogType() string {
	if c.Type == TypeDecimal {
		return fmt.Sprintf("decimal(%d,%d)", c.Precision, c.Scale)
	}
	return c.Type.String()
}

// Mapping maps one source CSV column to an output column, as Glue's
// ApplyMapping does: ("purchase_date", "string", "purchase_date", "date").
// Source columns not named by any Mapping are not written.
type Mapping struct {
	Source string // header name of the source column (or "colN" without a header)
	Column        // the output column; Name "" means the source name
}

// Default layouts of date and timestamp columns without one.
const (
	DefaultDateLayout      = "yyyy-MM-dd"
	DefaultTimestampLayout = "yyyy-MM-dd HH:mm:ss"
)

// Schema is the converter's output schema, in file column order, before
// partition columns are taken out.
type Schema struct {
	Columns []Column
}

// Index returns the position of the named column, or -1.
func (s Schema) Index(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// validate checks column names, decimal shapes and layouts.
func (c Column) validate() error {
	if c.Name == "" {
		return fmt.Errorf("convert: column without a name")
	}
	switch c.Type {
	case TypeString, TypeInt64, TypeFloat64, TypeBool:
	case TypeDate, TypeTimestamp:
		if _, err := javatime.CompileLayout(c.layoutOrDefault()); err != nil {
			return fmt.Errorf("convert: column %q: %w", c.Name, err)
		}
	case TypeDecimal:
		if c.Precision < 1 || c.Precision > MaxDecimalPrecision || c.Scale < 0 || c.Scale > c.Precision {
			return fmt.Errorf("convert: column %q: decimal(%d,%d) is outside 1 ≤ precision ≤ %d, 0 ≤ scale ≤ precision",
				c.Name, c.Precision, c.Scale, MaxDecimalPrecision)
		}
	default:
		return fmt.Errorf("convert: column %q: invalid type %v", c.Name, c.Type)
	}
	return nil
}

func (c Column) layoutOrDefault() string {
	if c.Layout != "" {
		return c.Layout
	}
	if c.Type == TypeTimestamp {
		return DefaultTimestampLayout
	}
	return DefaultDateLayout
}
