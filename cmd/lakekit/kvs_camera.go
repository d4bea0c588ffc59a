//go:build gstreamer

package main

import (
	"context"
	"io"

	"github.com/spf13/pflag"

	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/gst"
)

func init() {
	newCameraFlags = func(f *pflag.FlagSet) cameraFlags {
		g := &gstCamera{}
		f.BoolVar(&g.on, "camera", false, "stream from a V4L2 camera through GStreamer instead of a FILE")
		f.StringVar(&g.o.Device, "device", gst.DefaultDevice, "the camera `DEVICE`")
		f.BoolVar(&g.o.TestPattern, "test-pattern", false, "GStreamer's videotestsrc instead of a camera")
		f.IntVar(&g.o.Frames, "frames", 0, "stop after `N` frames (0: until interrupted)")
		f.IntVar(&g.o.Width, "width", gst.DefaultWidth, "the encoded width")
		f.IntVar(&g.o.Height, "height", gst.DefaultHeight, "the encoded height")
		f.IntVar(&g.o.BitrateKbps, "bitrate", gst.DefaultBitrateKbps, "x264enc's bitrate in `kbps`")
		return g
	}
}

// gstCamera is put's --camera source: kvs/gst's capture pipeline.
type gstCamera struct {
	on bool
	o  gst.Options
}

func (g *gstCamera) enabled() bool { return g.on }

func (g *gstCamera) open(ctx context.Context) (kvs.Source, io.Closer, error) {
	o := g.o
	o.Live = o.TestPattern // a test pattern runs at its frame rate, like a camera
	src, err := gst.Open(ctx, func(p *gst.Options) { *p = o })
	if err != nil {
		return nil, nil, err
	}
	return src, src, nil
}
