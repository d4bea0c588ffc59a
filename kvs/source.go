package kvs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// Source yields H.264 frames for a Producer: a camera (kvs/gst), a
// recording (AnnexBSource, MKVSource), or anything else.
type Source interface {
	// Track describes the video: codec configuration and size.
	Track() Track
	// Next returns the next frame, io.EOF after the last.
	Next(ctx context.Context) (Frame, error)
}

// Pacing says how fast Stream puts frames.
type Pacing int

const (
	// AsFast puts frames as fast as the producer takes them (a live
	// source paces itself; a recording is sent as fast as acknowledged).
	AsFast Pacing = iota
	// Realtime puts frames no faster than their PTS: a recording replayed
	// as if live.
	Realtime
)

// Stream puts every frame of src into p until src ends (returning nil),
// ctx ends, or Put fails, at the given pacing. It does not close p.
func Stream(ctx context.Context, p *Producer, src Source, pacing Pacing) error {
	pace := pacing == Realtime
	start := time.Now()
	for {
		f, err := src.Next(ctx)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if pace {
			if d := time.Until(start.Add(f.PTS)); d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				}
			}
		}
		if err := p.Put(ctx, f); err != nil {
			return err
		}
	}
}

// AnnexBSource reads an H.264 Annex-B elementary stream (a .h264/.264
// file) as frames at a fixed frame rate; such streams carry no timestamps.
// Frames are yielded in decoding order with PTS = index/fps, which is right
// for streams without B-frames (the seed's x264enc bframes=0).
type AnnexBSource struct {
	open    func() io.Reader
	r       *AnnexBReader
	fps     float64
	loops   int // remaining passes over the stream; <0 forever
	n       int64
	track   Track
	pending []AccessUnit
}

// NewAnnexBSource returns a source reading r once. It reads ahead to the
// first SPS and PPS to build the Track.
func NewAnnexBSource(r io.Reader, fps float64) (*AnnexBSource, error) {
	used := false
	return newAnnexBSource(func() io.Reader {
		if used {
			return nil
		}
		used = true
		return r
	}, fps, 1)
}

// LoopAnnexB returns a source that plays data loops times (0: forever), PTS
// running on across passes. data must start with a key frame.
func LoopAnnexB(data []byte, fps float64, loops int) (*AnnexBSource, error) {
	if loops == 0 {
		loops = -1
	}
	return newAnnexBSource(func() io.Reader { return bytes.NewReader(data) }, fps, loops)
}

func newAnnexBSource(open func() io.Reader, fps float64, loops int) (*AnnexBSource, error) {
	if fps <= 0 || fps > 1000 {
		return nil, fmt.Errorf("kvs: frame rate %v out of range", fps)
	}
	s := &AnnexBSource{open: open, r: NewAnnexBReader(open()), fps: fps, loops: loops}
	var sps, pps [][]byte
	for len(sps) == 0 || len(pps) == 0 {
		au, err := s.r.Next()
		if err == io.EOF {
			return nil, errors.New("kvs: no SPS and PPS in the H.264 stream")
		}
		if err != nil {
			return nil, err
		}
		for _, n := range au.NALUs {
			switch NALType(n) {
			case NALSPS:
				sps = append(sps[:0], n)
			case NALPPS:
				pps = append(pps[:0], n)
			}
		}
		s.pending = append(s.pending, au)
		if len(s.pending) > 1000 {
			return nil, errors.New("kvs: no SPS and PPS in the first 1000 access units")
		}
	}
	cfg, err := NewAVCConfig(sps, pps)
	if err != nil {
		return nil, err
	}
	if s.track, err = TrackFromAVCConfig(cfg); err != nil {
		return nil, err
	}
	return s, nil
}

// Track implements Source.
func (s *AnnexBSource) Track() Track { return s.track }

// Next implements Source.
func (s *AnnexBSource) Next(ctx context.Context) (Frame, error) {
	if err := ctx.Err(); err != nil {
		return Frame{}, err
	}
	var au AccessUnit
	if len(s.pending) > 0 {
		au, s.pending = s.pending[0], s.pending[1:]
	} else {
		var err error
		au, err = s.r.Next()
		for err == io.EOF {
			if s.loops > 0 {
				s.loops--
			}
			if s.loops == 0 {
				return Frame{}, io.EOF
			}
			r := s.open()
			if r == nil {
				return Frame{}, io.EOF
			}
			s.r = NewAnnexBReader(r)
			au, err = s.r.Next()
		}
		if err != nil {
			return Frame{}, err
		}
	}
	f := Frame{Data: au.AVCC(), Key: au.Key, PTS: time.Duration(float64(s.n) * float64(time.Second) / s.fps)}
	s.n++
	return f, nil
}

// MKVSource reads the H.264 track of a Matroska stream (a file written by
// this package, ffmpeg, mkvmerge or GStreamer's matroskamux) frame by frame,
// one Cluster in memory at a time.
type MKVSource struct {
	mr     *MKVReader
	track  Track
	number uint64
	scale  int64
	queue  []Frame
	first  int64
	start  bool
}

// NewMKVSource reads the stream's header and returns a source of its first
// H.264 track; frames of other tracks are skipped.
func NewMKVSource(r io.Reader) (*MKVSource, error) {
	s := &MKVSource{mr: NewMKVReader(r), scale: TimecodeScale}
	for s.number == 0 {
		el, err := s.mr.Next()
		if err == io.EOF {
			return nil, errors.New("kvs: no Tracks in the Matroska stream")
		}
		if err != nil {
			return nil, err
		}
		switch el.ID {
		case IDInfo:
			sc, err := DecodeInfo(el.Raw)
			if err != nil {
				return nil, err
			}
			s.scale = int64(sc)
		case IDTracks:
			tracks, err := DecodeTracks(el.Raw)
			if err != nil {
				return nil, err
			}
			for _, t := range tracks {
				if t.CodecID != CodecIDH264 {
					continue
				}
				cfg, err := ParseAVCConfig(t.CodecPrivate)
				if err != nil {
					return nil, err
				}
				if cfg.LengthSize != 4 {
					return nil, fmt.Errorf("kvs: H.264 track with %d-byte NAL lengths; only 4 is supported", cfg.LengthSize)
				}
				s.track = Track{CodecPrivate: t.CodecPrivate, Width: int(t.Video.PixelWidth), Height: int(t.Video.PixelHeight)}
				if s.track, err = s.track.withSize(); err != nil {
					return nil, err
				}
				s.number = t.TrackNumber
				break
			}
			if s.number == 0 {
				return nil, errors.New("kvs: no V_MPEG4/ISO/AVC track in the Matroska stream")
			}
		case IDCluster:
			return nil, errors.New("kvs: Cluster before Tracks in the Matroska stream")
		}
	}
	return s, nil
}

// Track implements Source.
func (s *MKVSource) Track() Track { return s.track }

// Next implements Source.
func (s *MKVSource) Next(ctx context.Context) (Frame, error) {
	for len(s.queue) == 0 {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		el, err := s.mr.Next()
		if err != nil {
			return Frame{}, err
		}
		if el.ID != IDCluster {
			continue
		}
		c, err := DecodeCluster(el.Raw)
		if err != nil {
			return Frame{}, err
		}
		blocks := c.SimpleBlock
		for _, g := range c.BlockGroup {
			// In a BlockGroup, a key frame is a Block that references no
			// other.
			g.Block.Keyframe = len(g.ReferenceBlock) == 0
			blocks = append(blocks, g.Block)
		}
		for _, b := range blocks {
			if b.TrackNumber != s.number || len(b.Data) == 0 {
				continue
			}
			ticks := (int64(c.Timecode) + int64(b.Timecode)) * s.scale
			if !s.start {
				s.first, s.start = ticks, true
			}
			s.queue = append(s.queue, Frame{Data: bytes.Join(b.Data, nil), Key: b.Keyframe, PTS: time.Duration(ticks - s.first)})
		}
	}
	f := s.queue[0]
	s.queue = s.queue[1:]
	return f, nil
}
