package localrun

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/h264sample"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// VideoOptions configures Video.
type VideoOptions struct {
	// Seconds of video to stream (the embedded sample, looped). Default 60.
	Seconds int
	// FragmentDuration of the producer. Default 2 s.
	FragmentDuration time.Duration
	// NoFaults disables the injected faults: by default the server answers
	// one fragment with ERROR 5000 (INTERNAL_ERROR) and drops the
	// connection on another, and the producer must resend both.
	NoFaults bool
	// ConnectionLifetime, measured on the media clock (the timestamp of the
	// latest frame), makes the producer rotate its connection as it would
	// after 40 minutes of real streaming. Default 15 s.
	ConnectionLifetime time.Duration
	// Source supplies the frames (for example a kvs/gst test pattern);
	// default: the embedded h264sample, looped. Video reads Seconds of it.
	Source kvs.Source
}

// VideoResult holds Video's figures.
type VideoResult struct {
	Frames, Fragments         int
	Bytes                     int64
	Elapsed                   time.Duration
	Stats                     kvs.Stats
	Persisted, Lost, Repeated int // frames the server persisted, missing, persisted twice
}

// mediaClock follows the media timestamps: the producer's Now.
type mediaClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *mediaClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *mediaClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

const videoStream = "face-alerts-camera"

// Video runs the video side of seed system 6 on this machine: it starts a
// local Kinesis Video server (kvslocal), streams the embedded H.264 sample
// (looped to the requested length) through kvs.Producer with PutMedia —
// SigV4-verified, Matroska parsed, fragments checked and acknowledged —
// with an injected ERROR and a dropped connection, and checks that the
// server persisted every frame once. It writes three lines of figures to
// out.
func Video(ctx context.Context, out io.Writer, optFns ...func(*VideoOptions)) (*VideoResult, error) {
	o := VideoOptions{Seconds: 60, FragmentDuration: 2 * time.Second, ConnectionLifetime: 15 * time.Second}
	for _, f := range optFns {
		f(&o)
	}
	srv, err := startVideoServer(o)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	srv.CreateStream(videoStream)
	src := o.Source
	if src == nil {
		loops := (o.Seconds*h264sample.FPS + h264sample.Frames - 1) / h264sample.Frames
		if src, err = kvs.LoopAnnexB(h264sample.TestSrc, h264sample.FPS, loops); err != nil {
			return nil, err
		}
	}
	res, want, err := streamVideo(ctx, srv, src, o)
	if err != nil {
		return res, err
	}
	res.tally(srv.Fragments(videoStream), want)
	res.print(out, src.Track(), o)
	if res.Lost > 0 || res.Repeated > 0 {
		return res, fmt.Errorf("localrun video: %d frames lost, %d duplicated", res.Lost, res.Repeated)
	}
	return res, nil
}

// startVideoServer starts a kvslocal server that, unless o.NoFaults,
// answers a fragment a third of the way in with ERROR 5000 and drops the
// connection two thirds of the way in.
func startVideoServer(o VideoOptions) (*kvslocal.Server, error) {
	frags := max(1, int(time.Duration(o.Seconds)*time.Second/o.FragmentDuration))
	faults := map[int]kvslocal.Fault{}
	if !o.NoFaults && frags >= 4 {
		faults[frags/3] = kvslocal.Fault{Error: kvs.ErrInternalError}
		faults[2*frags/3] = kvslocal.Fault{Drop: true}
	}
	var mu sync.Mutex
	return kvslocal.Start(func(so *kvslocal.ServerOptions) {
		so.Fault = func(fi kvslocal.FragmentInfo) kvslocal.Fault {
			mu.Lock()
			defer mu.Unlock()
			f := faults[fi.Index]
			delete(faults, fi.Index)
			return f
		}
	})
}

// streamVideo puts o.Seconds of src into the server's stream and closes the
// producer; it returns the checksums of the frames put.
func streamVideo(ctx context.Context, srv *kvslocal.Server, src kvs.Source, o VideoOptions) (*VideoResult, map[uint32]int, error) {
	res := &VideoResult{}
	start := time.Now()
	clock := &mediaClock{t: start}
	p, err := kvs.NewProducer(srv.Client(), videoStream, src.Track(), func(po *kvs.ProducerOptions) {
		po.FragmentDuration, po.StartTime, po.Now = o.FragmentDuration, start, clock.Now
		po.ConnectionLifetime = o.ConnectionLifetime
		// A small buffer that blocks keeps Put, and so the media clock,
		// close to what is on the wire, as with a live camera.
		po.BufferPolicy, po.MaxBufferSize = kvs.Block, 96<<10
		po.RetryBaseDelay, po.RetryMaxDelay = 5*time.Millisecond, 50*time.Millisecond
	})
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		// On an early return, stop the producer's goroutine instead of
		// leaving it to reconnect to a closed server; after a successful
		// Close this is a no-op.
		stopped, stop := context.WithCancel(context.Background())
		stop()
		_ = p.Close(stopped)
	}()
	want := map[uint32]int{}
	for {
		f, err := src.Next(ctx)
		if err == io.EOF || (err == nil && f.PTS >= time.Duration(o.Seconds)*time.Second) {
			break
		}
		if err != nil {
			return res, nil, err
		}
		clock.set(start.Add(f.PTS))
		if err := p.Put(ctx, f); err != nil {
			return res, nil, err
		}
		want[kvslocal.Checksum(f.Data)]++
		res.Frames++
		res.Bytes += int64(len(f.Data))
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Close(cctx); err != nil {
		return res, nil, err
	}
	res.Elapsed = time.Since(start)
	res.Stats = p.Stats()
	res.Fragments = int(res.Stats.Fragments)
	return res, want, nil
}

// tally compares what the server persisted with the checksums put.
func (res *VideoResult) tally(frags []kvslocal.StoredFragment, want map[uint32]int) {
	got := map[uint32]int{}
	for _, fr := range frags {
		for _, f := range fr.Frames {
			got[f.Sum]++
			res.Persisted++
		}
	}
	for sum, n := range want {
		if got[sum] < n {
			res.Lost += n - got[sum]
		}
		if got[sum] > n {
			res.Repeated += got[sum] - n
		}
	}
}

func (res *VideoResult) print(out io.Writer, tr kvs.Track, o VideoOptions) {
	s := res.Stats
	fmt.Fprintf(out, "streamed %d s of H.264 %dx%d (%d frames, %.1f MB) as %d fragments of %v via PutMedia in %v: %.0f fragments/s\n",
		o.Seconds, tr.Width, tr.Height, res.Frames, float64(res.Bytes)/1e6, res.Fragments, o.FragmentDuration, res.Elapsed.Round(time.Millisecond),
		float64(res.Fragments)/res.Elapsed.Seconds())
	fmt.Fprintf(out, "acks: %d BUFFERING, %d RECEIVED, %d PERSISTED, %d ERROR; %d connections (%d failed and resumed, %d rotated), %d fragments resent\n",
		s.AcksBuffering, s.AcksReceived, s.AcksPersisted, s.AcksError, s.Connections, s.FailedConnections, s.Rotations, s.FragmentsResent)
	fmt.Fprintf(out, "server (SigV4-checked, Matroska parsed) persisted %d/%d frames: %d lost, %d duplicated; send→PERSISTED mean %v, max %v\n",
		res.Persisted, res.Frames, res.Lost, res.Repeated, s.PersistLatencyMean().Round(10*time.Microsecond), s.PersistLatencyMax.Round(10*time.Microsecond))
}
