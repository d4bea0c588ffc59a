// Package bench compares lakekit's KDA SQL engine with Benthos on the seed's
// filter-and-route work: JSON sensor records in, rows with
// current_temperature > 100 routed to "anomaly" and < 100 to "output",
// each re-encoded as JSON. It is a separate module so Benthos never enters
// lakekit's go.mod.
//
//	cd examples/streaming-analytics/bench && go test -run XXX -bench . -cpu 1 -benchtime 3x
package bench

import (
	"context"
	"testing"
	"time"

	"github.com/lakekit/lakekit/examples/streaming-analytics/seed"
	"github.com/lakekit/lakekit/kda"
	_ "github.com/redpanda-data/benthos/v4/public/components/pure"
	"github.com/redpanda-data/benthos/v4/public/service"
)

const (
	nRecords  = 200_000
	batchSize = 500 // like a Kinesis GetRecords page or a Lambda batch
)

func records() [][]byte {
	g, err := kda.NewGenerator(kda.MustParseTemplate(seed.Template), func(o *kda.GeneratorOptions) { o.Seed = 1 })
	if err != nil {
		panic(err)
	}
	out := make([][]byte, nRecords)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

type counts struct{ anomaly, output, bytes int }

// lakekitRun runs the seed's SQL over recs.
func lakekitRun(b testing.TB, recs [][]byte) counts {
	var c counts
	engine, err := kda.NewEngine(seed.SQL, []kda.Input{seed.Input})
	if err != nil {
		b.Fatal(err)
	}
	var buf []byte
	_ = engine.Subscribe("anomaly_data_stream", func(r kda.Row) { buf = r.AppendJSON(buf[:0]); c.anomaly++; c.bytes += len(buf) })
	_ = engine.Subscribe("output_data_stream", func(r kda.Row) { buf = r.AppendJSON(buf[:0]); c.output++; c.bytes += len(buf) })
	ts := time.Unix(1_700_000_000, 0)
	for _, r := range recs {
		_ = engine.InsertJSON(kda.DefaultInputStream, r, ts)
	}
	return c
}

// benthosStream is a Benthos stream with the same routing: a Bloblang
// mapping drops temperature == 100 and tags the route, and a consumer
// function serialises each message, as an output would.
type benthosStream struct {
	stream  *service.Stream
	produce service.MessageBatchHandlerFunc
	c       *counts
	done    chan error
}

func newBenthos(b testing.TB) *benthosStream {
	sb := service.NewStreamBuilder()
	if err := sb.SetLoggerYAML(`level: NONE`); err != nil {
		b.Fatal(err)
	}
	sb.SetThreads(1)
	produce, err := sb.AddBatchProducerFunc()
	if err != nil {
		b.Fatal(err)
	}
	if err := sb.AddProcessorYAML(`
mapping: |
  root = if this.current_temperature == 100 { deleted() } else { this }
  meta route = if this.current_temperature > 100 { "anomaly" } else { "output" }
`); err != nil {
		b.Fatal(err)
	}
	bs := &benthosStream{produce: produce, c: &counts{}, done: make(chan error, 1)}
	if err := sb.AddBatchConsumerFunc(func(_ context.Context, batch service.MessageBatch) error {
		for _, m := range batch {
			data, err := m.AsBytes()
			if err != nil {
				return err
			}
			route, _ := m.MetaGet("route")
			if route == "anomaly" {
				bs.c.anomaly++
			} else {
				bs.c.output++
			}
			bs.c.bytes += len(data)
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	if bs.stream, err = sb.Build(); err != nil {
		b.Fatal(err)
	}
	go func() { bs.done <- bs.stream.Run(context.Background()) }()
	return bs
}

func (bs *benthosStream) run(b testing.TB, recs [][]byte) counts {
	*bs.c = counts{}
	ctx := context.Background()
	for i := 0; i < len(recs); i += batchSize {
		batch := make(service.MessageBatch, 0, batchSize)
		for _, r := range recs[i:min(i+batchSize, len(recs))] {
			batch = append(batch, service.NewMessage(r))
		}
		if err := bs.produce(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	return *bs.c
}

func (bs *benthosStream) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = bs.stream.Stop(ctx)
	<-bs.done
}

// BenchmarkSeedPumpsVsBenthos runs both on the same records in each
// iteration and reports each rate and lakekit's speed-up.
func BenchmarkSeedPumpsVsBenthos(b *testing.B) {
	recs := records()
	bs := newBenthos(b)
	defer bs.close()
	var tLake, tBenthos time.Duration
	var rows int
	for b.Loop() {
		t0 := time.Now()
		lc := lakekitRun(b, recs)
		t1 := time.Now()
		bc := bs.run(b, recs)
		t2 := time.Now()
		if lc.anomaly != bc.anomaly || lc.output != bc.output {
			b.Fatalf("results differ: lakekit %+v, benthos %+v", lc, bc)
		}
		tLake += t1.Sub(t0)
		tBenthos += t2.Sub(t1)
		rows += len(recs)
	}
	b.ReportMetric(float64(rows)/tLake.Seconds(), "lakekit-rows/s")
	b.ReportMetric(float64(rows)/tBenthos.Seconds(), "benthos-rows/s")
	b.ReportMetric(tBenthos.Seconds()/tLake.Seconds(), "speedup-x")
}

// TestSameResults checks both produce the same routing on a sample.
func TestSameResults(t *testing.T) {
	recs := records()[:5000]
	bs := newBenthos(t)
	defer bs.close()
	lc, bc := lakekitRun(t, recs), bs.run(t, recs)
	if lc.anomaly == 0 || lc.output == 0 || lc.anomaly != bc.anomaly || lc.output != bc.output {
		t.Fatalf("lakekit %+v, benthos %+v", lc, bc)
	}
}
