package s3cli

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/lakekit/lakekit/s3copy"
)

// Progress draws a copy's progress bar with mpb: objects done of objects
// listed so far (the listing streams, so the total grows until it ends),
// bytes, objects/s and MiB/s, retries and the ETA. Feed it the copier's
// Progress callback (Update), and call Done once the run returns.
type Progress struct {
	p   *mpb.Progress
	bar *mpb.Bar
	st  atomic.Pointer[s3copy.Stats]
}

// NewProgress starts a bar drawn on w, in color if color.
func NewProgress(w io.Writer, color bool) *Progress {
	b := &Progress{p: mpb.New(mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithRefreshRate(150*time.Millisecond))}
	b.st.Store(&s3copy.Stats{})
	style := mpb.BarStyle().Lbound("[").Rbound("]").Filler("=").Tip(">").Padding(" ")
	if color {
		style = style.FillerMeta(func(s string) string { return "\x1b[32m" + s + "\x1b[0m" })
	}
	b.bar = b.p.New(0, style,
		mpb.PrependDecorators(
			decor.Any(func(decor.Statistics) string {
				st := b.st.Load()
				return fmt.Sprintf("%d/%d objects", done(*st), st.Listed)
			}, decor.WCSyncSpaceR),
		),
		mpb.AppendDecorators(
			decor.Any(func(decor.Statistics) string {
				st := b.st.Load()
				return fmt.Sprintf("%s  %.0f obj/s  %.1f MiB/s  %d retries", MiB(st.Bytes), st.ObjectsPerSecond(), st.MiBPerSecond(), st.Retries)
			}, decor.WCSyncSpace),
			decor.OnComplete(decor.Any(func(decor.Statistics) string {
				st := b.st.Load()
				left, rate := st.Listed-done(*st), st.ObjectsPerSecond()
				if rate <= 0 {
					return "ETA -"
				}
				return "ETA " + (time.Duration(float64(left)/rate) * time.Second).Round(time.Second).String()
			}, decor.WCSyncSpace), "done"),
		),
	)
	return b
}

// done counts the objects that have an outcome.
func done(st s3copy.Stats) int64 { return st.Copied + st.Skipped + st.Failed + st.DryRun }

// Update is the copier's Progress callback. A nil *Progress draws
// nothing.
func (b *Progress) Update(st s3copy.Stats) {
	if b == nil {
		return
	}
	b.st.Store(&st)
	// Total one above done while listing may go on, so the bar does not
	// complete before the run does.
	b.bar.SetTotal(max(st.Listed, done(st)+1), false)
	b.bar.SetCurrent(done(st))
}

// Done draws the last state and stops the bar: complete when ok, else
// aborted where it stood.
func (b *Progress) Done(st s3copy.Stats, ok bool) {
	if b == nil {
		return
	}
	b.Update(st)
	if ok {
		b.bar.SetTotal(-1, true)
	} else {
		b.bar.Abort(false)
	}
	b.p.Wait()
}
