package localrun

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestVideo(t *testing.T) {
	var out bytes.Buffer
	res, err := Video(context.Background(), &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	s := res.Stats
	if res.Frames != 1800 || res.Persisted != 1800 || res.Fragments != 30 || s.FailedConnections != 2 || s.Rotations < 1 || s.FragmentsResent == 0 {
		t.Fatalf("result %+v", res)
	}
	if n := strings.Count(out.String(), "\n"); n != 3 {
		t.Fatalf("%d lines", n)
	}
}
