package kvs

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/lakekit/lakekit/internal/opt"
)

// CodecIDH264 is the Matroska codec id of H.264 in AVCC form.
const CodecIDH264 = "V_MPEG4/ISO/AVC"

// Fragment duration bounds. KVS fragments are Matroska Clusters that start
// at a key frame; AWS recommends 1–10 s. A SimpleBlock's 16-bit timecode,
// relative to its Cluster in milliseconds, caps any fragment at 32.767 s.
const (
	MinFragmentDuration        = time.Second
	MaxFragmentDuration        = 10 * time.Second
	DefaultFragmentDuration    = 2 * time.Second
	DefaultMaxFragmentDuration = 10 * time.Second
	// MaxFragmentGrowth is the largest MuxerOptions.MaxFragmentDuration:
	// the longest a fragment may grow waiting for a key frame, below
	// the SimpleBlock offset limit.
	MaxFragmentGrowth = 30 * time.Second
	maxBlockOffset    = 32767 * time.Millisecond
)

// TimecodeScale is the Matroska TimecodeScale this package writes: one
// millisecond, the unit of KVS fragment timecodes.
const TimecodeScale = 1_000_000

// TimecodeType says how fragment (Cluster) timecodes relate to time; it is
// sent as x-amzn-fragment-timecode-type.
type TimecodeType string

const (
	// TimecodeAbsolute: Cluster timecodes are milliseconds since the Unix
	// epoch.
	TimecodeAbsolute TimecodeType = "ABSOLUTE"
	// TimecodeRelative: Cluster timecodes are milliseconds since the
	// producer start timestamp (x-amzn-producer-start-timestamp).
	TimecodeRelative TimecodeType = "RELATIVE"
)

// ErrNeedKeyFrame is returned by Muxer.WriteFrame for a frame that cannot
// be muxed until a key frame comes: the first frame of a stream, or a frame
// that would stretch a fragment past MaxFragmentDuration. The frame is
// dropped; so are the next ones, with the same error, up to the next key
// frame.
var ErrNeedKeyFrame = errors.New("kvs: a key frame is needed to start a fragment")

// ErrTimecodeOrder is returned for a key frame whose timecode is not after
// the previous fragment's (KVS rejects such fragments with ErrorId 4004),
// and for a frame earlier than the start of its fragment.
var ErrTimecodeOrder = errors.New("kvs: fragment timecode not after the previous one")

// Track describes the H.264 video track.
type Track struct {
	Name string // TrackEntry Name; "video" when empty
	// CodecPrivate is the AVCDecoderConfigurationRecord (see AVCConfig).
	CodecPrivate  []byte
	Width, Height int // pixel size; read from the SPS in CodecPrivate when zero
}

// TrackFromAVCConfig returns the Track for a decoder configuration, its
// size read from the first SPS.
func TrackFromAVCConfig(c AVCConfig) (Track, error) {
	cp, err := c.Marshal()
	if err != nil {
		return Track{}, err
	}
	return (Track{CodecPrivate: cp}).withSize()
}

func (t Track) withSize() (Track, error) {
	if t.Width > 0 && t.Height > 0 {
		return t, nil
	}
	c, err := ParseAVCConfig(t.CodecPrivate)
	if err != nil {
		return t, err
	}
	info, err := ParseSPS(c.SPS[0])
	if err != nil {
		return t, err
	}
	t.Width, t.Height = info.Width, info.Height
	return t, nil
}

// Frame is one H.264 access unit to mux.
type Frame struct {
	// Data is the access unit in AVCC form (4-byte big-endian NAL unit
	// lengths); see AnnexBToAVCC.
	Data []byte
	// Key is true for an IDR frame; fragments start only at key frames.
	Key bool
	// PTS is the presentation time since the stream's start time.
	PTS time.Duration
}

// MuxerOptions configures a Muxer.
type MuxerOptions struct {
	// FragmentDuration is the target fragment length: a new fragment starts
	// at the first key frame at least this long after the current one.
	// Default DefaultFragmentDuration; must be within MinFragmentDuration and
	// MaxFragmentDuration.
	FragmentDuration time.Duration
	// MaxFragmentDuration is the longest a fragment may grow while waiting
	// for a key frame; frames beyond it are dropped with ErrNeedKeyFrame.
	// Default DefaultMaxFragmentDuration; at most 30 s.
	MaxFragmentDuration time.Duration
	// TimecodeType selects absolute or relative Cluster timecodes. Default
	// TimecodeAbsolute.
	TimecodeType TimecodeType
	// StartTime is the wall-clock time of PTS 0. Required for absolute
	// timecodes; with relative ones it is the producer start timestamp.
	StartTime time.Time
	// Title is written in the Segment Info; optional.
	Title string
}

// Chunk is the output of Muxer.WriteFrame: bytes to append to the stream.
type Chunk struct {
	// Data holds, when NewFragment, the Cluster header and timecode, then
	// the SimpleBlock of the frame.
	Data []byte
	// NewFragment is true when the frame starts a fragment.
	NewFragment bool
	// Timecode is the Cluster timecode (ms) of the frame's fragment: what
	// KVS echoes as FragmentTimecode in its acknowledgements.
	Timecode int64
}

// Muxer writes H.264 frames as a Matroska stream in the shape PutMedia
// takes: one EBML header, one Segment of unknown size holding Info and
// Tracks, then one Cluster of unknown size per fragment, each starting at a
// key frame, with SimpleBlocks. Elements are encoded by ebml-go's Marshal.
//
// A Muxer is not safe for concurrent use.
type Muxer struct {
	opts   MuxerOptions
	track  Track
	header []byte

	inFragment   bool
	needKey      bool
	clusterStart time.Duration // PTS of the current Cluster
	clusterTC    int64
	lastTC       int64
}

const muxerOptions = "kvs.MuxerOptions"

// NewMuxer returns a Muxer for the track. Options it cannot honour are an
// *OptionError.
func NewMuxer(track Track, optFns ...func(*MuxerOptions)) (*Muxer, error) {
	var o MuxerOptions
	for _, f := range optFns {
		f(&o)
	}
	if o.FragmentDuration == 0 {
		o.FragmentDuration = DefaultFragmentDuration
	}
	if err := opt.Range(muxerOptions, "FragmentDuration", o.FragmentDuration, MinFragmentDuration, MaxFragmentDuration); err != nil {
		return nil, err
	}
	if o.MaxFragmentDuration == 0 {
		o.MaxFragmentDuration = max(DefaultMaxFragmentDuration, o.FragmentDuration)
	}
	if err := opt.Range(muxerOptions, "MaxFragmentDuration", o.MaxFragmentDuration, o.FragmentDuration, MaxFragmentGrowth); err != nil {
		return nil, err
	}
	switch o.TimecodeType {
	case "":
		o.TimecodeType = TimecodeAbsolute
	case TimecodeAbsolute, TimecodeRelative:
	default:
		return nil, &OptionError{Type: muxerOptions, Field: "TimecodeType", Value: o.TimecodeType, Want: "TimecodeAbsolute or TimecodeRelative"}
	}
	if o.TimecodeType == TimecodeAbsolute && o.StartTime.IsZero() {
		return nil, &OptionError{Type: muxerOptions, Field: "StartTime", Value: o.StartTime, Want: "a time when TimecodeType is TimecodeAbsolute"}
	}
	if len(track.CodecPrivate) == 0 {
		return nil, errors.New("kvs: Track.CodecPrivate (AVCDecoderConfigurationRecord) is required")
	}
	track, err := track.withSize()
	if err != nil {
		return nil, err
	}
	if track.Name == "" {
		track.Name = "video"
	}
	m := &Muxer{opts: o, track: track, lastTC: -1, needKey: true}
	if m.header, err = m.marshalHeader(); err != nil {
		return nil, err
	}
	return m, nil
}

// Options returns the muxer's options with defaults filled in.
func (m *Muxer) Options() MuxerOptions { return m.opts }

// Header returns the EBML header and the start of the Segment (Info,
// Tracks): what every PutMedia connection sends before its first Cluster.
func (m *Muxer) Header() []byte { return m.header }

type mkvEBMLHeader struct {
	EBMLVersion        uint64 `ebml:"EBMLVersion"`
	EBMLReadVersion    uint64 `ebml:"EBMLReadVersion"`
	EBMLMaxIDLength    uint64 `ebml:"EBMLMaxIDLength"`
	EBMLMaxSizeLength  uint64 `ebml:"EBMLMaxSizeLength"`
	DocType            string `ebml:"EBMLDocType"`
	DocTypeVersion     uint64 `ebml:"EBMLDocTypeVersion"`
	DocTypeReadVersion uint64 `ebml:"EBMLDocTypeReadVersion"`
}

type mkvInfo struct {
	SegmentUID    []byte `ebml:"SegmentUID"`
	TimecodeScale uint64 `ebml:"TimecodeScale"`
	Title         string `ebml:"Title,omitempty"`
	MuxingApp     string `ebml:"MuxingApp"`
	WritingApp    string `ebml:"WritingApp"`
}

type mkvVideo struct {
	PixelWidth  uint64 `ebml:"PixelWidth"`
	PixelHeight uint64 `ebml:"PixelHeight"`
}

type mkvTrackEntry struct {
	TrackNumber  uint64   `ebml:"TrackNumber"`
	TrackUID     uint64   `ebml:"TrackUID"`
	TrackType    uint64   `ebml:"TrackType"`
	Name         string   `ebml:"Name"`
	CodecID      string   `ebml:"CodecID"`
	CodecPrivate []byte   `ebml:"CodecPrivate"`
	Video        mkvVideo `ebml:"Video"`
}

type mkvTracks struct {
	TrackEntry []mkvTrackEntry `ebml:"TrackEntry"`
}

type mkvSegmentHead struct {
	Info   mkvInfo   `ebml:"Info"`
	Tracks mkvTracks `ebml:"Tracks"`
}

type mkvHead struct {
	Header  mkvEBMLHeader  `ebml:"EBML"`
	Segment mkvSegmentHead `ebml:"Segment,size=unknown"`
}

type mkvClusterHead struct {
	Cluster struct {
		Timecode uint64 `ebml:"Timecode"`
	} `ebml:"Cluster,size=unknown"`
}

type mkvSimpleBlock struct {
	Block ebml.Block `ebml:"SimpleBlock"`
}

// TrackNumber is the Matroska track number of the video track.
const TrackNumber = 1

func (m *Muxer) marshalHeader() ([]byte, error) {
	uid := make([]byte, 16)
	_, _ = rand.Read(uid)
	trackUID := binary.BigEndian.Uint64(uid[8:]) | 1
	h := mkvHead{
		Header: mkvEBMLHeader{
			EBMLVersion: 1, EBMLReadVersion: 1, EBMLMaxIDLength: 4, EBMLMaxSizeLength: 8,
			DocType: "matroska", DocTypeVersion: 4, DocTypeReadVersion: 2,
		},
		Segment: mkvSegmentHead{
			Info: mkvInfo{
				SegmentUID: uid, TimecodeScale: TimecodeScale, Title: m.opts.Title,
				MuxingApp: "lakekit/kvs", WritingApp: "lakekit/kvs",
			},
			Tracks: mkvTracks{TrackEntry: []mkvTrackEntry{{
				TrackNumber: TrackNumber, TrackUID: trackUID, TrackType: 1, Name: m.track.Name,
				CodecID: CodecIDH264, CodecPrivate: m.track.CodecPrivate,
				Video: mkvVideo{PixelWidth: uint64(m.track.Width), PixelHeight: uint64(m.track.Height)},
			}}},
		},
	}
	var b bytes.Buffer
	if err := ebml.Marshal(&h, &b); err != nil {
		return nil, fmt.Errorf("kvs: marshal Matroska header: %w", err)
	}
	return b.Bytes(), nil
}

// timecode converts a PTS into a Cluster timecode in milliseconds.
func (m *Muxer) timecode(pts time.Duration) int64 {
	if m.opts.TimecodeType == TimecodeAbsolute {
		return m.opts.StartTime.Add(pts).UnixMilli()
	}
	return pts.Milliseconds()
}

// WriteFrame muxes one frame and returns the bytes to append to the stream.
// A key frame starts a new fragment once the current one has lasted
// FragmentDuration. The returned Data is freshly allocated.
func (m *Muxer) WriteFrame(f Frame) (Chunk, error) {
	if len(f.Data) == 0 {
		return Chunk{}, errors.New("kvs: empty frame")
	}
	if m.inFragment && !m.needKey && f.PTS < m.clusterStart {
		return Chunk{}, fmt.Errorf("%w: frame at %v before its fragment's start %v", ErrTimecodeOrder, f.PTS, m.clusterStart)
	}
	newFragment := false
	if !m.inFragment || m.needKey || f.PTS-m.clusterStart >= m.opts.FragmentDuration {
		if !f.Key {
			if m.inFragment && !m.needKey && f.PTS-m.clusterStart < m.opts.MaxFragmentDuration {
				// Keep filling the fragment until a key frame comes.
			} else {
				m.needKey = true
				return Chunk{}, ErrNeedKeyFrame
			}
		} else {
			tc := m.timecode(f.PTS)
			if tc < 0 {
				return Chunk{}, fmt.Errorf("kvs: negative fragment timecode %d (PTS %v)", tc, f.PTS)
			}
			if tc <= m.lastTC {
				return Chunk{}, fmt.Errorf("%w: %d after %d", ErrTimecodeOrder, tc, m.lastTC)
			}
			newFragment = true
			m.inFragment, m.needKey = true, false
			m.clusterStart, m.clusterTC, m.lastTC = f.PTS, tc, tc
		}
	}
	rel := m.timecode(f.PTS) - m.clusterTC
	if rel > int64(maxBlockOffset/time.Millisecond) || rel < -int64(maxBlockOffset/time.Millisecond) {
		m.needKey = true
		return Chunk{}, ErrNeedKeyFrame
	}
	// The chunk is handed over, so it gets its own buffer, sized for the
	// Cluster header and the SimpleBlock header.
	buf := bytes.NewBuffer(make([]byte, 0, len(f.Data)+48))
	if newFragment {
		var c mkvClusterHead
		c.Cluster.Timecode = uint64(m.clusterTC)
		if err := ebml.Marshal(&c, buf); err != nil {
			return Chunk{}, err
		}
	}
	blk := mkvSimpleBlock{Block: ebml.Block{
		TrackNumber: TrackNumber, Timecode: int16(rel), Keyframe: f.Key, Data: [][]byte{f.Data},
	}}
	if err := ebml.Marshal(&blk, buf); err != nil {
		return Chunk{}, err
	}
	return Chunk{Data: buf.Bytes(), NewFragment: newFragment, Timecode: m.clusterTC}, nil
}
