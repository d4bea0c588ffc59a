package convert

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"

	"github.com/lakekit/lakekit/internal/awstest"
)

// BenchCSV writes n rows of the benchmark's mixed CSV: integers, doubles,
// booleans, quoted strings with delimiters and escaped quotes, dd/MM/yyyy
// dates and timestamps. Exported through the test binary only.
func benchCSV(w io.Writer, n int, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	bw := &bytes.Buffer{}
	bw.WriteString("id,email,retailer,units,price,active,purchase_date,seen_at,note\n")
	names := []string{"Acme", "Globex", "Initech", "Umbrella, Inc.", "Soylent \"Green\"", "Hooli", "Zoë Ltd"}
	for i := range n {
		d := time.Unix(1.5e9+r.Int64N(2e8), 0).UTC()
		name := names[r.IntN(len(names))]
		if r.IntN(4) == 0 || bytes.ContainsAny([]byte(name), ",\"") {
			name = `"` + string(bytes.ReplaceAll([]byte(name), []byte(`"`), []byte(`""`))) + `"`
		}
		note := ""
		if r.IntN(3) == 0 {
			note = "note " + strconv.Itoa(r.IntN(1e6))
		}
		fmt.Fprintf(bw, "%d,user%d@example.com,%s,%d,%.2f,%t,%s,%s,%s\n", i, r.IntN(1e6), name, r.IntN(100),
			r.Float64()*1000, r.IntN(2) == 0, d.Format("02/01/2006"), d.Format("2006-01-02 15:04:05"), note)
		if bw.Len() > 1<<20 {
			w.Write(bw.Bytes())
			bw.Reset()
		}
	}
	w.Write(bw.Bytes())
}

// ConvBenchMapping is the benchmark CSV's mapping.
func benchMapping() []Mapping {
	return []Mapping{
		{Source: "id", Column: Column{Type: TypeInt64}},
		{Source: "email", Column: Column{Type: TypeString}},
		{Source: "retailer", Column: Column{Type: TypeString}},
		{Source: "units", Column: Column{Type: TypeInt64}},
		{Source: "price", Column: Column{Type: TypeFloat64}},
		{Source: "active", Column: Column{Type: TypeBool}},
		{Source: "purchase_date", Column: Column{Type: TypeDate, Layout: "dd/MM/yyyy"}},
		{Source: "seen_at", Column: Column{Type: TypeTimestamp}},
		{Source: "note", Column: Column{Type: TypeString}},
	}
}

// discardSink counts bytes and keeps nothing.
type discardSink struct{ memSink }

type discardFile struct{}

func (discardFile) Write(p []byte) (int, error) { return len(p), nil }
func (discardFile) Close() error                { return nil }

func (*discardSink) Create(context.Context, string) (io.WriteCloser, error) {
	return discardFile{}, nil
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkConvert measures the converter against the naive single
// goroutine encoding/csv → parquet-go writer on the same data, in the same
// run. MB/s is wall-clock (the converter uses every core, the naive loop
// one); MB/cpu-s is throughput per CPU-second, which holds when other work
// shares the cores. The DuckDB comparison is in examples/lake-etl.
func BenchmarkConvert(b *testing.B) {
	var data bytes.Buffer
	benchCSV(&data, 200_000, 1) // ≈ 20 MB
	mb := float64(data.Len()) / 1e6
	b.Run("converter", func(b *testing.B) {
		b.SetBytes(int64(data.Len()))
		sink := &discardSink{memSink{files: map[string][]byte{}}}
		cpu0 := cpuTime()
		for b.Loop() {
			res, err := mustConverter(sink, func(o *ConverterOptions) { o.Mapping = benchMapping() }).
				Convert(context.Background(), bytes.NewReader(data.Bytes()))
			if err != nil || res.Rows != 200_000 {
				b.Fatal(err, res.Rows)
			}
		}
		b.ReportMetric(mb*float64(b.N)/(cpuTime()-cpu0).Seconds(), "MB/cpu-s")
	})
	b.Run("naive", func(b *testing.B) {
		b.SetBytes(int64(data.Len()))
		type row struct {
			ID       int64     `parquet:"id"`
			Email    string    `parquet:"email"`
			Retailer string    `parquet:"retailer"`
			Units    int64     `parquet:"units"`
			Price    float64   `parquet:"price"`
			Active   bool      `parquet:"active"`
			Date     int32     `parquet:"purchase_date,date"`
			Seen     time.Time `parquet:"seen_at,timestamp(microsecond)"`
			Note     string    `parquet:"note"`
		}
		cpu0 := cpuTime()
		for b.Loop() {
			r := csv.NewReader(bytes.NewReader(data.Bytes()))
			r.ReuseRecord = true
			w := parquet.NewGenericWriter[row](io.Discard, parquet.Compression(&parquet.Snappy))
			_, _ = r.Read()
			buf := make([]row, 0, 1024)
			for {
				rec, err := r.Read()
				if err == io.EOF {
					break
				}
				id, _ := strconv.ParseInt(rec[0], 10, 64)
				units, _ := strconv.ParseInt(rec[3], 10, 64)
				price, _ := strconv.ParseFloat(rec[4], 64)
				act, _ := strconv.ParseBool(rec[5])
				d, _ := time.Parse("02/01/2006", rec[6])
				s, _ := time.Parse("2006-01-02 15:04:05", rec[7])
				buf = append(buf, row{id, rec[1], rec[2], units, price, act, int32(d.Unix() / 86400), s, rec[8]})
				if len(buf) == cap(buf) {
					_, _ = w.Write(buf)
					buf = buf[:0]
				}
			}
			_, _ = w.Write(buf)
			_ = w.Close()
		}
		b.ReportMetric(mb*float64(b.N)/(cpuTime()-cpu0).Seconds(), "MB/cpu-s")
	})
	_ = runtime.GOMAXPROCS(0)
}

// benchS3 is a client on an in-process gofakes3 with a fresh bucket, or
// on the endpoint in LAKEPIPE_BENCH_S3 (gofakes3 in its own process, say),
// which keeps the server's copy of the files out of the heap figures.
func benchS3(b *testing.B) (*s3.Client, string) {
	var client *s3.Client
	if ep := os.Getenv("LAKEPIPE_BENCH_S3"); ep != "" {
		client = killS3Client(ep)
	} else {
		client = awstest.S3(b)
	}
	bucket := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	return client, bucket
}

// BenchmarkConvertToS3 converts ≈ 200 MB of incompressible CSV into one
// uncompressed Parquet file of ≈ 24 parts in an S3 sink with default
// options, and reports MB/s and the peak heap in use.
func BenchmarkConvertToS3(b *testing.B) {
	const rows = 415_000 // × ≈ 488 B
	client, bucket := benchS3(b)
	ctx := context.Background()
	stop := peakSampler()
	var in int64
	for i := 0; b.Loop(); i++ {
		sink := mustS3Sink(client, bucket, fmt.Sprint("run", i))
		res, err := mustConverter(sink, func(o *ConverterOptions) {
			o.Mapping = []Mapping{{Source: "id", Column: Column{Type: TypeInt64}}, {Source: "blob"}}
			o.Compression = Uncompressed
		}).Convert(ctx, newKillRowReader(rows))
		if err != nil || res.Rows != rows || len(res.Files) != 1 {
			b.Fatal(err, res.Rows, res.Files)
		}
		in += res.BytesIn
		b.StopTimer()
		if err := sink.Remove(ctx, res.Files[0].Name); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	peak := stop()
	b.ReportMetric(float64(in)/1e6/b.Elapsed().Seconds(), "MB/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}

// BenchmarkS3SinkWrite writes one 200 MB file through an S3 sink with
// default options in 64 KiB writes, as the converter does, and reports
// the peak heap in use: the sink's own buffers, about
// (DefaultUploadConcurrency+2) × DefaultPartSize.
func BenchmarkS3SinkWrite(b *testing.B) {
	const size = 200e6
	client, bucket := benchS3(b)
	ctx := context.Background()
	chunk := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(5, 6))
	for i := range chunk {
		chunk[i] = byte(r.Uint32())
	}
	b.SetBytes(size)
	stop := peakSampler()
	for b.Loop() {
		sink := mustS3Sink(client, bucket, "w")
		w, err := sink.Create(ctx, "file.parquet")
		if err != nil {
			b.Fatal(err)
		}
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk[:min(len(chunk), size-n)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(stop())/(1<<20), "peak-heap-MiB")
}
