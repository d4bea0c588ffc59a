// Package lakeduck reads seed system 7's refined zone with DuckDB, as
// Athena would: Hive partitioning with the partition keys as strings. It is
// a nested module so that DuckDB's cgo bindings stay out of the library's
// go.mod; it also holds the round-trip tests through DuckDB and the
// benchmark of the converter against DuckDB's COPY … TO parquet.
package lakeduck

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver
)

// OpenRefined opens an in-memory DuckDB with a view named refined over the
// Hive-partitioned Parquet files under dir. Partition keys are read as
// strings (hive_types_autocast = false), as Athena reads a Glue table's
// string partition keys, so year = '2020' and month = '03' compare the same
// way in both.
func OpenRefined(ctx context.Context, dir string) (*sql.DB, error) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	glob := filepath.ToSlash(filepath.Join(dir, "**", "*.parquet"))
	q := fmt.Sprintf(`CREATE VIEW refined AS SELECT * FROM read_parquet('%s', hive_partitioning = true, hive_types_autocast = false)`,
		strings.ReplaceAll(glob, "'", "''"))
	if _, err := db.ExecContext(ctx, q); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// ColumnTypes returns DuckDB's name → type for a query's columns.
func ColumnTypes(ctx context.Context, db *sql.DB, query string) ([][2]string, error) {
	rows, err := db.QueryContext(ctx, "SELECT column_name, column_type FROM (DESCRIBE "+query+")")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		out = append(out, [2]string{n, t})
	}
	return out, rows.Err()
}
