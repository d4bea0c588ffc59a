//go:build gstreamer

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/internal/awslocal"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// TestKVSCamera streams GStreamer's test pattern (the camera pipeline with
// videotestsrc in place of v4l2src) to a local server.
func TestKVSCamera(t *testing.T) {
	srv := kvslocal.New(t)
	srv.CreateStream("camera")
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_KINESIS_VIDEO": srv.Endpoint, "AWS_REGION": awslocal.Region,
		"AWS_ACCESS_KEY_ID": awslocal.AccessKeyID, "AWS_SECRET_ACCESS_KEY": awslocal.SecretAccessKey,
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	code, out, errOut := lakekit("kvs", "put", "--stream", "camera", "--camera", "--test-pattern", "--frames", "90", "--width", "320", "--height", "240")
	if code != exitOK || !strings.Contains(out, "90 frames") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	frames := 0
	for _, f := range srv.Fragments("camera") {
		frames += len(f.Frames)
	}
	if frames != 90 {
		t.Fatalf("server persisted %d frames, want 90", frames)
	}
	if code, _, errOut := lakekit("kvs", "put", "--stream", "camera", "--camera", "clip.h264"); code != exitUsage || !strings.Contains(errOut, "not both") {
		t.Fatalf("--camera with a FILE: exit %d, stderr %q", code, errOut)
	}
}
