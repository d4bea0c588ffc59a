package cost

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Scenario is one row of the Athena table: queries of a given size run on a
// schedule (SPICE) or per view (direct query).
type Scenario struct {
	Name          string
	Queries       int
	BytesPerQuery int64
	ViewsPerHour  float64 // 0: SPICE refreshed hourly; > 0: direct query
}

// WriteAthenaTable prints the seed's Athena table for the scenarios.
func WriteAthenaTable(w io.Writer, a Athena, rows []Scenario) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tqueries\tscan/query\tschedule\tbilled/month\tmonthly\tannual")
	for _, r := range rows {
		var e Estimate
		sched := "SPICE hourly"
		if r.ViewsPerHour > 0 {
			e = a.DirectQuery(r.Queries, r.BytesPerQuery, r.ViewsPerHour)
			sched = fmt.Sprintf("direct, %g views/h", r.ViewsPerHour)
		} else {
			e = a.SPICEHourly(r.Queries, r.BytesPerQuery)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Queries, FormatBytes(float64(r.BytesPerQuery)), sched,
			FormatBytes(e.BilledPerMonth), FormatUSD(e.Monthly), FormatUSD(e.Annual))
	}
	return tw.Flush()
}

// WriteUserTable prints the seed's QuickSight user table.
func WriteUserTable(w io.Writer, q QuickSight, u Users) error {
	c := q.Cost(u)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "QuickSight %s\tusers\tmonthly\tannual\n", q.Edition)
	fmt.Fprintf(tw, "author\t%d\t%s\t%s\n", u.Authors, FormatUSD(c.Authors), FormatUSD(c.Authors*MonthsPerYear))
	fmt.Fprintf(tw, "reader\t%d\t%s\t%s\n", u.Readers, FormatUSD(c.Readers), FormatUSD(c.Readers*MonthsPerYear))
	if c.SPICE > 0 {
		fmt.Fprintf(tw, "extra SPICE\t%s\t%s\t%s\n", FormatBytes(u.SPICEGB*GB), FormatUSD(c.SPICE), FormatUSD(c.SPICE*MonthsPerYear))
	}
	fmt.Fprintf(tw, "total\t\t%s\t%s\n", FormatUSD(c.Monthly), FormatUSD(c.Annual))
	return tw.Flush()
}
