package s3copy_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/s3copy"
	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

var (
	simPeerObjects = flag.Int("s3sim.peerobjects", 20000, "objects of BenchmarkSimPeers' seed-shaped workload")
	simPeerScales  = flag.String("s3sim.peerscales", "8", "comma-separated time scales (wall seconds per simulated second) of BenchmarkSimPeers")
)

// simPeer is a copy tool run as its own process against s3sim served on
// 127.0.0.1, tuned as in scripts/s3-cli-peers.sh (256 requests at once).
type simPeer struct {
	name string
	args func(endpoint string) []string
}

var simPeers = []simPeer{
	// Without --fast-list: rclone then walks the directories with its 256
	// checkers, listing in parallel (with --fast-list it lists the tree
	// with one flat paginator, 1,000 keys a round trip). --s3-list-version
	// 2: s3sim answers ListObjectsV2 only.
	{"rclone", func(ep string) []string {
		return []string{"copy", ":s3:src/raw", ":s3:dst/processed", "--s3-provider", "Other", "--s3-endpoint", ep,
			"--s3-access-key-id", "s3sim", "--s3-secret-access-key", "s3sim", "--s3-region", "us-east-1",
			"--s3-force-path-style", "--s3-list-version", "2", "--transfers", "256", "--checkers", "256",
			"--s3-no-check-bucket", "--no-check-dest", "--s3-no-head", "--no-traverse", "-q"}
	}},
	{"s5cmd", func(ep string) []string {
		return []string{"--endpoint-url", ep, "--numworkers", "256", "cp", "s3://src/raw/*", "s3://dst/processed/"}
	}},
}

// findPeer looks for a peer binary in $PEERS, then on PATH.
func findPeer(name string) (string, error) {
	if dir := os.Getenv("PEERS"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath(name)
}

// simServed is a fresh Sim holding w in bucket src, served on 127.0.0.1
// in real time at scale (wall seconds per simulated second); close the
// server after the run.
func simServed(b *testing.B, w s3sim.Workload, scale float64) (*s3sim.Sim, *httptest.Server) {
	sim, err := s3sim.New(func(o *s3sim.SimOptions) { o.TimeScale = scale })
	if err != nil {
		b.Fatal(err)
	}
	sim.PutObjects("src", w.Objects...)
	sim.CreateBucket("dst")
	return sim, httptest.NewServer(sim)
}

// checkCopied fails b unless dst holds a copy of every object of w under
// processed/.
func checkCopied(b *testing.B, tool string, sim *s3sim.Sim, w s3sim.Workload) {
	got := sim.Objects("dst")
	if len(got) != len(w.Objects) {
		b.Fatalf("%s: %d objects at the destination, want %d", tool, len(got), len(w.Objects))
	}
	for i, o := range got {
		if want := "processed/" + strings.TrimPrefix(w.Objects[i].Key, "raw/"); o.Key != want || o.Size != w.Objects[i].Size {
			b.Fatalf("%s: destination object %d is %s (%d bytes), want %s (%d)", tool, i, o.Key, o.Size, want, w.Objects[i].Size)
		}
	}
}

// simPeerRun copies w with tool on a fresh served Sim and returns the
// simulated seconds, from the tool's start to its end (a process's start
// and exit included).
func simPeerRun(b *testing.B, tool string, w s3sim.Workload, scale float64) float64 {
	sim, srv := simServed(b, w, scale)
	defer srv.Close()
	ep := srv.URL
	if tool == "s3copy" {
		c := s3.New(s3.Options{
			Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("s3sim", "s3sim", ""),
			BaseEndpoint: aws.String(ep), UsePathStyle: true, HTTPClient: s3copy.NewHTTPClient(0),
		})
		cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Now, o.Sleep = sim.Now, sim.Sleep }))
		start := sim.Elapsed()
		if _, err := cp.Copy(context.Background(), s3copy.Location{Bucket: "src", Prefix: "raw/"}, s3copy.Location{Bucket: "dst", Prefix: "processed/"}); err != nil {
			b.Fatal(err)
		}
		d := sim.Elapsed() - start
		checkCopied(b, tool, sim, w)
		st := sim.Stats()
		b.Logf("%s at scale %g: simulated %.1fs, requests %v, SlowDowns %d, max in flight %d", tool, scale, d.Seconds(), st.Requests, st.SlowDowns, st.MaxInFlight)
		return d.Seconds()
	}
	i := slices.IndexFunc(simPeers, func(p simPeer) bool { return p.name == tool })
	path, err := findPeer(tool)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(path, simPeers[i].args(ep)...)
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "RCLONE_") }),
		"AWS_ACCESS_KEY_ID=s3sim", "AWS_SECRET_ACCESS_KEY=s3sim", "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "RCLONE_CONFIG=/dev/null")
	start := sim.Elapsed()
	out, err := cmd.CombinedOutput()
	d := sim.Elapsed() - start
	if err != nil {
		b.Fatalf("%s: %v\n%s", tool, err, tail(out))
	}
	checkCopied(b, tool, sim, w)
	st := sim.Stats()
	b.Logf("%s at scale %g: simulated %.1fs, requests %v, SlowDowns %d, max in flight %d", tool, scale, d.Seconds(), st.Requests, st.SlowDowns, st.MaxInFlight)
	return d.Seconds()
}

func tail(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.Join(lines[max(0, len(lines)-10):], "\n")
}

// BenchmarkSimPeers copies the same seed-shaped workload
// (-s3sim.peerobjects, default 20,000 objects, 1.6 GB) with s3copy's
// defaults, rclone and s5cmd (each with 256 requests at once, as in
// scripts/s3-cli-peers.sh) against s3sim served on 127.0.0.1 in real time
// (external processes cannot run on a virtual clock), each tool on a fresh
// Sim, the tools' order rotated each round, and reports each tool's
// simulated seconds and the peers' ratio to s3copy. Each scale of
// -s3sim.peerscales (default 8: a simulated second takes eight; the
// endpoint then sees at most about 1,000 requests a wall second, which
// this machine's CPU serves without becoming the bottleneck) runs all
// three; two scales that give the same figures show the scale does not
// change the result. The peers are found in $PEERS or on PATH; without
// them the benchmark is skipped.
func BenchmarkSimPeers(b *testing.B) {
	var missing []string
	for _, p := range simPeers {
		if _, err := findPeer(p.name); err != nil {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		b.Skipf("%s not found in $PEERS or on PATH (see scripts/s3-cli-peers.sh for how to build them)", strings.Join(missing, ", "))
	}
	var scales []float64
	for f := range strings.SplitSeq(*simPeerScales, ",") {
		s, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || s <= 0 {
			b.Fatalf("-s3sim.peerscales: %q", f)
		}
		scales = append(scales, s)
	}
	w, err := s3sim.SeedWorkload(func(o *s3sim.WorkloadOptions) {
		o.Objects = *simPeerObjects
		o.TotalSize = int64(float64(o.Objects) / s3sim.DefaultWorkloadObjects * s3sim.DefaultTotalSize)
		o.MaxSize = min(s3sim.DefaultMaxSize, o.TotalSize/4)
	})
	if err != nil {
		b.Fatal(err)
	}
	tools := []string{"s3copy", "rclone", "s5cmd"}
	best := map[string]float64{}
	round := 0
	for b.Loop() {
		for _, scale := range scales {
			for i := range tools {
				tool := tools[(i+round)%len(tools)]
				start := time.Now()
				simS := simPeerRun(b, tool, w, scale)
				b.Logf("round %d, scale %g: %s %.1f simulated s (%.0f wall s)", round, scale, tool, simS, time.Since(start).Seconds())
				key := fmt.Sprintf("%s@%g", tool, scale)
				if v, ok := best[key]; !ok || simS < v {
					best[key] = simS
				}
			}
		}
		round++
	}
	sim, err := s3sim.New()
	if err != nil {
		b.Fatal(err)
	}
	bound := sim.LowerBound(w.Objects, "raw/", "processed/")
	b.Logf("%d objects, %.2f GB; %v", len(w.Objects), float64(w.Bytes)/1e9, bound)
	b.ReportMetric(bound.Total.Seconds(), "bound-s")
	for _, scale := range scales {
		sfx := fmt.Sprintf("-sim-s@%g", scale)
		ours := best[fmt.Sprintf("s3copy@%g", scale)]
		for _, tool := range tools {
			v := best[fmt.Sprintf("%s@%g", tool, scale)]
			b.ReportMetric(v, tool+sfx)
			if tool != "s3copy" {
				b.ReportMetric(v/ours, fmt.Sprintf("%s/s3copy@%g", tool, scale))
			}
		}
	}
}
