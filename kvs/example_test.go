package kvs_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/h264sample"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

func ExampleProducer() {
	srv, err := kvslocal.Start() // a local PutMedia server; use kinesisvideo.NewFromConfig(cfg) against AWS
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	srv.CreateStream("camera")

	src, _ := kvs.LoopAnnexB(h264sample.TestSrc, h264sample.FPS, 1) // 10 s of video
	p, err := kvs.NewProducer(srv.Client(), "camera", src.Track(), func(o *kvs.ProducerOptions) {
		o.FragmentDuration = 2 * time.Second
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	if err := kvs.Stream(ctx, p, src, kvs.AsFast); err != nil {
		fmt.Println(err)
	}
	if err := p.Close(ctx); err != nil {
		fmt.Println(err)
	}
	s := p.Stats()
	fmt.Printf("frames %d, fragments %d, persisted %d, still buffered %d\n", s.FramesPut, s.Fragments, s.FragmentsPersisted, s.BufferedFragments)
	fmt.Printf("server kept %d fragments\n", len(srv.Fragments("camera")))
	// Output:
	// frames 300, fragments 5, persisted 5, still buffered 0
	// server kept 5 fragments
}

func ExampleMuxer() {
	src, _ := kvs.LoopAnnexB(h264sample.TestSrc, h264sample.FPS, 1)
	m, _ := kvs.NewMuxer(src.Track(), func(o *kvs.MuxerOptions) {
		o.TimecodeType, o.FragmentDuration = kvs.TimecodeRelative, 4*time.Second
	})
	for {
		f, err := src.Next(context.Background())
		if err != nil {
			break
		}
		c, _ := m.WriteFrame(f)
		if c.NewFragment {
			fmt.Println("fragment at", c.Timecode, "ms")
		}
	}
	// Output:
	// fragment at 0 ms
	// fragment at 4000 ms
	// fragment at 8000 ms
}

func ExampleAckDecoder() {
	body := `{"EventType":"BUFFERING","FragmentTimecode":1000,"FragmentNumber":"913"}
{"EventType":"PERSISTED","FragmentTimecode":1000,"FragmentNumber":"913"}
{"EventType":"ERROR","FragmentTimecode":3000,"ErrorId":4002,"ErrorCode":"MAX_FRAGMENT_DURATION_REACHED"}
`
	d := kvs.NewAckDecoder(strings.NewReader(body))
	for {
		a, err := d.Next()
		if err == io.EOF {
			break
		}
		if a.EventType == kvs.AckError {
			fmt.Println(a.EventType, a.FragmentTimecode, int(a.ErrorID), a.ErrorID.String(), a.ErrorID.Class() == kvs.ClassDropFragment)
			continue
		}
		fmt.Println(a.EventType, a.FragmentTimecode)
	}
	// Output:
	// BUFFERING 1000
	// PERSISTED 1000
	// ERROR 3000 4002 MAX_FRAGMENT_DURATION_REACHED true
}

func ExampleAnnexBToAVCC() {
	annexB := []byte{0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 1, 0x65, 0x88, 0x84}
	avcc, key := kvs.AnnexBToAVCC(annexB)
	fmt.Printf("% x key=%v\n", avcc, key)
	// Output: 00 00 00 02 67 42 00 00 00 02 68 ce 00 00 00 03 65 88 84 key=true
}
