package kvs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/lakekit/lakekit/kvs/h264sample"
)

func TestSplitAnnexB(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want [][]byte
	}{
		{"empty", nil, nil},
		{"no start code", []byte{1, 2, 3}, nil},
		{"3-byte", []byte{0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
		{"4-byte", []byte{0, 0, 0, 1, 0x67, 1, 0, 0, 0, 1, 0x68, 2}, [][]byte{{0x67, 1}, {0x68, 2}}},
		{"leading garbage and trailing zeros", []byte{9, 9, 0, 0, 1, 0x65, 7, 0, 0}, [][]byte{{0x65, 7}}},
		{"empty unit skipped", []byte{0, 0, 1, 0, 0, 1, 0x41, 5}, [][]byte{{0x41, 5}}},
		{"emulation prevention kept", []byte{0, 0, 1, 0x65, 0, 0, 3, 1}, [][]byte{{0x65, 0, 0, 3, 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SplitAnnexB(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d units %x, want %x", len(got), got, tt.want)
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Errorf("unit %d = %x, want %x", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestAnnexBToAVCC(t *testing.T) {
	in := []byte{0, 0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x65, 3, 4, 5}
	avcc, key := AnnexBToAVCC(in)
	if !key {
		t.Error("IDR not reported as key")
	}
	want := []byte{0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 4, 0x65, 3, 4, 5}
	if !bytes.Equal(avcc, want) {
		t.Fatalf("AVCC %x, want %x (AUD dropped)", avcc, want)
	}
	units, err := SplitAVCC(avcc)
	if err != nil || len(units) != 2 || NALType(units[1]) != NALIDR {
		t.Fatalf("SplitAVCC = %x, %v", units, err)
	}
	if _, err := SplitAVCC([]byte{0, 0, 0, 9, 1}); err == nil {
		t.Error("overrunning length accepted")
	}
}

// TestAnnexBReaderFixture reads the sample in tiny pieces and checks the
// access units against what ffprobe reports for it: 300 frames, a key frame
// every 30.
func TestAnnexBReaderFixture(t *testing.T) {
	for _, tt := range []struct {
		name string
		r    io.Reader
	}{
		{"whole", bytes.NewReader(h264sample.TestSrc)},
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(h264sample.TestSrc))},
		{"half reads", iotest.HalfReader(bytes.NewReader(h264sample.TestSrc))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := NewAnnexBReader(tt.r)
			n, keys := 0, 0
			for {
				au, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if au.Key != (n%h264sample.GOP == 0) {
					t.Fatalf("frame %d key=%v", n, au.Key)
				}
				if au.Key {
					keys++
				}
				vcl := 0
				for _, u := range au.NALUs {
					if tp := NALType(u); tp == NALSlice || tp == NALIDR {
						vcl++
					}
				}
				if vcl == 0 {
					t.Fatalf("access unit %d has no slice", n)
				}
				n++
			}
			if n != h264sample.Frames || keys != h264sample.Frames/h264sample.GOP {
				t.Fatalf("%d access units, %d key; want %d, %d", n, keys, h264sample.Frames, h264sample.Frames/h264sample.GOP)
			}
		})
	}
}

func TestAnnexBReaderTooLarge(t *testing.T) {
	data := append([]byte{0, 0, 1, 0x65}, bytes.Repeat([]byte{0xff}, MaxNALUnitSize+10)...)
	r := NewAnnexBReader(bytes.NewReader(data))
	if _, err := r.Next(); !errors.Is(err, ErrNALTooLarge) {
		t.Fatalf("err = %v, want ErrNALTooLarge", err)
	}
}

// FuzzAnnexB checks that the streaming reader and SplitAnnexB agree on the
// NAL units of any input, and that AVCC conversion round-trips them.
func FuzzAnnexB(f *testing.F) {
	f.Add(h264sample.TestSrc[:2000])
	f.Add([]byte{0, 0, 1, 0x67, 0, 0, 0, 1, 0x68, 0, 0, 1, 0x65, 0x88, 0, 0, 1, 0x41, 0x9a})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 1})
	f.Add([]byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		want := SplitAnnexB(data)
		r := NewAnnexBReader(bytes.NewReader(data))
		var got [][]byte
		for {
			au, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, au.NALUs...)
		}
		if len(got) != len(want) {
			t.Fatalf("reader found %d units, SplitAnnexB %d", len(got), len(want))
		}
		for i := range got {
			if !bytes.Equal(got[i], want[i]) {
				t.Fatalf("unit %d: reader %x, split %x", i, got[i], want[i])
			}
		}
		au := AccessUnit{NALUs: want}
		units, err := SplitAVCC(au.AVCC())
		if err != nil {
			t.Fatal(err)
		}
		j := 0
		for _, u := range want {
			if tp := NALType(u); tp == NALAUD || tp == NALFill {
				continue
			}
			if !bytes.Equal(units[j], u) {
				t.Fatalf("AVCC round trip changed unit %d", j)
			}
			j++
		}
		if j != len(units) {
			t.Fatalf("AVCC has %d units, want %d", len(units), j)
		}
		_ = binary.BigEndian
	})
}
