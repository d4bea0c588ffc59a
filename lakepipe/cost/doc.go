// Package cost will hold the QuickSight/Athena/SPICE operating-cost model of
// seed system 4 (hourly SPICE refresh against direct query).
//
// Nothing is implemented yet (issue 6).
package cost
