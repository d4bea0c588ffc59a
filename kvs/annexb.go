package kvs

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// H.264 NAL unit types (ITU-T H.264 table 7-1) that the producer acts on.
const (
	NALSlice = 1  // coded slice of a non-IDR picture
	NALIDR   = 5  // coded slice of an IDR picture: a key frame
	NALSEI   = 6  // supplemental enhancement information
	NALSPS   = 7  // sequence parameter set
	NALPPS   = 8  // picture parameter set
	NALAUD   = 9  // access unit delimiter
	NALFill  = 12 // filler data
)

// MaxNALUnitSize bounds one NAL unit read from an Annex-B stream, so that a
// stream without start codes cannot make a reader buffer without bound. A
// 1080p I-frame from x264 is well under 1 MiB.
const MaxNALUnitSize = 16 << 20

// ErrNALTooLarge is returned by an AnnexBReader for a NAL unit over
// MaxNALUnitSize.
var ErrNALTooLarge = errors.New("kvs: H.264 NAL unit larger than MaxNALUnitSize")

// NALType returns the nal_unit_type of a NAL unit (without start code), or
// -1 for an empty one.
func NALType(nalu []byte) int {
	if len(nalu) == 0 {
		return -1
	}
	return int(nalu[0] & 0x1f)
}

// SplitAnnexB splits an H.264 Annex-B byte stream (start codes 00 00 01 or
// 00 00 00 01) into NAL units. The returned slices alias b. Bytes before the
// first start code and the trailing zero bytes of each unit are dropped, as
// are empty units.
func SplitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	i := 0
	for i+2 < len(b) {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				if n := trimZeros(b[start:i]); len(n) > 0 {
					out = append(out, n)
				}
			}
			i += 3
			start = i
			continue
		}
		// A start code needs two zeros before the 1: skip ahead fast when
		// b[i+2] is not 0 or 1.
		if b[i+2] > 1 {
			i += 3
		} else {
			i++
		}
	}
	if start >= 0 && start <= len(b) {
		if n := trimZeros(b[start:]); len(n) > 0 {
			out = append(out, n)
		}
	}
	return out
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// AccessUnit is one coded picture from an Annex-B stream: its NAL units in
// order, without start codes.
type AccessUnit struct {
	NALUs [][]byte
	// Key is true when the unit holds an IDR slice.
	Key bool
}

// AVCC returns the access unit in the length-prefixed form Matroska stores
// (4-byte big-endian lengths), without access unit delimiters and filler
// data, which have no place in a container.
func (au AccessUnit) AVCC() []byte {
	n := 0
	for _, u := range au.NALUs {
		n += 4 + len(u)
	}
	out := make([]byte, 0, n)
	for _, u := range au.NALUs {
		if t := NALType(u); t == NALAUD || t == NALFill {
			continue
		}
		out = binary.BigEndian.AppendUint32(out, uint32(len(u)))
		out = append(out, u...)
	}
	return out
}

// AnnexBToAVCC converts one access unit in Annex-B form into length-prefixed
// (AVCC) form and reports whether it is a key frame.
func AnnexBToAVCC(b []byte) (avcc []byte, key bool) {
	au := AccessUnit{NALUs: SplitAnnexB(b)}
	for _, u := range au.NALUs {
		if NALType(u) == NALIDR {
			au.Key = true
		}
	}
	return au.AVCC(), au.Key
}

// SplitAVCC splits a length-prefixed access unit (4-byte lengths) into NAL
// units; it fails on a length that overruns the buffer.
func SplitAVCC(b []byte) ([][]byte, error) {
	var out [][]byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("kvs: truncated AVCC length prefix")
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return nil, fmt.Errorf("kvs: AVCC NAL unit of %d bytes overruns the %d left", n, len(b))
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out, nil
}

// AnnexBReader reads access units from an H.264 Annex-B elementary stream
// (what `ffmpeg -f h264` and `x264 -o file.264` write) without loading it
// whole. Access unit boundaries follow H.264 7.4.1.2.3: an access unit
// delimiter, SPS, PPS or SEI after a slice, or a slice whose
// first_mb_in_slice is 0, starts a new unit.
type AnnexBReader struct {
	r       *bufio.Reader
	pending []byte // the NAL unit read ahead that starts the next unit
	buf     []byte
	err     error
	started bool
}

// NewAnnexBReader returns a reader of access units from r.
func NewAnnexBReader(r io.Reader) *AnnexBReader {
	return &AnnexBReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next access unit; io.EOF after the last one. The NAL
// units are freshly allocated and stay valid.
func (a *AnnexBReader) Next() (AccessUnit, error) {
	var au AccessUnit
	hasVCL := false
	add := func(n []byte) {
		au.NALUs = append(au.NALUs, n)
		switch NALType(n) {
		case NALSlice, NALIDR:
			hasVCL = true
			if NALType(n) == NALIDR {
				au.Key = true
			}
		}
	}
	if a.pending != nil {
		add(a.pending)
		a.pending = nil
	}
	for {
		n, err := a.nextNAL()
		if err != nil {
			if err == io.EOF && len(au.NALUs) > 0 {
				return au, nil
			}
			return AccessUnit{}, err
		}
		if hasVCL && startsAccessUnit(n) {
			a.pending = n
			return au, nil
		}
		add(n)
	}
}

// startsAccessUnit reports whether a NAL unit that follows a slice of the
// current access unit begins a new one.
func startsAccessUnit(n []byte) bool {
	switch t := NALType(n); t {
	case NALAUD, NALSPS, NALPPS, NALSEI, 14, 15, 16, 17, 18:
		return true
	case NALSlice, NALIDR:
		// first_mb_in_slice is ue(v) coded; it is 0 exactly when the first
		// bit of the slice header is 1.
		return len(n) > 1 && n[1]&0x80 != 0
	}
	return false
}

// nextNAL returns the next NAL unit without its start code.
func (a *AnnexBReader) nextNAL() ([]byte, error) {
	if a.err != nil {
		return nil, a.err
	}
	if !a.started {
		// Skip everything up to and including the first start code.
		zeros := 0
		for {
			c, err := a.r.ReadByte()
			if err != nil {
				a.err = err
				return nil, err
			}
			if c == 0 {
				zeros++
				continue
			}
			if c == 1 && zeros >= 2 {
				break
			}
			zeros = 0
		}
		a.started = true
	}
	a.buf = a.buf[:0]
	for {
		chunk, _ := a.r.Peek(a.r.Buffered()) // never more than is buffered: no error
		if len(chunk) == 0 {
			if _, err := a.r.Peek(1); err != nil {
				if err == io.EOF {
					a.err = io.EOF
					if n := trimZeros(a.buf); len(n) > 0 {
						return bytes.Clone(n), nil
					}
				}
				a.err = err
				return nil, err
			}
			continue
		}
		// Search for a start code across the boundary with what is
		// already in buf.
		joined := len(a.buf)
		a.buf = append(a.buf, chunk...)
		from := max(joined-2, 0)
		if idx := bytes.Index(a.buf[from:], []byte{0, 0, 1}); idx >= 0 {
			end := from + idx
			consumed := end + 3 - joined
			_, _ = a.r.Discard(consumed)
			n := trimZeros(a.buf[:end])
			if len(n) == 0 {
				a.buf = a.buf[:0]
				continue
			}
			return bytes.Clone(n), nil
		}
		_, _ = a.r.Discard(len(chunk))
		if len(a.buf) > MaxNALUnitSize {
			a.err = ErrNALTooLarge
			return nil, a.err
		}
	}
}
