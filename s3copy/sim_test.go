package s3copy_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

// simWorkload is s3sim.Small's workload: 3,000 objects, 2 GB.
func simWorkload(t testing.TB) s3sim.Workload {
	t.Helper()
	w, err := s3sim.SeedWorkload(s3sim.Small)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestCopyOnSim copies a small workload on the simulated endpoint, in a
// synctest bubble (virtual time: the simulated figures do not depend on
// this machine's speed), and checks the copies and that the run takes no
// less than the model's lower bound.
func TestCopyOnSim(t *testing.T) {
	w := simWorkload(t)
	synctest.Test(t, func(t *testing.T) {
		r := simCopy(t, w, func(o *s3sim.SimOptions) { o.ConstantLatency = true }, func(o *s3copy.CopierOptions) {
			o.Concurrency = 256
		})
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.res.Stats.Copied != 3000 || r.res.Stats.Bytes != w.Bytes {
			t.Fatalf("copied %d objects, %d bytes; want 3000, %d", r.res.Stats.Copied, r.res.Stats.Bytes, w.Bytes)
		}
		got := r.sim.Objects("dst")
		if len(got) != len(w.Objects) {
			t.Fatalf("%d objects at the destination", len(got))
		}
		for i, o := range got {
			src := w.Objects[i]
			if o.Key != "processed/"+src.Key[len("raw/"):] || o.Size != src.Size {
				t.Fatalf("destination %d: %s (%d bytes), source %s (%d)", i, o.Key, o.Size, src.Key, src.Size)
			}
		}
		st := r.sim.Stats()
		if st.Requests["UploadPartCopy"] == 0 || st.Requests["CopyObject"] != 2999 {
			t.Fatalf("requests %v", st.Requests)
		}
		if r.res.Stats.Elapsed < r.bound.Total || r.res.Stats.Elapsed > time.Hour {
			t.Fatalf("simulated %v, lower bound %v", r.res.Stats.Elapsed, r.bound.Total)
		}
		t.Log(r)
	})
}
