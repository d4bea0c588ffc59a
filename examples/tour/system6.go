package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lakekit/lakekit/examples/face-alerts/localrun"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// system6 runs the Rekognition/alert side of face identification: the
// seed's setup against a local Rekognition wire server (collection, faces,
// stream processor STOPPED → STARTING → RUNNING), 60 s of scripted
// stream-processor output written to kinesis-local, the alert Lambda's
// handler fed from the stream, and alerts published to SNS on fauxqs and
// read back from the SQS queue subscribed to the topic. Before that, the
// Kinesis Video ingest side (package kvs): 60 s of H.264 streamed through
// PutMedia to a local, SigV4-checking server, with an injected ERROR ack and
// a dropped connection, every frame persisted exactly once.
func system6(ctx context.Context, e *env, out io.Writer) error {
	if _, err := localrun.Video(ctx, out); err != nil {
		return fmt.Errorf("kinesis video: %w", err)
	}
	kin, err := e.Node(ctx, awstest.KinesisLocal)
	if err != nil {
		return err
	}
	fq, err := e.Node(ctx, awstest.Fauxqs)
	if err != nil {
		return err
	}
	wire := rekogtest.Start()
	rc := wire.Client
	defer wire.Close()
	cfg := localrun.DefaultScene()
	cfg.Suffix = fmt.Sprintf("-tour-%d", time.Now().UnixNano()%1e9)
	sum, err := localrun.Run(ctx, localrun.Clients{Rekognition: rc, Kinesis: kin.Kinesis(), SNS: fq.SNS(), SQS: fq.SQS()}, cfg, out)
	if err != nil {
		return err
	}
	st := sum.Stats
	fmt.Fprintf(out, "%d records → %d sightings → %d alerts (suppressed: %d by 20 s window, %d by unknown rate limit) in %s\n",
		sum.Records, st.Sightings, st.Published, st.SuppressedWindow, st.SuppressedRate, sum.HandlerTime.Round(time.Millisecond))
	fmt.Fprintf(out, "inbox (SNS → SQS): %d notifications, first %q, last %q\n", len(sum.Delivered), sum.Delivered[0], sum.Delivered[len(sum.Delivered)-1])
	if int64(len(sum.Delivered)) != st.Published {
		return fmt.Errorf("published %d alerts, inbox received %d", st.Published, len(sum.Delivered))
	}
	return nil
}
