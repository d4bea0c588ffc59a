//go:build gstreamer

package gst

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// TestVideoTestSrcToMatroska: videotestsrc → x264enc → 10 s of frames →
// the kvs muxer → a Matroska file that ffprobe reads without errors, frame
// for frame; and the same frames through PutMedia to the local server.
func TestVideoTestSrcToMatroska(t *testing.T) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Fatal("ffprobe is required: apt-get install -y ffmpeg")
	}
	src, err := Open(context.Background(), func(o *Options) {
		o.TestPattern, o.Frames, o.Width, o.Height, o.KeyIntMax = true, 300, 320, 240, 45
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames, _ := collect(t, src)

	m, err := kvs.NewMuxer(src.Track(), func(o *kvs.MuxerOptions) { o.StartTime = time.Now() })
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), m.Header()...)
	for _, f := range frames {
		c, err := m.WriteFrame(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c.Data...)
	}
	path := filepath.Join(t.TempDir(), "gst.mkv")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(ffprobe, "-v", "error", "-count_frames", "-show_streams", "-of", "json", path)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || strings.TrimSpace(stderr.String()) != "" {
		t.Fatalf("ffprobe: %v\n%s", err, stderr.String())
	}
	var probe struct {
		Streams []struct {
			CodecName    string `json:"codec_name"`
			Width        int    `json:"width"`
			NbReadFrames string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &probe); err != nil {
		t.Fatal(err)
	}
	if len(probe.Streams) != 1 || probe.Streams[0].CodecName != "h264" || probe.Streams[0].Width != 320 || probe.Streams[0].NbReadFrames != "300" {
		t.Fatalf("ffprobe: %s", stdout.String())
	}

	// The same frames through PutMedia.
	srv := kvslocal.New(t)
	name := awstest.Name(t, "gst")
	srv.CreateStream(name)
	p, err := kvs.NewProducer(srv.Client(), name, src.Track())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames {
		if err := p.Put(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range srv.Fragments(name) {
		n += len(f.Frames)
	}
	if n != 300 || len(srv.Errors()) > 0 {
		t.Fatalf("server persisted %d frames, errors %v", n, srv.Errors())
	}
}
