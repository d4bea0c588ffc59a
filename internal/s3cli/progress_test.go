package s3cli

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/s3copy"
)

// TestProgress draws a bar into a buffer (mpb draws on any writer; the
// commands choose to draw only on a terminal) and checks its last frame:
// the counts, the bytes, the rate and the retries of the last snapshot.
func TestProgress(t *testing.T) {
	var b strings.Builder
	p := NewProgress(&b, false)
	p.Update(s3copy.Stats{Listed: 10, Copied: 4, Elapsed: time.Second})
	p.Done(s3copy.Stats{Listed: 10, Copied: 9, Skipped: 1, Bytes: 10 << 20, Retries: 2, Elapsed: 2 * time.Second}, true)
	frames := strings.Split(strings.TrimSpace(b.String()), "\n")
	last := frames[len(frames)-1]
	for _, want := range []string{"10/10 objects", "10.0 MiB", "4 obj/s", "5.0 MiB/s", "2 retries", "done"} {
		if !strings.Contains(last, want) {
			t.Errorf("last frame %q lacks %q", last, want)
		}
	}
}

// TestProgressNil: a nil *Progress (no terminal) draws nothing and does
// not panic.
func TestProgressNil(t *testing.T) {
	var p *Progress
	p.Update(s3copy.Stats{Listed: 1})
	p.Done(s3copy.Stats{Listed: 1, Copied: 1}, true)
}

// TestProgressTotal: until SetTotal the total is the listed count marked
// "+" and the ETA waits; after it the bar counts against the total, and
// the ETA is the objects left at the rate of outcomes so far.
func TestProgressTotal(t *testing.T) {
	p := NewProgress(io.Discard, false)
	defer p.Done(s3copy.Stats{Listed: 10, Copied: 10, Elapsed: 2 * time.Second}, true)
	p.Update(s3copy.Stats{Listed: 5, Copied: 2, Elapsed: time.Second})
	if got := p.counts() + " " + p.eta(); got != "2/5+ objects ETA (counting)" {
		t.Errorf("before SetTotal: %q", got)
	}
	p.SetTotal(10)
	p.Update(s3copy.Stats{Listed: 8, Copied: 2, Skipped: 2, Elapsed: 2 * time.Second})
	if got := p.counts() + " " + p.eta(); got != "4/10 objects ETA 3s" {
		t.Errorf("after SetTotal: %q", got)
	}
}
