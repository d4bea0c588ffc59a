package convert

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// The kill test's converter child reads these from its environment.
const (
	killChildEnv    = "LAKEPIPE_KILL_CHILD" // "1" selects child mode
	killEndpointEnv = "LAKEPIPE_KILL_ENDPOINT"
	killBucketEnv   = "LAKEPIPE_KILL_BUCKET"
	killRowsEnv     = "LAKEPIPE_KILL_ROWS"
)

const (
	killPrefix    = "refined/t"
	killPartition = "year=2026/month=12/day=02/"
)

// killRowReader streams rows id,blob of 480 pseudo-random letters: about
// 490 B per row, incompressible enough that Uncompressed pages make a file
// of several 5 MiB parts.
type killRowReader struct {
	rows, next int
	r          *rand.Rand
	pending    []byte
}

func newKillRowReader(rows int) *killRowReader {
	return &killRowReader{rows: rows, r: rand.New(rand.NewPCG(12, 14)), pending: []byte("id,blob\n")}
}

func (k *killRowReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(k.pending) == 0 {
			if k.next == k.rows {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			k.pending = strconv.AppendInt(k.pending[:0], int64(k.next), 10)
			k.pending = append(k.pending, ',')
			for range 480 {
				k.pending = append(k.pending, byte('a'+k.r.IntN(26)))
			}
			k.pending = append(k.pending, '\n')
			k.next++
		}
		c := copy(p[n:], k.pending)
		k.pending = k.pending[c:]
		n += c
	}
	return n, nil
}

func killS3Client(endpoint string) *s3.Client {
	return s3.New(s3.Options{
		Region: awstest.Region, BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(awstest.AccessKeyID, awstest.SecretAccessKey, ""),
	})
}

func killConverter(client *s3.Client, bucket, runID string) *Converter {
	sink := mustS3Sink(client, bucket, killPrefix, func(o *S3SinkOptions) { o.PartSize = s3copy.MinPartSize })
	return mustConverter(sink, func(o *ConverterOptions) {
		o.Mapping = []Mapping{{Source: "id", Column: Column{Type: TypeInt64}}, {Source: "blob"}}
		o.Partitions = ProcessingDatePartitions(time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC))
		o.Compression = Uncompressed
		o.RowGroupRows = 8192
		o.RunID = runID
	})
}

// TestConvertKillChild is the converter process of
// TestConvertKilledMidUpload; it runs only when that test starts it.
func TestConvertKillChild(t *testing.T) {
	if os.Getenv(killChildEnv) != "1" {
		t.Skip("the child process of TestConvertKilledMidUpload")
	}
	rows, _ := strconv.Atoi(os.Getenv(killRowsEnv))
	client := killS3Client(os.Getenv(killEndpointEnv))
	res, err := killConverter(client, os.Getenv(killBucketEnv), "").Convert(context.Background(), newKillRowReader(rows))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(res)
	fmt.Printf("RESULT %s\n", b)
}

// killServer is gofakes3 over HTTP, reporting the UploadPart requests it
// receives: when the hold-th arrives, it signals hit and holds the request
// until release is closed.
type killServer struct {
	h       http.Handler
	hold    int64
	parts   atomic.Int64
	creates atomic.Int64
	hit     chan struct{}
	release chan struct{}
	once    sync.Once
}

func (k *killServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.Method == http.MethodPut && q.Has("uploadId") && q.Has("partNumber"):
		if k.parts.Add(1) == k.hold {
			k.once.Do(func() { close(k.hit) })
			<-k.release
		}
	case r.Method == http.MethodPost && q.Has("uploads"):
		k.creates.Add(1)
	}
	k.h.ServeHTTP(w, r)
}

// TestConvertKilledMidUpload: a converter process SIGKILLed while it
// uploads a Parquet file leaves nothing visible in the destination
// partition (which keeps the earlier run's file), and the rerun publishes
// the whole partition once.
func TestConvertKilledMidUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("converts 30 MB twice in child processes")
	}
	const rows = 60_000        // ≈ 29 MB of CSV, a file of 6 parts
	hold := 1 + rand.Int64N(4) // kill during part 1…4 of 6
	if p, err := strconv.ParseInt(os.Getenv("LAKEPIPE_KILL_PART"), 10, 64); err == nil {
		hold = p // to replay a failure
	}
	t.Logf("kill while part %d is uploading (LAKEPIPE_KILL_PART=%d replays this)", hold, hold)
	ks := &killServer{hold: hold, hit: make(chan struct{}), release: make(chan struct{})}
	srv := awstest.S3ServerWrapped(t, nil, func(next http.Handler) http.Handler { ks.h = next; return ks })
	defer close(ks.release) // before the server closes at cleanup
	client := srv.S3()
	ctx := context.Background()
	bucket := "kill-test"
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	// An earlier run's file in the partition: a killed run must leave it.
	earlier, err := killConverter(client, bucket, "earlier").Convert(ctx, newKillRowReader(100))
	if err != nil {
		t.Fatal(err)
	}
	child := func() *exec.Cmd {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute) // only to end a hung child
		t.Cleanup(cancel)
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestConvertKillChild$", "-test.v")
		cmd.Env = append(os.Environ(), killChildEnv+"=1", killEndpointEnv+"="+srv.Endpoint,
			killBucketEnv+"="+bucket, killRowsEnv+"="+strconv.Itoa(rows))
		return cmd
	}

	// Run 1: killed while a part is on the wire.
	cmd := child()
	var out1 bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out1, &out1
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-ks.hit:
	case err := <-exited:
		t.Fatalf("child ended before part %d: %v\n%s", hold, err, out1.Bytes())
	case <-time.After(90 * time.Second):
		t.Fatal("child never reached the part to be killed at")
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	err = <-exited
	t.Logf("run 1 killed (%v) during part %d, after %d CreateMultipartUpload", err, hold, ks.creates.Load())
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != -1 {
		t.Fatalf("child was not killed by a signal: %v\n%s", err, out1.Bytes())
	}

	partition := killPrefix + "/" + killPartition
	listed := func(prefix string) []string {
		out, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		return keys
	}
	uploads := func() []string {
		out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, u := range out.Uploads {
			keys = append(keys, aws.ToString(u.Key))
		}
		return keys
	}
	wantEarlier := partition + earlier.Files[0].Name[len(killPartition):]
	if got := listed(""); len(got) != 1 || got[0] != wantEarlier {
		t.Fatalf("after the kill the bucket lists %q, want only the earlier run's %s", got, wantEarlier)
	}
	orphans := uploads()
	t.Logf("after the kill: partition lists only %s; incomplete multipart uploads: %q", wantEarlier, orphans)

	// Run 2: the rerun, to completion.
	cmd = child()
	var out2 bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out2, &out2
	if err := cmd.Run(); err != nil {
		t.Fatalf("rerun: %v\n%s", err, out2.Bytes())
	}
	var res Result
	sc := bufio.NewScanner(&out2)
	for sc.Scan() {
		if b, ok := bytes.CutPrefix(sc.Bytes(), []byte("RESULT ")); ok {
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
		}
	}
	if res.Rows != rows || len(res.Files) != 1 {
		t.Fatalf("rerun result rows %d files %+v", res.Rows, res.Files)
	}
	got := listed("")
	if len(got) != 1 || got[0] != killPrefix+"/"+res.Files[0].Name {
		t.Fatalf("after the rerun the bucket lists %q, want only %s", got, res.Files[0].Name)
	}
	// Every row once, read back with parquet-go.
	sink := mustS3Sink(client, bucket, killPrefix)
	f, err := sink.Open(ctx, res.Files[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, f.Size())
	if err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, rows)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[0].Pages()
		for {
			p, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			vals := make([]parquet.Value, p.NumValues())
			n, _ := p.Values().ReadValues(vals)
			for _, v := range vals[:n] {
				id := v.Int64()
				if id < 0 || id >= rows || seen[id] {
					t.Fatalf("id %d out of range or twice", id)
				}
				seen[id] = true
			}
		}
		pages.Close()
	}
	for i, ok := range seen {
		if !ok {
			t.Fatalf("id %d missing", i)
		}
	}
	after := uploads()
	t.Logf("rerun: %d rows in 1 object of %d B (%s), %d UploadPart and %d CreateMultipartUpload requests over both runs; incomplete multipart uploads now: %q",
		res.Rows, res.Files[0].Bytes, res.Files[0].Name, ks.parts.Load(), ks.creates.Load(), after)
	if len(orphans) != 1 || len(res.AbortedUploads) != 1 || killPrefix+"/"+res.AbortedUploads[0] != orphans[0] {
		t.Fatalf("rerun aborted %q, want the killed run's %q", res.AbortedUploads, orphans)
	}
	if len(after) != 0 {
		t.Fatalf("the killed run's multipart upload is still open after the rerun: %q", after)
	}
}

// TestConvertAbortsOrphanUploads: a rerun aborts the incomplete uploads of
// the files it replaces, started before it, and no other.
func TestConvertAbortsOrphanUploads(t *testing.T) {
	client := awstest.S3(t)
	ctx := context.Background()
	bucket := awstest.Name(t, "lake")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	start := func(name string) {
		key := killPrefix + "/" + killPartition + name
		if _, err := client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key}); err != nil {
			t.Fatal(err)
		}
	}
	start("part-mine-00000.parquet")  // a killed run of the same RunID: its own key
	start("part-other-00000.parquet") // another input's run (KeepOtherRuns)
	start("notes.txt")                // not a data file
	sink := mustS3Sink(client, bucket, killPrefix)
	res, err := mustConverter(sink, func(o *ConverterOptions) {
		o.Partitions = ProcessingDatePartitions(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC))
		o.RunID = "mine"
		o.KeepOtherRuns = true
	}).Convert(ctx, strings.NewReader("a,b\nx,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res.AbortedUploads) != "["+killPartition+"part-mine-00000.parquet]" {
		t.Fatalf("aborted %q", res.AbortedUploads)
	}
	out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, u := range out.Uploads {
		left = append(left, path.Base(aws.ToString(u.Key)))
	}
	slices.Sort(left)
	if fmt.Sprint(left) != "[notes.txt part-other-00000.parquet]" {
		t.Fatalf("uploads left %q", left)
	}
}
