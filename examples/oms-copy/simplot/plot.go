package simplot

import (
	"fmt"
	"image/color"
	"os"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

// Figure says what a plot shows.
type Figure struct {
	Title  string
	Bucket string // the bucket whose prefixes are drawn
	// Trim is cut from the prefixes' names in the legend ("processed/").
	Trim string
	// Top is how many prefixes get a line of their own, the busiest
	// first; the others are summed into one "other" line. Default 6.
	Top int
	// Splits marks the times the bucket's S3 partitions split.
	Splits bool
	// Limit, if positive, draws a horizontal line at one partition's
	// request rate (s3sim.SimOptions.WriteRate for a copy's destination).
	Limit float64
}

// WritePNG draws st's per-prefix series (s3sim.SimOptions.SeriesDepth) of
// f.Bucket in two panels, accepted requests per second and SlowDowns per
// second, over simulated seconds, and writes them to path as a PNG.
func WritePNG(path string, st s3sim.Stats, f Figure) error {
	series := pick(st, f)
	if len(series) == 0 {
		return fmt.Errorf("simplot: no prefix series for bucket %q (set SimOptions.SeriesDepth)", f.Bucket)
	}
	top := plot.New()
	top.Title.Text = f.Title
	top.Y.Label.Text = "accepted requests/s"
	bottom := plot.New()
	bottom.Y.Label.Text = "SlowDowns/s"
	bottom.X.Label.Text = "simulated seconds"
	for i, s := range series {
		c := plotutilColor(i)
		for _, p := range []struct {
			plt *plot.Plot
			val func(s3sim.Second) float64
		}{
			{top, func(c s3sim.Second) float64 { return float64(c.Reads + c.Writes) }},
			{bottom, func(c s3sim.Second) float64 { return float64(c.SlowDowns) }},
		} {
			pts := make(plotter.XYs, len(s.perSecond))
			for sec, c := range s.perSecond {
				pts[sec] = plotter.XY{X: float64(sec) + 0.5, Y: p.val(c)}
			}
			l, err := plotter.NewLine(pts)
			if err != nil {
				return err
			}
			l.Color = c
			l.Width = vg.Points(1.2)
			p.plt.Add(l)
			if p.plt == top {
				top.Legend.Add(s.name, l)
			}
		}
	}
	if f.Splits {
		// A dashed line at each split of the bucket's partitions.
		first := true
		for _, p := range st.Partitions {
			if p.Bucket != f.Bucket || p.Created == 0 {
				continue
			}
			x := p.Created.Seconds()
			for _, plt := range []*plot.Plot{top, bottom} {
				mark, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: plt.Y.Max}})
				if err != nil {
					return err
				}
				mark.Color = color.Gray{Y: 150}
				mark.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
				plt.Add(mark)
				if plt == top && first {
					top.Legend.Add("partition split", mark)
					first = false
				}
			}
		}
	}
	if f.Limit > 0 {
		l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: f.Limit}, {X: top.X.Max, Y: f.Limit}})
		if err != nil {
			return err
		}
		l.Color = color.Black
		l.Dashes = []vg.Length{vg.Points(1), vg.Points(2)}
		top.Add(l)
		top.Legend.Add("one partition's limit", l)
	}
	// Room above the lines for the legend.
	top.Y.Max *= 1.45
	top.Legend.Top = true
	top.Y.Tick.Marker = integerTicks{}
	bottom.Y.Tick.Marker = integerTicks{}
	top.Add(plotter.NewGrid())
	bottom.Add(plotter.NewGrid())
	xmax := max(top.X.Max, bottom.X.Max)
	top.X.Min, bottom.X.Min, top.X.Max, bottom.X.Max = 0, 0, xmax, xmax
	top.Y.Min, bottom.Y.Min = 0, 0

	const w, h = 24 * vg.Centimeter, 16 * vg.Centimeter
	img := vgimg.New(w, h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 2, Cols: 1, PadX: vg.Millimeter, PadY: vg.Millimeter, PadTop: vg.Millimeter, PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	plots := [][]*plot.Plot{{top}, {bottom}}
	canvases := plot.Align(plots, tiles, dc)
	top.Draw(canvases[0][0])
	bottom.Draw(canvases[1][0])
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// integerTicks are plot's default ticks labelled without decimals.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = fmt.Sprintf("%.0f", ticks[i].Value)
		}
	}
	return ticks
}

type line struct {
	name      string
	perSecond []s3sim.Second
	total     int64
}

// pick returns f.Bucket's busiest prefixes and the rest summed.
func pick(st s3sim.Stats, f Figure) []line {
	n := f.Top
	if n <= 0 {
		n = 6
	}
	var lines []line
	for _, p := range st.Prefixes {
		if p.Bucket != f.Bucket {
			continue
		}
		l := line{name: strings.TrimPrefix(p.Prefix, f.Trim), perSecond: p.PerSecond}
		for _, c := range p.PerSecond {
			l.total += int64(c.Reads + c.Writes + c.SlowDowns)
		}
		if l.name == "" {
			l.name = "(top)"
		}
		lines = append(lines, l)
	}
	slices.SortStableFunc(lines, func(a, b line) int { return int(b.total - a.total) })
	if len(lines) <= n {
		return lines
	}
	other := line{name: fmt.Sprintf("%d others", len(lines)-n+1)}
	for _, l := range lines[n-1:] {
		for len(other.perSecond) < len(l.perSecond) {
			other.perSecond = append(other.perSecond, s3sim.Second{})
		}
		for i, c := range l.perSecond {
			o := &other.perSecond[i]
			o.Reads += c.Reads
			o.Writes += c.Writes
			o.SlowDowns += c.SlowDowns
		}
	}
	return append(lines[:n-1], other)
}

// plotutilColor is the i-th of a palette that tells lines apart in print.
func plotutilColor(i int) color.Color {
	palette := []color.RGBA{
		{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
		{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff}, {R: 0x94, G: 0x67, B: 0xbd, A: 0xff}, {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
		{R: 0x8c, G: 0x56, B: 0x4b, A: 0xff}, {R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	}
	return palette[i%len(palette)]
}
