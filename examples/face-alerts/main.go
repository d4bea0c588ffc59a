// Command face-alerts is seed system 6's Rekognition side: a CLI for the
// seed's setup and clean-up steps, the Kinesis-triggered alert Lambda, and
// a local run of the whole alert path.
//
//	face-alerts setup    -collection rekVideoBlog -faces ./faces     # Step 4: file name → person
//	face-alerts start    -name sp -collection rekVideoBlog -video-arn … -data-arn … -role-arn …  # Step 5
//	face-alerts teardown -name sp [-collection rekVideoBlog]          # Step 6
//	face-alerts local                                                  # everything on local servers
//
// The alert Lambda the stream processor's Kinesis stream triggers is
// ./lambda/alert.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runCLI(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "face-alerts:", err)
		os.Exit(1)
	}
}
