package kvs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/at-wat/ebml-go"
)

// Matroska element ids the reader acts on.
const (
	IDEBML     = 0x1A45DFA3
	IDSegment  = 0x18538067
	IDCluster  = 0x1F43B675
	IDInfo     = 0x1549A966
	IDTracks   = 0x1654AE6B
	IDSeekHead = 0x114D9B74
	IDCues     = 0x1C53BB6B
	IDTags     = 0x1254C367
	IDChapters = 0x1043A770
	IDAttach   = 0x1941A469
	IDVoid     = 0xEC
	idTimecode = 0xE7
)

// ErrBadMKV is wrapped by MKVReader errors for malformed Matroska.
var ErrBadMKV = errors.New("kvs: malformed Matroska")

// MKVReader splits a live Matroska stream, as a PutMedia body carries it,
// into its top-level elements: the EBML header, and the Segment's children
// (Info, Tracks, each Cluster, …). A Cluster of unknown size ends where the
// next top-level element or the stream's clean end begins, so each Cluster
// is returned as soon as it is known to be complete. Elements are returned
// whole, with a known size, ready for ebml.Unmarshal (see DecodeCluster).
//
// The reader is written for streams that never end and for untrusted input:
// every element is bounded by MaxElement, and an abrupt end of the
// underlying reader (io.ErrUnexpectedEOF, a reset connection) is an error,
// never the end of a Cluster.
type MKVReader struct {
	r *bufio.Reader
	// MaxElement bounds one element's size; default 64 MiB.
	MaxElement int64
	// OnClusterTimecode, when set, is called with a Cluster's timecode as
	// soon as it is read, before the Cluster is complete (the local server
	// answers BUFFERING then).
	OnClusterTimecode func(tc uint64)
	pending           *elemHeader // a header read ahead that ended a Cluster
}

type elemHeader struct {
	id   uint32
	size int64 // -1: unknown
	raw  []byte
}

// NewMKVReader returns a reader of r.
func NewMKVReader(r io.Reader) *MKVReader {
	return &MKVReader{r: bufio.NewReaderSize(r, 64<<10), MaxElement: 64 << 20}
}

// Element is one top-level Matroska element.
type Element struct {
	ID  uint32
	Raw []byte // the whole element: id, size, data
}

func isTopLevel(id uint32) bool {
	switch id {
	case IDEBML, IDSegment, IDCluster, IDInfo, IDTracks, IDSeekHead, IDCues, IDTags, IDChapters, IDAttach:
		return true
	}
	return false
}

// Next returns the next top-level element; io.EOF at a clean end between
// elements.
func (m *MKVReader) Next() (Element, error) {
	for {
		h, err := m.header(true)
		if err != nil {
			return Element{}, err
		}
		switch {
		case h.id == IDSegment:
			// Enter the Segment: its children are returned one by one.
			continue
		case h.id == IDCluster && h.size < 0:
			return m.unknownCluster(h)
		case h.size < 0:
			return Element{}, fmt.Errorf("%w: element 0x%X of unknown size", ErrBadMKV, h.id)
		}
		raw, err := m.body(h)
		if err != nil {
			return Element{}, err
		}
		if h.id == IDCluster && m.OnClusterTimecode != nil {
			if tc, ok := clusterTimecode(raw[len(h.raw):]); ok {
				m.OnClusterTimecode(tc)
			}
		}
		return Element{ID: h.id, Raw: raw}, nil
	}
}

// clusterTimecode finds the Timecode among a known-size Cluster's children.
func clusterTimecode(children []byte) (uint64, bool) {
	r := &MKVReader{r: bufio.NewReader(bytes.NewReader(children)), MaxElement: int64(len(children))}
	for {
		h, err := r.header(false)
		if err != nil || h.size < 0 || h.size > int64(len(children)) {
			return 0, false
		}
		body, err := r.body(h)
		if err != nil {
			return 0, false
		}
		if h.id == idTimecode && h.size <= 8 {
			var tc uint64
			for _, b := range body[len(h.raw):] {
				tc = tc<<8 | uint64(b)
			}
			return tc, true
		}
	}
}

// unknownCluster reads a Cluster's children up to the next top-level
// element or the clean end of the stream.
func (m *MKVReader) unknownCluster(h elemHeader) (Element, error) {
	// The children are read straight after a 12-byte header (4-byte id,
	// 8-byte size) filled in at the end.
	raw := make([]byte, 12, 64<<10)
	for {
		c, err := m.header(false)
		if err == io.EOF {
			break
		}
		if err != nil {
			return Element{}, err
		}
		if isTopLevel(c.id) {
			m.pending = &c
			break
		}
		if c.size < 0 {
			return Element{}, fmt.Errorf("%w: Cluster child 0x%X of unknown size", ErrBadMKV, c.id)
		}
		if int64(len(raw)-12)+c.size > m.MaxElement {
			return Element{}, fmt.Errorf("%w: Cluster larger than %d bytes", ErrBadMKV, m.MaxElement)
		}
		start := len(raw)
		raw, err = m.readAppend(append(raw, c.raw...), c.size)
		if err != nil {
			return Element{}, err
		}
		if c.id == idTimecode && m.OnClusterTimecode != nil && c.size <= 8 {
			var tc uint64
			for _, b := range raw[start+len(c.raw):] {
				tc = tc<<8 | uint64(b)
			}
			m.OnClusterTimecode(tc)
		}
	}
	head := appendSize(appendID(nil, IDCluster), int64(len(raw)-12))
	copy(raw, head)
	return Element{ID: IDCluster, Raw: raw}, nil
}

// header reads an element id and size. At a clean end before the first
// byte it returns io.EOF.
func (m *MKVReader) header(allowPending bool) (elemHeader, error) {
	if m.pending != nil {
		h := *m.pending
		m.pending = nil
		return h, nil
	}
	var raw []byte
	b0, err := m.r.ReadByte()
	if err != nil {
		return elemHeader{}, err // io.EOF: clean end
	}
	n := vintLen(b0)
	if n == 0 || n > 4 {
		return elemHeader{}, fmt.Errorf("%w: bad element id byte 0x%02X", ErrBadMKV, b0)
	}
	raw = append(raw, b0)
	for range n - 1 {
		c, err := m.r.ReadByte()
		if err != nil {
			return elemHeader{}, unexpected(err)
		}
		raw = append(raw, c)
	}
	var id uint32
	for _, c := range raw {
		id = id<<8 | uint32(c)
	}
	s0, err := m.r.ReadByte()
	if err != nil {
		return elemHeader{}, unexpected(err)
	}
	sn := vintLen(s0)
	if sn == 0 {
		return elemHeader{}, fmt.Errorf("%w: bad size byte 0x%02X", ErrBadMKV, s0)
	}
	raw = append(raw, s0)
	size := int64(s0 & (0xFF >> sn))
	allOnes := size == int64(0xFF>>sn)
	for range sn - 1 {
		c, err := m.r.ReadByte()
		if err != nil {
			return elemHeader{}, unexpected(err)
		}
		raw = append(raw, c)
		size = size<<8 | int64(c)
		allOnes = allOnes && c == 0xFF
	}
	if allOnes {
		size = -1
	} else if size > m.MaxElement {
		return elemHeader{}, fmt.Errorf("%w: element 0x%X of %d bytes over the %d limit", ErrBadMKV, id, size, m.MaxElement)
	}
	return elemHeader{id: id, size: size, raw: raw}, nil
}

func (m *MKVReader) body(h elemHeader) ([]byte, error) {
	out := append(make([]byte, 0, len(h.raw)+int(min(h.size, readStep))), h.raw...)
	return m.readAppend(out, h.size)
}

// readStep is the first allocation for an element's data; the buffer then
// grows as bytes arrive.
const readStep = 64 << 10

// readAppend appends n bytes of the stream to b, growing b only as bytes
// arrive: a 12-byte header declaring a 64 MiB element costs what was
// actually sent, not 64 MiB.
func (m *MKVReader) readAppend(b []byte, n int64) ([]byte, error) {
	want := int64(len(b)) + n
	for int64(len(b)) < want {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(want-int64(len(b)), int64(max(cap(b), readStep)))))
		}
		end := int(min(int64(cap(b)), want))
		k, err := io.ReadFull(m.r, b[len(b):end])
		b = b[:len(b)+k]
		if err != nil {
			return nil, unexpected(err)
		}
	}
	return b, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// vintLen returns the length of an EBML variable-size integer from its
// first byte (1–8), 0 when the byte is 0.
func vintLen(b byte) int {
	for i := range 8 {
		if b&(0x80>>i) != 0 {
			return i + 1
		}
	}
	return 0
}

func appendID(b []byte, id uint32) []byte {
	switch {
	case id > 0xFFFFFF:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id > 0xFFFF:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id > 0xFF:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// appendSize appends an 8-byte EBML size.
func appendSize(b []byte, n int64) []byte {
	return append(b, 0x01, byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

// Cluster is a decoded Matroska Cluster.
type Cluster struct {
	Timecode    uint64       `ebml:"Timecode"`
	SimpleBlock []ebml.Block `ebml:"SimpleBlock"`
	BlockGroup  []BlockGroup `ebml:"BlockGroup"`
}

// BlockGroup is a Cluster's BlockGroup; a Block that references no other is
// a key frame.
type BlockGroup struct {
	Block          ebml.Block `ebml:"Block"`
	ReferenceBlock []int64    `ebml:"ReferenceBlock"`
}

// DecodeCluster decodes a Cluster element returned by MKVReader.
func DecodeCluster(raw []byte) (Cluster, error) {
	var c struct {
		Cluster Cluster `ebml:"Cluster"`
	}
	if err := ebml.Unmarshal(bytes.NewReader(raw), &c); err != nil && !errors.Is(err, io.EOF) {
		return Cluster{}, fmt.Errorf("%w: Cluster: %v", ErrBadMKV, err)
	}
	return c.Cluster, nil
}

// TrackEntry is the part of a Matroska TrackEntry the producer and the
// local server look at.
type TrackEntry struct {
	TrackNumber  uint64   `ebml:"TrackNumber"`
	TrackType    uint64   `ebml:"TrackType"`
	CodecID      string   `ebml:"CodecID"`
	CodecPrivate []byte   `ebml:"CodecPrivate"`
	Video        mkvVideo `ebml:"Video"`
}

// DecodeTracks decodes a Tracks element.
func DecodeTracks(raw []byte) ([]TrackEntry, error) {
	var t struct {
		Tracks struct {
			TrackEntry []TrackEntry `ebml:"TrackEntry"`
		} `ebml:"Tracks"`
	}
	if err := ebml.Unmarshal(bytes.NewReader(raw), &t, ebml.WithIgnoreUnknown(true)); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: Tracks: %v", ErrBadMKV, err)
	}
	return t.Tracks.TrackEntry, nil
}

// DecodeInfo returns the TimecodeScale of an Info element (1,000,000 when
// absent, the Matroska default).
func DecodeInfo(raw []byte) (uint64, error) {
	var i struct {
		Info struct {
			TimecodeScale uint64 `ebml:"TimecodeScale"`
		} `ebml:"Info"`
	}
	if err := ebml.Unmarshal(bytes.NewReader(raw), &i, ebml.WithIgnoreUnknown(true)); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("%w: Info: %v", ErrBadMKV, err)
	}
	if i.Info.TimecodeScale == 0 {
		return TimecodeScale, nil
	}
	return i.Info.TimecodeScale, nil
}

// DecodeDocType returns the DocType of an EBML header element.
func DecodeDocType(raw []byte) (string, error) {
	var h struct {
		EBML struct {
			DocType string `ebml:"EBMLDocType"`
		} `ebml:"EBML"`
	}
	if err := ebml.Unmarshal(bytes.NewReader(raw), &h, ebml.WithIgnoreUnknown(true)); err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("%w: EBML header: %v", ErrBadMKV, err)
	}
	return h.EBML.DocType, nil
}
