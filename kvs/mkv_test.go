package kvs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"
)

// muxAll muxes frames and returns the stream and the chunks.
func muxAll(t testing.TB, track Track, frames []Frame, optFns ...func(*MuxerOptions)) ([]byte, []Chunk) {
	t.Helper()
	m, err := NewMuxer(track, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	out := append([]byte(nil), m.Header()...)
	var chunks []Chunk
	for _, f := range frames {
		c, err := m.WriteFrame(f)
		if err != nil {
			t.Fatal(err)
		}
		chunks = append(chunks, c)
		out = append(out, c.Data...)
	}
	return out, chunks
}

// readClusters splits a stream with MKVReader and decodes every Cluster.
func readClusters(t testing.TB, stream []byte) (docType string, tracks []TrackEntry, clusters []Cluster) {
	t.Helper()
	r := NewMKVReader(bytes.NewReader(stream))
	for {
		el, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		switch el.ID {
		case IDEBML:
			if docType, err = DecodeDocType(el.Raw); err != nil {
				t.Fatal(err)
			}
		case IDTracks:
			if tracks, err = DecodeTracks(el.Raw); err != nil {
				t.Fatal(err)
			}
		case IDCluster:
			c, err := DecodeCluster(el.Raw)
			if err != nil {
				t.Fatal(err)
			}
			clusters = append(clusters, c)
		}
	}
}

func TestMuxerFragments(t *testing.T) {
	track, frames := LoadFixture(t)
	start := time.Date(2026, 1, 2, 3, 4, 5, 600e6, time.UTC)
	tests := []struct {
		name      string
		frag      time.Duration
		tcType    TimecodeType
		wantFrags int
		firstTC   int64
	}{
		// The sample has a key frame every second.
		{"1s absolute", time.Second, TimecodeAbsolute, 10, start.UnixMilli()},
		{"2s absolute", 2 * time.Second, TimecodeAbsolute, 5, start.UnixMilli()},
		{"1.5s relative rounds up to the next key frame", 1500 * time.Millisecond, TimecodeRelative, 5, 0},
		{"10s relative", 10 * time.Second, TimecodeRelative, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream, chunks := muxAll(t, track, frames, func(o *MuxerOptions) {
				o.FragmentDuration, o.TimecodeType, o.StartTime = tt.frag, tt.tcType, start
			})
			docType, tracks, clusters := readClusters(t, stream)
			if docType != "matroska" || len(tracks) != 1 || tracks[0].CodecID != CodecIDH264 ||
				!bytes.Equal(tracks[0].CodecPrivate, track.CodecPrivate) || tracks[0].Video.PixelWidth != 320 {
				t.Fatalf("header: %q %+v", docType, tracks)
			}
			if len(clusters) != tt.wantFrags {
				t.Fatalf("%d fragments, want %d", len(clusters), tt.wantFrags)
			}
			if int64(clusters[0].Timecode) != tt.firstTC {
				t.Errorf("first Cluster timecode %d, want %d", clusters[0].Timecode, tt.firstTC)
			}
			n := 0
			for i, c := range clusters {
				if !c.SimpleBlock[0].Keyframe {
					t.Errorf("fragment %d does not start with a key frame", i)
				}
				last := time.Duration(c.SimpleBlock[len(c.SimpleBlock)-1].Timecode) * time.Millisecond
				if i < len(clusters)-1 {
					next := time.Duration(int64(clusters[i+1].Timecode)-int64(c.Timecode)) * time.Millisecond
					if next < tt.frag || next > MaxFragmentDuration {
						t.Errorf("fragment %d lasts %v, outside [%v, %v]", i, next, tt.frag, MaxFragmentDuration)
					}
				}
				if last > MaxFragmentDuration {
					t.Errorf("fragment %d spans %v", i, last)
				}
				for j, b := range c.SimpleBlock {
					f := frames[n]
					if b.TrackNumber != TrackNumber || b.Keyframe != f.Key || !bytes.Equal(b.Data[0], f.Data) {
						t.Fatalf("fragment %d block %d differs from frame %d", i, j, n)
					}
					if want := f.PTS.Milliseconds() - (int64(c.Timecode) - tt.firstTC); int64(b.Timecode) != want {
						t.Fatalf("frame %d block timecode %d, want %d", n, b.Timecode, want)
					}
					if chunks[n].NewFragment != (j == 0) || chunks[n].Timecode != int64(c.Timecode) {
						t.Fatalf("chunk %d: NewFragment=%v Timecode=%d", n, chunks[n].NewFragment, chunks[n].Timecode)
					}
					n++
				}
			}
			if n != len(frames) {
				t.Fatalf("%d frames muxed, want %d", n, len(frames))
			}
		})
	}
}

func TestMuxerKeyFrameRules(t *testing.T) {
	track, frames := LoadFixture(t)
	m, err := NewMuxer(track, func(o *MuxerOptions) {
		o.TimecodeType, o.FragmentDuration, o.MaxFragmentDuration = TimecodeRelative, time.Second, 2*time.Second
	})
	if err != nil {
		t.Fatal(err)
	}
	// A stream that starts mid-GOP: frames before the first key frame are
	// refused.
	if _, err := m.WriteFrame(frames[1]); !errors.Is(err, ErrNeedKeyFrame) {
		t.Fatalf("first non-key frame: %v, want ErrNeedKeyFrame", err)
	}
	if c, err := m.WriteFrame(frames[30]); err != nil || !c.NewFragment {
		t.Fatalf("key frame: %+v, %v", c, err)
	}
	// Non-key frames past MaxFragmentDuration (the key frames at 2 s and
	// 3 s were lost) are refused until the next key frame.
	for i := 31; i < 90; i++ {
		if frames[i].Key {
			continue
		}
		if _, err := m.WriteFrame(frames[i]); err != nil && frames[i].PTS-frames[30].PTS < 2*time.Second {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	f := frames[95]
	if _, err := m.WriteFrame(f); !errors.Is(err, ErrNeedKeyFrame) {
		t.Fatalf("frame 3.17 s into a 2 s-max fragment: %v, want ErrNeedKeyFrame", err)
	}
	if c, err := m.WriteFrame(frames[120]); err != nil || !c.NewFragment {
		t.Fatalf("next key frame: %+v, %v", c, err)
	}
	// A key frame that goes back in time is refused.
	if _, err := m.WriteFrame(frames[0]); !errors.Is(err, ErrTimecodeOrder) && !errors.Is(err, ErrNeedKeyFrame) {
		t.Fatalf("key frame back in time: %v", err)
	}
}

func TestMuxerOptionErrors(t *testing.T) {
	track, _ := LoadFixture(t)
	for name, fn := range map[string]func(*MuxerOptions){
		"fragment too short":       func(o *MuxerOptions) { o.FragmentDuration = 500 * time.Millisecond },
		"fragment too long":        func(o *MuxerOptions) { o.FragmentDuration = 11 * time.Second },
		"max below target":         func(o *MuxerOptions) { o.FragmentDuration, o.MaxFragmentDuration = 5*time.Second, 2*time.Second },
		"absolute without start":   func(o *MuxerOptions) {},
		"unknown timecode type":    func(o *MuxerOptions) { o.TimecodeType = "SOMETIMES" },
		"max over int16 ms blocks": func(o *MuxerOptions) { o.StartTime = time.Now(); o.MaxFragmentDuration = 40 * time.Second },
	} {
		if _, err := NewMuxer(track, fn); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := NewMuxer(Track{}, func(o *MuxerOptions) { o.TimecodeType = TimecodeRelative }); err == nil {
		t.Error("track without CodecPrivate accepted")
	}
}

func TestMKVSourceReadsMuxerOutput(t *testing.T) {
	track, frames := LoadFixture(t)
	stream, _ := muxAll(t, track, frames, func(o *MuxerOptions) { o.TimecodeType = TimecodeRelative })
	src, err := NewMKVSource(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	if src.Track().Width != 320 || !bytes.Equal(src.Track().CodecPrivate, track.CodecPrivate) {
		t.Fatalf("track %+v", src.Track())
	}
	for i := 0; ; i++ {
		f, err := src.Next(context.Background())
		if err == io.EOF {
			if i != len(frames) {
				t.Fatalf("%d frames, want %d", i, len(frames))
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		want := frames[i]
		if f.Key != want.Key || f.PTS != want.PTS.Truncate(time.Millisecond) || !bytes.Equal(f.Data, want.Data) {
			t.Fatalf("frame %d: key=%v pts=%v; want key=%v pts=%v", i, f.Key, f.PTS, want.Key, want.PTS)
		}
	}
}

func TestMKVReaderCutStreams(t *testing.T) {
	track, frames := LoadFixture(t)
	stream, _ := muxAll(t, track, frames[:60], func(o *MuxerOptions) { o.TimecodeType, o.FragmentDuration = TimecodeRelative, time.Second })
	// A clean end completes the last unknown-size Cluster.
	if _, _, cl := readClusters(t, stream); len(cl) != 2 || len(cl[1].SimpleBlock) != 30 {
		t.Fatalf("clean stream: %d clusters", len(cl))
	}
	// An abrupt end is an error, never a short Cluster.
	r := NewMKVReader(io.MultiReader(bytes.NewReader(stream[:len(stream)-10]), iotestErr{io.ErrUnexpectedEOF}))
	clusters := 0
	var err error
	for err == nil {
		var el Element
		el, err = r.Next()
		if err == nil && el.ID == IDCluster {
			clusters++
		}
	}
	if clusters != 1 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut stream: %d clusters, err %v; want 1 and io.ErrUnexpectedEOF", clusters, err)
	}
	// Cut inside a block: also an error.
	r = NewMKVReader(bytes.NewReader(stream[:len(stream)-10]))
	for err = nil; err == nil; _, err = r.Next() {
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("cut inside a block: %v", err)
	}
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// FuzzMKVReader: arbitrary bytes as a PutMedia body; the reader and the
// decoders must fail cleanly and never return an oversized element.
func FuzzMKVReader(f *testing.F) {
	track, frames := LoadFixture(f)
	stream, _ := muxAll(f, track, frames[:3], func(o *MuxerOptions) { o.TimecodeType = TimecodeRelative })
	f.Add(stream)
	f.Add(stream[:200])
	f.Add([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F, 0x43, 0xB6, 0x75, 0xFF, 0xE7, 0x81, 0x00})
	// Headers declaring more than follows: an Info of 64 MiB, a Cluster
	// child of about 64 MiB.
	f.Add([]byte{0x15, 0x49, 0xA9, 0x66, 0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00})
	f.Add([]byte{0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xA3, 0x01, 0x00, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewMKVReader(bytes.NewReader(data))
		r.MaxElement = 1 << 16
		r.OnClusterTimecode = func(uint64) {}
		for range 100 {
			el, err := r.Next()
			if err != nil {
				return
			}
			if int64(len(el.Raw)) > r.MaxElement+32 {
				t.Fatalf("element of %d bytes over the limit", len(el.Raw))
			}
			switch el.ID {
			case IDCluster:
				_, _ = DecodeCluster(el.Raw)
			case IDTracks:
				_, _ = DecodeTracks(el.Raw)
			case IDInfo:
				_, _ = DecodeInfo(el.Raw)
			case IDEBML:
				_, _ = DecodeDocType(el.Raw)
			}
		}
	})
}

// TestMKVReaderDeclaredSize: a header declaring a 64 MiB element, followed
// by a few bytes, costs what arrived, not what was declared (before: 12
// bytes allocated 64 MiB).
func TestMKVReaderDeclaredSize(t *testing.T) {
	info := []byte{0x15, 0x49, 0xA9, 0x66, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}
	info[8] = 0x04                                                                            // size 0x04000000 = 64 MiB
	cluster := []byte{0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // unknown size
		0xA3, 0x01, 0x00, 0x00, 0x00, 0x03, 0xFF, 0xFF, 0xFF} // SimpleBlock declaring ~64 MiB
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"Info header only", info},
		{"Info with 100 KiB", append(append([]byte{}, info...), make([]byte, 100<<10)...)},
		{"Cluster child header only", cluster},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := NewMKVReader(bytes.NewReader(tc.in)).Next()
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes in: allocated %d bytes: %v", len(tc.in), alloc, err)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
			}
			if limit := uint64(4*len(tc.in)) + 256<<10; alloc > limit {
				t.Fatalf("%d input bytes allocated %d bytes, want < %d", len(tc.in), alloc, limit)
			}
		})
	}
}
