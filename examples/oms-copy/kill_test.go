package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// copyCounter counts the CopyObject requests a gofakes3 server receives,
// per source key, for the phase in progress.
type copyCounter struct {
	next     http.Handler
	requests atomic.Int64
	mu       sync.Mutex
	keys     map[string]int // source key → CopyObject requests this phase
}

func (c *copyCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if src := r.Header.Get("X-Amz-Copy-Source"); src != "" && r.Method == http.MethodPut {
		c.requests.Add(1)
		_, key, _ := strings.Cut(strings.TrimPrefix(src, "/"), "/")
		if k, err := url.PathUnescape(key); err == nil {
			key = k
		}
		c.mu.Lock()
		c.keys[key]++
		c.mu.Unlock()
	}
	c.next.ServeHTTP(w, r)
}

// reset starts a new phase and returns the previous one's per-key counts.
func (c *copyCounter) reset() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := c.keys
	c.keys = map[string]int{}
	c.requests.Store(0)
	return k
}

// buildCLI builds this command into dir.
func buildCLI(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "oms-copy")
	// go test puts its own GOROOT/bin first on the test's PATH, so "go" is
	// the go command running the test.
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type listed struct {
	size int64
	etag string
}

func listTree(t *testing.T, c *s3.Client, bucket, prefix string) map[string]listed {
	t.Helper()
	got := map[string]listed{}
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			got[strings.TrimPrefix(aws.ToString(o.Key), prefix)] = listed{aws.ToInt64(o.Size), aws.ToString(o.ETag)}
		}
	}
	return got
}

// readManifestFile parses a FileManifest file as a second process would
// find it: complete lines only. torn reports a last line with no newline.
func readManifestFile(t *testing.T, path string) (keys map[string]bool, torn bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys = map[string]bool{}
	if i := bytes.LastIndexByte(b, '\n'); i+1 < len(b) {
		torn = true
		b = b[:i+1]
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) != 3 {
			t.Fatalf("manifest line %q", sc.Text())
		}
		k, err := strconv.Unquote(f[2])
		if err != nil {
			t.Fatalf("manifest line %q: %v", sc.Text(), err)
		}
		keys[k] = true
	}
	return keys, torn
}

// TestKill9MidCopyResumes: the oms-copy binary copies a tree of 20,000
// objects with -manifest against a gofakes3 server in this process; it is
// killed with SIGKILL at a random point after some thousands of copies
// and run again. The second run must copy exactly the objects the
// manifest did not record (those copied but not yet recorded when killed
// are copied again, never missed), none it recorded, and leave the
// destination equal to the source: keys, sizes, ETags.
func TestKill9MidCopyResumes(t *testing.T) {
	n := 20000
	if testing.Short() || raceEnabled {
		n = 4000 // the server runs in this process: under -race it is several times slower
	}
	dir := t.TempDir()
	bin := buildCLI(t, dir)

	backend := s3mem.New()
	cc := &copyCounter{keys: map[string]int{}}
	hs := awstest.S3ServerWrapped(t, backend, func(next http.Handler) http.Handler { cc.next = next; return cc })
	c := hs.S3(func(o *s3.Options) { o.HTTPClient = s3copy.NewHTTPClient(64) })
	for _, b := range []string{"kill-src", "kill-dst"} {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	// The tree is seeded straight into the server's store, 8 writers at
	// once: through HTTP, 20,000 PutObjects took from 4 s to 45 s here
	// depending on the machine's load. Sizes and bytes vary, so do ETags.
	t0 := time.Now()
	var wg sync.WaitGroup
	var putErr atomic.Value
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < n; i += 8 {
				key := fmt.Sprintf("raw/d%02d/p=%d/o%05d", i%10, i%7, i)
				body := bytes.Repeat([]byte{byte('a' + i%26)}, 1+i%300)
				if _, err := backend.PutObject("kill-src", key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
					putErr.Store(err)
				}
			}
		})
	}
	wg.Wait()
	if err, ok := putErr.Load().(error); ok {
		t.Fatal(err)
	}
	t.Logf("seeded %d objects in %s", n, time.Since(t0).Round(time.Millisecond))

	manifest := filepath.Join(dir, "manifest.tsv")
	args := []string{"-src", "s3://kill-src/raw/", "-dst", "s3://kill-dst/out/", "-endpoint", hs.Endpoint,
		"-manifest", manifest, "-concurrency", "32", "-quiet"}
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+awstest.SecretAccessKey,
		"AWS_REGION="+awstest.Region, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE="+os.DevNull, "AWS_SHARED_CREDENTIALS_FILE="+os.DevNull)

	// Run 1, killed once a random number of copies (10%–70% of the tree)
	// reached the server.
	killAt := int64(n/10 + rand.IntN(n*6/10))
	var out1 bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out1, &out1
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	killed := false
	for !killed {
		select {
		case err := <-exited:
			t.Fatalf("run 1 ended by itself (%v) before %d copies (%d made):\n%s", err, killAt, cc.requests.Load(), out1.String())
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatalf("run 1 made only %d copies in 60 s:\n%s", cc.requests.Load(), out1.String())
		case <-tick.C:
			if cc.requests.Load() >= killAt {
				if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
	}
	tick.Stop()
	err := <-exited
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("run 1: %v, want killed by SIGKILL", err)
	}
	time.Sleep(50 * time.Millisecond) // let the server finish requests the dead process had sent
	copies1 := cc.reset()
	recorded, torn := readManifestFile(t, manifest)
	src := listTree(t, c, "kill-src", "raw/")
	dst1 := listTree(t, c, "kill-dst", "out/")
	// The manifest never names an object that was not copied.
	for k := range recorded {
		rel := strings.TrimPrefix(k, "raw/")
		if d, ok := dst1[rel]; !ok || d != src[rel] {
			t.Errorf("manifest records %q, but the destination holds %+v (source %+v)", k, d, src[rel])
		}
	}

	// Run 2 finishes the job.
	var out2 bytes.Buffer
	cmd = exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, &out2, &out2
	if err := cmd.Run(); err != nil {
		t.Fatalf("run 2: %v\n%s", err, out2.String())
	}
	copies2 := cc.reset()
	requests2 := 0
	for k, times := range copies2 {
		requests2 += times
		if recorded[k] {
			t.Errorf("run 2 copied %q, which the manifest recorded", k)
		}
	}
	t.Logf("objects %d; run 1 killed after %d CopyObject requests (%d objects), manifest recorded %d (torn last line: %v); run 2 copied %d objects in %d requests; copied by run 1 but not recorded, so copied again: %d",
		n, sumCounts(copies1), len(copies1), len(recorded), torn, len(copies2), requests2, len(copies2)-(n-len(copies1)))
	t.Logf("run 2 output:\n%s", out2.String())
	if len(copies2) != n-len(recorded) {
		t.Errorf("run 2 copied %d objects, want %d (objects %d − recorded %d)", len(copies2), n-len(recorded), n, len(recorded))
	}
	if !strings.Contains(out2.String(), fmt.Sprintf("%d skipped", len(recorded))) {
		t.Errorf("run 2 does not report %d skipped", len(recorded))
	}
	dst := listTree(t, c, "kill-dst", "out/")
	if len(dst) != len(src) || len(src) != n {
		t.Fatalf("destination holds %d objects, source %d, seeded %d", len(dst), len(src), n)
	}
	for k, s := range src {
		if dst[k] != s {
			t.Fatalf("out/%s: %+v, source %+v", k, dst[k], s)
		}
	}
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestMissingDestinationBucketCLI: a mistyped destination bucket ends the
// command at once with a message naming the bucket and the side, sends no
// CopyObject, and draws no progress bar of zeros.
func TestMissingDestinationBucketCLI(t *testing.T) {
	cc := &copyCounter{keys: map[string]int{}}
	hs := awstest.S3ServerWrapped(t, nil, func(next http.Handler) http.Handler { cc.next = next; return cc })
	c := hs.S3()
	ctx := context.Background()
	for _, b := range []string{"cli-src", "cli-dst"} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 200 {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cli-src"), Key: aws.String(fmt.Sprintf("raw/%03d", i)), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY": awstest.SecretAccessKey, "AWS_REGION": awstest.Region,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(k, v)
	}
	var out, bar bytes.Buffer
	err := run(ctx, flags{src: "s3://cli-src/raw/", dst: "s3://cli-dts/out/", endpoint: hs.Endpoint, concurrency: 16}, &out, &bar)
	var be *s3copy.BucketError
	if !errors.As(err, &be) || be.Bucket != "cli-dts" || be.Role != s3copy.RoleDestination {
		t.Fatalf("err = %v, want a BucketError for the destination", err)
	}
	t.Logf("oms-copy: %v", err)
	if cc.requests.Load() != 0 {
		t.Errorf("%d CopyObject requests", cc.requests.Load())
	}
	if out.Len() != 0 {
		t.Errorf("figures printed for a run that did nothing: %q", out.String())
	}
	if bar.Len() != 0 {
		t.Errorf("progress bar drawn for a run that did nothing: %q", bar.String())
	}
}
