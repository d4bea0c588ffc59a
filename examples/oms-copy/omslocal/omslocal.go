// Package omslocal holds what examples/oms-copy's -local mode and the tour
// share: generating a data-lake-shaped tree (folders, Hive partitions, a
// size mix) on a local S3, verifying a copy, and running the SQS fan-out
// in-process.
package omslocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
	"github.com/lakekit/lakekit/sqsbatch"
)

// SizeClass is one object size and its share of a tree.
type SizeClass struct {
	Size   int64
	Weight int
}

// ParseSizeMix parses "1KiB:90,1MiB:9,20MiB:1" (sizes with B, KiB, MiB or
// GiB; weights are relative).
func ParseSizeMix(s string) ([]SizeClass, error) {
	var out []SizeClass
	for part := range strings.SplitSeq(s, ",") {
		sz, w, ok := strings.Cut(strings.TrimSpace(part), ":")
		if !ok {
			return nil, fmt.Errorf("size mix %q: want size:weight", part)
		}
		size, err := ParseSize(sz)
		if err != nil {
			return nil, err
		}
		weight, err := strconv.Atoi(w)
		if err != nil || weight <= 0 {
			return nil, fmt.Errorf("size mix %q: bad weight", part)
		}
		out = append(out, SizeClass{Size: size, Weight: weight})
	}
	if len(out) == 0 {
		return nil, errors.New("empty size mix")
	}
	return out, nil
}

// ParseSize parses "512", "1KiB", "5MiB", "1GiB" (and KB/MB/GB as powers of
// 1000).
func ParseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = v, u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || n < 0 || n*float64(mult) > 5<<40 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return int64(n * float64(mult)), nil
}

// Tree describes a generated tree: Objects spread over Folders folders,
// each with Partitions dt=… partitions, sizes drawn from Mix.
type Tree struct {
	Objects    int
	Folders    int
	Partitions int
	Mix        []SizeClass
	Seed       uint64
}

// Generated is what Generate wrote.
type Generated struct {
	Objects int
	Bytes   int64
	Largest string // key of the largest object
}

// Content returns the deterministic body of a generated object.
func Content(key string, size int64) io.ReadSeeker {
	h := fnv.New64a()
	h.Write([]byte(key))
	r := rand.New(rand.NewPCG(h.Sum64(), uint64(size)))
	b := make([]byte, size)
	for i := 0; i < len(b); i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < len(b); j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return bytes.NewReader(b)
}

// Generate writes the tree under loc with 32 concurrent PutObjects.
func Generate(ctx context.Context, c *s3.Client, loc s3copy.Location, t Tree) (Generated, error) {
	r := rand.New(rand.NewPCG(t.Seed, 1))
	total := 0
	for _, m := range t.Mix {
		total += m.Weight
	}
	type obj struct {
		key  string
		size int64
	}
	objs := make([]obj, t.Objects)
	var g Generated
	var largest int64 = -1
	for i := range objs {
		x := r.IntN(total)
		var size int64
		for _, m := range t.Mix {
			if x < m.Weight {
				size = m.Size
				break
			}
			x -= m.Weight
		}
		key := fmt.Sprintf("%sfolder%d/dt=2024-03-%02d/part-%05d.parquet", loc.Prefix, i%max(t.Folders, 1), (i/max(t.Folders, 1))%max(t.Partitions, 1)+1, i)
		if i%97 == 0 {
			key = fmt.Sprintf("%sfolder%d/odd names/ünï cødé +%d%%.csv", loc.Prefix, i%max(t.Folders, 1), i)
		}
		objs[i] = obj{key, size}
		g.Bytes += size
		if size > largest {
			largest, g.Largest = size, key
		}
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(objs) || ctx.Err() != nil {
					return
				}
				o := objs[i]
				_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(o.key),
					Body: Content(o.key, o.size), ContentType: aws.String("application/octet-stream"),
					Metadata: map[string]string{"generator": "oms-copy"}})
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("put %s: %w", o.key, err) })
					return
				}
			}
		})
	}
	wg.Wait()
	g.Objects = len(objs)
	return g, firstErr
}

// Verification is what Verify found.
type Verification struct {
	Mismatched int64 // objects missing, different or extra at the destination
	Checked    int   // objects whose bytes were compared
}

// Verify checks that dst holds exactly src's objects: a dry-run sync
// (SkipUnchanged + DeleteRemoved) must find nothing to do, and the bytes
// of up to sample objects (the largest included) must match.
func Verify(ctx context.Context, c *s3.Client, src, dst s3copy.Location, largest string, sample int) (Verification, error) {
	var v Verification
	var keys []string
	var mu sync.Mutex
	check, err := s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.SkipUnchanged, o.DeleteRemoved, o.DryRun = true, true, true
		o.OnObject = func(r s3copy.ObjectResult) {
			mu.Lock()
			if r.Action == s3copy.ActionSkipped && len(keys) < sample {
				keys = append(keys, r.SrcKey)
			}
			mu.Unlock()
		}
	})
	if err != nil {
		return v, err
	}
	res, err := check.Copy(ctx, src, dst)
	if err != nil {
		return v, err
	}
	v.Mismatched = res.Stats.DryRun
	if largest != "" {
		keys = append(keys, largest)
	}
	for _, k := range keys {
		a, err := getAll(ctx, c, src.Bucket, k)
		if err != nil {
			return v, err
		}
		dk, _ := s3copy.PrefixMap(src, dst, k)
		b, err := getAll(ctx, c, dst.Bucket, dk)
		if err != nil {
			return v, err
		}
		if !bytes.Equal(a, b) {
			v.Mismatched++
		}
		v.Checked++
	}
	return v, nil
}

func getAll(ctx context.Context, c *s3.Client, bucket, key string) ([]byte, error) {
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// FanoutResult is what RunFanout saw.
type FanoutResult struct {
	Status  fanout.Status
	Elapsed time.Duration
}

// RunFanout runs the SQS fan-out in-process: it creates a shard and a task
// queue, starts the job, runs the handlers the Lambdas use under
// sqsbatch.NewEventSourceMapping (one master invocation at a time, workers
// worker invocations) and waits until Status says done.
func RunFanout(ctx context.Context, s3c *s3.Client, sqsc *sqs.Client, copier *s3copy.Copier, job fanout.Job, status s3copy.Location, workers int, progress func(fanout.Status)) (FanoutResult, error) {
	start := time.Now()
	mk := func(name string) (string, error) {
		out, err := sqsc.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(job.ID + "-" + name),
			Attributes: map[string]string{"VisibilityTimeout": "30"}})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.QueueUrl), nil
	}
	shardQ, err := mk("shards")
	if err != nil {
		return FanoutResult{}, err
	}
	taskQ, err := mk("tasks")
	if err != nil {
		return FanoutResult{}, err
	}
	defer func() {
		for _, q := range []string{shardQ, taskQ} {
			_, _ = sqsc.DeleteQueue(context.WithoutCancel(ctx), &sqs.DeleteQueueInput{QueueUrl: aws.String(q)})
		}
	}()
	f, err := fanout.New(s3c, sqsc, copier, shardQ, taskQ, func(o *fanout.FanoutOptions) {
		o.ShardDepth, o.StatusLocation = 2, status
	})
	if err != nil {
		return FanoutResult{}, err
	}
	if err := f.Start(ctx, job); err != nil {
		return FanoutResult{}, err
	}
	pctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// A poller that stops by itself (a missing queue, denied access, SQS
	// unreachable) ends the run with its error instead of leaving it to
	// wait for a Done that cannot come.
	pollErrs := make(chan error, 2)
	// Local stand-ins for the Lambdas' event source mappings: one master
	// invocation at a time, workers worker invocations, each a batch of up
	// to 10 messages as on Lambda.
	poll := func(q string, h sqsbatch.BatchHandler, pollers int) {
		esm, err := sqsbatch.NewEventSourceMapping(sqsc, q, h, func(o *sqsbatch.ConsumerOptions) {
			o.Pollers, o.WaitTime, o.VisibilityTimeout = pollers, time.Second, 30*time.Second
		})
		if err == nil {
			err = esm.Run(pctx)
		}
		if err != nil {
			pollErrs <- err
		}
	}
	wg.Go(func() { poll(shardQ, f.HandleShards, 1) })
	wg.Go(func() { poll(taskQ, f.HandleTasks, max(workers, 1)) })
	defer func() { stop(); wg.Wait() }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return FanoutResult{}, ctx.Err()
		case err := <-pollErrs:
			return FanoutResult{}, err
		case <-tick.C:
		}
		st, err := f.Status(ctx, job.ID)
		if err != nil {
			return FanoutResult{}, err
		}
		if progress != nil {
			progress(st)
		}
		if st.Done {
			return FanoutResult{Status: st, Elapsed: time.Since(start)}, nil
		}
	}
}
