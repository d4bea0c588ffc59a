// Command tour is lakekit's main job: it runs each of the eight seed systems
// end to end on local, embedded backends (in-process gofakes3, the npm
// emulators of internal/awstest, wire-protocol servers) and prints, per
// system, what happened with figures. It starts every server it needs and
// stops them all, by process id, before it exits.
//
//	make tour   # installs the npm emulators first, then: go run ./examples/tour
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// runner runs one seed system end to end and writes a few lines of figures.
// Each system's runner lives in systemN.go.
type runner func(ctx context.Context, env *env, out io.Writer) error

// system is one seed system as the tour runs it.
type system struct {
	n     int
	title string
	pkgs  string
	run   runner
}

var systems = []system{
	{1, "S3 CSV → SQS → exactly-once-effect processing", "sqsbatch", system1},
	{2, "Text detection (S3 + DetectText / Tesseract)", "rekog", system2},
	{3, "Streaming analytics (generator → Kinesis → SQL pumps → S3)", "kda", system3},
	{4, "QuickSight/Athena/SPICE cost model", "lakepipe/cost", system4},
	{5, "Step Functions batch pipeline (landing → raw → Parquet → archive)", "lakepipe", system5},
	{6, "Face identification alerts (Kinesis Video → Rekognition → SNS)", "kvs, rekog", system6},
	{7, "Data lake ETL (CSV → Parquet, Glue catalog)", "lakepipe", system7},
	{8, "S3 tree copy, orchestrator/master/worker fan-out", "s3copy", system8},
}

func main() {
	only := flag.Int("system", 0, "run only this system (1-8); 0 runs all")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Stdout, *only)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, out io.Writer, only int) int {
	e := &env{}
	defer func() {
		if err := e.Close(); err != nil {
			fmt.Fprintln(out, "stopping local servers:", err)
		}
	}()
	failed := 0
	for _, s := range systems {
		if only != 0 && s.n != only {
			continue
		}
		fmt.Fprintf(out, "== %d. %s [%s]\n", s.n, s.title, s.pkgs)
		start := time.Now()
		w := &indent{w: out}
		if err := s.run(ctx, e, w); err != nil {
			failed++
			fmt.Fprintf(out, "   FAILED: %v\n", err)
			if errors.Is(err, context.Canceled) {
				break
			}
			continue
		}
		fmt.Fprintf(out, "   ok in %s\n", time.Since(start).Round(time.Millisecond))
	}
	if failed > 0 {
		fmt.Fprintf(out, "%d system(s) failed\n", failed)
		return 1
	}
	return 0
}

// indent prefixes each line a system writes.
type indent struct {
	w       io.Writer
	midLine bool
}

func (i *indent) Write(p []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if line == "" {
			continue
		}
		if !i.midLine {
			if _, err := io.WriteString(i.w, "   "); err != nil {
				return 0, err
			}
		}
		if _, err := io.WriteString(i.w, line); err != nil {
			return 0, err
		}
		i.midLine = !strings.HasSuffix(line, "\n")
	}
	return len(p), nil
}
