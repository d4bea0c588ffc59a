package main

import (
	"context"
	"fmt"
	"io"

	"github.com/lakekit/lakekit/lakepipe/cost"
)

// system4 prints seed system 4's cost tables: Athena scans for a dashboard
// refreshed hourly into SPICE against the same dashboard queried directly at
// 1000 views an hour, and the QuickSight user bill.
func system4(_ context.Context, _ *env, out io.Writer) error {
	a := cost.Athena{}
	if err := cost.WriteAthenaTable(out, a, seedScenarios); err != nil {
		return err
	}
	spice, direct := a.SPICEHourly(4, 200*cost.MB), a.DirectQuery(4, 200*cost.MB, 1000)
	fmt.Fprintf(out, "SPICE saves %s a year at 1000 views/hour (%.0f× fewer bytes scanned)\n",
		cost.FormatUSD(direct.Annual-spice.Annual), direct.BilledPerMonth/spice.BilledPerMonth)
	return cost.WriteUserTable(out, cost.Pricing(cost.Standard), cost.Users{Authors: 1, Readers: 3})
}

// seedScenarios are the seed post's rows: one 210 KB query and four 200 MB
// queries refreshed hourly into SPICE, and the same four queries run
// directly for 1000 views an hour.
var seedScenarios = []cost.Scenario{
	{Name: "small", Queries: 1, BytesPerQuery: 210 * cost.KB},
	{Name: "dashboard", Queries: 4, BytesPerQuery: 200 * cost.MB},
	{Name: "no SPICE", Queries: 4, BytesPerQuery: 200 * cost.MB, ViewsPerHour: 1000},
}
