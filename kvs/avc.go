package kvs

import (
	"errors"
	"fmt"
)

// ErrBadSPS is returned for a sequence parameter set that cannot be parsed.
var ErrBadSPS = errors.New("kvs: malformed H.264 sequence parameter set")

// ErrBadConfigRecord is returned by ParseAVCConfig for a malformed
// AVCDecoderConfigurationRecord.
var ErrBadConfigRecord = errors.New("kvs: malformed AVCDecoderConfigurationRecord")

// AVCConfig is the AVCDecoderConfigurationRecord of ISO/IEC 14496-15
// 5.3.3.1: what Matroska's CodecPrivate holds for V_MPEG4/ISO/AVC.
type AVCConfig struct {
	Profile              uint8 // AVCProfileIndication, from the SPS
	ProfileCompatibility uint8
	Level                uint8 // AVCLevelIndication
	// LengthSize is the size of the NAL unit length prefix in the frames;
	// 4 when zero (the only size this package writes).
	LengthSize int
	SPS        [][]byte
	PPS        [][]byte
}

// NewAVCConfig builds the record from SPS and PPS NAL units (without start
// codes).
func NewAVCConfig(sps, pps [][]byte) (AVCConfig, error) {
	if len(sps) == 0 || len(pps) == 0 {
		return AVCConfig{}, fmt.Errorf("%w: need at least one SPS and one PPS", ErrBadConfigRecord)
	}
	if len(sps[0]) < 4 {
		return AVCConfig{}, fmt.Errorf("%w: SPS of %d bytes", ErrBadSPS, len(sps[0]))
	}
	return AVCConfig{
		Profile:              sps[0][1],
		ProfileCompatibility: sps[0][2],
		Level:                sps[0][3],
		LengthSize:           4,
		SPS:                  sps,
		PPS:                  pps,
	}, nil
}

// Marshal encodes the record. High profiles (100 and up) carry the chroma
// and bit-depth extension, taken from the first SPS.
func (c AVCConfig) Marshal() ([]byte, error) {
	if len(c.SPS) == 0 || len(c.SPS) > 31 || len(c.PPS) == 0 || len(c.PPS) > 255 {
		return nil, fmt.Errorf("%w: %d SPS, %d PPS", ErrBadConfigRecord, len(c.SPS), len(c.PPS))
	}
	ls := c.LengthSize
	if ls == 0 {
		ls = 4
	}
	if ls != 1 && ls != 2 && ls != 4 {
		return nil, fmt.Errorf("%w: length size %d", ErrBadConfigRecord, ls)
	}
	out := []byte{1, c.Profile, c.ProfileCompatibility, c.Level, 0xfc | byte(ls-1), 0xe0 | byte(len(c.SPS))}
	for _, s := range c.SPS {
		if len(s) > 0xffff {
			return nil, fmt.Errorf("%w: SPS of %d bytes", ErrBadConfigRecord, len(s))
		}
		out = append(out, byte(len(s)>>8), byte(len(s)))
		out = append(out, s...)
	}
	out = append(out, byte(len(c.PPS)))
	for _, p := range c.PPS {
		if len(p) > 0xffff {
			return nil, fmt.Errorf("%w: PPS of %d bytes", ErrBadConfigRecord, len(p))
		}
		out = append(out, byte(len(p)>>8), byte(len(p)))
		out = append(out, p...)
	}
	if hasChromaExt(c.Profile) {
		info, err := ParseSPS(c.SPS[0])
		if err != nil {
			return nil, err
		}
		out = append(out, 0xfc|byte(info.ChromaFormat), 0xf8|byte(info.BitDepthLuma-8),
			0xf8|byte(info.BitDepthChroma-8), 0)
	}
	return out, nil
}

func hasChromaExt(profile uint8) bool {
	switch profile {
	case 100, 110, 122, 144:
		return true
	}
	return false
}

// ParseAVCConfig decodes an AVCDecoderConfigurationRecord. The returned
// parameter sets alias b.
func ParseAVCConfig(b []byte) (AVCConfig, error) {
	if len(b) < 7 || b[0] != 1 {
		return AVCConfig{}, fmt.Errorf("%w: header", ErrBadConfigRecord)
	}
	c := AVCConfig{Profile: b[1], ProfileCompatibility: b[2], Level: b[3], LengthSize: int(b[4]&3) + 1}
	if c.LengthSize == 3 {
		return AVCConfig{}, fmt.Errorf("%w: length size 3", ErrBadConfigRecord)
	}
	n := int(b[5] & 0x1f)
	p := 6
	read := func() ([]byte, error) {
		if p+2 > len(b) {
			return nil, fmt.Errorf("%w: truncated", ErrBadConfigRecord)
		}
		l := int(b[p])<<8 | int(b[p+1])
		p += 2
		if p+l > len(b) || l == 0 {
			return nil, fmt.Errorf("%w: parameter set of %d bytes at %d", ErrBadConfigRecord, l, p)
		}
		s := b[p : p+l]
		p += l
		return s, nil
	}
	for range n {
		s, err := read()
		if err != nil {
			return AVCConfig{}, err
		}
		c.SPS = append(c.SPS, s)
	}
	if p >= len(b) {
		return AVCConfig{}, fmt.Errorf("%w: no PPS count", ErrBadConfigRecord)
	}
	n = int(b[p])
	p++
	for range n {
		s, err := read()
		if err != nil {
			return AVCConfig{}, err
		}
		c.PPS = append(c.PPS, s)
	}
	if len(c.SPS) == 0 || len(c.PPS) == 0 {
		return AVCConfig{}, fmt.Errorf("%w: %d SPS, %d PPS", ErrBadConfigRecord, len(c.SPS), len(c.PPS))
	}
	return c, nil
}

// SPSInfo is what the producer needs from a sequence parameter set.
type SPSInfo struct {
	Profile, Level               uint8
	ChromaFormat                 int // chroma_format_idc; 1 (4:2:0) unless a high profile says otherwise
	BitDepthLuma, BitDepthChroma int
	Width, Height                int // display size after cropping
}

// ParseSPS reads the picture size and format from an SPS NAL unit (with its
// one-byte NAL header, without start code).
func ParseSPS(nalu []byte) (SPSInfo, error) {
	if len(nalu) < 4 || NALType(nalu) != NALSPS {
		return SPSInfo{}, fmt.Errorf("%w: not an SPS", ErrBadSPS)
	}
	r := bitReader{b: unescapeRBSP(nalu[1:])}
	info := SPSInfo{ChromaFormat: 1, BitDepthLuma: 8, BitDepthChroma: 8}
	info.Profile = uint8(r.bits(8))
	r.bits(8) // constraint flags
	info.Level = uint8(r.bits(8))
	r.ue() // seq_parameter_set_id
	if hasChromaExt(info.Profile) || info.Profile == 244 || info.Profile == 44 || info.Profile == 83 ||
		info.Profile == 86 || info.Profile == 118 || info.Profile == 128 || info.Profile == 138 ||
		info.Profile == 139 || info.Profile == 134 || info.Profile == 135 {
		if err := readChromaFormat(&r, &info); err != nil {
			return SPSInfo{}, err
		}
	}
	if r.ue() > 12 { // log2_max_frame_num_minus4
		return SPSInfo{}, fmt.Errorf("%w: log2_max_frame_num", ErrBadSPS)
	}
	if err := skipPicOrderCount(&r); err != nil {
		return SPSInfo{}, err
	}
	r.ue()    // max_num_ref_frames
	r.bits(1) // gaps_in_frame_num_value_allowed_flag
	wMbs := r.ue() + 1
	hMapUnits := r.ue() + 1
	frameMbsOnly := r.bits(1)
	if frameMbsOnly == 0 {
		r.bits(1) // mb_adaptive_frame_field_flag
	}
	r.bits(1) // direct_8x8_inference_flag
	var cl, cr, ct, cb uint64
	if r.bits(1) == 1 {
		cl, cr, ct, cb = r.ue(), r.ue(), r.ue(), r.ue()
	}
	if r.err {
		return SPSInfo{}, fmt.Errorf("%w: truncated", ErrBadSPS)
	}
	if wMbs > 1024 || hMapUnits > 1024 {
		return SPSInfo{}, fmt.Errorf("%w: %dx%d macroblocks", ErrBadSPS, wMbs, hMapUnits)
	}
	hMbs := hMapUnits * (2 - frameMbsOnly)
	cropX, cropY := uint64(1), 2-frameMbsOnly
	if info.ChromaFormat == 1 || info.ChromaFormat == 2 {
		cropX = 2
	}
	if info.ChromaFormat == 1 {
		cropY *= 2
	}
	w := int64(wMbs*16) - int64((cl+cr)*cropX)
	h := int64(hMbs*16) - int64((ct+cb)*cropY)
	if w <= 0 || h <= 0 || cl > 1<<14 || cr > 1<<14 || ct > 1<<14 || cb > 1<<14 {
		return SPSInfo{}, fmt.Errorf("%w: cropping leaves %dx%d", ErrBadSPS, w, h)
	}
	info.Width, info.Height = int(w), int(h)
	return info, nil
}

// readChromaFormat reads the high profiles' chroma format, bit depths and
// scaling matrices.
func readChromaFormat(r *bitReader, info *SPSInfo) error {
	info.ChromaFormat = int(r.ue())
	if info.ChromaFormat > 3 {
		return fmt.Errorf("%w: chroma_format_idc %d", ErrBadSPS, info.ChromaFormat)
	}
	if info.ChromaFormat == 3 {
		r.bits(1) // separate_colour_plane_flag
	}
	info.BitDepthLuma = int(r.ue()) + 8
	info.BitDepthChroma = int(r.ue()) + 8
	if info.BitDepthLuma > 14 || info.BitDepthChroma > 14 {
		return fmt.Errorf("%w: bit depth", ErrBadSPS)
	}
	r.bits(1)           // qpprime_y_zero_transform_bypass_flag
	if r.bits(1) == 1 { // seq_scaling_matrix_present_flag
		lists := 8
		if info.ChromaFormat == 3 {
			lists = 12
		}
		skipScalingLists(r, lists)
	}
	return nil
}

// skipScalingLists reads past the given number of scaling lists.
func skipScalingLists(r *bitReader, lists int) {
	for i := range lists {
		if r.bits(1) == 0 {
			continue
		}
		size := 16
		if i >= 6 {
			size = 64
		}
		last, next := int64(8), int64(8)
		for range size {
			if next != 0 {
				next = (last + r.se() + 256) % 256
			}
			if next != 0 {
				last = next
			}
		}
	}
}

// skipPicOrderCount reads past the picture order count fields.
func skipPicOrderCount(r *bitReader) error {
	switch pocType := r.ue(); pocType {
	case 0:
		r.ue()
	case 1:
		r.bits(1)
		r.se()
		r.se()
		n := r.ue()
		if n > 255 {
			return fmt.Errorf("%w: num_ref_frames_in_pic_order_cnt_cycle", ErrBadSPS)
		}
		for range n {
			r.se()
		}
	case 2:
	default:
		return fmt.Errorf("%w: pic_order_cnt_type %d", ErrBadSPS, pocType)
	}
	return nil
}

// unescapeRBSP removes emulation prevention bytes (00 00 03 → 00 00).
func unescapeRBSP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	zeros := 0
	for _, c := range b {
		if zeros >= 2 && c == 3 {
			zeros = 0
			continue
		}
		if c == 0 {
			zeros++
		} else {
			zeros = 0
		}
		out = append(out, c)
	}
	return out
}

// bitReader reads big-endian bits and Exp-Golomb codes; reading past the end
// sets err and yields zeros.
type bitReader struct {
	b   []byte
	pos int
	err bool
}

func (r *bitReader) bits(n int) uint64 {
	var v uint64
	for range n {
		if r.pos >= len(r.b)*8 {
			r.err = true
			return 0
		}
		v = v<<1 | uint64(r.b[r.pos/8]>>(7-r.pos%8)&1)
		r.pos++
	}
	return v
}

func (r *bitReader) ue() uint64 {
	zeros := 0
	for r.bits(1) == 0 {
		if r.err || zeros > 31 {
			r.err = true
			return 0
		}
		zeros++
	}
	return (1<<zeros - 1) + r.bits(zeros)
}

func (r *bitReader) se() int64 {
	v := r.ue()
	if v&1 == 1 {
		return int64(v+1) / 2
	}
	return -int64(v / 2)
}
