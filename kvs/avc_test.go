package kvs

import (
	"bytes"
	"errors"
	"testing"

	"github.com/lakekit/lakekit/kvs/h264sample"
)

func sampleParamSets(t testing.TB) (sps, pps []byte) {
	t.Helper()
	for _, u := range SplitAnnexB(h264sample.TestSrc[:4096]) {
		switch NALType(u) {
		case NALSPS:
			sps = u
		case NALPPS:
			pps = u
		}
		if sps != nil && pps != nil {
			return sps, pps
		}
	}
	t.Fatal("no SPS/PPS in the sample")
	return nil, nil
}

func TestParseSPSSample(t *testing.T) {
	sps, _ := sampleParamSets(t)
	info, err := ParseSPS(sps)
	if err != nil {
		t.Fatal(err)
	}
	want := SPSInfo{Profile: 100, Level: 13, ChromaFormat: 1, BitDepthLuma: 8, BitDepthChroma: 8, Width: 320, Height: 240}
	if info != want {
		t.Fatalf("ParseSPS = %+v, want %+v", info, want)
	}
}

func TestParseSPS(t *testing.T) {
	tests := []struct {
		name string
		sps  []byte
		w, h int
		err  bool
	}{
		// Baseline 1280x720 (a common camera SPS): 80x45 macroblocks.
		{"baseline 720p", []byte{0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x06, 0xd0, 0xa1, 0x35}, 1280, 720, false},
		// Main 1920x1080: 120x68 macroblocks cropped by 8 lines.
		{"main 1080p", []byte{0x67, 0x4d, 0x40, 0x28, 0x95, 0xa0, 0x1e, 0x00, 0x89, 0xf9, 0x50}, 1920, 1080, false},
		{"not an SPS", []byte{0x68, 0xce, 0x38, 0x80}, 0, 0, true},
		{"truncated", []byte{0x67, 0x64, 0x00}, 0, 0, true},
		{"cut after level", []byte{0x67, 0x64, 0x00, 0x1f}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseSPS(tt.sps)
			if tt.err {
				if !errors.Is(err, ErrBadSPS) {
					t.Fatalf("err = %v, want ErrBadSPS", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.Width != tt.w || info.Height != tt.h {
				t.Fatalf("size %dx%d, want %dx%d", info.Width, info.Height, tt.w, tt.h)
			}
		})
	}
}

func TestAVCConfigRoundTrip(t *testing.T) {
	sps, pps := sampleParamSets(t)
	cfg, err := NewAVCConfig([][]byte{sps}, [][]byte{pps})
	if err != nil {
		t.Fatal(err)
	}
	b, err := cfg.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	// version, profile, compat, level, 0xff (4-byte lengths), 0xe1 (1 SPS).
	if want := []byte{1, 100, sps[2], 13, 0xff, 0xe1}; !bytes.Equal(b[:6], want) {
		t.Fatalf("record starts %x, want %x", b[:6], want)
	}
	// High profile: the chroma/bit-depth extension ends the record.
	if ext := b[len(b)-4:]; ext[0] != 0xfd || ext[1] != 0xf8 || ext[2] != 0xf8 || ext[3] != 0 {
		t.Fatalf("high-profile extension %x", ext)
	}
	got, err := ParseAVCConfig(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.SPS[0], sps) || !bytes.Equal(got.PPS[0], pps) || got.LengthSize != 4 || got.Profile != 100 {
		t.Fatalf("round trip %+v", got)
	}
	track, err := TrackFromAVCConfig(cfg)
	if err != nil || track.Width != h264sample.Width || track.Height != h264sample.Height {
		t.Fatalf("TrackFromAVCConfig = %+v, %v", track, err)
	}
}

func TestParseAVCConfigErrors(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          nil,
		"version 0":      {0, 100, 0, 13, 0xff, 0xe1, 0, 1, 0x67, 1, 0, 1, 0x68},
		"sps overruns":   {1, 100, 0, 13, 0xff, 0xe1, 0, 9, 0x67},
		"no pps count":   {1, 100, 0, 13, 0xff, 0xe1, 0, 1, 0x67},
		"no parameters":  {1, 100, 0, 13, 0xff, 0xe0, 0},
		"length size 3":  {1, 100, 0, 13, 0xfe, 0xe1, 0, 1, 0x67, 1, 0, 1, 0x68},
		"zero-length ps": {1, 100, 0, 13, 0xff, 0xe1, 0, 0, 1, 0, 1, 0x68},
	} {
		if _, err := ParseAVCConfig(b); !errors.Is(err, ErrBadConfigRecord) {
			t.Errorf("%s: err = %v, want ErrBadConfigRecord", name, err)
		}
	}
}

// FuzzParseAVCConfig feeds arbitrary CodecPrivate bytes (what a Matroska
// file or a GStreamer caps string brings) to the record and SPS parsers:
// they must fail cleanly, and what parses must re-marshal to a record that
// parses to the same parameter sets.
func FuzzParseAVCConfig(f *testing.F) {
	sps, pps := sampleParamSets(f)
	cfg, _ := NewAVCConfig([][]byte{sps}, [][]byte{pps})
	b, _ := cfg.Marshal()
	f.Add(b)
	f.Add([]byte{1, 66, 0xc0, 0x1f, 0xff, 0xe1, 0, 13, 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x06, 0xd0, 0xa1, 0x35, 1, 0, 2, 0x68, 0xce})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseAVCConfig(data)
		if err != nil {
			return
		}
		for _, s := range c.SPS {
			if NALType(s) == NALSPS {
				if info, err := ParseSPS(s); err == nil && (info.Width <= 0 || info.Height <= 0) {
					t.Fatalf("ParseSPS accepted size %dx%d", info.Width, info.Height)
				}
			}
		}
		if len(c.SPS) > 31 {
			return
		}
		c.Profile = 66 // no high-profile extension: the SPS may not parse
		out, err := c.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		c2, err := ParseAVCConfig(out)
		if err != nil {
			t.Fatal(err)
		}
		if len(c2.SPS) != len(c.SPS) || len(c2.PPS) != len(c.PPS) {
			t.Fatalf("round trip changed the parameter sets")
		}
	})
}

func FuzzParseSPS(f *testing.F) {
	sps, _ := sampleParamSets(f)
	f.Add(sps)
	f.Add([]byte{0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8, 0x06, 0xd0, 0xa1, 0x35})
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := ParseSPS(data)
		if err == nil && (info.Width <= 0 || info.Height <= 0 || info.Width > 16384 || info.Height > 32768) {
			t.Fatalf("implausible size %dx%d accepted", info.Width, info.Height)
		}
	})
}
