package cost

import (
	"fmt"
	"math"
)

// Decimal units, as Athena's price list and the seed's tables use them.
const (
	KB = 1_000
	MB = 1_000_000
	GB = 1_000_000_000
	TB = 1_000_000_000_000
)

// Athena billing rules and today's price.
const (
	// DefaultAthenaPricePerTB is Athena's SQL query price in USD per TB
	// scanned (us-east-1 and most regions).
	DefaultAthenaPricePerTB = 5.00
	// AthenaMinBytesPerQuery is the 10 MB minimum billed per query.
	AthenaMinBytesPerQuery = 10 * MB
	// AthenaBillingUnit: bytes scanned are rounded up to the megabyte.
	AthenaBillingUnit = MB
	// HoursPerMonth is the 30-day month the seed's tables use.
	HoursPerMonth = 24 * 30
	// MonthsPerYear turns monthly bills into annual ones.
	MonthsPerYear = 12
)

// Athena prices queries.
type Athena struct {
	// PricePerTB in USD. Zero means DefaultAthenaPricePerTB.
	PricePerTB float64
}

func (a Athena) price() float64 {
	if a.PricePerTB == 0 {
		return DefaultAthenaPricePerTB
	}
	return a.PricePerTB
}

// BilledBytes returns the bytes Athena bills for one query that scans
// scanned bytes: rounded up to the megabyte, at least 10 MB. A failed or
// cancelled query is billed for what it scanned too; a query that scans
// nothing (DDL, partition-pruned to nothing) is billed nothing.
func BilledBytes(scanned int64) int64 {
	if scanned <= 0 {
		return 0
	}
	b := (scanned + AthenaBillingUnit - 1) / AthenaBillingUnit * AthenaBillingUnit
	return max(b, AthenaMinBytesPerQuery)
}

// QueryCost returns the USD cost of one query scanning scanned bytes.
func (a Athena) QueryCost(scanned int64) float64 {
	return float64(BilledBytes(scanned)) / TB * a.price()
}

// Estimate is the Athena bill of a recurring workload.
type Estimate struct {
	QueriesPerMonth float64
	ScannedPerMonth float64 // bytes the queries read
	BilledPerMonth  float64 // bytes billed (rounding and minimum applied)
	Monthly         float64 // USD
	Annual          float64 // USD
}

// Workload runs queries source queries of bytesPerQuery each, runs times a
// month: a SPICE refresh schedule (runs = refreshes) or direct query (runs =
// dashboard views).
func (a Athena) Workload(queries int, bytesPerQuery int64, runsPerMonth float64) Estimate {
	n := float64(queries) * runsPerMonth
	e := Estimate{
		QueriesPerMonth: n,
		ScannedPerMonth: n * float64(max(bytesPerQuery, 0)),
		BilledPerMonth:  n * float64(BilledBytes(bytesPerQuery)),
	}
	e.Monthly = e.BilledPerMonth / TB * a.price()
	e.Annual = e.Monthly * MonthsPerYear
	return e
}

// SPICEHourly is the seed's setup: the dashboard's queries refresh SPICE
// every hour, whatever the number of views.
func (a Athena) SPICEHourly(queries int, bytesPerQuery int64) Estimate {
	return a.Workload(queries, bytesPerQuery, HoursPerMonth)
}

// DirectQuery is the dashboard without SPICE: every view runs every source
// query against Athena.
func (a Athena) DirectQuery(queries int, bytesPerQuery int64, viewsPerHour float64) Estimate {
	return a.Workload(queries, bytesPerQuery, viewsPerHour*HoursPerMonth)
}

// Edition is a QuickSight edition.
type Edition int

// Editions.
const (
	Standard Edition = iota
	Enterprise
)

func (e Edition) String() string {
	if e == Enterprise {
		return "Enterprise"
	}
	return "Standard"
}

// QuickSight holds an edition's user and SPICE prices in USD, with an
// annual subscription. Zero fields are not defaults: use Pricing.
type QuickSight struct {
	Edition          Edition
	AuthorMonthly    float64 // per author per month
	ReaderSession    float64 // per 30-minute reader session (Enterprise)
	ReaderMonthlyCap float64 // cap per reader per month (Enterprise)
	SPICEPerGBMonth  float64 // additional SPICE capacity
	SPICEIncludedGB  float64 // SPICE included per author
}

// Pricing returns the prices the seed quotes: Standard authors $9 a month
// with readers free; Enterprise authors $18, readers $0.30 a session up to
// $5 a month; extra SPICE $0.25/GB (Standard) or $0.38/GB (Enterprise);
// 10 GB of SPICE included per author.
func Pricing(e Edition) QuickSight {
	if e == Enterprise {
		return QuickSight{Edition: e, AuthorMonthly: 18, ReaderSession: 0.30, ReaderMonthlyCap: 5, SPICEPerGBMonth: 0.38, SPICEIncludedGB: 10}
	}
	return QuickSight{Edition: e, AuthorMonthly: 9, SPICEPerGBMonth: 0.25, SPICEIncludedGB: 10}
}

// Users is who uses QuickSight in a month.
type Users struct {
	Authors           int
	Readers           int
	SessionsPerReader int     // 30-minute sessions per reader per month
	SPICEGB           float64 // SPICE data held
}

// UserCost is the monthly QuickSight bill.
type UserCost struct {
	Authors, Readers, SPICE float64 // USD per month
	Monthly, Annual         float64
}

// Cost returns the monthly and annual QuickSight bill.
func (q QuickSight) Cost(u Users) UserCost {
	c := UserCost{Authors: float64(u.Authors) * q.AuthorMonthly}
	if q.ReaderSession > 0 {
		per := float64(u.SessionsPerReader) * q.ReaderSession
		if q.ReaderMonthlyCap > 0 {
			per = math.Min(per, q.ReaderMonthlyCap)
		}
		c.Readers = float64(u.Readers) * per
	}
	if extra := u.SPICEGB - q.SPICEIncludedGB*float64(u.Authors); extra > 0 {
		c.SPICE = extra * q.SPICEPerGBMonth
	}
	c.Monthly = c.Authors + c.Readers + c.SPICE
	c.Annual = c.Monthly * MonthsPerYear
	return c
}

// FormatBytes renders a byte count with a decimal unit, as the seed writes
// sizes ("576 GB", "0.0072 TB").
func FormatBytes(b float64) string {
	switch {
	case b >= TB:
		return trim(b/TB) + " TB"
	case b >= GB:
		return trim(b/GB) + " GB"
	case b >= MB:
		return trim(b/MB) + " MB"
	case b >= KB:
		return trim(b/KB) + " KB"
	}
	return trim(b) + " B"
}

func trim(f float64) string {
	s := fmt.Sprintf("%.4f", f)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

// FormatUSD renders dollars with cents, or with four significant decimals
// under a cent.
func FormatUSD(v float64) string {
	if v != 0 && math.Abs(v) < 0.01 {
		return "$" + trim(v)
	}
	s := fmt.Sprintf("%.2f", v)
	// thousands separators
	intPart, frac := s[:len(s)-3], s[len(s)-3:]
	out := ""
	for len(intPart) > 3 {
		out = "," + intPart[len(intPart)-3:] + out
		intPart = intPart[:len(intPart)-3]
	}
	return "$" + intPart + out + frac
}
