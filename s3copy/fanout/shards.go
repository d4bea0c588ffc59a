package fanout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/sqsbatch"
)

// HandleShards is the master: for each shard message of the batch
// (ListConcurrency of them at once) it lists its part of the source tree, sends sub-shards back to the shard queue (while shallower
// than ShardDepth) and the objects to the task queue in TaskMessages. A
// message that fails is reported in BatchItemFailures for SQS to deliver
// again (use ReportBatchItemFailures on the event source mapping); tasks it
// already sent may then be sent twice, which copies those objects twice:
// harmless, as copies are idempotent.
func (f *Fanout) HandleShards(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	failed := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	sem := make(chan struct{}, f.opts.ListConcurrency)
	for i, rec := range ev.Records {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			failed[i] = true
			continue
		}
		wg.Go(func() {
			defer func() { <-sem }()
			failed[i] = !f.handleShardRecord(ctx, rec)
		})
	}
	wg.Wait()
	for i, rec := range ev.Records {
		if failed[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// handleShardRecord handles one shard message and reports whether it is
// done with (handled, or bad and dropped).
func (f *Fanout) handleShardRecord(ctx context.Context, rec events.SQSMessage) bool {
	m, err := DecodeShardMessage(rec.Body)
	if err == nil {
		err = f.handleShard(ctx, rec.MessageId, m)
	}
	if errors.Is(err, ErrBadMessage) {
		f.opts.Logger.Error("fanout: dropping bad shard message", "id", rec.MessageId, "err", err)
		f.record(ctx, m.Job.ID, "bad", rec.MessageId, "1")
		return true
	}
	if err != nil {
		f.opts.Logger.Warn("fanout: shard failed", "id", rec.MessageId, "err", err)
		return false
	}
	return true
}

func (f *Fanout) handleShard(ctx context.Context, msgID string, m ShardMessage) error {
	var l listed
	var err error
	if m.Depth < f.opts.ShardDepth {
		l, err = f.expand(ctx, m)
	} else {
		l, err = f.list(ctx, m, false, new(atomic.Int64))
	}
	if err != nil {
		return err
	}
	shards := make([]any, len(l.shards))
	for i, sh := range l.shards {
		shards[i] = sh
	}
	if err := f.send(ctx, f.taskQueue, f.taskMessages(m.Job, l.objects)); err != nil {
		return err
	}
	if err := f.send(ctx, f.shardQueue, shards); err != nil {
		return err
	}
	f.record(ctx, m.Job.ID, "s", msgID, fmt.Sprintf("%d-%d", len(l.objects), len(shards)))
	return nil
}

// listed is what a shard's listing found: sub-shards (common prefixes, or
// the shard's continuation) and objects.
type listed struct {
	shards  []ShardMessage
	objects []TaskObject
}

// expand lists a shard shallower than ShardDepth and, in the same
// invocation, the folders it finds, level by level, ListConcurrency
// listings at a time, while the next level is still shallower than
// ShardDepth and holds at most MaxShardsPerMessage folders, and while the
// invocation has listed fewer than PagesPerMessage × ListConcurrency pages
// (folders it has not listed by then are sent as they are). It returns
// the last level's folders as shards interleaved across their parents (the
// first folder of each, then the second of each…), and the objects found
// on the way.
//
// The shards go to the queue in that order, so their masters list, and
// the workers then copy, every part of the tree from the start, rather
// than one folder after the other: S3 splits a destination partition
// under load where the keys it is serving diverge, and copies that come
// folder by folder make it split one folder at a time (measured on s3sim:
// BenchmarkFanoutSimVirtual).
func (f *Fanout) expand(ctx context.Context, m ShardMessage) (listed, error) {
	var out listed
	var pages atomic.Int64
	budget := int64(f.opts.PagesPerMessage * f.opts.ListConcurrency)
	level := []ShardMessage{m}
	for {
		found := make([]listed, len(level))
		unlisted := make([]bool, len(level))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(f.opts.ListConcurrency)
		for i, sh := range level {
			g.Go(func() (err error) {
				if sh.Depth > m.Depth && pages.Load() >= budget {
					unlisted[i] = true
					return nil
				}
				found[i], err = f.list(gctx, sh, true, &pages)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return listed{}, err
		}
		children := make([][]ShardMessage, len(found))
		var rest []ShardMessage
		for i, l := range found {
			if unlisted[i] {
				rest = append(rest, level[i])
				continue
			}
			out.objects = append(out.objects, l.objects...)
			children[i] = l.shards
		}
		next := interleave(children)
		if len(rest) > 0 || len(next) == 0 || next[0].Depth >= f.opts.ShardDepth || len(next) > f.opts.MaxShardsPerMessage {
			out.shards = append(next, rest...)
			return out, nil
		}
		level = next
	}
}

// interleave takes the first of each list, then the second of each, ….
func interleave(lists [][]ShardMessage) []ShardMessage {
	var out []ShardMessage
	for i := 0; ; i++ {
		took := false
		for _, l := range lists {
			if i < len(l) {
				out = append(out, l[i])
				took = true
			}
		}
		if !took {
			return out
		}
	}
}

// list lists one shard: with split, one "/"-level (its common prefixes
// become shards one level deeper, all pages); without, every key below
// it, up to PagesPerMessage pages, the rest handed on as a shard starting
// after the last key listed.
func (f *Fanout) list(ctx context.Context, m ShardMessage, split bool, pages *atomic.Int64) (listed, error) {
	in := &s3.ListObjectsV2Input{
		Bucket:              aws.String(m.Job.Src.Bucket),
		Prefix:              aws.String(m.Job.Src.Prefix + m.Rel),
		ExpectedBucketOwner: optString(f.opts.ExpectedSourceBucketOwner),
		StartAfter:          optString(m.StartAfter),
	}
	if f.opts.PageSize > 0 {
		in.MaxKeys = aws.Int32(int32(min(f.opts.PageSize, 1000)))
	}
	if split {
		in.Delimiter = aws.String("/")
	}
	var l listed
	lastKey := ""
	for n := 1; ; n++ {
		out, err := f.s3.ListObjectsV2(ctx, in)
		if err != nil {
			return listed{}, err
		}
		pages.Add(1)
		for _, p := range out.CommonPrefixes {
			rel := strings.TrimPrefix(aws.ToString(p.Prefix), m.Job.Src.Prefix)
			l.shards = append(l.shards, ShardMessage{Job: m.Job, Rel: rel, Depth: m.Depth + 1})
		}
		for _, o := range out.Contents {
			key := aws.ToString(o.Key)
			lastKey = key
			if split && strings.Contains(key[len(aws.ToString(in.Prefix)):], "/") {
				continue // a folder marker some servers list twice; its shard has it
			}
			l.objects = append(l.objects, TaskObject{Key: key, Size: aws.ToInt64(o.Size), ETag: aws.ToString(o.ETag),
				StorageClass: string(o.StorageClass), LastModified: aws.ToTime(o.LastModified)})
		}
		// A broken page (truncated without a token, or the same token
		// again) fails the message instead of ending the shard early in
		// silence or listing it forever.
		more, err := s3copy.NextListPage(in, out)
		if err != nil {
			return listed{}, err
		}
		if !more {
			return l, nil
		}
		if n >= f.opts.PagesPerMessage && !split && lastKey != "" {
			// Hand the rest of the shard to another invocation.
			l.shards = append(l.shards, ShardMessage{Job: m.Job, Rel: m.Rel, Depth: m.Depth, StartAfter: lastKey})
			return l, nil
		}
	}
}

// taskMessages cuts objects into TaskMessages of at most TaskObjects
// objects and half of SQS's message size.
func (f *Fanout) taskMessages(job Job, objs []TaskObject) []any {
	var tasks []any
	var batch []TaskObject
	batchBytes := 0
	for _, t := range objs {
		size := len(t.Key) + len(t.ETag) + 96
		if len(batch) == f.opts.TaskObjects || len(batch) > 0 && batchBytes+size > sqsbatch.DefaultMaxMessageBytes/2 {
			tasks = append(tasks, TaskMessage{Job: job, Objects: batch})
			batch, batchBytes = nil, 0
		}
		batch = append(batch, t)
		batchBytes += size
	}
	if len(batch) > 0 {
		tasks = append(tasks, TaskMessage{Job: job, Objects: batch})
	}
	return tasks
}
