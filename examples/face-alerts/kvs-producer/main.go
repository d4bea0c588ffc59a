// Command kvs-producer streams a camera, a test pattern or a recording into
// a Kinesis video stream with PutMedia; it replaces the seed's
// kinesis_video_gstreamer_sample_app (seed system 6, video side).
//
//	kvs-producer -stream NAME|ARN -device /dev/video0   # camera (needs -tags gstreamer)
//	kvs-producer -stream NAME -test-pattern            # videotestsrc (gstreamer) or the embedded sample
//	kvs-producer -stream NAME -file clip.mkv|clip.h264
//	kvs-producer -local -seconds 60 [-test-pattern]    # no AWS: a local PutMedia server
//
// Credentials and region come from the SDK's default configuration
// (environment, profile, instance role), never from the command line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"

	"github.com/lakekit/lakekit/examples/face-alerts/localrun"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/h264sample"
)

func main() {
	stream := flag.String("stream", "", "Kinesis video stream name or ARN")
	device := flag.String("device", "/dev/video0", "V4L2 camera device")
	testPattern := flag.Bool("test-pattern", false, "stream a test pattern instead of the camera")
	file := flag.String("file", "", "stream a recording (.mkv, or an H.264 elementary stream .h264/.264 at -fps)")
	fps := flag.Float64("fps", 30, "frame rate of an H.264 elementary stream file")
	fragment := flag.Duration("fragment", 2*time.Second, "fragment duration (1s–10s)")
	local := flag.Bool("local", false, "stream test video (-test-pattern: GStreamer's, else the embedded sample) to a local PutMedia server, with injected faults")
	seconds := flag.Int("seconds", 60, "with -local: seconds of video")
	realtime := flag.Bool("realtime", true, "send a recording at its frame rate, like a live camera (false: as fast as acknowledged)")
	verbose := flag.Bool("v", false, "log connection events")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *local {
		var src kvs.Source
		if *testPattern && haveGStreamer {
			if src, err = openTestPattern(ctx, *seconds); err != nil {
				fmt.Fprintln(os.Stderr, "kvs-producer:", err)
				os.Exit(1)
			}
		}
		_, err = localrun.Video(ctx, os.Stdout, func(o *localrun.VideoOptions) {
			o.Seconds, o.FragmentDuration, o.Source = *seconds, *fragment, src
		})
	} else {
		err = run(ctx, *stream, *device, *testPattern, *file, *fps, *fragment, *realtime, *verbose)
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "kvs-producer:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, stream, device string, testPattern bool, file string, fps float64, fragment time.Duration, realtime, verbose bool) error {
	if stream == "" {
		return errors.New("-stream is required (or -local)")
	}
	src, closeSrc, live, err := openSource(ctx, device, testPattern, file, fps)
	if err != nil {
		return err
	}
	defer closeSrc()
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	p, err := kvs.NewProducer(kinesisvideo.NewFromConfig(cfg), stream, src.Track(), func(o *kvs.ProducerOptions) {
		o.FragmentDuration, o.Logger = fragment, logger
	})
	if err != nil {
		return err
	}
	// A recording is paced like a live camera; a camera paces itself.
	pacing := kvs.AsFast
	if !live && realtime {
		pacing = kvs.Realtime
	}
	streamErr := kvs.Stream(ctx, p, src, pacing)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	closeErr := p.Close(cctx)
	s := p.Stats()
	fmt.Printf("%d frames in %d fragments, %d persisted, %d dropped, %d connections, send→PERSISTED mean %v\n",
		s.FramesPut, s.Fragments, s.FragmentsPersisted, s.FragmentsDropped, s.Connections, s.PersistLatencyMean().Round(time.Millisecond))
	return errors.Join(streamErr, closeErr)
}

// openSource returns the frame source and whether it is live.
func openSource(ctx context.Context, device string, testPattern bool, file string, fps float64) (kvs.Source, func(), bool, error) {
	switch {
	case file != "":
		f, err := os.Open(file)
		if err != nil {
			return nil, nil, false, err
		}
		var src kvs.Source
		if strings.HasSuffix(strings.ToLower(file), ".mkv") || strings.HasSuffix(strings.ToLower(file), ".webm") {
			src, err = kvs.NewMKVSource(f)
		} else {
			src, err = kvs.NewAnnexBSource(f, fps)
		}
		if err != nil {
			f.Close()
			return nil, nil, false, err
		}
		return src, func() { f.Close() }, false, nil
	case testPattern && !haveGStreamer:
		// Without GStreamer, the embedded sample, looped.
		src, err := kvs.LoopAnnexB(h264sample.TestSrc, h264sample.FPS, 0)
		return src, func() {}, false, err
	default:
		src, err := openCamera(ctx, device, testPattern)
		if err != nil {
			return nil, nil, false, err
		}
		return src, func() { _ = src.(io.Closer).Close() }, true, nil
	}
}
