package s3copy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"net/http"
)

func respErr(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want errClass
	}{
		{"slowdown", respErr(503, &smithy.GenericAPIError{Code: "SlowDown"}), errThrottle},
		{"503 no code", respErr(503, errors.New("x")), errThrottle},
		{"429", respErr(429, errors.New("x")), errThrottle},
		{"throttling code", &smithy.GenericAPIError{Code: "Throttling"}, errThrottle},
		{"500", respErr(500, &smithy.GenericAPIError{Code: "InternalError"}), errFault},
		{"reset", &smithyhttp.RequestSendError{Err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}}, errFault},
		{"eof", fmt.Errorf("wrapped: %w", io.ErrUnexpectedEOF), errFault},
		{"deserialize", &smithy.DeserializationError{Err: io.EOF}, errFault},
		{"access denied", respErr(403, &smithy.GenericAPIError{Code: "AccessDenied"}), errFatal},
		{"no such key", respErr(404, &smithy.GenericAPIError{Code: "NoSuchKey"}), errFatal},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), errFatal},
		{"deadline", &smithyhttp.RequestSendError{Err: context.DeadlineExceeded}, errFatal},
	} {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("%s: classify = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestPacerAdapts(t *testing.T) {
	p := newPacer(10*time.Millisecond, 80*time.Millisecond)
	if p.current() != 0 {
		t.Fatal("a fresh pacer must not pace")
	}
	want := []time.Duration{10, 20, 40, 80, 80}
	for _, w := range want {
		p.backoff()
		if p.current() != w*time.Millisecond {
			t.Fatalf("after backoff: %s, want %s", p.current(), w*time.Millisecond)
		}
	}
	steps := 0
	for p.current() > 0 {
		p.success()
		steps++
	}
	// 80 → 60 → 45 → 33.75 → 25.3 → 18.98 → 14.2 → 10.7 → 8 (< min: 0)
	if steps != 8 {
		t.Errorf("decayed to zero in %d successes, want 8", steps)
	}
	// While paced, reservations are spaced by the sleep: the n-th waiter
	// is scheduled n sleeps after the first (a 1 s sleep makes the check
	// immune to scheduling delays).
	p = newPacer(time.Second, 8*time.Second)
	p.backoff()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = p.wait(ctx) // cancelled: reserves its slot but does not sleep
	p.mu.Lock()
	first := p.next
	p.mu.Unlock()
	for range 4 {
		_ = p.wait(ctx)
	}
	p.mu.Lock()
	spread := p.next.Sub(first)
	p.mu.Unlock()
	if spread != 4*time.Second {
		t.Errorf("4 more reservations at 1s spacing spread over %s, want 4s", spread)
	}
}

func TestEscapeKey(t *testing.T) {
	for in, want := range map[string]string{
		"a/b.txt":           "a/b.txt",
		"year=2024/x y.csv": "year=2024/x%20y.csv",
		"a+b%c":             "a%2Bb%25c",
		"日":                 "%E6%97%A5",
		"q?h#":              "q%3Fh%23",
		"$&,:;=@~-_.":       "$&,:;=@~-_.",
	} {
		if got := escapeKey(in); got != want {
			t.Errorf("escapeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzManifestLine(f *testing.F) {
	f.Add(formatManifestLine("a/b c", `"0123"`, 42))
	f.Add("12\t\"etag\"\t\"key\"")
	f.Add("-1\tx\t\"k\"")
	f.Add("1\t\t\"\"")
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, line string) {
		key, e, ok := parseManifestLine(line)
		if !ok {
			return
		}
		if key == "" || e.size < 0 || len(key) > MaxKeyLength {
			t.Fatalf("accepted %q → %q %+v", line, key, e)
		}
		// What we write for an accepted entry reads back the same.
		k2, e2, ok2 := parseManifestLine(formatManifestLine(key, e.etag, e.size)[:len(formatManifestLine(key, e.etag, e.size))-1])
		if !ok2 || k2 != key || e2.size != e.size {
			t.Fatalf("round trip of %q: %q %+v %v", line, k2, e2, ok2)
		}
	})
}
