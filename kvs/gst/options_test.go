package gst

import (
	"strings"
	"testing"
)

func TestPipeline(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		want []string
		err  bool
	}{
		{"camera defaults", Options{}, []string{"v4l2src device=/dev/video0 ! ", "width=640,height=480,framerate=30/1", "x264enc bframes=0 key-int-max=45 ", "stream-format=avc,alignment=au", "appsink name=kvssink"}, false},
		{"test pattern for tests", Options{TestPattern: true, Frames: 300, Width: 320, Height: 240}, []string{"videotestsrc pattern=smpte is-live=false num-buffers=300 ! "}, false},
		{"live ball", Options{TestPattern: true, Pattern: "ball", Live: true}, []string{"videotestsrc pattern=ball is-live=true ! "}, false},
		{"pipeline injection in device", Options{Device: "/dev/video0 ! filesink location=/etc/passwd"}, nil, true},
		{"device outside /dev", Options{Device: "/dev/../etc/passwd"}, nil, true},
		{"odd size", Options{Width: 641}, nil, true},
		{"bad pattern", Options{TestPattern: true, Pattern: "smpte ! fakesink"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.Pipeline()
			if tt.err {
				if err == nil {
					t.Fatalf("accepted: %s", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s\nlacks %q", got, w)
				}
			}
		})
	}
}
