package kvslocal_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/h264sample"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

// A test of code that streams video starts the server, points a producer at
// its client, and checks what the server persisted. Here the server answers
// the second fragment with an ERROR acknowledgement once, and the producer
// sends it again on a new connection.
func Example() {
	srv, err := kvslocal.Start() // in a test: kvslocal.New(t)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()
	srv.CreateStream("camera")
	var failed atomic.Bool
	srv.SetFault(func(fi kvslocal.FragmentInfo) kvslocal.Fault {
		if fi.Index == 1 && !failed.Swap(true) {
			return kvslocal.Fault{Error: kvs.ErrInternalError}
		}
		return kvslocal.Fault{}
	})

	src, err := kvs.LoopAnnexB(h264sample.TestSrc, h264sample.FPS, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	p, err := kvs.NewProducer(srv.Client(), "camera", src.Track())
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := kvs.Stream(ctx, p, src, kvs.AsFast); err != nil {
		fmt.Println(err)
		return
	}
	if err := p.Close(ctx); err != nil {
		fmt.Println(err)
		return
	}
	frames := 0
	for _, f := range srv.Fragments("camera") {
		frames += len(f.Frames)
	}
	fmt.Printf("%d frames persisted in %d fragments over %d PutMedia requests\n",
		frames, len(srv.Fragments("camera")), srv.Calls("POST /putMedia"))
	// Output:
	// 300 frames persisted in 5 fragments over 2 PutMedia requests
}
