// Package h264sample embeds a small H.264 stream for tests, benchmarks,
// examples and the tour, so that they need neither a camera nor an encoder:
// 10 s of ffmpeg's testsrc pattern, 320x240, 30 fps, x264 High profile, a
// key (IDR) frame every 30 frames, no B-frames, Annex-B with access unit
// delimiters and SPS/PPS before every key frame (145 KB). It was made with
//
//	ffmpeg -f lavfi -i testsrc=size=320x240:rate=30 -t 10 -c:v libx264 -profile:v high \
//	  -preset veryfast -bf 0 -g 30 -keyint_min 30 -sc_threshold 0 \
//	  -x264-params aud=1:repeat-headers=1 -pix_fmt yuv420p -b:v 150k -f h264 testsrc-320x240-30fps.h264
package h264sample

import _ "embed"

// TestSrc is the Annex-B elementary stream.
//
//go:embed testsrc-320x240-30fps.h264
var TestSrc []byte

// Properties of TestSrc.
const (
	Width, Height = 320, 240
	FPS           = 30
	Frames        = 300
	GOP           = 30 // frames from one key frame to the next
)
