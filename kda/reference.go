package kda

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/lakekit/lakekit/kda/internal/engine"
)

// Table is a reference table that pumps JOIN: its name, columns and rows
// (EngineOptions.Tables). AppReference.Load and Read make one from the
// application's reference data source.
type Table = engine.Table

// GetObjectAPI is the S3 call that loads reference data.
type GetObjectAPI interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// Read reads the reference table from r, an object in the reference's
// format (CSV with its delimiters, or JSON objects one after the other).
// A row that does not fit the ReferenceSchema is an error naming it.
func (r AppReference) Read(rd io.Reader) (Table, error) {
	data, err := io.ReadAll(rd)
	if err != nil {
		return Table{}, fmt.Errorf("kda: reference table %q: %w", r.Table, err)
	}
	rows, err := engine.DecodeTable(r.Format, r.Columns, data)
	if err != nil {
		return Table{}, fmt.Errorf("kda: reference table %q: %w", r.Table, err)
	}
	return Table{Name: r.Table, Columns: r.Columns, Rows: rows}, nil
}

// Load reads the reference table from its S3 object (Bucket, Key), as KDA
// does when the application starts.
func (r AppReference) Load(ctx context.Context, client GetObjectAPI) (Table, error) {
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &r.Bucket, Key: &r.Key})
	if err != nil {
		return Table{}, fmt.Errorf("kda: reference table %q from s3://%s/%s: %w", r.Table, r.Bucket, r.Key, err)
	}
	defer out.Body.Close()
	return r.Read(out.Body)
}

// LoadReferences loads every reference table of the application: from the
// local file that files names for its table (TABLE=FILE on a command
// line), else from S3 with client. With a nil client every table needs a
// file. A name in files that is no reference table is an error.
func (a *Application) LoadReferences(ctx context.Context, client GetObjectAPI, files map[string]string) ([]Table, error) {
	for name := range files {
		found := false
		for _, r := range a.References {
			found = found || r.Table == name
		}
		if !found {
			return nil, fmt.Errorf("kda: %q is not a reference table of the application", name)
		}
	}
	var tables []Table
	for i, r := range a.References {
		var t Table
		var err error
		switch path, ok := files[r.Table]; {
		case ok:
			var f *os.File
			if f, err = os.Open(path); err == nil {
				t, err = r.Read(f)
				f.Close()
			}
		case client == nil:
			err = &ApplicationError{Path: fmt.Sprintf("ApplicationDetail.ReferenceDataSourceDescriptions[%d]", i),
				Msg: fmt.Sprintf("table %q needs a local file or an S3 client", r.Table)}
		default:
			t, err = r.Load(ctx, client)
		}
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}
