package kvs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// manualClock is a time source safe for the producer's goroutines.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestProducerRotatesBeforeConnectionLimit(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t)
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	clock := &manualClock{now: time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)}
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.Now = clock.Now // ConnectionLifetime and EndpointTTL: the 40-minute defaults
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range frames[:120] {
		if err := p.Put(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return p.Stats().FragmentsPersisted == 3 })
	if p.Stats().Rotations != 0 {
		t.Fatal("rotated before the lifetime passed")
	}
	clock.Advance(kvs.DefaultConnectionLifetime + time.Minute)
	putAll(t, p, frames[120:])
	checkPersisted(t, srv, name, frames)
	s := p.Stats()
	if s.Rotations != 1 || s.Connections != 2 || s.FailedConnections != 0 || s.FragmentsResent != 0 {
		t.Errorf("stats %+v", s)
	}
	if got := p.Endpoints().Calls(); got != 2 {
		t.Errorf("GetDataEndpoint called %d times, want 2 (refreshed after its TTL)", got)
	}
	// The server saw fragments 1–4 on the first connection, 5–10 on the
	// second: the rotation happened at the first fragment boundary after the
	// limit.
	for i, f := range srv.Fragments(name) {
		want := 1
		if i >= 4 {
			want = 2
		}
		if f.Connection != want {
			t.Errorf("fragment %d on connection %d, want %d", i, f.Connection, want)
		}
	}
}

func TestEndpointCache(t *testing.T) {
	srv := kvslocal.New(t)
	name := awstest.Name(t, "cam")
	arn := srv.CreateStream(name)
	clock := &manualClock{now: time.Unix(1e9, 0)}
	for _, ref := range []kvs.StreamRef{kvs.StreamRef(name), kvs.StreamRef(arn)} {
		c, err := kvs.NewEndpointCache(srv.Client(), ref, func(o *kvs.EndpointCacheOptions) {
			o.TTL, o.Now = 10*time.Minute, clock.Now
		})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for range 3 {
			ep, err := c.Get(ctx)
			if err != nil || ep != srv.Endpoint {
				t.Fatalf("Get = %q, %v; want %q", ep, err, srv.Endpoint)
			}
		}
		if c.Calls() != 1 {
			t.Fatalf("%d calls for 3 Gets within the TTL", c.Calls())
		}
		clock.Advance(10 * time.Minute)
		_, _ = c.Get(ctx)
		c.Invalidate()
		_, _ = c.Get(ctx)
		if c.Calls() != 3 {
			t.Fatalf("%d calls, want 3 (after the TTL, after Invalidate)", c.Calls())
		}
	}
	c, err := kvs.NewEndpointCache(srv.Client(), "missing")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get(context.Background()); err == nil {
		t.Fatal("endpoint of a missing stream")
	}
}

// gate makes the server hold every fragment before persisting it until
// opened.
type gate struct {
	once sync.Once
	ch   chan struct{}
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

func (g *gate) fault(kvslocal.FragmentInfo) kvslocal.Fault {
	<-g.ch
	return kvslocal.Fault{}
}

func TestProducerBlockPolicy(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	g := newGate()
	defer g.open()
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) { o.Fault = g.fault })
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.TimecodeType, o.BufferPolicy, o.MaxBufferSize = kvs.TimecodeRelative, kvs.Block, 40<<10
	})
	if err != nil {
		t.Fatal(err)
	}
	// Nothing is persisted while the gate is shut: Put must block once
	// 40 KiB are buffered, and give up with its context.
	i := 0
	for ; i < len(frames); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		err := p.Put(ctx, frames[i])
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if i == len(frames) {
		t.Fatal("Put never blocked")
	}
	if s := p.Stats(); s.BufferedBytes > 40<<10+20<<10 || s.FragmentsDropped != 0 {
		t.Fatalf("buffer %d bytes over its bound, stats %+v", s.BufferedBytes, s)
	}
	g.open()
	putAll(t, p, frames[i:])
	checkPersisted(t, srv, name, frames)
}

func TestProducerDropOldestPolicy(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	g := newGate()
	defer g.open()
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) { o.Fault = g.fault })
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.TimecodeType, o.MaxBufferSize = kvs.TimecodeRelative, 40<<10 // DropOldest is the default
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, f := range frames {
		if err := p.Put(ctx, f); err != nil {
			t.Fatal(err) // never blocks
		}
	}
	s := p.Stats()
	if s.FragmentsDropped == 0 || s.BufferedBytes > 40<<10+40<<10 {
		t.Fatalf("stats %+v", s)
	}
	g.open()
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.Close(cctx); err != nil {
		t.Fatal(err)
	}
	// Whatever was persisted is whole fragments of the input, in order,
	// once each; the newest fragment is always among them.
	frags := srv.Fragments(name)
	last := -1
	for _, f := range frags {
		gop := int(f.Timecode / 1000)
		if gop <= last || len(f.Frames) != 30 {
			t.Fatalf("fragment %d out of order or partial (%d frames)", f.Timecode, len(f.Frames))
		}
		for j, fr := range f.Frames {
			if fr.Sum != sum(frames[gop*30+j].Data) {
				t.Fatalf("fragment %d frame %d differs", f.Timecode, j)
			}
		}
		last = gop
	}
	if last != 9 {
		t.Errorf("newest fragment not persisted; last %d", last)
	}
}

func TestProducerIdleAcks(t *testing.T) {
	track, frames := kvs.LoadFixture(t)
	srv := kvslocal.New(t, func(o *kvslocal.ServerOptions) { o.IdleInterval = 10 * time.Millisecond })
	name := awstest.Name(t, "cam")
	srv.CreateStream(name)
	var idle sync.WaitGroup
	idle.Add(1)
	var once sync.Once
	p, err := kvs.NewProducer(srv.Client(), name, track, testOptions, func(o *kvs.ProducerOptions) {
		o.TimecodeType = kvs.TimecodeRelative
		o.OnAck = func(a kvs.Ack) {
			if a.EventType == kvs.AckIdle && !a.HasTimecode {
				once.Do(idle.Done)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames[:31] {
		if err := p.Put(context.Background(), f); err != nil {
			t.Fatal(err)
		}
	}
	idle.Wait() // the connection is open with nothing to send
	putAll(t, p, frames[31:])
	checkPersisted(t, srv, name, frames)
	if p.Stats().AcksIdle == 0 {
		t.Error("no IDLE counted")
	}
}
