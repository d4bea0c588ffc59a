// Package cost is the operating-cost model of seed system 4: a QuickSight
// dashboard over Athena, with SPICE refreshed on a schedule or queried
// directly on every view.
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
// Units are decimal (1 TB = 10^12 bytes) and a month is 30 days, as in the
// seed's tables.
//
// # Corrections to the seed
//
//   - The seed's first table bills 720 queries of 210 KB as 0.0001512 TB
//     ($0.000756 a month). Athena bills each at least 10 MB: 7.2 GB,
//     $0.036 a month, $0.43 a year.
//   - The second table's formula reads 4*24*30*300MB, but its result (576 GB,
//     $2.88) is for 200 MB queries; 300 MB would be 864 GB and $4.32.
//   - The prices are the seed's (2020); pass today's in [QuickSight] values.
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
