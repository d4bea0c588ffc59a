package fanout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"testing"
	"testing/synctest"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/fanout"
	"github.com/lakekit/lakekit/s3copy/fanout/fanoutsim"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

// TestFanoutOnFleetSim runs a small job through the real handlers on the
// simulated Lambda fleet and SQS, in virtual time, and checks that the
// destination holds exactly what one Copier.Copy of the same tree writes:
// every key, size, ETag (multipart ones included), metadata and tags, and
// that Status says Done with every object counted.
func TestFanoutOnFleetSim(t *testing.T) {
	w, err := s3sim.SeedWorkload(func(o *s3sim.WorkloadOptions) {
		o.Objects = 600
		o.Folders, o.SubFolders, o.Partitions = 2, 2, 3
		o.MaxSize, o.TotalSize = 600<<20, 1<<30
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range w.Objects {
		if i%7 == 0 {
			w.Objects[i].Metadata = map[string]string{"owner": fmt.Sprint("team-", i%3)}
			w.Objects[i].Tags = map[string]string{"class": "pii"}
			w.Objects[i].ContentType = "application/x-parquet"
		}
	}
	synctest.Test(t, func(t *testing.T) {
		r := runFanoutSim(t, w, simSetup{Workers: 20, Concurrency: 16, Fanout: func(o *fanout.FanoutOptions) { o.TaskObjects = 25; o.ShardDepth = 2 }})
		t.Log(r)
		st := r.status
		if !st.Done || st.Copied != int64(len(w.Objects)) || st.Failed != 0 || st.Bytes != w.Bytes || st.BadMessages != 0 {
			t.Fatalf("status %+v; want Done, %d copied, %d bytes", st, len(w.Objects), w.Bytes)
		}
		if r.sim.Stats().Requests["UploadPartCopy"] == 0 {
			t.Fatal("no multipart copy")
		}
		// The same tree copied by one Copier on a fresh Sim.
		ref, err := s3sim.New()
		if err != nil {
			t.Fatal(err)
		}
		ref.PutObjects("src", w.Objects...)
		ref.CreateBucket("dst")
		c, err := s3copy.New(ref.Client(), func(o *s3copy.CopierOptions) { o.Now, o.Sleep = ref.Now, ref.Sleep })
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Copy(context.Background(), s3copy.Location{Bucket: "src", Prefix: "raw/"}, s3copy.Location{Bucket: "dst", Prefix: "processed/"}); err != nil {
			t.Fatal(err)
		}
		got, want := r.sim.Objects("dst"), ref.Objects("dst")
		if len(got) != len(want) {
			t.Fatalf("%d objects at the destination, want %d", len(got), len(want))
		}
		for i, g := range got {
			x := want[i]
			if g.Key != x.Key || g.Size != x.Size || g.ETag != x.ETag || g.ContentType != x.ContentType ||
				!maps.Equal(g.Metadata, x.Metadata) || !maps.Equal(g.Tags, x.Tags) {
				t.Fatalf("destination %d: %+v, want %+v", i, g, x)
			}
		}
	})
}

// TestExpandInterleaves: the root shard of a three-level tree is expanded
// in one invocation, and its leaves are sent interleaved across folders
// (the first partition of every folder's every sub-folder first).
func TestExpandInterleaves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sim, err := s3sim.New()
		if err != nil {
			t.Fatal(err)
		}
		var objs []s3sim.Object
		for f := range 3 {
			for s := range 2 {
				for p := range 4 {
					objs = append(objs, s3sim.Object{Key: fmt.Sprintf("raw/f%d/s%d/p%d/x", f, s, p), Size: 1})
				}
			}
		}
		objs = append(objs, s3sim.Object{Key: "raw/top", Size: 1}, s3sim.Object{Key: "raw/f0/mid", Size: 1})
		sim.PutObjects("src", objs...)
		q, err := fanoutsim.NewSQS()
		if err != nil {
			t.Fatal(err)
		}
		shards, _ := q.CreateQueue("shards", nil)
		tasks, _ := q.CreateQueue("tasks", nil)
		root, _ := json.Marshal(fanout.ShardMessage{Job: fanout.Job{ID: "j", Src: s3copy.Location{Bucket: "src", Prefix: "raw/"}, Dst: s3copy.Location{Bucket: "dst"}}})
		handle := func(optFn func(*fanout.FanoutOptions)) {
			f, err := fanout.New(sim.Client(), q.Client(), nil, shards, tasks, optFn)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := f.HandleShards(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "1", Body: string(root)}}})
			if err != nil || len(resp.BatchItemFailures) != 0 {
				t.Fatalf("%+v %v", resp, err)
			}
		}
		// With a budget of one page, the root's folders are sent unlisted.
		handle(func(o *fanout.FanoutOptions) { o.ShardDepth, o.PagesPerMessage, o.ListConcurrency = 3, 1, 1 })
		ms, _ := q.Receive(ctx, shards, 10, 0)
		if len(ms) != 3 {
			t.Fatalf("%d shards sent on a budget of one page", len(ms))
		}
		for _, m := range ms {
			if sm, err := fanout.DecodeShardMessage(m.Body); err != nil || sm.Depth != 1 {
				t.Fatalf("%+v %v", sm, err)
			}
			q.Delete(shards, m.ReceiptHandle)
		}
		ms, _ = q.Receive(ctx, tasks, 10, 0)
		if len(ms) != 1 {
			t.Fatalf("%d task messages", len(ms))
		}
		q.Delete(tasks, ms[0].ReceiptHandle)

		handle(func(o *fanout.FanoutOptions) { o.ShardDepth = 3 })
		var got []string
		for {
			ms, err := q.Receive(ctx, shards, 10, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) == 0 {
				break
			}
			for _, m := range ms {
				sm, err := fanout.DecodeShardMessage(m.Body)
				if err != nil || sm.Depth != 3 {
					t.Fatalf("%+v %v", sm, err)
				}
				got = append(got, sm.Rel)
			}
		}
		// The Writer sends batches of ten side by side, so batches may
		// arrive in any order, each in the interleaved order: any three
		// leaves in a row are under the three folders.
		folders := map[string]bool{}
		for _, rel := range got[:3] {
			folders[rel[:3]] = true
		}
		if len(got) != 24 || len(folders) != 3 || len(slices.Compact(slices.Sorted(slices.Values(got)))) != 24 {
			t.Fatalf("shards sent %v", got)
		}
		// The objects above the leaves went out as tasks.
		ms, _ = q.Receive(ctx, tasks, 10, 0)
		if len(ms) != 1 {
			t.Fatalf("%d task messages", len(ms))
		}
		tm, err := fanout.DecodeTaskMessage(ms[0].Body)
		if err != nil || len(tm.Objects) != 2 {
			t.Fatalf("%+v %v", tm, err)
		}
	})
}
