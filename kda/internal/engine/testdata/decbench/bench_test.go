package decbench

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"testing"

	"github.com/lakekit/lakekit/examples/streaming-analytics/seed"
	"github.com/lakekit/lakekit/kda"
	"github.com/lakekit/lakekit/kda/internal/value"
)

var seedCols = []value.Column{
	{Name: "sensor_id", Type: value.Integer, Mapping: "$.sensor_id"},
	{Name: "current_temperature", Type: value.Integer, Mapping: "$.current_temperature"},
	{Name: "location", Type: value.Varchar(16), Mapping: "$.location"},
}

var demoCols = []value.Column{
	{Name: "TICKER_SYMBOL", Type: value.Varchar(4), Mapping: "$.TICKER_SYMBOL"},
	{Name: "SECTOR", Type: value.Varchar(16), Mapping: "$.SECTOR"},
	{Name: "CHANGE", Type: value.Double, Mapping: "$.CHANGE"},
	{Name: "PRICE", Type: value.Double, Mapping: "$.PRICE"},
}

func seedRecords() [][]byte {
	g, err := kda.NewGenerator(kda.MustParseTemplate(seed.Template), func(o *kda.GeneratorOptions) { o.Seed = 1 })
	if err != nil {
		panic(err)
	}
	recs := make([][]byte, 4096)
	for i := range recs {
		recs[i] = g.Next()
	}
	return recs
}

func demoRecords() [][]byte {
	tickers := []string{"AMZN", "XOM", "IBM", "AAPL", "MSFT", "NFLX", "TSLA", "GOOG", "META", "ORCL"}
	recs := make([][]byte, 4096)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range recs {
		recs[i] = fmt.Appendf(nil, `{"TICKER_SYMBOL":%q,"SECTOR":"TECHNOLOGY","CHANGE":%.2f,"PRICE":%.2f}`,
			tickers[rng.IntN(len(tickers))], rng.Float64()*2-1, 50+rng.Float64()*100)
	}
	return recs
}

// TestSameRows: every candidate gives the engine's rows on the benchmark records.
func TestSameRows(t *testing.T) {
	for name, set := range map[string]struct {
		cols []value.Column
		recs [][]byte
	}{"seed": {seedCols, seedRecords()}, "demo": {demoCols, demoRecords()}} {
		cands := Candidates(set.cols)
		want := make([]value.Value, len(set.cols))
		got := make([]value.Value, len(set.cols))
		for _, rec := range set.recs[:200] {
			if err := cands["engine"].decode(rec, want); err != nil {
				t.Fatal(err)
			}
			for cn, d := range cands {
				if err := d.decode(rec, got); err != nil || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s %s %s: %v %v, want %v", name, cn, rec, err, got, want)
				}
			}
		}
	}
}

func names(m map[string]Decoder) []string {
	var n []string
	for k := range m {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

func bench(b *testing.B, cols []value.Column, recs [][]byte) {
	cands := Candidates(cols)
	for _, n := range names(cands) {
		d := cands[n]
		b.Run(n, func(b *testing.B) {
			out := make([]value.Value, len(cols))
			bytes := 0
			for _, r := range recs {
				bytes += len(r)
			}
			b.SetBytes(int64(bytes / len(recs)))
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if err := d.decode(recs[i&4095], out); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(i)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkDecodeSeed(b *testing.B) { bench(b, seedCols, seedRecords()) }
func BenchmarkDecodeDemo(b *testing.B) { bench(b, demoCols, demoRecords()) }
