package s3copy_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// serveEnv makes the test binary serve gofakes3 instead of running tests:
// the benchmarks run the server in its own process so that the client's
// CPU time and peak RSS can be measured apart from the server's, as with a
// real S3.
const serveEnv = "S3COPY_BENCH_SERVE"

func serveS3() {
	srv := awstest.StartS3()
	fmt.Println("ENDPOINT " + srv.Endpoint)
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes the pipe or dies
	_ = srv.Close()
}

// benchServer starts gofakes3 in a child process and returns a client on it.
func benchServer(b *testing.B) *s3.Client {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill() // by pid: the child we started
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	endpoint, ok := strings.CutPrefix(strings.TrimSpace(line), "ENDPOINT ")
	if err != nil || !ok {
		b.Fatalf("bench server: %q %v", line, err)
	}
	return benchClient(endpoint)
}

// benchClient is the benchmarks' client on the out-of-process server.
func benchClient(endpoint string) *s3.Client {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 1024
		t.IdleConnTimeout = 30 * time.Second
	}).WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second })
	return s3.New(s3.Options{
		Region:       awstest.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   httpClient,
		UsePathStyle: true,
	})
}

// copyEnv makes the test binary run one copy instead of tests: the
// benchmarks run s3copy (or the raw loop) in a process of its own so that
// its peak RSS is its own, not the benchmark's (which holds the seeded
// keys, the other runs' garbage and the peers' bookkeeping). The value is
// "mode endpoint srcBucket dstBucket concurrency", mode s3copy or raw.
const copyEnv = "S3COPY_BENCH_COPY"

// copyChild is the child side of childCopy: it copies src/ and prints
// "RESULT objects objects/s cpu-ms/object idle-RSS-MiB peak-RSS-MiB"
// (idle: the RSS just before the copy starts, for raw after listing the
// keys it copies; peak: the process's VmHWM at the end, its whole life).
// The peak is read here rather than from the parent's rusage: Linux
// carries the pre-exec address space's high-water mark into ru_maxrss,
// and os/exec's vfork shares the parent's (large) one.
func copyChild() {
	var mode, endpoint, src, dst string
	var conc int
	if _, err := fmt.Sscan(os.Getenv(copyEnv), &mode, &endpoint, &src, &dst, &conc); err != nil {
		fmt.Println("ERROR", err)
		os.Exit(2)
	}
	// The client the package documents for a copier of this concurrency
	// (the raw loop gets the same, so the two peaks compare).
	c := s3.New(s3.Options{
		Region:       awstest.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   s3copy.NewHTTPClient(conc),
		UsePathStyle: true,
	})
	ctx := context.Background()
	var keys []string
	if mode == "raw" {
		p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(src), Prefix: aws.String("src/")})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				fmt.Println("ERROR", err)
				os.Exit(2)
			}
			for _, o := range page.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
	}
	runtime.GC()
	debug.FreeOSMemory()
	idle := rssMiB()
	cpu0 := cpuTime()
	start := time.Now()
	var n int64
	switch mode {
	case "raw":
		if err := rawLoop(c, src, keys, dst, conc); err != nil {
			fmt.Println("ERROR", err)
			os.Exit(2)
		}
		n = int64(len(keys))
	default:
		cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Concurrency = conc }))
		res, err := cp.Copy(ctx, s3copy.Location{Bucket: src, Prefix: "src/"}, s3copy.Location{Bucket: dst, Prefix: "src/"})
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(2)
		}
		n = res.Stats.Copied
	}
	d := time.Since(start)
	fmt.Printf("RESULT %d %g %g %g %g\n", n, float64(n)/d.Seconds(), float64(cpuTime()-cpu0)/float64(time.Millisecond)/float64(n), idle, peakRSSMiB())
}

// procRun is one copy run in a process of its own.
type procRun struct {
	objects   int64
	rate, cpu float64 // objects/s, client CPU ms per object
	idle      float64 // RSS before the copy, MiB
	peak      float64 // the process's peak RSS (VmHWM), MiB
}

// childCopy runs one copy (mode s3copy or raw) from srcBucket/src/ into a
// new bucket in a child process and returns its figures.
func childCopy(b *testing.B, c *s3.Client, mode, srcBucket, dstName string, conc int) procRun {
	dst := mkBucket(b, c, dstName)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %s %s %d", copyEnv, mode, aws.ToString(c.Options().BaseEndpoint), srcBucket, dst, conc))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.Output()
	line, ok := "", false
	for l := range strings.SplitSeq(string(out), "\n") {
		if line, ok = strings.CutPrefix(l, "RESULT "); ok {
			break
		}
	}
	if err != nil || !ok {
		b.Fatalf("%s child: %v\n%s", mode, err, out)
	}
	var r procRun
	if _, err := fmt.Sscan(line, &r.objects, &r.rate, &r.cpu, &r.idle, &r.peak); err != nil {
		b.Fatalf("%s child: %q: %v", mode, line, err)
	}
	return r
}

// seed puts n objects of size bytes under prefix, in folders and
// partitions, 64 at a time, and returns their keys.
func seed(b *testing.B, c *s3.Client, bucket, prefix string, n, size int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%sfolder%d/dt=2024-01-%02d/part-%06d.json", prefix, i%9, i%28+1, i)
	}
	data := bytes.Repeat([]byte("x"), size)
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range 64 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[i]), Body: bytes.NewReader(data)}); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatal(err)
	}
	return keys
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// resetPeakRSS returns freed memory to the OS and clears the kernel's
// peak-RSS mark of this process (Linux), so that the next peak is the
// copier's own.
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// rssMiB reads the process's current RSS.
func rssMiB() float64 { return procStatusMiB("VmRSS:") }

// peakRSSMiB reads the process's peak RSS since the last reset.
func peakRSSMiB() float64 { return procStatusMiB("VmHWM:") }

// procStatusMiB reads the process's peak RSS since the last reset.
func procStatusMiB(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

// rawCopyLoop copies keys with a plain CopyObject loop at the given
// concurrency into a new bucket: the ceiling (it knows the keys without
// listing).
func rawCopyLoop(b *testing.B, c *s3.Client, bucket string, keys []string, dstBucket string, conc int) time.Duration {
	dstBucket = mkBucket(b, c, dstBucket)
	start := time.Now()
	if err := rawLoop(c, bucket, keys, dstBucket, conc); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// rawLoop is the raw CopyObject loop: conc workers, one request per key.
func rawLoop(c *s3.Client, bucket string, keys []string, dstBucket string, conc int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(keys) {
					return
				}
				_, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{
					Bucket: aws.String(dstBucket), Key: aws.String(keys[i]),
					CopySource: aws.String(bucket + "/" + keys[i]),
				})
				if err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	err, _ := failed.Load().(error)
	return err
}

// BenchmarkCopy20k copies 20,000 × 1 KiB objects on an out-of-process
// gofakes3 with a raw CopyObject loop and with s3copy, in the same run, and
// reports the rates, their ratio, the client CPU per object and peak RSS.
// The raw loop's best concurrency (64, 128 or 256) is found first; then
// raw runs at that concurrency alternate with s3copy runs with the default
// options (adaptive concurrency) and at a fixed 256, pairs times, and the best of each is kept,
// so that load from other processes on the shared cores skews no side.
// CPU per object is that of the 256-way runs. Every run copies into a
// bucket of its own. ratio-vs-raw is best against best; median-pair-ratio
// is the median over the pairs of back-to-back runs, which see the same
// load.
//
// Peak RSS is measured apart: s3copy and the raw loop, both at 256 and
// both on a client from s3copy.NewHTTPClient(256), each copy the tree
// again in a fresh process of their own (this test binary re-executed, see
// copyEnv), twice each, alternating. peak-RSS-MiB is the s3copy process's
// peak RSS over its whole life, start-up included, read from its own
// VmHWM; idle-RSS-MiB is its RSS just before the copy began;
// raw-peak-RSS-MiB is the raw loop's. proc-* are those processes' rates
// and CPU per object (cold connection pools: a first run's figures).
func BenchmarkCopy20k(b *testing.B) {
	const n, pairs = 20000, 3
	c := benchServer(b)
	ctx := context.Background()
	bucket := "bench"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	keys := seed(b, c, bucket, "src/", n, 1024)
	var rawBest float64
	libBest := map[int]float64{}
	libCPU, rawCPU := math.Inf(1), math.Inf(1)
	bestConc, adaptivePeak := 0, 0
	raw := func(name string, conc int) float64 {
		runtime.GC()
		cpu0 := cpuTime()
		d := rawCopyLoop(b, c, bucket, keys, name, conc)
		rate := n / d.Seconds()
		if rate > rawBest {
			rawBest, bestConc = rate, conc
		}
		if conc == 256 {
			rawCPU = min(rawCPU, float64(cpuTime()-cpu0)/float64(time.Millisecond)/n)
		}
		return rate
	}
	lib := func(name string, conc int) float64 {
		runtime.GC()
		cpu0 := cpuTime()
		cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) { o.Concurrency = conc }))
		res, err := cp.Copy(ctx, s3copy.Location{Bucket: bucket, Prefix: "src/"}, s3copy.Location{Bucket: mkBucket(b, c, name), Prefix: "src/"})
		if err != nil || res.Stats.Copied != n {
			b.Fatalf("%v %+v", err, res.Stats)
		}
		if res.Stats.Requests.Copy != n {
			b.Fatalf("%d CopyObject requests for %d objects", res.Stats.Requests.Copy, n)
		}
		libBest[conc] = max(libBest[conc], res.Stats.ObjectsPerSecond())
		if conc == 0 {
			adaptivePeak = max(adaptivePeak, res.Stats.PeakConcurrency)
		}
		if conc == 256 {
			libCPU = min(libCPU, float64(cpuTime()-cpu0)/float64(time.Millisecond)/n)
		}
		return res.Stats.ObjectsPerSecond()
	}
	var pairRatios []float64
	var procLib, procRaw []procRun
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, conc := range []int{64, 128, 256} {
			raw(fmt.Sprintf("raw-%d-%d", i, conc), conc)
		}
		for p := range pairs {
			r := raw(fmt.Sprintf("raw-%d-p%d", i, p), bestConc)
			l := lib(fmt.Sprintf("lib-%d-%d-d", i, p), 0) // the defaults: adaptive
			l = max(l, lib(fmt.Sprintf("lib-%d-%d-256", i, p), 256))
			pairRatios = append(pairRatios, l/r)
		}
		for p := range 2 {
			l := childCopy(b, c, "s3copy", bucket, fmt.Sprintf("proc-lib-%d-%d", i, p), 256)
			r := childCopy(b, c, "raw", bucket, fmt.Sprintf("proc-raw-%d-%d", i, p), 256)
			if l.objects != n || r.objects != n {
				b.Fatalf("own-process runs copied %d and %d objects", l.objects, r.objects)
			}
			procLib = append(procLib, l)
			procRaw = append(procRaw, r)
		}
	}
	slices.Sort(pairRatios)
	best := max(libBest[0], libBest[256])
	b.ReportMetric(pairRatios[len(pairRatios)/2], "median-pair-ratio")
	b.ReportMetric(best, "objects/s")
	b.ReportMetric(libBest[0], "objects/s-defaults")
	b.ReportMetric(float64(adaptivePeak), "defaults-peak-concurrency")
	b.ReportMetric(libBest[256], "objects/s-at-256")
	b.ReportMetric(rawBest, "raw-objects/s")
	b.ReportMetric(float64(bestConc), "raw-best-concurrency")
	b.ReportMetric(best/rawBest, "ratio-vs-raw")
	b.ReportMetric(libCPU, "cpu-ms/object")
	b.ReportMetric(rawCPU, "raw-cpu-ms/object")
	var peak, idle, rawPeak, procRate, procRawRate float64
	procCPU, procRawCPU := math.Inf(1), math.Inf(1)
	for _, r := range procLib {
		peak, idle = max(peak, r.peak), max(idle, r.idle)
		procRate, procCPU = max(procRate, r.rate), min(procCPU, r.cpu)
	}
	for _, r := range procRaw {
		rawPeak = max(rawPeak, r.peak)
		procRawRate, procRawCPU = max(procRawRate, r.rate), min(procRawCPU, r.cpu)
	}
	b.ReportMetric(peak, "peak-RSS-MiB")
	b.ReportMetric(idle, "idle-RSS-MiB")
	b.ReportMetric(rawPeak, "raw-peak-RSS-MiB")
	b.ReportMetric(procRate, "proc-objects/s")
	b.ReportMetric(procRawRate, "proc-raw-objects/s")
	b.ReportMetric(procCPU, "proc-cpu-ms/object")
	b.ReportMetric(procRawCPU, "proc-raw-cpu-ms/object")
}

// BenchmarkCopy200k copies 200,000 small objects and reports the client's
// peak RSS during the copy: listing is streamed, so memory stays bounded.
// inproc-* are measured in the benchmark's process (which also holds the
// seeding's leftovers); peak-RSS-MiB and idle-RSS-MiB come from the same
// copy run again in a process of its own, as in BenchmarkCopy20k.
func BenchmarkCopy200k(b *testing.B) {
	const n = 200000
	c := benchServer(b)
	ctx := context.Background()
	bucket := "bench"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		b.Fatal(err)
	}
	seed(b, c, bucket, "src/", n, 16)
	var rate, peak, base, procPeak, procIdle float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		runtime.GC()
		resetPeakRSS()
		base = rssMiB()
		// The Go heap in use, sampled through the run: flat if memory is
		// bounded, rising if anything grew with the object count.
		var firstHeap, lastHeap float64
		cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
			o.Concurrency = 256
			o.Progress = func(s s3copy.Stats) {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				h := float64(m.HeapInuse) / (1 << 20)
				if s.Copied < n/10 {
					firstHeap = max(firstHeap, h)
				} else if s.Copied >= n*9/10 && s.Copied < n {
					lastHeap = max(lastHeap, h)
				}
			}
		}))
		res, err := cp.Copy(ctx, s3copy.Location{Bucket: bucket, Prefix: "src/"}, s3copy.Location{Bucket: mkBucket(b, c, fmt.Sprintf("lib-%d", i)), Prefix: "src/"})
		if err != nil || res.Stats.Copied != n {
			b.Fatalf("%v %+v", err, res.Stats)
		}
		b.ReportMetric(firstHeap, "heap-MiB-first-10%")
		b.ReportMetric(lastHeap, "heap-MiB-last-10%")
		rate = res.Stats.ObjectsPerSecond()
		peak = max(peak, peakRSSMiB())
		// The same copy in a process of its own (see BenchmarkCopy20k).
		own := childCopy(b, c, "s3copy", bucket, fmt.Sprintf("proc-lib-%d", i), 256)
		if own.objects != n {
			b.Fatalf("own-process run copied %d objects", own.objects)
		}
		procPeak, procIdle = max(procPeak, own.peak), own.idle
	}
	b.ReportMetric(rate, "objects/s")
	b.ReportMetric(peak, "inproc-peak-RSS-MiB")
	b.ReportMetric(base, "inproc-start-RSS-MiB")
	b.ReportMetric(procPeak, "peak-RSS-MiB")
	b.ReportMetric(procIdle, "idle-RSS-MiB")
}
