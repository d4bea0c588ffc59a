//go:build !gstreamer

package main

import (
	"context"
	"errors"

	"github.com/lakekit/lakekit/kvs"
)

const haveGStreamer = false

func openCamera(context.Context, string, bool) (kvs.Source, error) {
	return nil, errors.New("camera capture needs GStreamer: build with -tags gstreamer (apt-get install -y libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly), or use -file / -test-pattern / -local")
}

func openTestPattern(context.Context, int) (kvs.Source, error) { return nil, nil }
