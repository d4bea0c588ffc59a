package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/lakekit/lakekit/examples/oms-copy/omslocal"
)

func localFlags() flags {
	return flags{local: true, server: "gofakes3", objects: 400, folders: 4, partitions: 3,
		sizes: "1KiB:8,64KiB:2", concurrency: 32, quiet: true}
}

func TestLocalCopyAndResume(t *testing.T) {
	f := localFlags()
	f.manifest = filepath.Join(t.TempDir(), "manifest.tsv")
	f.verify = true
	var out bytes.Buffer
	if err := run(context.Background(), f, &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, want := range []string{`400 listed, 400 copied, 0 skipped`, `verified: 0 mismatched, \d+ objects byte-compared`, `objects/s, [0-9.]+ MiB/s`} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestLocalFanout(t *testing.T) {
	f := localFlags()
	f.fanout = 2
	var out bytes.Buffer
	if err := run(context.Background(), f, &out, io.Discard); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !regexp.MustCompile(`400 copied, 0 failed`).MatchString(out.String()) || !regexp.MustCompile(`verified: 0 mismatched`).MatchString(out.String()) {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestParseSizeMix(t *testing.T) {
	mix, err := omslocal.ParseSizeMix("1KiB:90, 5MiB:9,1GiB:1")
	if err != nil || len(mix) != 3 || mix[0].Size != 1024 || mix[1].Size != 5<<20 || mix[2].Size != 1<<30 || mix[2].Weight != 1 {
		t.Fatalf("%+v %v", mix, err)
	}
	for _, bad := range []string{"", "1KiB", "1KiB:0", "x:1", "-1:1", "9999GiB:1"} {
		if _, err := omslocal.ParseSizeMix(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseSizeMix(f *testing.F) {
	for _, s := range []string{"1KiB:90,1MiB:9,20MiB:1", "5:1", "1.5GB:2", "x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mix, err := omslocal.ParseSizeMix(s)
		if err != nil {
			return
		}
		for _, m := range mix {
			if m.Size < 0 || m.Weight <= 0 || m.Size > 5<<40 {
				t.Fatalf("%q → %+v", s, m)
			}
		}
	})
}
