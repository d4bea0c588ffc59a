//go:build gstreamer

package main

import (
	"context"

	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/gst"
)

const haveGStreamer = true

func openCamera(ctx context.Context, device string, testPattern bool) (kvs.Source, error) {
	return gst.Open(ctx, func(o *gst.Options) {
		o.Device, o.TestPattern, o.Live = device, testPattern, true
	})
}

// openTestPattern returns seconds of videotestsrc, produced as fast as the
// encoder goes.
func openTestPattern(ctx context.Context, seconds int) (kvs.Source, error) {
	return gst.Open(ctx, func(o *gst.Options) {
		o.TestPattern, o.Pattern, o.Frames = true, "ball", seconds*gst.DefaultFPS
	})
}
