// Package cost is the operating-cost model of a QuickSight dashboard over
// Athena, with SPICE refreshed on a schedule or the sources queried
// directly on every view: what each costs a month and a year, and the
// tables that compare them (see the package Example).
//
// Athena bills the bytes a query scans, rounded up to the megabyte with a
// 10 MB minimum per query ([BilledBytes]); the price per TB is a parameter
// ([Athena].PricePerTB, default [DefaultAthenaPricePerTB] = $5). With SPICE
// the dashboard's source queries run once per refresh; without it they run
// once per view, so the Athena bill scales with the audience
// ([Athena.DirectQuery]). QuickSight itself is billed per author, per reader
// session (Enterprise, capped per month) and per GB of SPICE beyond what the
// authors include ([QuickSight.Cost]).
//
//	a := cost.Athena{}
//	spice := a.SPICEHourly(4, 200*cost.MB)          // $2.88 a month
//	direct := a.DirectQuery(4, 200*cost.MB, 1000)   // $2,880 a month
//
// Units are decimal (1 TB = 10^12 bytes) and a month is 30 days. The
// default prices are those of 2020; pass today's in [Athena] and
// [QuickSight] values.
//
// # Errors
//
// The model is pure arithmetic and returns no errors; the table writers
// return the writer's error.
//
// # Concurrency
//
// All values are plain data, safe to share between goroutines.
package cost
