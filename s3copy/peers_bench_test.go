package s3copy_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// peer is a tree-copy tool run as its own process against the benchmark's
// server. Peers are binaries found on PATH (Debian: apt-get install rclone
// s3cmd awscli); they never enter go.mod.
type peer struct {
	name string
	bin  string
	// subset: copy only src/folder0/ (1/9 of the tree), for a peer too
	// slow to copy the whole tree in a benchmark; its rate is comparable.
	subset bool
	args   func(endpoint, bucket, dstBucket, prefix, cfgDir string) ([]string, []string) // args, extra env
}

var peers = []peer{
	{"rclone", "rclone", false, func(ep, b, db, p, _ string) ([]string, []string) {
		// Tuned fairly: 64 transfers and checkers, no HEAD after upload.
		return []string{"copy", "bench:" + b + "/" + p, "bench:" + db + "/" + p, "--transfers", "64", "--checkers", "64", "--s3-no-head", "-q"},
			[]string{"RCLONE_CONFIG_BENCH_TYPE=s3", "RCLONE_CONFIG_BENCH_PROVIDER=Other", "RCLONE_CONFIG_BENCH_ENDPOINT=" + ep,
				"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID=" + awstest.AccessKeyID, "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
				"RCLONE_CONFIG_BENCH_REGION=" + awstest.Region, "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true"}
	}},
	{"s3cmd", "s3cmd", false, func(ep, b, db, p, dir string) ([]string, []string) {
		host := strings.TrimPrefix(ep, "http://")
		cfg := filepath.Join(dir, "s3cfg")
		_ = os.WriteFile(cfg, []byte("[default]\n"), 0o600)
		// --acl-private: gofakes3 answers ?acl with the object body.
		return []string{"-c", cfg, "--access_key=" + awstest.AccessKeyID, "--secret_key=" + awstest.SecretAccessKey,
			"--host=" + host, "--host-bucket=" + host, "--no-ssl", "--acl-private", "--quiet", "--region=" + awstest.Region,
			"cp", "--recursive", "s3://" + b + "/" + p, "s3://" + db + "/" + p}, nil
	}},
	// The AWS CLI v2 (Debian's awscli package installs it as /usr/bin/aws;
	// an "aws" earlier on PATH may be a v1, which is not the named peer).
	{"aws-cli", "/usr/bin/aws", true, func(ep, b, db, p, _ string) ([]string, []string) {
		return []string{"s3", "cp", "--recursive", "--only-show-errors", "--endpoint-url", ep, "s3://" + b + "/" + p, "s3://" + db + "/" + p},
			[]string{"AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
				"AWS_DEFAULT_REGION=" + awstest.Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	}},
}

// BenchmarkPeers copies the same 20,000 × 1 KiB tree on one out-of-process
// gofakes3 with s3copy (best of its default concurrency and 256) and with
// every peer tool installed (each tool's version is logged), and reports each tool's objects/s and
// s3copy's ratio to the best of them, and the raw CopyObject loop's rate
// (the server's ceiling) with its ratio to the best peer. A peer that is not
// installed, fails or copies short fails the benchmark: a ratio against a
// subset of the peers would overstate s3copy's lead.
func BenchmarkPeers(b *testing.B) {
	const n = 20000
	c := benchServer(b)
	ctx := context.Background()
	bucket := "bench"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	keys := seed(b, c, bucket, "src/", n, 1024)
	endpoint := aws.ToString(c.Options().BaseEndpoint)
	rates := map[string]float64{}
	var raw float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The server's ceiling: no tool can beat a raw CopyObject loop by
		// much, so ratio-vs-best-peer can be no higher than
		// ceiling-ratio-vs-best-peer.
		for _, conc := range []int{64, 128} {
			d := rawCopyLoop(b, c, bucket, keys, fmt.Sprintf("raw-%d-%d", i, conc), conc)
			raw = max(raw, n/d.Seconds())
		}
		for _, conc := range []int{s3copy.DefaultConcurrency, 256} {
			cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Concurrency = conc }))
			res, err := cp.Copy(ctx, s3copy.Location{Bucket: bucket, Prefix: "src/"}, s3copy.Location{Bucket: mkBucket(b, c, fmt.Sprintf("s3copy-%d-%d", i, conc)), Prefix: "src/"})
			if err != nil || res.Stats.Copied != n {
				b.Fatalf("%v %+v", err, res.Stats)
			}
			rates["s3copy"] = max(rates["s3copy"], res.Stats.ObjectsPerSecond())
		}
		for _, p := range peers {
			path, err := exec.LookPath(p.bin)
			if err != nil {
				b.Fatalf("%s: not installed (apt-get install -y rclone s3cmd awscli)", p.name)
			}
			if i == 0 {
				v, _ := exec.Command(path, "--version").CombinedOutput()
				b.Logf("%s: %s", p.name, strings.TrimSpace(strings.SplitN(string(v), "\n", 2)[0]))
			}
			dstBucket := mkBucket(b, c, fmt.Sprintf("%s-%d", p.name, i))
			prefix, want := "src/", n
			if p.subset {
				prefix, want = "src/folder0/", (n+8)/9
			}
			args, env := p.args(endpoint, bucket, dstBucket, prefix, b.TempDir())
			cmd := exec.Command(path, args...)
			// The server is plain HTTP: a CA bundle setting only trips SDKs
			// up (rclone's fails on AWS_CA_BUNDLE).
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_CA_BUNDLE=") }), env...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			d := time.Since(start)
			if err != nil {
				b.Fatalf("%s failed: %v\n%s", p.name, err, out)
			}
			got := listAll(b, c, dstBucket, prefix)
			if len(got) != want {
				b.Fatalf("%s copied %d of %d objects\n%s", p.name, len(got), want, out)
			}
			rates[p.name] = float64(want) / d.Seconds()
		}
	}
	best := 0.0
	for name, r := range rates {
		b.ReportMetric(r, name+"-objects/s")
		if name != "s3copy" {
			best = max(best, r)
		}
	}
	b.ReportMetric(raw, "raw-objects/s")
	if best > 0 {
		b.ReportMetric(rates["s3copy"]/best, "ratio-vs-best-peer")
		b.ReportMetric(raw/best, "ceiling-ratio-vs-best-peer")
	}
}

// BenchmarkMultipartS3rver copies one 1 GiB object on s3rver (the local
// server with UploadPartCopy) with s3copy's parallel multipart copy and,
// when installed, with rclone's server-side multipart copy, and reports
// MiB/s for each and their ratio. S3COPY_BENCH_MP_MIB changes the size.
func BenchmarkMultipartS3rver(b *testing.B) {
	size := int64(1024)
	if s := os.Getenv("S3COPY_BENCH_MP_MIB"); s != "" {
		fmt.Sscan(s, &size)
	}
	size <<= 20
	srv := awstest.Shared(b, awstest.S3rver)
	c := srv.S3()
	ctx := context.Background()
	bucket := awstest.Name(b, "mp")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	f, err := os.CreateTemp(b.TempDir(), "big")
	if err != nil {
		b.Fatal(err)
	}
	chunk := randomBytes(8<<20, 3)
	for w := int64(0); w < size; w += int64(len(chunk)) {
		f.Write(chunk[:min(int64(len(chunk)), size-w)])
	}
	f.Seek(0, 0)
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("src/big.bin"), Body: f}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	lib := map[int]float64{}
	var rc float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Parts in parallel (the default, 8) and one at a time: s3rver is
		// one Node.js process on a disk, where parallel parts compete.
		for _, pc := range []int{s3copy.DefaultPartConcurrency, 1} {
			cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
				o.MultipartThreshold = 64 << 20
				o.PartSize = 64 << 20
				o.PartConcurrency = pc
			}))
			res, err := cp.Copy(ctx, s3copy.Location{Bucket: bucket, Prefix: "src/"}, s3copy.Location{Bucket: bucket, Prefix: fmt.Sprintf("lib%d-%d/", i, pc)})
			if err != nil || res.Stats.Copied != 1 || res.Stats.Requests.UploadPartCopy == 0 {
				b.Fatalf("%v %+v", err, res.Stats)
			}
			lib[pc] = max(lib[pc], res.Stats.MiBPerSecond())
		}
		if path, err := exec.LookPath("rclone"); err == nil {
			dst := fmt.Sprintf("rclone%d/", i)
			cmd := exec.Command(path, "copy", "bench:"+bucket+"/src/", "bench:"+bucket+"/"+dst, "--s3-copy-cutoff", "64Mi", "--s3-no-head", "-q")
			cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_CA_BUNDLE=") }),
				"RCLONE_CONFIG_BENCH_TYPE=s3", "RCLONE_CONFIG_BENCH_PROVIDER=Other", "RCLONE_CONFIG_BENCH_ENDPOINT="+srv.Endpoint,
				"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+awstest.AccessKeyID, "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+awstest.SecretAccessKey,
				"RCLONE_CONFIG_BENCH_REGION="+awstest.Region, "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true")
			start := time.Now()
			if out, err := cmd.CombinedOutput(); err != nil {
				b.Fatalf("rclone failed: %v\n%s", err, out)
			} else if got := listAll(b, c, bucket, dst); got[dst+"big.bin"] != size {
				b.Fatalf("rclone copy has %v", got)
			} else {
				rc = float64(size) / (1 << 20) / time.Since(start).Seconds()
			}
		} else {
			b.Fatal("rclone: not installed (apt-get install -y rclone)")
		}
	}
	b.ReportMetric(lib[s3copy.DefaultPartConcurrency], "s3copy-MiB/s")
	b.ReportMetric(lib[1], "s3copy-sequential-parts-MiB/s")
	if rc > 0 {
		b.ReportMetric(rc, "rclone-MiB/s")
		b.ReportMetric(max(lib[1], lib[s3copy.DefaultPartConcurrency])/rc, "ratio-vs-rclone")
	}
}
