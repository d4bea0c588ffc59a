package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/lakekit/lakekit/kvs"
)

func newKVS(a *app) *cobra.Command {
	c := group(&cobra.Command{Use: "kvs", Short: "Stream H.264 video to Kinesis Video Streams"})
	c.AddCommand(newKVSPut(a))
	return c
}

// cameraFlags are the flags of put's camera source. Builds with the
// gstreamer tag set newCameraFlags (kvs_camera.go); others refuse
// --camera with the command that builds one.
type cameraFlags interface {
	enabled() bool
	open(ctx context.Context) (kvs.Source, io.Closer, error)
}

var newCameraFlags = func(f *pflag.FlagSet) cameraFlags {
	n := &noCamera{}
	f.BoolVar(&n.on, "camera", false, "stream from a camera (needs a lakekit built with -tags gstreamer)")
	return n
}

type noCamera struct{ on bool }

func (n *noCamera) enabled() bool { return n.on }

func (n *noCamera) open(context.Context) (kvs.Source, io.Closer, error) {
	return nil, nil, usageError{errors.New("--camera needs a lakekit built with GStreamer: go install -tags gstreamer github.com/lakekit/lakekit/cmd/lakekit@latest (with the GStreamer development files installed)")}
}

// kvsPutSummary is the --json summary of kvs put.
type kvsPutSummary struct {
	Stream             string `json:"stream"`
	Source             string `json:"source"`
	Frames             int64  `json:"frames"`
	FramesSkipped      int64  `json:"frames_skipped"`
	Fragments          int64  `json:"fragments"`
	FragmentsPersisted int64  `json:"fragments_persisted"`
	FragmentsDropped   int64  `json:"fragments_dropped"`
	FragmentsResent    int64  `json:"fragments_resent"`
	Bytes              int64  `json:"bytes"`
	Connections        int64  `json:"connections"`
	PersistLatencyMean string `json:"persist_latency_mean"`
}

func newKVSPut(a *app) *cobra.Command {
	var stream string
	var fps float64
	var loops int
	var realtime bool
	var fragment time.Duration
	var cam cameraFlags
	c := &cobra.Command{
		Use:   "put --stream NAME (FILE.mkv | FILE.h264 | --camera)",
		Short: "Stream a Matroska or H.264 file (or a camera) to a Kinesis video stream with PutMedia",
		Long: `Stream H.264 video to a Kinesis video stream (a name or an ARN) with
lakekit's pure-Go PutMedia producer: key-frame-aligned Matroska fragments,
each kept until Kinesis Video acknowledges it PERSISTED and sent again after
an error or a dropped connection. The source is a Matroska file (.mkv, .webm,
or anything starting with an EBML header) with an H.264 track, or an H.264
Annex-B elementary stream (.h264, .264) played at --fps; a recording is sent
as fast as it is acknowledged unless --realtime. --camera (in builds with the
gstreamer tag) captures from a V4L2 camera.

Exit status 1 when the stream failed or a fragment was dropped.`,
		Example: `  lakekit kvs put --stream doorbell recording.mkv
  lakekit kvs put --stream arn:aws:kinesisvideo:us-east-1:123456789012:stream/doorbell/1 clip.h264 --fps 25 --realtime
  lakekit kvs put --stream doorbell --camera --device /dev/video0   # built with -tags gstreamer`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case cam.enabled() && len(args) > 0:
				return usageError{errors.New("give a FILE or --camera, not both")}
			case !cam.enabled() && len(args) != 1:
				return usageError{errors.New("put needs one FILE (or --camera)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireFlags(cmd, "stream"); err != nil {
				return err
			}
			if fps <= 0 || loops < 0 {
				return usageError{fmt.Errorf("--fps must be positive and --loops 0 or more")}
			}
			ctx := cmd.Context()
			var src kvs.Source
			name := "camera"
			if cam.enabled() {
				s, closer, err := cam.open(ctx)
				if err != nil {
					return err
				}
				defer closer.Close()
				src = s
			} else {
				name = args[0]
				s, err := openVideo(name, fps, loops)
				if err != nil {
					return err
				}
				src = s
			}
			pacing := kvs.AsFast
			if realtime || cam.enabled() {
				pacing = kvs.Realtime
			}
			return a.kvsPut(ctx, stream, name, src, pacing, fragment)
		},
	}
	f := c.Flags()
	f.StringVar(&stream, "stream", "", "the stream `NAME` or ARN (required)")
	f.Float64Var(&fps, "fps", 30, "the frame rate of an H.264 elementary stream (it carries no timestamps)")
	f.IntVar(&loops, "loops", 1, "play an H.264 elementary stream `N` times (0: until interrupted)")
	f.BoolVar(&realtime, "realtime", false, "send frames no faster than their timestamps, as a live camera would")
	f.DurationVar(&fragment, "fragment-duration", kvs.DefaultFragmentDuration, "the target fragment length (fragments start at key frames)")
	cam = newCameraFlags(f)
	return c
}

// openVideo opens a recording: Matroska by its EBML header, else H.264
// Annex-B.
func openVideo(name string, fps float64, loops int) (kvs.Source, error) {
	data, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReader(data)
	head, _ := br.Peek(4)
	ext := strings.ToLower(filepath.Ext(name))
	mkv := bytes.Equal(head, []byte{0x1A, 0x45, 0xDF, 0xA3}) || ext == ".mkv" || ext == ".webm"
	if mkv {
		src, err := kvs.NewMKVSource(br)
		if err != nil {
			data.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return src, nil // the file stays open until the process ends
	}
	if loops == 1 {
		src, err := kvs.NewAnnexBSource(br, fps)
		if err != nil {
			data.Close()
			return nil, fmt.Errorf("%s: not Matroska, and as H.264 Annex-B: %w", name, err)
		}
		return src, nil
	}
	all, err := io.ReadAll(br)
	data.Close()
	if err != nil {
		return nil, err
	}
	src, err := kvs.LoopAnnexB(all, fps, loops)
	if err != nil {
		return nil, fmt.Errorf("%s: not Matroska, and as H.264 Annex-B: %w", name, err)
	}
	return src, nil
}

func (a *app) kvsPut(ctx context.Context, stream, name string, src kvs.Source, pacing kvs.Pacing, fragment time.Duration) error {
	cfg, err := a.awsConfig(ctx)
	if err != nil {
		return err
	}
	p, err := kvs.NewProducer(kinesisvideo.NewFromConfig(cfg), stream, src.Track(), func(o *kvs.ProducerOptions) {
		o.FragmentDuration = fragment
	})
	if err != nil {
		return usageError{err}
	}
	err = kvs.Stream(ctx, p, src, pacing)
	if cerr := p.Close(context.WithoutCancel(ctx)); err == nil {
		err = cerr
	}
	st := p.Stats()
	sum := kvsPutSummary{Stream: stream, Source: name, Frames: st.FramesPut, FramesSkipped: st.FramesSkipped,
		Fragments: st.Fragments, FragmentsPersisted: st.FragmentsPersisted, FragmentsDropped: st.FragmentsDropped,
		FragmentsResent: st.FragmentsResent, Bytes: st.BytesSent, Connections: st.Connections,
		PersistLatencyMean: st.PersistLatencyMean().String()}
	if perr := a.summary(sum, func(w io.Writer) {
		fmt.Fprintf(w, "%s → %s: %d frames in %d fragments, %d persisted, %d dropped, %d resent, %d bytes, %d connections\n",
			name, stream, sum.Frames, sum.Fragments, sum.FragmentsPersisted, sum.FragmentsDropped, sum.FragmentsResent, sum.Bytes, sum.Connections)
	}); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", stream, err)
	}
	if sum.FragmentsDropped > 0 {
		return fmt.Errorf("stream %s: %d fragments dropped", stream, sum.FragmentsDropped)
	}
	return nil
}
