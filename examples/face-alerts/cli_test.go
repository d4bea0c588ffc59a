package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/examples/face-alerts/localrun"
	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

func TestSetupStartTeardown(t *testing.T) {
	ctx := context.Background()
	rc := rekogtest.New(t).Client
	dir := t.TempDir()
	for i, name := range []string{"Jane Doe.jpg", "Zoë Ní.jpeg"} {
		if err := os.WriteFile(filepath.Join(dir, name), localrun.FacePhoto(i), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600)
	os.WriteFile(filepath.Join(dir, "broken.png"), []byte("not a png"), 0o600)

	var out bytes.Buffer
	err := command(ctx, rc, []string{"setup", "-faces", dir}, &out)
	if err == nil || !strings.Contains(err.Error(), "broken.png") {
		t.Fatalf("setup error %v", err)
	}
	if !strings.Contains(out.String(), "Jane Doe.jpg → Jane_Doe") || !strings.Contains(out.String(), "2 faces indexed") {
		t.Fatalf("setup output %q", out.String())
	}
	// The indexed people are found by their photos, under their names.
	found, err := rekog.SearchFacesByImage(ctx, rc, "rekVideoBlog", rekog.ImageRef{Bytes: localrun.FacePhoto(1)}, 0, 1)
	if err != nil || len(found.Matches) != 1 || found.Matches[0].Name != "Zoë Ní" {
		t.Fatalf("search %+v %v", found, err)
	}

	out.Reset()
	args := []string{"start", "-video-arn", "arn:aws:kinesisvideo:us-east-1:1:stream/cam/1",
		"-data-arn", "arn:aws:kinesis:us-east-1:1:stream/out", "-role-arn", "arn:aws:iam::1:role/r"}
	if err := command(ctx, rc, args, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "RUNNING") {
		t.Fatalf("start output %q", out.String())
	}
	out.Reset()
	if err := command(ctx, rc, []string{"teardown"}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != "stream processor streamProcessorForRekognitionVideoBlog deleted\ncollection rekVideoBlog deleted\n" {
		t.Fatalf("teardown output %q", out.String())
	}
	if err := command(ctx, rc, []string{"start", "-role-arn", "role"}, &out); err == nil {
		t.Fatal("start without ARNs succeeded")
	}
}
