package kvs_test

import (
	"context"
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/at-wat/ebml-go/mkvcore"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lakekit/lakekit/internal/awstest"

	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// Frames the size of 1080p30 H.264 at about 12 Mbit/s: a 250 KB key frame
// every 30 frames, 45 KB otherwise.
const (
	keySize1080, deltaSize1080 = 250_000, 45_000
)

func synthFrames1080(n int) []kvs.Frame {
	r := rand.NewChaCha8([32]byte{1})
	frames := make([]kvs.Frame, n)
	for i := range frames {
		size := deltaSize1080
		nal := byte(0x41)
		if i%30 == 0 {
			size, nal = keySize1080, 0x65
		}
		b := make([]byte, size)
		_, _ = r.Read(b)
		binary.BigEndian.PutUint32(b, uint32(size-4))
		b[4] = nal
		frames[i] = kvs.Frame{Data: b, Key: i%30 == 0, PTS: time.Duration(i) * time.Second / 30}
	}
	return frames
}

// BenchmarkMux1080p measures the muxer on 1080p-sized frames, beside
// ebml-go's own mkvcore SimpleBlock writer doing the same work (the
// naive peer: one goroutine and channel per stream).
func BenchmarkMux1080p(b *testing.B) {
	track, _ := kvs.LoadFixture(b)
	frames := synthFrames1080(60)
	var bytesPerFrame int64
	for _, f := range frames {
		bytesPerFrame += int64(len(f.Data))
	}
	bytesPerFrame /= int64(len(frames))
	b.Run("kvs", func(b *testing.B) {
		m, err := kvs.NewMuxer(track, func(o *kvs.MuxerOptions) { o.TimecodeType = kvs.TimecodeRelative })
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(bytesPerFrame)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f := frames[i%len(frames)]
			f.PTS = time.Duration(i) * time.Second / 30
			if _, err := m.WriteFrame(f); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
	})
	b.Run("mkvcore", func(b *testing.B) {
		ws, err := mkvcore.NewSimpleBlockWriter(nopWriteCloser{io.Discard}, []mkvcore.TrackDescription{{
			TrackNumber: 1, TrackEntry: mkvcore.TrackEntry{TrackNumber: 1, TrackUID: 1, TrackType: 1, CodecID: kvs.CodecIDH264},
		}}, mkvcore.WithMaxKeyframeInterval(1, 2000))
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(bytesPerFrame)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			f := frames[i%len(frames)]
			if _, err := ws[0].Write(f.Key, int64(i)*1000/30, f.Data); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
		b.StopTimer()
		_ = ws[0].Close()
	})
}

func benchRaw(b *testing.B, frames []kvs.Frame) {
	track, _ := kvs.LoadFixture(b)
	srv := kvslocal.New(b)
	srv.CreateStream("bench")
	m, err := kvs.NewMuxer(track, func(o *kvs.MuxerOptions) { o.TimecodeType, o.FragmentDuration = kvs.TimecodeRelative, time.Second })
	if err != nil {
		b.Fatal(err)
	}
	var fragBytes int64
	for _, f := range frames {
		fragBytes += int64(len(f.Data))
	}
	// Pre-mux enough fragments; the body repeats them with new timecodes
	// only in the Cluster headers.
	var chunks [][]byte
	pr, pw := io.Pipe()
	req, _ := http.NewRequest(http.MethodPost, srv.Endpoint+kvs.PutMediaPath, pr)
	req.ContentLength = -1
	req.Header.Set(kvs.HeaderStreamName, "bench")
	req.Header.Set(kvs.HeaderTimecodeType, string(kvs.TimecodeRelative))
	req.Header.Set(kvs.HeaderProducerStart, kvs.FormatProducerTimestamp(time.Now()))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: awstest.AccessKeyID, SecretAccessKey: awstest.SecretAccessKey},
		req, kvs.EmptyPayloadHash, kvs.SigningName, awstest.Region, time.Now()); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(fragBytes)
	n := b.N
	for i := range n {
		for j, f := range frames {
			f.PTS = time.Duration(i)*time.Second + time.Duration(j)*time.Second/30
			c, err := m.WriteFrame(f)
			if err != nil {
				b.Fatal(err)
			}
			chunks = append(chunks, c.Data)
		}
	}
	b.ResetTimer()
	go func() {
		_, _ = pw.Write(m.Header())
		for _, c := range chunks {
			if _, err := pw.Write(c); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	d := kvs.NewAckDecoder(resp.Body)
	persisted := 0
	for persisted < n {
		a, err := d.Next()
		if err != nil {
			b.Fatal(err)
		}
		if a.EventType == kvs.AckPersisted {
			persisted++
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "fragments/s")
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

// BenchmarkPutMediaEndToEnd streams 1-second fragments of 1080p-sized
// frames through the producer to the local PutMedia server (SigV4-checked,
// Matroska parsed, acknowledged) and reports persisted fragments/s. The
// raw-* cases are the ceiling: the same bytes, muxed beforehand, written by
// a bare signed PutMedia request to the same server, acknowledgements read
// until all are PERSISTED.
func BenchmarkPutMediaEndToEnd(b *testing.B) {
	b.Run("raw-1080p", func(b *testing.B) { benchRaw(b, synthFrames1080(30)) })
	track, _ := kvs.LoadFixture(b)
	for _, bc := range []struct {
		name   string
		frames []kvs.Frame
	}{
		{"1080p", synthFrames1080(30)},
		{"320x240", func() []kvs.Frame { _, f := kvs.LoadFixture(b); return f[:30] }()},
	} {
		if bc.name == "320x240" {
			b.Run("raw-320x240", func(b *testing.B) { benchRaw(b, bc.frames) })
		}
		b.Run(bc.name, func(b *testing.B) {
			srv := kvslocal.New(b)
			srv.CreateStream("bench")
			p, err := kvs.NewProducer(srv.Client(), "bench", track, func(o *kvs.ProducerOptions) {
				o.TimecodeType, o.FragmentDuration, o.BufferPolicy = kvs.TimecodeRelative, time.Second, kvs.Block
			})
			if err != nil {
				b.Fatal(err)
			}
			var fragBytes int64
			for _, f := range bc.frames {
				fragBytes += int64(len(f.Data))
			}
			b.SetBytes(fragBytes)
			ctx := context.Background()
			n := 0
			for i := 0; b.Loop(); i++ {
				for j, f := range bc.frames {
					f.PTS = time.Duration(i)*time.Second + time.Duration(j)*time.Second/30
					if err := p.Put(ctx, f); err != nil {
						b.Fatal(err)
					}
				}
				n++
			}
			if err := p.Close(ctx); err != nil {
				b.Fatal(err)
			}
			s := p.Stats()
			if s.FragmentsPersisted != int64(n) {
				b.Fatalf("%d fragments persisted, want %d", s.FragmentsPersisted, n)
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "fragments/s")
			b.ReportMetric(float64(s.PersistLatencyMean().Microseconds())/1000, "ms-to-persisted")
		})
	}
}
