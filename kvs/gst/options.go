package gst

import (
	"fmt"
	"regexp"
	"strings"
)

// Defaults of Options.
const (
	DefaultDevice      = "/dev/video0"
	DefaultWidth       = 640
	DefaultHeight      = 480
	DefaultFPS         = 30
	DefaultBitrateKbps = 1000
	// DefaultKeyIntMax is the seed's x264enc key-int-max: a key frame at
	// least every 45 frames (1.5 s at 30 fps), so fragments stay short.
	DefaultKeyIntMax = 45
)

// Options describes the capture pipeline. Zero fields take the defaults.
type Options struct {
	// Device is the V4L2 camera device. Default DefaultDevice.
	Device string
	// TestPattern uses videotestsrc instead of a camera.
	TestPattern bool
	// Pattern is videotestsrc's pattern ("smpte", "ball", …). Default "smpte".
	Pattern string
	// Live makes the test pattern run at its frame rate, like a camera;
	// otherwise it runs as fast as the encoder (for tests).
	Live bool
	// Frames stops the stream after this many frames (num-buffers); 0 runs
	// until Close.
	Frames int
	// Width, Height and FPS of the encoded video. Defaults 640x480 at 30.
	Width, Height, FPS int
	// BitrateKbps is x264enc's bitrate. Default DefaultBitrateKbps.
	BitrateKbps int
	// KeyIntMax is x264enc's key-int-max. Default DefaultKeyIntMax.
	KeyIntMax int
	// Source, when set, replaces the source element (v4l2src or
	// videotestsrc) with a gst-launch fragment producing raw video, for
	// example "filesrc location=in.mp4 ! decodebin". It is trusted: it must
	// not come from untrusted input.
	Source string
}

var (
	safeDevice  = regexp.MustCompile(`^/dev/[A-Za-z0-9_./-]+$`)
	safePattern = regexp.MustCompile(`^[a-z0-9-]+$`)
)

// Pipeline returns the gst-launch description Open runs: the seed's
// `v4l2src ! videoconvert ! x264enc bframes=0 key-int-max=45 !
// video/x-h264,stream-format=avc,alignment=au ! kvssink` with an appsink in
// place of kvssink.
func (o Options) Pipeline() (string, error) {
	if o.Device == "" {
		o.Device = DefaultDevice
	}
	if o.Pattern == "" {
		o.Pattern = "smpte"
	}
	if o.Width == 0 {
		o.Width = DefaultWidth
	}
	if o.Height == 0 {
		o.Height = DefaultHeight
	}
	if o.FPS == 0 {
		o.FPS = DefaultFPS
	}
	if o.BitrateKbps == 0 {
		o.BitrateKbps = DefaultBitrateKbps
	}
	if o.KeyIntMax == 0 {
		o.KeyIntMax = DefaultKeyIntMax
	}
	if o.Width < 16 || o.Height < 16 || o.Width > 7680 || o.Height > 4320 || o.Width%2 != 0 || o.Height%2 != 0 {
		return "", fmt.Errorf("gst: size %dx%d: want even sizes from 16x16 to 7680x4320", o.Width, o.Height)
	}
	if o.FPS < 1 || o.FPS > 240 || o.BitrateKbps < 16 || o.KeyIntMax < 1 || o.Frames < 0 {
		return "", fmt.Errorf("gst: fps %d, bitrate %d kbit/s, key-int-max %d or frames %d out of range", o.FPS, o.BitrateKbps, o.KeyIntMax, o.Frames)
	}
	var src string
	switch {
	case o.Source != "":
		src = o.Source
	case o.TestPattern:
		if !safePattern.MatchString(o.Pattern) {
			return "", fmt.Errorf("gst: bad test pattern %q", o.Pattern)
		}
		src = fmt.Sprintf("videotestsrc pattern=%s is-live=%t", o.Pattern, o.Live)
	default:
		if !safeDevice.MatchString(o.Device) || strings.Contains(o.Device, "..") {
			return "", fmt.Errorf("gst: bad device path %q", o.Device)
		}
		src = "v4l2src device=" + o.Device
	}
	if o.Frames > 0 && o.Source == "" {
		src += fmt.Sprintf(" num-buffers=%d", o.Frames)
	}
	return fmt.Sprintf("%s ! videoconvert ! videoscale ! videorate ! "+
		"video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1 ! "+
		"x264enc bframes=0 key-int-max=%d tune=zerolatency speed-preset=veryfast bitrate=%d ! "+
		"video/x-h264,stream-format=avc,alignment=au ! "+
		"appsink name=kvssink sync=false max-buffers=64",
		src, o.Width, o.Height, o.FPS, o.KeyIntMax, o.BitrateKbps), nil
}
