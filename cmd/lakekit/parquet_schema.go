package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/spf13/cobra"

	"github.com/lakekit/lakekit/lakepipe/convert"
)

// schemaSummary is the output of parquet schema.
type schemaSummary struct {
	File            string            `json:"file"`
	Format          string            `json:"format"` // csv or parquet
	Header          *bool             `json:"header,omitempty"`
	HeaderAmbiguous bool              `json:"header_ambiguous,omitempty"`
	NumRows         *int64            `json:"num_rows,omitempty"`
	RowGroups       int               `json:"row_groups,omitempty"`
	Columns         []mappingColumn   `json:"columns"`
	Rows            []json.RawMessage `json:"rows,omitempty"`
}

func newParquetSchema(a *app) *cobra.Command {
	var cf csvFlags
	var rows int
	c := &cobra.Command{
		Use:   "schema FILE",
		Short: "Show the schema inference would choose for a CSV, or a Parquet file's schema",
		Long: `For a CSV (a file or s3://bucket/key), print what 'parquet convert' would infer
from its sample: whether the first record is a header, and each column's name,
Glue type and source column. With --json the columns are a mapping file to
edit and pass to 'parquet convert --mapping'.

For a Parquet file (recognised by its magic number), print its columns with
their Glue types, its row count and, with --rows N, its first N rows as JSON.`,
		Example: `  lakekit parquet schema sales.csv
  lakekit --json parquet schema s3://raw/sales.csv > mapping.json
  lakekit parquet schema out/part-0a1b2c3d-0.parquet --rows 5`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sampling, err := cf.apply()
			if err != nil {
				return err
			}
			if rows < 0 {
				return usageError{fmt.Errorf("--rows %d: want 0 or more", rows)}
			}
			sum, err := a.parquetSchema(cmd.Context(), args[0], sampling, rows)
			if err != nil {
				return err
			}
			return a.summary(sum, sum.text)
		},
	}
	cf.add(c)
	c.Flags().IntVar(&rows, "rows", 0, "print the first `N` rows of a Parquet file")
	return c
}

// openReaderAt opens what schema reads, a local file or an S3 object, as
// a convert.SinkFile: random access (ranged GETs on S3) and its size.
func (a *app) openReaderAt(ctx context.Context, name string) (convert.SinkFile, error) {
	if !isS3URL(name) {
		return convert.DirSink(filepath.Dir(name)).Open(ctx, filepath.Base(name))
	}
	bucket, key, err := parseS3Object(name)
	if err != nil {
		return nil, err
	}
	client, err := a.lazyS3(ctx)()
	if err != nil {
		return nil, err
	}
	sink, err := convert.NewS3Sink(client, bucket, "")
	if err != nil {
		return nil, err
	}
	f, err := sink.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return f, nil
}

func (a *app) parquetSchema(ctx context.Context, name string, sampling func(*convert.ConverterOptions), rows int) (*schemaSummary, error) {
	f, err := a.openReaderAt(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if n, _ := f.ReadAt(magic, 0); n == 4 && string(magic) == "PAR1" {
		return parquetFileSchema(name, f, rows)
	}
	inf, err := convert.Infer(io.NewSectionReader(f, 0, f.Size()), sampling)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	header := inf.Header
	return &schemaSummary{File: name, Format: "csv", Header: &header, HeaderAmbiguous: inf.Ambiguous,
		Columns: mappingColumns(inf.Columns, inf.Source)}, nil
}

func (s *schemaSummary) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if s.Format == "csv" {
		h := "absent (columns named colN)"
		if *s.Header {
			h = "present"
		}
		if s.HeaderAmbiguous {
			h += " (ambiguous: every sampled field is text; pass --header present if the first record is a header)"
		}
		fmt.Fprintf(w, "header: %s\n", h)
		fmt.Fprintln(tw, "COLUMN\tTYPE\tSOURCE")
		for _, c := range s.Columns {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.Type, c.Source)
		}
		tw.Flush()
		return
	}
	fmt.Fprintf(w, "parquet: %d rows in %d row groups\n", *s.NumRows, s.RowGroups)
	fmt.Fprintln(tw, "COLUMN\tTYPE")
	for _, c := range s.Columns {
		fmt.Fprintf(tw, "%s\t%s\n", c.Name, c.Type)
	}
	tw.Flush()
	for _, r := range s.Rows {
		fmt.Fprintf(w, "%s\n", r)
	}
}

// parquetFileSchema reads a Parquet file's columns (with the Glue types
// lakepipe/convert writes them as) and its first rows.
func parquetFileSchema(name string, f convert.SinkFile, rows int) (*schemaSummary, error) {
	pf, err := parquet.OpenFile(f, f.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	n := pf.NumRows()
	sum := &schemaSummary{File: name, Format: "parquet", NumRows: &n, RowGroups: len(pf.RowGroups())}
	fields := pf.Schema().Fields()
	for _, fl := range fields {
		sum.Columns = append(sum.Columns, mappingColumn{Name: fl.Name(), Type: glueType(fl)})
	}
	if rows == 0 {
		return sum, nil
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 1)
	for len(sum.Rows) < rows {
		k, err := r.ReadRows(buf)
		if k == 1 {
			sum.Rows = append(sum.Rows, rowJSON(fields, buf[0]))
		}
		if err == io.EOF || k == 0 && err == nil {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: row %d: %w", name, len(sum.Rows)+1, err)
		}
	}
	return sum, nil
}

// glueType names a Parquet column's type as the Glue Data Catalog does.
func glueType(n parquet.Node) string {
	t := n.Type()
	if lt := t.LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.StringType:
			return "string"
		case *format.DateType:
			return "date"
		case *format.TimestampType:
			return "timestamp"
		case *format.DecimalType:
			return fmt.Sprintf("decimal(%d,%d)", v.Precision, v.Scale)
		case *format.IntType:
			if v.BitWidth <= 32 {
				return "int"
			}
			return "bigint"
		}
	}
	switch t.Kind() {
	case parquet.Boolean:
		return "boolean"
	case parquet.Int32:
		return "int"
	case parquet.Int64:
		return "bigint"
	case parquet.Float:
		return "float"
	case parquet.Double:
		return "double"
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return "binary"
	}
	return strings.ToLower(t.String())
}

// rowJSON renders a row of a flat file as a JSON object in column order.
func rowJSON(fields []parquet.Field, row parquet.Row) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, v := range row {
		c := v.Column()
		if c < 0 || c >= len(fields) {
			continue
		}
		if i > 0 {
			b.WriteString(", ")
		}
		name, _ := json.Marshal(fields[c].Name())
		b.Write(name)
		b.WriteString(": ")
		val, _ := json.Marshal(cellValue(glueType(fields[c]), v))
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// cellValue is a Parquet value as the JSON of its Glue type.
func cellValue(typ string, v parquet.Value) any {
	if v.IsNull() {
		return nil
	}
	switch {
	case typ == "date":
		return time.Unix(int64(v.Int32())*86400, 0).UTC().Format(time.DateOnly)
	case typ == "timestamp":
		return time.UnixMicro(v.Int64()).UTC().Format("2006-01-02 15:04:05.999999")
	case strings.HasPrefix(typ, "decimal("):
		var p, s int
		fmt.Sscanf(typ, "decimal(%d,%d)", &p, &s)
		return json.Number(new(big.Rat).SetFrac(big.NewInt(v.Int64()), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(s)), nil)).FloatString(s))
	}
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean()
	case parquet.Int32:
		return v.Int32()
	case parquet.Int64:
		return v.Int64()
	case parquet.Float:
		return v.Float()
	case parquet.Double:
		return v.Double()
	}
	return string(v.ByteArray())
}
