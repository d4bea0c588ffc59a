package localrun_test

import (
	"context"
	"io"
	"slices"
	"testing"

	"github.com/lakekit/lakekit/examples/face-alerts/localrun"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestRunDefaultScene(t *testing.T) {
	rc := rekogtest.New(t).Client
	c := localrun.Clients{Rekognition: rc, Kinesis: awstest.Kinesis(t), SNS: awstest.SNS(t), SQS: awstest.SQS(t)}
	cfg := localrun.DefaultScene()
	cfg.Suffix = awstest.Name(t, "-")
	sum, err := localrun.Run(context.Background(), c, cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	// 60 s at 5 fps; nobody is in view from 25 to 30 s: 275 frames.
	if sum.Indexed != 3 || sum.Processor != "RUNNING" || sum.Records != 275 {
		t.Fatalf("summary %+v", sum)
	}
	// Jane at 0 and 20 s (window 20 s) and again at 50 s; Bob at 30 and
	// 50 s; the stranger at 10 s and, a 30 s interval later, at 40 s.
	want := []string{
		"Known face: Jane Doe", "Unknown face detected", "Known face: Jane Doe", "Known face: Bob Smith",
		"Unknown face detected", "Known face: Bob Smith", "Known face: Jane Doe",
	}
	if !slices.Equal(sum.Delivered, want) {
		t.Fatalf("delivered %q\nwant      %q", sum.Delivered, want)
	}
	if sum.Stats.Published != 7 || sum.Stats.Failed != 0 || sum.Stats.Sightings != 365 {
		t.Fatalf("stats %+v", sum.Stats)
	}
}
