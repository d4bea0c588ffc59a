package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/examples/oms-copy/omslocal"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
)

// system8 copies a generated data-lake tree (folders, dt= partitions,
// awkward names) from a raw to a processed zone on the tour's gofakes3 with
// s3copy, verifies it, syncs again (nothing to do), then runs the same copy
// through the SQS orchestrator → master → worker fan-out on fauxqs and
// counts its completion.
func system8(ctx context.Context, e *env, out io.Writer) error {
	s3c := e.S3().S3()
	raw := s3copy.Location{Bucket: "oms-raw-zone", Prefix: "lake/"}
	processed := s3copy.Location{Bucket: "oms-processed-zone", Prefix: "lake/"}
	fanned := s3copy.Location{Bucket: "oms-processed-zone", Prefix: "fanout/"}
	for _, b := range []string{raw.Bucket, processed.Bucket} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			return err
		}
	}
	mix := []omslocal.SizeClass{{Size: 1 << 10, Weight: 90}, {Size: 16 << 10, Weight: 10}}
	gen, err := omslocal.Generate(ctx, s3c, raw, omslocal.Tree{Objects: 1000, Folders: 6, Partitions: 5, Mix: mix, Seed: 8})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "generated %d objects (%.1f MiB) in %s\n", gen.Objects, float64(gen.Bytes)/(1<<20), raw)

	copier, err := s3copy.New(s3c, func(o *s3copy.CopierOptions) { o.Concurrency = 128 })
	if err != nil {
		return err
	}
	res, err := copier.Copy(ctx, raw, processed)
	if err != nil {
		return err
	}
	st := res.Stats
	fmt.Fprintf(out, "copy → %s: %d copied in %s, %.0f objects/s, %.1f MiB/s, %d requests (%d list + %d copy), %d retries\n",
		processed, st.Copied, st.Elapsed.Round(1e6), st.ObjectsPerSecond(), st.MiBPerSecond(), st.Requests.Total(), st.Requests.List, st.Requests.Copy, st.Retries)

	v, err := omslocal.Verify(ctx, s3c, raw, processed, gen.Largest, 10)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "verify: %d mismatched, %d objects byte-compared\n", v.Mismatched, v.Checked)
	if v.Mismatched != 0 {
		return fmt.Errorf("copy does not match its source")
	}

	syncer, err := s3copy.New(s3c, func(o *s3copy.CopierOptions) { o.SkipUnchanged, o.DeleteRemoved = true, true })
	if err != nil {
		return err
	}
	res, err = syncer.Copy(ctx, raw, processed)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sync again: %d skipped, %d copied, %d deleted, %d requests (listings only)\n",
		res.Stats.Skipped, res.Stats.Copied, res.Stats.Deleted, res.Stats.Requests.Total())

	q, err := e.Node(ctx, awstest.Fauxqs)
	if err != nil {
		return err
	}
	fctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fanCopier, err := s3copy.New(s3c, func(o *s3copy.CopierOptions) { o.Concurrency = 32 })
	if err != nil {
		return err
	}
	fres, err := omslocal.RunFanout(fctx, s3c, q.SQS(), fanCopier,
		fanout.Job{ID: "tour-oms", Src: raw, Dst: fanned}, s3copy.Location{Bucket: processed.Bucket, Prefix: "_jobs/"}, 4, nil)
	if err != nil {
		return err
	}
	fs := fres.Status
	fmt.Fprintf(out, "fan-out via SQS → %s: %d shard + %d task messages, %d/%d objects copied, %d failed, done in %s (%.0f objects/s)\n",
		fanned, fs.ShardsDone, fs.TasksDone, fs.Copied, fs.ObjectsListed, fs.Failed, fres.Elapsed.Round(1e6), float64(fs.Copied)/fres.Elapsed.Seconds())
	if fs.Copied != int64(gen.Objects) {
		return fmt.Errorf("fan-out copied %d of %d objects", fs.Copied, gen.Objects)
	}
	return nil
}
