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
	if err := cost.WriteAthenaTable(out, a, cost.SeedScenarios()); err != nil {
		return err
	}
	spice, direct := a.SPICEHourly(4, 200*cost.MB), a.DirectQuery(4, 200*cost.MB, 1000)
	fmt.Fprintf(out, "SPICE saves %s a year at 1000 views/hour (%.0f× fewer bytes scanned)\n",
		cost.FormatUSD(direct.Annual-spice.Annual), direct.BilledPerMonth/spice.BilledPerMonth)
	return cost.WriteUserTable(out, cost.Pricing(cost.Standard), cost.Users{Authors: 1, Readers: 3})
}
