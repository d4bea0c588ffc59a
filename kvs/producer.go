package kvs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kinesisvideo"
)

// Stats is a snapshot of a producer's counters.
type Stats struct {
	FramesPut          int64 // frames muxed into fragments
	FramesSkipped      int64 // frames dropped waiting for a key frame
	Fragments          int64 // fragments started
	FragmentsSent      int64 // fragments fully written to a connection, resends included
	FragmentsResent    int64 // of FragmentsSent, sends after the first
	FragmentsPersisted int64
	FragmentsDropped   int64 // dropped by the buffer policy or a fragment ERROR
	BytesSent          int64
	AcksBuffering      int64
	AcksReceived       int64
	AcksPersisted      int64
	AcksError          int64
	AcksIdle           int64
	Connections        int64 // PutMedia requests made
	FailedConnections  int64
	Rotations          int64 // connections ended on ConnectionLifetime
	BufferedBytes      int64
	BufferedFragments  int
	// Latency from the last byte of a fragment written to its PERSISTED
	// acknowledgement.
	PersistLatencyLast, PersistLatencyMax, PersistLatencyTotal time.Duration
}

// PersistLatencyMean returns the mean send-to-PERSISTED latency.
func (s Stats) PersistLatencyMean() time.Duration {
	if s.AcksPersisted == 0 {
		return 0
	}
	return s.PersistLatencyTotal / time.Duration(s.AcksPersisted)
}

// ErrClosed is returned by Put after Close.
var ErrClosed = errors.New("kvs: producer closed")

type fragment struct {
	seq      uint64
	timecode int64
	// chunks are the muxer's outputs, kept as they are (no copy into one
	// buffer): the Cluster header with the first frame, then one
	// SimpleBlock per frame.
	chunks   [][]byte
	size     int64
	complete bool
	sends    int
	sentAt   time.Time
}

// Producer streams H.264 frames to a Kinesis video stream with PutMedia: it
// muxes them into key-frame-aligned Matroska fragments, keeps each fragment
// until KVS acknowledges it PERSISTED, and on an ERROR acknowledgement or a
// dropped connection reconnects and sends again every fragment not yet
// persisted.
type Producer struct {
	opts   ProducerOptions
	stream StreamRef
	cache  *EndpointCache
	muxer  *Muxer
	signer *v4.Signer

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every state change
	frags    []*fragment   // not yet persisted, in order
	bufBytes int64
	nextSeq  uint64
	sending  uint64    // seq of the fragment the current connection writes; 0 none
	lastSeen time.Time // last acknowledgement received or bytes written
	closing  bool
	fatal    error
	stats    Stats
	started  bool
	done     chan struct{}
	cancel   context.CancelFunc
}

// NewProducer returns a producer for the stream (a name, or an ARN starting
// with "arn:"), resolving its endpoint with client. The track's
// CodecPrivate is required (see TrackFromAVCConfig). Options the producer
// cannot honour are an *OptionError.
func NewProducer(client GetDataEndpointAPI, stream string, track Track, optFns ...func(*ProducerOptions)) (*Producer, error) {
	if stream == "" {
		return nil, errNoStream
	}
	var o ProducerOptions
	if c, ok := client.(*kinesisvideo.Client); ok {
		co := c.Options()
		o.Credentials, o.Region = co.Credentials, co.Region
	}
	for _, f := range optFns {
		f(&o)
	}
	if err := o.setDefaults(); err != nil {
		return nil, err
	}
	m, err := NewMuxer(track, func(mo *MuxerOptions) {
		mo.FragmentDuration, mo.MaxFragmentDuration = o.FragmentDuration, o.MaxFragmentDuration
		mo.TimecodeType, mo.StartTime = o.TimecodeType, o.StartTime
	})
	if err != nil {
		return nil, err
	}
	o.TimecodeType = m.Options().TimecodeType
	cache, err := NewEndpointCache(client, StreamRef(stream), func(co *EndpointCacheOptions) {
		co.TTL, co.Now = o.EndpointTTL, o.Now
	})
	if err != nil {
		return nil, err
	}
	return &Producer{
		opts:    o,
		stream:  StreamRef(stream),
		cache:   cache,
		muxer:   m,
		signer:  v4.NewSigner(),
		changed: make(chan struct{}),
		nextSeq: 1,
		done:    make(chan struct{}),
	}, nil
}

// Endpoints returns the producer's endpoint cache.
func (p *Producer) Endpoints() *EndpointCache { return p.cache }

// Stats returns a snapshot of the counters.
func (p *Producer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.BufferedBytes, s.BufferedFragments = p.bufBytes, len(p.frags)
	return s
}

// notify wakes every waiter; p.mu must be held.
func (p *Producer) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// wait releases p.mu until the state changes or ctx ends, then retakes it.
func (p *Producer) wait(ctx context.Context) error {
	ch := p.changed
	p.mu.Unlock()
	defer p.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Put muxes a frame and queues it for sending; it returns once the frame is
// buffered, not when it is persisted. The frame's bytes are copied: f.Data
// may be reused when Put returns. Frames before the first key frame,
// and frames that would make a fragment longer than MaxFragmentDuration,
// are skipped (Stats.FramesSkipped) and Put returns nil. Put returns the
// producer's fatal error once it has given up, and ErrClosed after Close.
// With the Block policy it waits for buffer space until ctx ends.
func (p *Producer) Put(ctx context.Context, f Frame) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fatal != nil {
		return p.fatal
	}
	if p.closing {
		return ErrClosed
	}
	if !p.started {
		p.started = true
		runCtx, cancel := context.WithCancel(context.Background())
		p.cancel = cancel
		go p.run(runCtx)
	}
	for p.bufBytes+int64(len(f.Data)) > p.opts.MaxBufferSize && len(p.frags) > 1 {
		if p.opts.BufferPolicy == Block {
			if err := p.wait(ctx); err != nil {
				return err
			}
			if p.fatal != nil {
				return p.fatal
			}
			continue
		}
		if !p.dropOldest() {
			break
		}
	}
	c, err := p.muxer.WriteFrame(f)
	if errors.Is(err, ErrNeedKeyFrame) {
		p.stats.FramesSkipped++
		return nil
	}
	if err != nil {
		return err
	}
	p.stats.FramesPut++
	if c.NewFragment || len(p.frags) == 0 || p.frags[len(p.frags)-1].complete {
		if n := len(p.frags); n > 0 {
			p.frags[n-1].complete = true
		}
		if !c.NewFragment {
			// The fragment this frame belongs to was dropped whole; so is
			// the frame.
			p.stats.FramesSkipped++
			p.stats.FramesPut--
			p.notify()
			return nil
		}
		p.frags = append(p.frags, &fragment{seq: p.nextSeq, timecode: c.Timecode, chunks: [][]byte{c.Data}, size: int64(len(c.Data))})
		p.nextSeq++
		p.stats.Fragments++
	} else {
		tail := p.frags[len(p.frags)-1]
		tail.chunks = append(tail.chunks, c.Data)
		tail.size += int64(len(c.Data))
	}
	p.bufBytes += int64(len(c.Data))
	p.notify()
	return nil
}

// dropOldest drops the oldest fragment that is neither being sent nor being
// muxed; p.mu must be held.
func (p *Producer) dropOldest() bool {
	for i, f := range p.frags {
		if f.seq == p.sending || !f.complete {
			continue
		}
		p.removeAt(i)
		p.stats.FragmentsDropped++
		p.opts.Logger.Warn("kvs: buffer full, dropped fragment", "stream", string(p.stream), "timecode", f.timecode)
		return true
	}
	return false
}

func (p *Producer) removeAt(i int) {
	p.bufBytes -= p.frags[i].size
	p.frags = append(p.frags[:i], p.frags[i+1:]...)
}

// Close ends the stream: the last fragment is closed and Close waits until
// every fragment is persisted (or dropped), the producer gives up, or ctx
// ends. It then stops the producer.
func (p *Producer) Close(ctx context.Context) error {
	p.mu.Lock()
	if !p.closing {
		p.closing = true
		if n := len(p.frags); n > 0 {
			p.frags[n-1].complete = true
		}
		p.notify()
	}
	started := p.started
	p.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		p.cancel()
		<-p.done
		p.mu.Lock()
		n := len(p.frags)
		p.mu.Unlock()
		return fmt.Errorf("kvs: close with %d fragments not persisted: %w", n, ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fatal != nil {
		return p.fatal
	}
	return nil
}
