package lakeduck

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakekit/lakekit/lakepipe/convert"
)

// TestRoundTripDuckDB writes tricky values with the converter and reads
// them back with DuckDB and with parquet-go: both must see the same values
// with the declared types.
func TestRoundTripDuckDB(t *testing.T) {
	long := strings.Repeat("ü€𝄞-", 300_000) // 3 MB: spans many pages
	csv := "id,name,units,price,ok,ratio,bought,seen\n" +
		"1,\"Zoë \"\"Z\"\" Ünïcode, 東京\",42,12.34,true,0.5,05/03/2021,2021-03-05 10:11:12.123456\n" +
		"2,,,,,,,\n" +
		"3,\"" + long + "\",-9223372036854775808,-99999999.99,FALSE,-1e-300,29/02/2020,1969-12-31 23:59:59.5\n" +
		"4,\"line1\nline2\",9223372036854775807,0.01,True,1.7976931348623157e308,01/01/0001,2262-04-11 23:47:16.854775\n"
	dir := t.TempDir()
	conv, err := convert.NewConverter(convert.DirSink(dir), func(o *convert.ConverterOptions) {
		o.Mapping = []convert.Mapping{
			{Source: "id", Column: convert.Column{Type: convert.TypeInt64}},
			{Source: "name", Column: convert.Column{Type: convert.TypeString}},
			{Source: "units", Column: convert.Column{Type: convert.TypeInt64}},
			{Source: "price", Column: convert.Column{Type: convert.TypeDecimal, Precision: 10, Scale: 2}},
			{Source: "ok", Column: convert.Column{Type: convert.TypeBool}},
			{Source: "ratio", Column: convert.Column{Type: convert.TypeFloat64}},
			{Source: "bought", Column: convert.Column{Type: convert.TypeDate, Layout: "dd/MM/yyyy"}},
			{Source: "seen", Column: convert.Column{Type: convert.TypeTimestamp, Layout: "yyyy-MM-dd HH:mm:ss.SSSSSS"}},
		}
		o.EmptyStringsAsNull = true
		o.Partitions = convert.ProcessingDatePartitions(time.Date(2021, 3, 5, 0, 0, 0, 0, time.UTC))
		o.RowGroupRows = 2
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := conv.Convert(context.Background(), strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || res.Quarantined != 0 {
		t.Fatalf("rows %d quarantined %d", res.Rows, res.Quarantined)
	}
	want := [][]string{
		{"1", `Zoë "Z" Ünïcode, 東京`, "42", "12.34", "true", "0.5", "2021-03-05", "2021-03-05 10:11:12.123456"},
		{"2", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"},
		{"3", long, "-9223372036854775808", "-99999999.99", "false", "-1e-300", "2020-02-29", "1969-12-31 23:59:59.5"},
		{"4", "line1\nline2", "9223372036854775807", "0.01", "true", "1.7976931348623157e+308", "0001-01-01", "2262-04-11 23:47:16.854775"},
	}

	ctx := context.Background()
	db, err := OpenRefined(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	types, err := ColumnTypes(ctx, db, "SELECT * FROM refined")
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(types); got != "[[id BIGINT] [name VARCHAR] [units BIGINT] [price DECIMAL(10,2)] [ok BOOLEAN] [ratio DOUBLE] [bought DATE] [seen TIMESTAMP] [day VARCHAR] [month VARCHAR] [year VARCHAR]]" {
		t.Fatalf("DuckDB types %s", got)
	}
	rows, err := db.QueryContext(ctx, `SELECT id::VARCHAR, name, units::VARCHAR, price::VARCHAR, ok::VARCHAR,
		CASE WHEN ratio IS NULL THEN NULL ELSE printf('%.17g', ratio) END, bought::VARCHAR, seen::VARCHAR, year || month || day
		FROM refined ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var duck [][]string
	for rows.Next() {
		vals := make([]sql.NullString, 9)
		ptrs := make([]any, 9)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if vals[8].String != "20210305" {
			t.Fatalf("partition %q", vals[8].String)
		}
		var r []string
		for _, v := range vals[:8] {
			if v.Valid {
				r = append(r, v.String)
			} else {
				r = append(r, "NULL")
			}
		}
		duck = append(duck, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	pq := rtReadParquet(t, filepath.Join(dir, filepath.FromSlash(res.Files[0].Name)))
	for i := range want {
		for j := range want[i] {
			w := want[i][j]
			if j == 5 && w != "NULL" { // doubles: DuckDB prints %.17g
				var f float64
				fmt.Sscan(w, &f)
				w = fmt.Sprintf("%.17g", f)
			}
			if duck[i][j] != w {
				t.Errorf("DuckDB row %d col %d = %.40q, want %.40q", i, j, duck[i][j], w)
			}
			if pq[i][j] != want[i][j] {
				t.Errorf("parquet-go row %d col %d = %.40q, want %.40q", i, j, pq[i][j], want[i][j])
			}
		}
	}
}

// rtReadParquet renders a file's rows the way the test's want table writes
// them.
func rtReadParquet(t *testing.T, name string) [][]string {
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	var out [][]string
	buf := make([]parquet.Row, 8)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			rec := make([]string, len(row))
			for _, v := range row {
				c := v.Column()
				switch {
				case v.IsNull():
					rec[c] = "NULL"
				case c == 3:
					rec[c] = fmt.Sprintf("%.2f", float64(v.Int64())/100)
				case c == 6:
					rec[c] = time.Unix(int64(v.Int32())*86400, 0).UTC().Format("2006-01-02")
				case c == 7:
					rec[c] = strings.TrimSuffix(time.UnixMicro(v.Int64()).UTC().Format("2006-01-02 15:04:05.999999"), ".")
				case v.Kind() == parquet.Boolean:
					rec[c] = fmt.Sprint(v.Boolean())
				case v.Kind() == parquet.Double:
					rec[c] = fmt.Sprint(v.Double())
				case v.Kind() == parquet.Int64:
					rec[c] = fmt.Sprint(v.Int64())
				default:
					rec[c] = string(v.ByteArray())
				}
			}
			out = append(out, rec)
		}
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}
