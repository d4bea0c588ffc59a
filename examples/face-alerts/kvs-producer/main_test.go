package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/h264sample"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

func TestOpenSourceFiles(t *testing.T) {
	dir := t.TempDir()
	h264 := filepath.Join(dir, "clip.h264")
	if err := os.WriteFile(h264, h264sample.TestSrc, 0o644); err != nil {
		t.Fatal(err)
	}
	// The same video as Matroska, written by the muxer.
	src, err := kvs.LoopAnnexB(h264sample.TestSrc, 30, 1)
	if err != nil {
		t.Fatal(err)
	}
	m, err := kvs.NewMuxer(src.Track(), func(o *kvs.MuxerOptions) { o.StartTime = time.Now() })
	if err != nil {
		t.Fatal(err)
	}
	mkv := append([]byte(nil), m.Header()...)
	for {
		f, err := src.Next(context.Background())
		if err == io.EOF {
			break
		}
		c, err := m.WriteFrame(f)
		if err != nil {
			t.Fatal(err)
		}
		mkv = append(mkv, c.Data...)
	}
	mkvPath := filepath.Join(dir, "clip.mkv")
	if err := os.WriteFile(mkvPath, mkv, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{h264, mkvPath} {
		s, closeSrc, live, err := openSource(context.Background(), "", false, path, 30)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for {
			_, err := s.Next(context.Background())
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			n++
		}
		closeSrc()
		if n != h264sample.Frames || live || s.Track().Width != h264sample.Width {
			t.Errorf("%s: %d frames, live=%v, track %+v", path, n, live, s.Track())
		}
	}
	if _, _, _, err := openSource(context.Background(), "", false, filepath.Join(dir, "missing.mkv"), 30); err == nil {
		t.Error("missing file opened")
	}
}

func TestRunNeedsStream(t *testing.T) {
	if err := run(context.Background(), "", "", true, "", 30, 2*time.Second, false, false); err == nil {
		t.Fatal("run without -stream succeeded")
	}
}

// TestRunStreamsFileToLocalServer runs the command's path for a recording
// against the local server, configured the way the SDK's default chain
// reads it (environment variables).
func TestRunStreamsFileToLocalServer(t *testing.T) {
	srv := kvslocal.New(t)
	srv.CreateStream("cam")
	t.Setenv("AWS_ENDPOINT_URL", srv.Endpoint)
	t.Setenv("AWS_REGION", awstest.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", awstest.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", awstest.SecretAccessKey)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	path := filepath.Join(t.TempDir(), "clip.h264")
	if err := os.WriteFile(path, h264sample.TestSrc, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), "cam", "", false, path, 30, 2*time.Second, false, false); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range srv.Fragments("cam") {
		n += len(f.Frames)
	}
	if n != h264sample.Frames || len(srv.Errors()) > 0 {
		t.Fatalf("server persisted %d frames, errors %v", n, srv.Errors())
	}
}
