package s3cli

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/lakekit/lakekit/s3copy"
)

// Progress draws a copy's progress bar with mpb: objects done of the
// total, bytes, objects/s and MiB/s, retries and the ETA. The copier
// streams its listing, so until the total is known (SetTotal, from a count
// of the source listed beside the copy, as the AWS CLI counts) the bar's
// total is what the copy has listed so far, marked "+", and the ETA waits.
// Feed it the copier's Progress callback (Update), and call Done once the
// run returns.
type Progress struct {
	p     *mpb.Progress
	bar   *mpb.Bar
	st    atomic.Pointer[s3copy.Stats]
	total atomic.Int64 // 0 while unknown
}

// NewProgress starts a bar drawn on w, in color if color. It draws on
// whatever w is: callers create one only when w is a terminal.
func NewProgress(w io.Writer, color bool) *Progress {
	b := &Progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithRefreshRate(150*time.Millisecond), mpb.WithAutoRefresh())}
	b.st.Store(&s3copy.Stats{})
	style := mpb.BarStyle().Lbound("[").Rbound("]").Filler("=").Tip(">").Padding(" ")
	if color {
		style = style.FillerMeta(func(s string) string { return "\x1b[32m" + s + "\x1b[0m" })
	}
	b.bar = b.p.New(0, style,
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return b.counts() }, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string { return b.rates() }, decor.WCSyncSpace),
			decor.OnComplete(decor.Any(func(decor.Statistics) string { return b.eta() }, decor.WCSyncSpace), "done"),
		),
	)
	return b
}

// counts is the bar's left column: objects done of the total.
func (b *Progress) counts() string {
	st := b.st.Load()
	if total := b.total.Load(); total > 0 {
		return fmt.Sprintf("%d/%d objects", done(*st), max(total, st.Listed))
	}
	return fmt.Sprintf("%d/%d+ objects", done(*st), st.Listed)
}

// rates is the bytes, rates and retries right of the bar.
func (b *Progress) rates() string {
	st := b.st.Load()
	return fmt.Sprintf("%s  %.0f obj/s  %.1f MiB/s  %d retries", mib(st.Bytes), st.ObjectsPerSecond(), st.MiBPerSecond(), st.Retries)
}

// eta is the time left at the rate so far, once the total is known.
func (b *Progress) eta() string {
	st, total := b.st.Load(), b.total.Load()
	if total == 0 {
		return "ETA (counting)"
	}
	if done(*st) == 0 || st.Elapsed <= 0 {
		return "ETA -"
	}
	// Skipped objects count too: a sync's rate is outcomes per second.
	rate := float64(done(*st)) / st.Elapsed.Seconds()
	left := max(total-done(*st), 0)
	return "ETA " + (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
}

// done counts the objects that have an outcome.
func done(st s3copy.Stats) int64 { return st.Copied + st.Skipped + st.Failed + st.DryRun }

// SetTotal sets the number of objects the run will have, once known. A
// nil *Progress ignores it.
func (b *Progress) SetTotal(objects int64) {
	if b == nil {
		return
	}
	b.total.Store(objects)
	b.Update(*b.st.Load())
}

// Update is the copier's Progress callback. A nil *Progress draws
// nothing.
func (b *Progress) Update(st s3copy.Stats) {
	if b == nil {
		return
	}
	b.st.Store(&st)
	// The total stays one above done while it may grow, so the bar does
	// not complete before the run does.
	b.bar.SetTotal(max(st.Listed, b.total.Load(), done(st)+1), false)
	b.bar.SetCurrent(done(st))
}

// Done draws the last state and stops the bar: complete when ok, else
// aborted where it stood.
func (b *Progress) Done(st s3copy.Stats, ok bool) {
	if b == nil {
		return
	}
	if ok {
		b.total.CompareAndSwap(0, st.Listed) // the listing has ended
	}
	b.Update(st)
	if ok {
		b.bar.SetTotal(-1, true)
	} else {
		b.bar.Abort(false)
	}
	b.p.Wait()
}

// CountObjects counts the objects under loc (owner, if not empty, the
// bucket's expected owner) with a plain listing: one request per 1,000
// objects. The commands run it beside a copy to give its progress bar a
// total.
func CountObjects(ctx context.Context, client s3copy.ListAPI, loc s3copy.Location, owner string) (int64, error) {
	in := &s3.ListObjectsV2Input{Bucket: &loc.Bucket, Prefix: &loc.Prefix}
	if owner != "" {
		in.ExpectedBucketOwner = &owner
	}
	var n int64
	for {
		out, err := client.ListObjectsV2(ctx, in)
		if err != nil {
			return n, err
		}
		n += int64(len(out.Contents))
		more, err := s3copy.NextListPage(in, out)
		if err != nil || !more {
			return n, err
		}
	}
}
