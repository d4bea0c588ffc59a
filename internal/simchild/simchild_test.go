package simchild

import (
	"maps"
	"strings"
	"testing"
)

// TestParse: the figures of the Result line (x-bound added), the Log lines
// in order, other output ignored; a malformed or missing result is an
// error naming it.
func TestParse(t *testing.T) {
	out := "=== RUN TestChild\nSIMLOG first\nSIMRESULT bound-s=45.7 sim-s=51.3 slowdowns=25372 x-bound=1.1225\nSIMLOG second line\n--- PASS\n"
	figures, logs, err := parse(out)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"bound-s": 45.7, "sim-s": 51.3, "slowdowns": 25372, "x-bound": 1.1225}
	if !maps.Equal(figures, want) || strings.Join(logs, "|") != "first|second line" {
		t.Fatalf("figures %v, logs %q", figures, logs)
	}
	// What Result prints, Run reads back, with the ratio to the bound.
	if back, _, err := parse(format(map[string]float64{"sim-s": 3, "bound-s": 2, "requests": 302706})); err != nil ||
		!maps.Equal(back, map[string]float64{"sim-s": 3, "bound-s": 2, "requests": 302706, "x-bound": 1.5}) {
		t.Fatalf("round trip: %v, %v", back, err)
	}
	if _, _, err := parse("SIMRESULT sim-s=fast\n"); err == nil || !strings.Contains(err.Error(), `"sim-s=fast"`) {
		t.Fatalf("malformed: %v", err)
	}
	if _, _, err := parse("PASS\n"); err == nil || !strings.Contains(err.Error(), "no SIMRESULT") {
		t.Fatalf("missing: %v", err)
	}
}
