//go:build gstreamer

package gst

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/lakekit/lakekit/kvs"
)

// TestVideoTestSrcFrames runs videotestsrc for 10 s of video (300 frames)
// through x264enc and checks the frames and codec data.
func TestVideoTestSrcFrames(t *testing.T) {
	src, err := Open(context.Background(), func(o *Options) {
		o.TestPattern, o.Frames, o.Width, o.Height, o.KeyIntMax = true, 300, 320, 240, 30
	})
	if err != nil {
		t.Fatalf("%v (apt-get install -y libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly)", err)
	}
	defer src.Close()
	if tr := src.Track(); tr.Width != 320 || tr.Height != 240 {
		t.Fatalf("track %+v", tr)
	}
	frames, keys := collect(t, src)
	if len(frames) != 300 || keys < 10 || !frames[0].Key {
		t.Fatalf("%d frames, %d key; want 300 and at least 10, the first a key frame", len(frames), keys)
	}
	if last := frames[len(frames)-1].PTS; last < 9900*time.Millisecond || last > 10*time.Second {
		t.Fatalf("last PTS %v, want about 9.967 s", last)
	}
	for i, f := range frames {
		if _, err := kvs.SplitAVCC(f.Data); err != nil {
			t.Fatalf("frame %d is not AVCC: %v", i, err)
		}
	}
}

func collect(t *testing.T, src *Source) ([]kvs.Frame, int) {
	t.Helper()
	var frames []kvs.Frame
	keys := 0
	for {
		f, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return frames, keys
		}
		if err != nil {
			t.Fatal(err)
		}
		if f.Key {
			keys++
		}
		frames = append(frames, f)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(context.Background(), func(o *Options) { o.Source = "nosuchelement" }); err == nil {
		t.Fatal("a pipeline with an unknown element started")
	}
	// A camera that does not exist: the error comes from the bus.
	if _, err := Open(context.Background(), func(o *Options) { o.Device = "/dev/video-none" }); err == nil {
		t.Fatal("a missing camera opened")
	}
}

// TestCloseWhileWaiting: Close from another goroutine ends a Next that is
// waiting for a frame.
func TestCloseWhileWaiting(t *testing.T) {
	src, err := Open(context.Background(), func(o *Options) {
		o.TestPattern, o.Live, o.FPS, o.Width, o.Height = true, true, 1, 160, 120
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Next(context.Background()); err != nil { // the first frame, read by Open
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := src.Next(context.Background()); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err == nil || errors.Is(err, io.EOF) {
		t.Fatalf("Next after Close = %v, want the closed error", err)
	}
}
