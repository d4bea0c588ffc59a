package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/lakekit/lakekit/kvs"
	"github.com/lakekit/lakekit/kvs/h264sample"
	"github.com/lakekit/lakekit/kvs/kvslocal"
)

func init() {
	scriptServers["kvs"] = serverKVS
	scriptCmds["h264sample"] = cmdH264Sample
}

// serverKVS is `server kvs STREAM…`: kvslocal, its endpoint in
// AWS_ENDPOINT_URL_KINESIS_VIDEO, with the streams created. It adds the
// command `kvsfragments STREAM`, which prints what the server persisted
// for the stream: "fragments N frames M".
func serverKVS(ts *testscript.TestScript, streams []string) {
	srv, err := kvslocal.Start()
	if err != nil {
		ts.Fatalf("server kvs: %v", err)
	}
	ts.Defer(func() { srv.Close() })
	ts.Setenv("AWS_ENDPOINT_URL_KINESIS_VIDEO", srv.Endpoint)
	for _, s := range streams {
		srv.CreateStream(s)
	}
	ts.SetCmd("kvsfragments", func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: kvsfragments STREAM")
		}
		frames := 0
		fr := srv.Fragments(args[0])
		for _, f := range fr {
			frames += len(f.Frames)
		}
		fmt.Fprintf(ts.Stdout(), "fragments %d frames %d\n", len(fr), frames)
	})
}

// cmdH264Sample is `h264sample FILE.h264|FILE.mkv`: kvs/h264sample's 10 s
// test stream (300 frames, a key frame every 30), as an Annex-B
// elementary stream or muxed into Matroska.
func cmdH264Sample(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: h264sample FILE.h264|FILE.mkv")
	}
	data := h264sample.TestSrc
	if strings.HasSuffix(args[0], ".mkv") {
		src, err := kvs.NewAnnexBSource(bytes.NewReader(h264sample.TestSrc), h264sample.FPS)
		ts.Check(err)
		m, err := kvs.NewMuxer(src.Track(), func(o *kvs.MuxerOptions) { o.TimecodeType = kvs.TimecodeRelative })
		ts.Check(err)
		var b bytes.Buffer
		b.Write(m.Header())
		for {
			f, err := src.Next(context.Background())
			if errors.Is(err, io.EOF) {
				break
			}
			ts.Check(err)
			c, err := m.WriteFrame(f)
			ts.Check(err)
			b.Write(c.Data)
		}
		data = b.Bytes()
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), data, 0o644))
}
