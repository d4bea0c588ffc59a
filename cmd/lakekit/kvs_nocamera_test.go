//go:build !gstreamer

package main

import (
	"strings"
	"testing"
)

// TestKVSCameraNeedsGStreamer: without the gstreamer tag, --camera is a
// usage error that names the build that has it.
func TestKVSCameraNeedsGStreamer(t *testing.T) {
	code, _, errOut := lakekit("kvs", "put", "--stream", "camera", "--camera")
	if code != exitUsage || !strings.Contains(errOut, "go install -tags gstreamer") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}
