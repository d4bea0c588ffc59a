package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestRunSeedFigures(t *testing.T) {
	var out bytes.Buffer
	if err := run(nil, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"576 GB", "$2.88", "$34.56", "576 TB", "$34,560.00", "author               1      $9.00    $108.00"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestRunInputs(t *testing.T) {
	var out bytes.Buffer
	err := run([]string{"-queries", "1", "-scan", "1TB", "-views", "2", "-price-per-tb", "6", "-edition", "enterprise", "-readers", "2", "-sessions", "100"}, &out)
	if err != nil {
		t.Fatal(err)
	}
	// 720 TB a month at $6 = $4,320; direct at 2 views/hour is twice that.
	for _, want := range []string{"$4,320.00", "$8,640.00", "reader                 2      $10.00"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if err := run([]string{"-scan", "lots"}, &out); err == nil {
		t.Fatal("bad size accepted")
	}
}
