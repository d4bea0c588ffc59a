package kvs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

func sum(b []byte) uint32 { return kvslocal.Checksum(b) }

// checkPersisted asserts that the server persisted exactly the frames, in
// order, once each, every fragment starting with a key frame.
func checkPersisted(t *testing.T, srv *kvslocal.Server, stream string, frames []kvs.Frame) {
	t.Helper()
	var got []kvslocal.StoredFrame
	for _, f := range srv.Fragments(stream) {
		if len(f.Frames) == 0 || !f.Frames[0].Key {
			t.Errorf("fragment %d does not start with a key frame", f.Timecode)
		}
		got = append(got, f.Frames...)
	}
	if len(got) != len(frames) {
		t.Fatalf("server persisted %d frames, want %d", len(got), len(frames))
	}
	for i, f := range frames {
		if got[i].Sum != sum(f.Data) || got[i].Key != f.Key || got[i].Size != len(f.Data) {
			t.Fatalf("persisted frame %d differs: got %+v, want key=%v size=%d", i, got[i], f.Key, len(f.Data))
		}
		if i > 0 && got[i].Timecode <= got[i-1].Timecode {
			t.Fatalf("frame %d timecode %d not after %d", i, got[i].Timecode, got[i-1].Timecode)
		}
	}
}

func putAll(t *testing.T, p *kvs.Producer, frames []kvs.Frame) {
	t.Helper()
	ctx := context.Background()
	for _, f := range frames {
		if err := p.Put(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Close(cctx); err != nil {
		t.Fatal(err)
	}
}

func testOptions(o *kvs.ProducerOptions) {
	o.RetryBaseDelay, o.RetryMaxDelay = time.Millisecond, 10*time.Millisecond
	o.FragmentDuration = time.Second
	o.AckTimeout = 10 * time.Second
}

func TestProducerPersistsEveryFrame(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	start := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		tcType kvs.TimecodeType
		byARN  bool
		wantTC int64 // first fragment timecode
	}{
		{"absolute by name", kvs.TimecodeAbsolute, false, start.UnixMilli()},
		{"relative by ARN", kvs.TimecodeRelative, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := kvslocal.New(t)
			name := awstest.Name(t, "cam")
			ref := name
			if arn := srv.CreateStream(name); tt.byARN {
				ref = arn
			}
			var acks []kvs.Ack
			p, err := kvs.NewProducer(srv.Client(), ref, track, testOptions, func(o *kvs.ProducerOptions) {
				o.TimecodeType, o.StartTime = tt.tcType, start
				o.OnAck = func(a kvs.Ack) { acks = append(acks, a) }
			})
			if err != nil {
				t.Fatal(err)
			}
			putAll(t, p, frames)
			checkPersisted(t, srv, name, frames)
			frags := srv.Fragments(name)
			if len(frags) != 10 {
				t.Errorf("%d fragments, want 10 (1 s fragments of a 30-frame GOP at 30 fps)", len(frags))
			}
			if frags[0].Timecode != tt.wantTC || frags[0].TimecodeType != tt.tcType || !frags[0].ProducerStart.Equal(start) {
				t.Errorf("first fragment %d %s start %v; want %d %s %v", frags[0].Timecode, frags[0].TimecodeType, frags[0].ProducerStart, tt.wantTC, tt.tcType, start)
			}
			if errs := srv.Errors(); len(errs) > 0 {
				t.Errorf("server errors: %v", errs)
			}
			s := p.Stats()
			if s.FramesPut != 300 || s.Fragments != 10 || s.FragmentsPersisted != 10 || s.AcksPersisted != 10 ||
				s.AcksBuffering != 10 || s.AcksReceived != 10 || s.BufferedFragments != 0 || s.BufferedBytes != 0 || s.Connections != 1 {
				t.Errorf("stats %+v", s)
			}
			if len(acks) < 30 {
				t.Errorf("OnAck saw %d acks, want at least 30", len(acks))
			}
		})
	}
}

func TestNewProducerOptionErrors(t *testing.T) {
	srv := kvslocal.New(t)
	track, _ := kvs.LoadFixture(t)
	tests := []struct {
		name  string
		fn    func(*kvs.ProducerOptions)
		field string
	}{
		{"lifetime over the service limit", func(o *kvs.ProducerOptions) { o.ConnectionLifetime = kvs.MaxConnectionDuration + time.Second }, "ConnectionLifetime"},
		{"negative buffer", func(o *kvs.ProducerOptions) { o.MaxBufferSize = -1 }, "MaxBufferSize"},
		{"negative ack timeout", func(o *kvs.ProducerOptions) { o.AckTimeout = -time.Second }, "AckTimeout"},
		{"base delay over max", func(o *kvs.ProducerOptions) { o.RetryBaseDelay, o.RetryMaxDelay = time.Second, time.Millisecond }, "RetryBaseDelay"},
		{"unknown policy", func(o *kvs.ProducerOptions) { o.BufferPolicy = 7 }, "BufferPolicy"},
		{"fragment too short", func(o *kvs.ProducerOptions) { o.FragmentDuration = time.Millisecond }, "FragmentDuration"},
		{"fragment growth over the limit", func(o *kvs.ProducerOptions) { o.MaxFragmentDuration = kvs.MaxFragmentGrowth + time.Second }, "MaxFragmentDuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := kvs.NewProducer(srv.Client(), "cam", track, tt.fn)
			var oe *kvs.OptionError
			if !errors.As(err, &oe) || oe.Field != tt.field {
				t.Fatalf("err = %v, want an OptionError on %s", err, tt.field)
			}
		})
	}
	if _, err := kvs.NewEndpointCache(srv.Client(), "cam", func(o *kvs.EndpointCacheOptions) { o.TTL = -1 }); err == nil {
		t.Fatal("negative TTL accepted")
	}
}
