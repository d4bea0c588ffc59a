package cost

import (
	"math"
	"testing"
)

func TestBilledBytes(t *testing.T) {
	tests := []struct{ scanned, want int64 }{
		{0, 0},
		{1, 10 * MB},
		{210 * KB, 10 * MB},
		{10*MB - 1, 10 * MB},
		{10*MB + 1, 11 * MB},
		{200 * MB, 200 * MB},
		{TB + 1, TB + MB},
	}
	for _, tt := range tests {
		if got := BilledBytes(tt.scanned); got != tt.want {
			t.Errorf("BilledBytes(%d) = %d, want %d", tt.scanned, got, tt.want)
		}
	}
}

func TestSeedFigures(t *testing.T) {
	a := Athena{}
	e := a.SPICEHourly(4, 200*MB)
	if e.BilledPerMonth != 576*GB || math.Abs(e.Monthly-2.88) > 1e-9 || math.Abs(e.Annual-34.56) > 1e-9 {
		t.Fatalf("hourly SPICE: %+v", e)
	}
	d := a.DirectQuery(4, 200*MB, 1000)
	if math.Abs(d.Annual-34_560) > 1e-6 || math.Abs(d.Monthly/e.Monthly-1000) > 1e-9 {
		t.Fatalf("direct query: %+v", d)
	}
	// The seed's small query without the minimum would be $0.000756.
	s := a.SPICEHourly(1, 210*KB)
	if s.ScannedPerMonth != 151.2*MB || math.Abs(s.Monthly-0.036) > 1e-12 {
		t.Fatalf("small: %+v", s)
	}
	// The price is a parameter.
	if got := (Athena{PricePerTB: 6.25}).QueryCost(TB); got != 6.25 {
		t.Fatalf("QueryCost at $6.25/TB = %v", got)
	}
}

func TestQuickSightCost(t *testing.T) {
	tests := []struct {
		name string
		q    QuickSight
		u    Users
		want float64
	}{
		{"standard seed", Pricing(Standard), Users{Authors: 1, Readers: 3}, 9},
		{"enterprise reader under cap", Pricing(Enterprise), Users{Authors: 1, Readers: 1, SessionsPerReader: 10}, 18 + 3},
		{"enterprise reader capped", Pricing(Enterprise), Users{Authors: 2, Readers: 10, SessionsPerReader: 100}, 36 + 50},
		{"SPICE within included", Pricing(Standard), Users{Authors: 2, SPICEGB: 20}, 18},
		{"SPICE beyond included", Pricing(Standard), Users{Authors: 1, SPICEGB: 14}, 9 + 1},
	}
	for _, tt := range tests {
		if got := tt.q.Cost(tt.u).Monthly; math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{FormatUSD(34560), "$34,560.00"}, {FormatUSD(0.000756), "$0.0008"}, {FormatUSD(1234567.891), "$1,234,567.89"},
		{FormatBytes(576 * GB), "576 GB"}, {FormatBytes(0.0001512 * TB), "151.2 MB"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}
