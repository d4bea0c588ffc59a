// Command quicksight-cost prints seed system 4's operating-cost tables for
// given inputs: the Athena bill of a dashboard refreshed hourly into SPICE
// against the same dashboard queried directly on every view, and the
// QuickSight user bill.
//
//	go run ./examples/quicksight-cost                        # the seed's figures
//	go run ./examples/quicksight-cost -queries 6 -scan 1.5GB -views 250 -edition enterprise -readers 40 -sessions 20
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/lakekit/lakekit/lakepipe/cost"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quicksight-cost:", err)
		os.Exit(2)
	}
}

func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("quicksight-cost", flag.ContinueOnError)
	queries := fs.Int("queries", 4, "source queries per dashboard refresh or view")
	scan := fs.String("scan", "200MB", "bytes each query scans (KB, MB, GB, TB: decimal)")
	views := fs.Float64("views", 1000, "dashboard views per hour without SPICE")
	price := fs.Float64("price-per-tb", cost.DefaultAthenaPricePerTB, "Athena USD per TB scanned")
	edition := fs.String("edition", "standard", "QuickSight edition: standard or enterprise")
	authors := fs.Int("authors", 1, "QuickSight authors")
	readers := fs.Int("readers", 3, "QuickSight readers")
	sessions := fs.Int("sessions", 0, "30-minute sessions per reader per month (enterprise)")
	spice := fs.Float64("spice-gb", 0, "SPICE GB held")
	if err := fs.Parse(args); err != nil {
		return err
	}
	bytes, err := parseSize(*scan)
	if err != nil {
		return err
	}
	ed := cost.Standard
	switch strings.ToLower(*edition) {
	case "standard":
	case "enterprise":
		ed = cost.Enterprise
	default:
		return fmt.Errorf("unknown edition %q", *edition)
	}
	a := cost.Athena{PricePerTB: *price}
	rows := []cost.Scenario{
		{Name: "SPICE", Queries: *queries, BytesPerQuery: bytes},
		{Name: "direct query", Queries: *queries, BytesPerQuery: bytes, ViewsPerHour: *views},
	}
	if err := cost.WriteAthenaTable(out, a, rows); err != nil {
		return err
	}
	s, d := a.SPICEHourly(*queries, bytes), a.DirectQuery(*queries, bytes, *views)
	fmt.Fprintf(out, "SPICE hourly costs %s a year in Athena scans; direct query at %g views/hour costs %s\n\n",
		cost.FormatUSD(s.Annual), *views, cost.FormatUSD(d.Annual))
	return cost.WriteUserTable(out, cost.Pricing(ed), cost.Users{Authors: *authors, Readers: *readers, SessionsPerReader: *sessions, SPICEGB: *spice})
}

// parseSize reads "210KB", "1.5GB", "300" (bytes).
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   float64
	}{{"TB", cost.TB}, {"GB", cost.GB}, {"MB", cost.MB}, {"KB", cost.KB}, {"B", 1}}
	u := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	for _, x := range units {
		if strings.HasSuffix(u, x.suffix) {
			u, mult = strings.TrimSpace(strings.TrimSuffix(u, x.suffix)), x.mult
			break
		}
	}
	f, err := strconv.ParseFloat(u, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(f * mult), nil
}
