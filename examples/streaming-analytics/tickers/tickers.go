// Package tickers is the second KDA application of seed system 3,
// converted from a described application: application.json is what `aws
// kinesisanalytics describe-application` printed for "ticker-analytics"
// (the getting-started demo stream of stock ticks; its code is app.sql),
// and Run replays generated demo records through it with kda.Replay,
// unchanged, returning each output stream's rows.
package tickers

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/lakekit/lakekit/kda"
)

// Application is the describe-application JSON of ticker-analytics.
//
//go:embed application.json
var Application []byte

//go:embed app.sql
var code string

// Result is what Run produced: the input records and each output stream's
// rows as JSON lines.
type Result struct {
	Records int
	Streams []string // the application's outputs, then error_stream
	Rows    map[string][]string
}

// Records generates n demo-stream records (TICKER_SYMBOL, SECTOR, CHANGE,
// PRICE) from seed, arriving a few every second from start.
func Records(n int, seed uint64, start time.Time) []kda.KinesisRecord {
	rng := rand.New(rand.NewPCG(seed, 3))
	tickers := []struct{ sym, sector string }{{"AMZN", "TECHNOLOGY"}, {"XOM", "ENERGY"}, {"WFC", "FINANCIAL"}, {"NFLX", "MEDIA"}}
	price := []float64{120, 80, 40, 300}
	recs := make([]kda.KinesisRecord, n)
	at := start
	for i := range recs {
		k := rng.IntN(len(tickers))
		change := float64(rng.IntN(201)-100) / 100 * price[k] / 100 // up to ±1% a tick
		if rng.IntN(25) == 0 {
			change *= 6 // now and then a jump the alert catches
		}
		price[k] = float64(int((price[k]+change)*100)) / 100
		at = at.Add(time.Duration(50+rng.IntN(400)) * time.Millisecond)
		data := fmt.Sprintf(`{"TICKER_SYMBOL":%q,"SECTOR":%q,"CHANGE":%.2f,"PRICE":%.2f}`, tickers[k].sym, tickers[k].sector, change, price[k])
		recs[i] = kda.KinesisRecord{
			UserRecord:     kda.UserRecord{PartitionKey: tickers[k].sym, Data: []byte(data)},
			ShardID:        "shardId-000000000000",
			SequenceNumber: fmt.Sprintf("4960%012d", i),
			ArrivalTime:    at,
		}
	}
	return recs
}

// Run replays records through ticker-analytics.
func Run(ctx context.Context, records []kda.KinesisRecord) (*Result, error) {
	app, err := kda.ParseApplication(Application)
	if err != nil {
		return nil, err
	}
	if app.Code != code {
		return nil, fmt.Errorf("tickers: application.json's ApplicationCode is not app.sql")
	}
	bufs := map[string]*bytes.Buffer{}
	res := &Result{Records: len(records), Rows: map[string][]string{}}
	if _, err := kda.Replay(ctx, app, records, func(stream string) (io.Writer, error) {
		bufs[stream] = &bytes.Buffer{}
		res.Streams = append(res.Streams, stream)
		return bufs[stream], nil
	}); err != nil {
		return nil, err
	}
	for s, b := range bufs {
		for line := range bytes.Lines(b.Bytes()) {
			res.Rows[s] = append(res.Rows[s], string(bytes.TrimSuffix(line, []byte("\n"))))
		}
	}
	// Outputs first, error_stream last.
	slices.SortStableFunc(res.Streams, func(a, b string) int {
		return boolInt(a == kda.ErrorStream) - boolInt(b == kda.ErrorStream)
	})
	return res, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Print writes each stream's rows.
func (r *Result) Print(w io.Writer) {
	fmt.Fprintf(w, "ticker-analytics (from describe-application JSON): %d demo records replayed\n", r.Records)
	for _, s := range r.Streams {
		fmt.Fprintf(w, "  %s: %d rows\n", s, len(r.Rows[s]))
		for _, row := range r.Rows[s] {
			fmt.Fprintf(w, "    %s\n", row)
		}
	}
}
