package s3copy_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/s3copy"
)

// faultProxy sits in front of an S3 server: it answers 503 SlowDown to a
// share of requests and drops the connection of another share, half of
// those before forwarding the request and half after it was served (the
// response is lost: the copy happened but the client does not know).
type faultProxy struct {
	srv       *httptest.Server
	mu        sync.Mutex
	rng       *rand.Rand
	slowDown  float64
	drop      float64
	slowDowns atomic.Int64
	drops     atomic.Int64
	passed    atomic.Int64
}

func newFaultProxy(t *testing.T, target string, slowDown, drop float64) *faultProxy {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{rng: rand.New(rand.NewPCG(42, 7)), slowDown: slowDown, drop: drop}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		x := p.rng.Float64()
		p.mu.Unlock()
		switch {
		case x < p.slowDown:
			p.slowDowns.Add(1)
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>fault</RequestId></Error>`)
		case x < p.slowDown+p.drop/2:
			p.drops.Add(1)
			hijackClose(w)
		case x < p.slowDown+p.drop:
			p.drops.Add(1)
			rp.ServeHTTP(httptest.NewRecorder(), r) // served, answer lost
			hijackClose(w)
		default:
			p.passed.Add(1)
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func hijackClose(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

// TestFaultsThrottleAndDrops: 5% SlowDown and 1% dropped connections on
// every request (listing, copy, verification); every object must end up
// copied and verified, and Stats must count the throttles.
func TestFaultsThrottleAndDrops(t *testing.T) {
	srv := awstest.S3Server(t)
	direct := srv.S3()
	sb, db := mkBucket(t, direct, "src"), mkBucket(t, direct, "dst")
	const n = 1000
	for i := range n {
		k := fmt.Sprintf("raw/f%d/p=%d/obj-%04d", i%5, i%7, i)
		put(t, direct, sb, k, body(k), nil)
	}
	proxy := newFaultProxy(t, srv.Endpoint, 0.05, 0.01)
	c := srv.S3(func(o *s3.Options) { o.BaseEndpoint = &proxy.srv.URL })
	cp := must(s3copy.New(c, func(o *s3copy.CopierOptions) {
		o.Concurrency = 32
		o.Verify = true
		o.MaxAttempts = 8
		o.MinBackoff = time.Millisecond
		o.MaxBackoff = 50 * time.Millisecond
	}))
	res, err := cp.Copy(context.Background(), s3copy.Location{Bucket: sb, Prefix: "raw/"}, s3copy.Location{Bucket: db, Prefix: "out/"})
	if err != nil {
		t.Fatalf("%v (%d failed)", err, len(res.Failed))
	}
	st := res.Stats
	t.Logf("elapsed %s proxy: %d SlowDown, %d dropped, %d passed; stats: throttles %d faults %d retries %d requests %+v",
		st.Elapsed, proxy.slowDowns.Load(), proxy.drops.Load(), proxy.passed.Load(), st.Throttles, st.Faults, st.Retries, st.Requests)
	if st.Copied != n || st.Failed != 0 {
		t.Fatalf("copied %d, failed %d", st.Copied, st.Failed)
	}
	if st.Throttles != proxy.slowDowns.Load() {
		t.Errorf("Stats.Throttles = %d, proxy answered SlowDown %d times", st.Throttles, proxy.slowDowns.Load())
	}
	if proxy.slowDowns.Load() < 30 || proxy.drops.Load() < 5 {
		t.Errorf("too few faults injected: %d/%d", proxy.slowDowns.Load(), proxy.drops.Load())
	}
	if st.Faults == 0 || st.Retries < st.Throttles+st.Faults {
		t.Errorf("faults %d retries %d", st.Faults, st.Retries)
	}
	// Check the destination directly, not through the proxy.
	got := listAll(t, direct, db, "out/")
	if len(got) != n {
		t.Fatalf("destination holds %d objects, want %d", len(got), n)
	}
	for i := range n {
		k := fmt.Sprintf("f%d/p=%d/obj-%04d", i%5, i%7, i)
		if got["out/"+k] != int64(len(body("raw/"+k))) {
			t.Fatalf("out/%s: size %d", k, got["out/"+k])
		}
	}
}
