// Command oms-copy copies an S3 tree with lakekit's s3copy, locally or
// against AWS, with a progress bar and figures at the end: seed system 8
// without the Lambdas (they are in lambda/, deployed by template.yaml).
//
//	go run ./examples/oms-copy -src s3://raw-zone/2024/ -dst s3://processed-zone/2024/ -sync
//	go run ./examples/oms-copy -local                     # in-process gofakes3, generated tree
//	go run ./examples/oms-copy -local -server s3rver      # s3rver: multipart copies too
//	go run ./examples/oms-copy -local -fanout 4           # the SQS fan-out, on fauxqs
//
// -local starts a local S3, generates a tree (folders, dt= partitions,
// awkward names, the -sizes mix), copies it, verifies the copy (a dry-run
// sync must find nothing to do, and sampled bytes must match) and prints
// objects/s and MiB/s.
//
// For copies of your own trees use `lakekit s3 cp` and `lakekit s3 sync`
// (cmd/lakekit): this command is a thin wrapper over the same code
// (internal/s3cli's progress bar, summary and manifest), kept for the
// demo modes (-local, -generate, -fanout) and the peak-RSS figure.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/term"

	"github.com/lakekit/lakekit/examples/oms-copy/omslocal"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/internal/s3cli"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
)

type flags struct {
	src, dst, server, sizes, threshold, partSize, manifest, endpoint string
	owner, srcOwner                                                  string
	local, generate, sync, del, dryRun, verify, quiet                bool
	skipBucketCheck                                                  bool
	objects, folders, partitions, concurrency, shardDepth, fanout    int
	maxFailures                                                      int
}

func main() {
	var f flags
	flag.StringVar(&f.src, "src", "", "source tree, s3://bucket/prefix")
	flag.StringVar(&f.dst, "dst", "", "destination tree, s3://bucket/prefix")
	flag.BoolVar(&f.local, "local", false, "start a local S3, generate -objects objects and copy them")
	flag.StringVar(&f.server, "server", "gofakes3", "local S3 server: gofakes3 (in-process) or s3rver (npm, has UploadPartCopy)")
	flag.IntVar(&f.objects, "objects", 20000, "objects to generate with -local or -generate")
	flag.BoolVar(&f.generate, "generate", false, "generate -objects objects under -src (buckets created if missing), then copy")
	flag.IntVar(&f.folders, "folders", 9, "folders of the generated tree")
	flag.IntVar(&f.partitions, "partitions", 10, "dt= partitions per folder")
	flag.StringVar(&f.sizes, "sizes", "1KiB:90,64KiB:9,1MiB:1", "size mix of the generated tree, size:weight,...")
	flag.IntVar(&f.concurrency, "concurrency", 256, "copies in flight (0: adapted to the latency)")
	flag.IntVar(&f.shardDepth, "shard-depth", 0, "folder levels the listing is sharded by (0: adaptive, -1: one paginator)")
	flag.StringVar(&f.threshold, "multipart-threshold", "", "size from which multipart copy is used (default 256MiB; 8MiB with -server s3rver)")
	flag.StringVar(&f.partSize, "part-size", "", "multipart part size (default 64MiB; 5MiB with -server s3rver)")
	flag.BoolVar(&f.sync, "sync", false, "skip objects unchanged at the destination")
	flag.BoolVar(&f.del, "delete", false, "delete destination objects with no source (sync)")
	flag.BoolVar(&f.dryRun, "dry-run", false, "report what would be done, change nothing")
	flag.BoolVar(&f.verify, "verify", false, "read each copy back (size, ETag)")
	flag.StringVar(&f.manifest, "manifest", "", "manifest of completed objects, to resume an interrupted run: a file, or s3://bucket/prefix/ (outside the trees)")
	flag.StringVar(&f.endpoint, "endpoint", "", "S3 endpoint URL (path-style), for S3-compatible servers")
	flag.IntVar(&f.fanout, "fanout", 0, "with -local: run the SQS fan-out (fauxqs) with this many worker pollers")
	flag.BoolVar(&f.quiet, "quiet", false, "no progress bar")
	flag.StringVar(&f.owner, "expected-owner", "", "account id expected to own the destination bucket (and the manifest's)")
	flag.StringVar(&f.srcOwner, "expected-source-owner", "", "account id expected to own the source bucket")
	flag.BoolVar(&f.skipBucketCheck, "skip-bucket-check", false, "do not HeadBucket both buckets first (for a role without s3:ListBucket on them)")
	flag.IntVar(&f.maxFailures, "max-consecutive-failures", 0, "stop after this many objects in a row failed (0: default 100, -1: never)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, f, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "oms-copy:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, f flags, out, errOut io.Writer) error {
	client, closeLocal, err := newClient(ctx, &f)
	if err != nil {
		return err
	}
	defer closeLocal()
	src, err := s3copy.ParseLocation(f.src)
	if err != nil {
		return err
	}
	dst, err := s3copy.ParseLocation(f.dst)
	if err != nil {
		return err
	}
	var gen omslocal.Generated
	if f.local || f.generate {
		if gen, err = generate(ctx, client, f, src, dst, out); err != nil {
			return err
		}
	}
	manifest, closeManifest, err := s3cli.OpenManifest(ctx, client, f.manifest, f.owner)
	if err != nil {
		return err
	}
	defer closeManifest()
	var bar *s3cli.Progress // nil draws nothing
	if !f.quiet && isTerminal(errOut) {
		bar = s3cli.NewProgress(errOut, os.Getenv("NO_COLOR") == "")
	}
	copier, err := newCopier(client, f, manifest, bar)
	if err != nil {
		return err
	}
	if f.fanout > 0 {
		err = runFanout(ctx, client, copier, f, src, dst, bar, out)
	} else {
		err = runCopy(ctx, copier, f, src, dst, bar, out)
	}
	if err != nil {
		return err
	}
	if (f.local || f.generate) && !f.dryRun {
		v, err := omslocal.Verify(ctx, client, src, dst, gen.Largest, 20)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "verified: %d mismatched, %d objects byte-compared\n", v.Mismatched, v.Checked)
		if v.Mismatched != 0 {
			return fmt.Errorf("verification failed: %d mismatched", v.Mismatched)
		}
	}
	return nil
}

// newClient returns the S3 client: a local server's with -local (f gets
// that server's default trees and part sizes), else one from the AWS
// configuration. The function it returns stops the local server.
func newClient(ctx context.Context, f *flags) (*s3.Client, func(), error) {
	if !f.local {
		cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(s3copy.NewHTTPClient(f.concurrency)))
		if err != nil {
			return nil, nil, err
		}
		return s3.NewFromConfig(cfg, func(o *s3.Options) {
			if f.endpoint != "" {
				o.BaseEndpoint, o.UsePathStyle = aws.String(f.endpoint), true
			}
		}), func() {}, nil
	}
	var local *awstest.Server
	switch f.server {
	case "gofakes3":
		local = awstest.StartS3()
	case "s3rver":
		var err error
		if local, err = awstest.Start(ctx, awstest.S3rver); err != nil {
			return nil, nil, err
		}
		f.threshold = cmp(f.threshold, "8MiB")
		f.partSize = cmp(f.partSize, "5MiB")
	default:
		return nil, nil, fmt.Errorf("unknown -server %q", f.server)
	}
	f.src, f.dst = cmp(f.src, "s3://raw-zone/lake/"), cmp(f.dst, "s3://processed-zone/lake/")
	return local.S3(), func() { local.Close() }, nil
}

// generate creates both buckets (with -local a failure is an error; with
// -generate they may exist) and the -objects tree under src.
func generate(ctx context.Context, client *s3.Client, f flags, src, dst s3copy.Location, out io.Writer) (omslocal.Generated, error) {
	mix, err := omslocal.ParseSizeMix(f.sizes)
	if err != nil {
		return omslocal.Generated{}, err
	}
	for _, b := range []string{src.Bucket, dst.Bucket} {
		if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil && f.local {
			return omslocal.Generated{}, fmt.Errorf("create bucket %s: %w", b, err)
		}
	}
	t0 := time.Now()
	gen, err := omslocal.Generate(ctx, client, src, omslocal.Tree{Objects: f.objects, Folders: f.folders, Partitions: f.partitions, Mix: mix, Seed: 8})
	if err != nil {
		return gen, err
	}
	fmt.Fprintf(out, "generated %d objects, %.1f MiB in %s in %s\n", gen.Objects, float64(gen.Bytes)/(1<<20), src, time.Since(t0).Round(time.Millisecond))
	return gen, nil
}

// newCopier builds the Copier the flags describe.
func newCopier(client *s3.Client, f flags, manifest s3copy.Manifest, bar *s3cli.Progress) (*s3copy.Copier, error) {
	threshold, partSize := int64(0), int64(0)
	var err error
	if f.threshold != "" {
		if threshold, err = omslocal.ParseSize(f.threshold); err != nil {
			return nil, err
		}
	}
	if f.partSize != "" {
		if partSize, err = omslocal.ParseSize(f.partSize); err != nil {
			return nil, err
		}
	}
	return s3copy.New(client, func(o *s3copy.CopierOptions) {
		o.Concurrency = f.concurrency
		o.ShardDepth = f.shardDepth
		o.MultipartThreshold, o.PartSize = threshold, partSize
		o.SkipUnchanged, o.DeleteRemoved, o.DryRun, o.Verify = f.sync, f.del, f.dryRun, f.verify
		o.Manifest = manifest
		o.ExpectedBucketOwner, o.ExpectedSourceBucketOwner = f.owner, f.srcOwner
		o.SkipBucketCheck, o.MaxConsecutiveFailures = f.skipBucketCheck, f.maxFailures
		o.Progress = bar.Update
		o.ProgressInterval = 200 * time.Millisecond
	})
}

// runFanout runs the SQS fan-out on a local fauxqs and prints its figures.
func runFanout(ctx context.Context, client *s3.Client, copier *s3copy.Copier, f flags, src, dst s3copy.Location, bar *s3cli.Progress, out io.Writer) error {
	if !f.local {
		return fmt.Errorf("-fanout runs the fan-out locally; deploy template.yaml for AWS")
	}
	q, err := awstest.Start(ctx, awstest.Fauxqs)
	if err != nil {
		return err
	}
	defer q.Close()
	res, err := omslocal.RunFanout(ctx, client, q.SQS(), copier,
		fanout.Job{ID: "oms-local", Src: src, Dst: dst}, s3copy.Location{Bucket: dst.Bucket, Prefix: "_oms-jobs/"}, f.fanout,
		func(st fanout.Status) {
			bar.Update(s3copy.Stats{Listed: st.ObjectsListed, Copied: st.Copied, Bytes: st.Bytes})
		})
	bar.Done(s3copy.Stats{Listed: res.Status.ObjectsListed, Copied: res.Status.Copied, Bytes: res.Status.Bytes, Elapsed: res.Elapsed}, err == nil)
	if err != nil {
		return err
	}
	st := res.Status
	fmt.Fprintf(out, "fan-out: %d shard messages, %d task messages, %d copied, %d failed in %s: %.0f objects/s, %.1f MiB/s\n",
		st.ShardsDone, st.TasksDone, st.Copied, st.Failed, res.Elapsed.Round(time.Millisecond),
		float64(st.Copied)/res.Elapsed.Seconds(), float64(st.Bytes)/(1<<20)/res.Elapsed.Seconds())
	return nil
}

// runCopy runs one Copy and prints its figures and first failures.
func runCopy(ctx context.Context, copier *s3copy.Copier, f flags, src, dst s3copy.Location, bar *s3cli.Progress, out io.Writer) error {
	cpu0 := cpuTime()
	res, err := copier.Copy(ctx, src, dst)
	bar.Done(res.Stats, err == nil)
	st := res.Stats
	if err != nil && st.Listed == 0 && st.Failed == 0 {
		return err // nothing happened: no figures of zeros
	}
	s3cli.NewSummary(src, dst, f.dryRun, res, err).WriteText(out)
	fmt.Fprintf(out, "requests: %d copy, %d multipart parts, %d head, %d list; %d throttles\n",
		st.Requests.Copy, st.Requests.UploadPartCopy, st.Requests.Head, st.Requests.List, st.Throttles)
	if peak := peakRSSMiB(); peak > 0 && !f.generate {
		// With -local the server runs in this process and counts too.
		fmt.Fprintf(out, "process: peak RSS %.1f MiB, CPU %.3f ms/object (copy only)\n", peak, float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(max(st.Copied, 1)))
	}
	s3cli.WriteFailures(out, "", src, res)
	return err
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// isTerminal reports whether w is a terminal: the progress bar is drawn
// only there.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// peakRSSMiB is this process's peak resident set (Linux VmHWM), 0 when
// unknown: run without -local and -generate, it is the copier's own.
func peakRSSMiB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscan(strings.TrimSuffix(strings.TrimSpace(v), " kB"), &kb)
			return kb / 1024
		}
	}
	return 0
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
