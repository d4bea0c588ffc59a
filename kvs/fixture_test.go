package kvs

import (
	"context"
	"io"
	"testing"

	"github.com/lakekit/lakekit/kvs/h264sample"
)

// LoadFixture returns the Track and the 300 AVCC frames of
// h264sample.TestSrc (10 s at 30 fps, a key frame every 30 frames). It is
// exported for the package's external tests.
func LoadFixture(tb testing.TB) (Track, []Frame) {
	tb.Helper()
	src, err := LoopAnnexB(h264sample.TestSrc, h264sample.FPS, 1)
	if err != nil {
		tb.Fatal(err)
	}
	var frames []Frame
	for {
		f, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		frames = append(frames, f)
	}
	if len(frames) != h264sample.Frames {
		tb.Fatalf("fixture has %d frames, want %d", len(frames), h264sample.Frames)
	}
	return src.Track(), frames
}
