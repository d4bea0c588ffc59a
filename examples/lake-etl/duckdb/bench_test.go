package lakeduck

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lakekit/lakekit/lakepipe/convert"
)

// The benchmark runs each side in a child process (this test binary,
// re-executed) so that each one's peak RSS is its own.
const (
	benchChildEnv = "LAKEETL_BENCH_CHILD"
	benchCSVEnv   = "LAKEETL_BENCH_CSV"
	benchOutEnv   = "LAKEETL_BENCH_OUT"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(benchChildEnv); mode != "" {
		if err := benchChild(mode, os.Getenv(benchCSVEnv), os.Getenv(benchOutEnv)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// benchColumns are the benchmark CSV's columns and types, given to both
// sides so that they do the same work.
var benchColumns = []struct {
	name, duck string
	col        convert.Column
}{
	{"id", "BIGINT", convert.Column{Type: convert.TypeInt64}},
	{"email", "VARCHAR", convert.Column{Type: convert.TypeString}},
	{"retailer", "VARCHAR", convert.Column{Type: convert.TypeString}},
	{"units", "BIGINT", convert.Column{Type: convert.TypeInt64}},
	{"price", "DOUBLE", convert.Column{Type: convert.TypeFloat64}},
	{"active", "BOOLEAN", convert.Column{Type: convert.TypeBool}},
	{"purchase_date", "DATE", convert.Column{Type: convert.TypeDate, Layout: "dd/MM/yyyy"}},
	{"seen_at", "TIMESTAMP", convert.Column{Type: convert.TypeTimestamp, Layout: "yyyy-MM-dd HH:mm:ss"}},
	{"note", "VARCHAR", convert.Column{Type: convert.TypeString}},
}

func benchChild(mode, csvPath, out string) error {
	ctx := context.Background()
	switch mode {
	case "converter":
		var m []convert.Mapping
		for _, c := range benchColumns {
			m = append(m, convert.Mapping{Source: c.name, Column: c.col})
		}
		f, err := os.Open(csvPath)
		if err != nil {
			return err
		}
		defer f.Close()
		conv, err := convert.NewConverter(convert.DirSink(out), func(o *convert.ConverterOptions) { o.Mapping = m })
		if err != nil {
			return err
		}
		res, err := conv.Convert(ctx, f)
		if err != nil {
			return err
		}
		fmt.Println(res.Rows)
		return nil
	case "duckdb":
		db, err := sql.Open("duckdb", "")
		if err != nil {
			return err
		}
		defer db.Close()
		var cols []string
		for _, c := range benchColumns {
			cols = append(cols, fmt.Sprintf("'%s': '%s'", c.name, c.duck))
		}
		if _, err := db.ExecContext(ctx, "SET threads = 2"); err != nil {
			return err
		}
		q := fmt.Sprintf(`COPY (SELECT * FROM read_csv('%s', header = true, dateformat = '%%d/%%m/%%Y',
			timestampformat = '%%Y-%%m-%%d %%H:%%M:%%S', columns = {%s}))
			TO '%s' (FORMAT parquet, COMPRESSION snappy)`, csvPath, strings.Join(cols, ", "), filepath.Join(out, "duck.parquet"))
		var n int64
		if err := db.QueryRowContext(ctx, q).Scan(&n); err != nil {
			return err
		}
		fmt.Println(n)
		return nil
	}
	return fmt.Errorf("unknown bench child %q", mode)
}

// benchWriteCSV writes about size bytes of mixed CSV: integers, doubles,
// booleans, quoted strings with commas and escaped quotes, dd/MM/yyyy dates,
// timestamps and empty fields.
func benchWriteCSV(path string, size int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	r := rand.New(rand.NewPCG(42, 42))
	names := []string{"Acme", "Globex", "Initech", `"Umbrella, Inc."`, `"Soylent ""Green"""`, "Hooli", "Zoë Ltd", `"Stark
Industries"`}
	w.WriteString("id,email,retailer,units,price,active,purchase_date,seen_at,note\n")
	var n int64
	buf := make([]byte, 0, 256)
	for i := 0; n < size; i++ {
		d := time.Unix(1.5e9+r.Int64N(2e8), 0).UTC()
		buf = buf[:0]
		buf = strconv.AppendInt(buf, int64(i), 10)
		buf = append(buf, ",user"...)
		buf = strconv.AppendInt(buf, int64(r.IntN(1e6)), 10)
		buf = append(buf, "@example.com,"...)
		buf = append(buf, names[r.IntN(len(names))]...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, int64(r.IntN(100)), 10)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, float64(r.IntN(100000))/100, 'f', 2, 64)
		buf = append(buf, ',')
		buf = strconv.AppendBool(buf, r.IntN(2) == 0)
		buf = append(buf, ',')
		buf = d.AppendFormat(buf, "02/01/2006")
		buf = append(buf, ',')
		buf = d.AppendFormat(buf, "2006-01-02 15:04:05")
		buf = append(buf, ',')
		if r.IntN(3) == 0 {
			buf = append(buf, "note "...)
			buf = strconv.AppendInt(buf, int64(r.IntN(1e9)), 10)
		}
		buf = append(buf, '\n')
		w.Write(buf)
		n += int64(len(buf))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// benchRun runs one side as a child process and returns its wall time, CPU
// time (user + system), peak RSS and output row count.
func benchRun(b *testing.B, mode, csvPath string) (time.Duration, time.Duration, int64, string) {
	out := b.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchChildEnv+"="+mode, benchCSVEnv+"="+csvPath, benchOutEnv+"="+out)
	cmd.Stderr = os.Stderr
	start := time.Now()
	stdout, err := cmd.Output()
	elapsed := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v", mode, err)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return elapsed, cpu, ru.Maxrss * 1024, strings.TrimSpace(string(stdout))
}

// BenchmarkConvertVsDuckDB converts the same generated CSV (≥ 200 MB by
// default; LAKEETL_BENCH_MB overrides) with the converter and with DuckDB's
// COPY … TO (FORMAT parquet, COMPRESSION snappy) on 2 threads, each in its
// own process, and reports both rates, their ratio, both rates per
// CPU-second and both peak RSS.
func BenchmarkConvertVsDuckDB(b *testing.B) {
	mb := int64(210)
	if v, err := strconv.ParseInt(os.Getenv("LAKEETL_BENCH_MB"), 10, 64); err == nil && v > 0 {
		mb = v
	}
	csvPath := filepath.Join(os.TempDir(), fmt.Sprintf("lakeetl-bench-%dMB.csv", mb))
	if st, err := os.Stat(csvPath); err != nil || st.Size() < mb*1e6 {
		if err := benchWriteCSV(csvPath, mb*1e6); err != nil {
			b.Fatal(err)
		}
	}
	st, _ := os.Stat(csvPath)
	size := float64(st.Size()) / 1e6
	var convT, duckT, convCPU, duckCPU time.Duration
	var convRSS, duckRSS int64
	for b.Loop() {
		ct, cc, cr, crows := benchRun(b, "converter", csvPath)
		dt, dc, dr, drows := benchRun(b, "duckdb", csvPath)
		if crows != drows {
			b.Fatalf("converter wrote %s rows, DuckDB %s", crows, drows)
		}
		convT += ct
		duckT += dt
		convCPU += cc
		duckCPU += dc
		convRSS = max(convRSS, cr)
		duckRSS = max(duckRSS, dr)
	}
	n := float64(b.N)
	convRate := size * n / convT.Seconds()
	duckRate := size * n / duckT.Seconds()
	b.ReportMetric(convRate, "conv_MB/s")
	b.ReportMetric(duckRate, "duckdb_MB/s")
	b.ReportMetric(convRate/duckRate, "conv/duckdb")
	// CPU-seconds per MB: the figure that holds when other work shares the
	// cores.
	b.ReportMetric(size*n/convCPU.Seconds(), "conv_MB/cpu-s")
	b.ReportMetric(size*n/duckCPU.Seconds(), "duckdb_MB/cpu-s")
	b.ReportMetric(float64(convRSS)/(1<<20), "conv_RSS_MiB")
	b.ReportMetric(float64(duckRSS)/(1<<20), "duckdb_RSS_MiB")
	b.ReportMetric(0, "ns/op")
}
