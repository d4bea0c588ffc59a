//go:build mediatools

package kvs_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// TestPutMediaBodiesValidatedByMediaTools checks what actually went over
// the wire: each PutMedia connection's body, a connection rotation apart, is
// a complete Matroska stream that ffprobe, mkvinfo and ffmpeg accept.
func TestPutMediaBodiesValidatedByMediaTools(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) { o.KeepMedia = true })
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	clock := &manualClock{now: time.Now()}
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) { o.Now = clock.Now })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames[:120] {
		if err := p.Put(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return p.Stats().FragmentsPersisted == 3 })
	clock.Advance(kvs.DefaultConnectionLifetime)
	putAll(t, p, frames[120:])
	bodies := srv.Media(name)
	if len(bodies) != 2 {
		t.Fatalf("%d connections, want 2", len(bodies))
	}
	dir := t.TempDir()
	for i, want := range []struct{ frames, clusters int }{{120, 4}, {180, 6}} {
		path := filepath.Join(dir, "conn"+string(rune('1'+i))+".mkv")
		if err := os.WriteFile(path, bodies[i], 0o644); err != nil {
			t.Fatal(err)
		}
		kvs.ValidateMKV(t, path, 320, 240, want.frames, want.clusters, "")
	}
}
