package s3copy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"net/http"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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

func testPacer(min, max time.Duration) *pacer {
	o := CopierOptions{MinBackoff: min, MaxBackoff: max}
	if err := o.setDefaults(); err != nil {
		panic(err)
	}
	return newPacer(&o)
}

func TestPacerAdapts(t *testing.T) {
	p := testPacer(10*time.Millisecond, 80*time.Millisecond)
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
	p = testPacer(time.Second, 8*time.Second)
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

func TestParseCopyResult(t *testing.T) {
	for _, tc := range []struct {
		name, body    string
		etag, crc     string
		isErr, nilRes bool
		wantErr       bool
	}{
		{name: "s3", body: `<?xml version="1.0" encoding="UTF-8"?>
<CopyObjectResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;9b2cf535f27731c974343645a3985328&quot;</ETag><ChecksumCRC32C>yZRlqg==</ChecksumCRC32C></CopyObjectResult>`,
			etag: `"9b2cf535f27731c974343645a3985328"`, crc: "yZRlqg=="},
		{name: "plain quotes", body: `<CopyObjectResult><ETag>"abc"</ETag><LastModified>2024-01-02T03:04:05Z</LastModified></CopyObjectResult>`, etag: `"abc"`},
		{name: "keep-alive whitespace then error", body: "  \n\n <?xml version=\"1.0\"?><!-- x --><Error><Code>InternalError</Code></Error>", isErr: true, nilRes: true},
		{name: "empty", body: " \n", nilRes: true},
		{name: "other root", body: `<ListBucketResult></ListBucketResult>`, nilRes: true, wantErr: true},
		{name: "garbage", body: `not xml`, nilRes: true, wantErr: true},
		{name: "bad time", body: `<CopyObjectResult><LastModified>yesterday</LastModified></CopyObjectResult>`, nilRes: true, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, isErr, err := parseCopyResult([]byte(tc.body))
			if isErr != tc.isErr || (err != nil) != tc.wantErr || (res == nil) != tc.nilRes {
				t.Fatalf("got %+v %v %v", res, isErr, err)
			}
			if res != nil {
				if got := derefString(res.ETag); got != tc.etag {
					t.Errorf("ETag %q, want %q", got, tc.etag)
				}
				if got := derefString(res.ChecksumCRC32C); got != tc.crc {
					t.Errorf("CRC32C %q, want %q", got, tc.crc)
				}
				if res.LastModified == nil || res.LastModified.Year() != 2024 {
					t.Errorf("LastModified %v", res.LastModified)
				}
			}
		})
	}
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestCopyResultDeserializer sends CopyObject through a real client with
// the copier's options to a server answering canned responses: results are
// decoded, and errors (a 200 with an <Error> body included) come out as
// the SDK's own, so classify sorts them as before.
func TestCopyResultDeserializer(t *testing.T) {
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	for _, tc := range []struct {
		name    string
		answer  answer
		etag    string
		sse     types.ServerSideEncryption
		code    string // API error code wanted, "" for success
		class   errClass
		wantErr bool
	}{
		{name: "ok", answer: answer{200, map[string]string{"x-amz-server-side-encryption": "aws:kms"},
			`<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;abc&quot;</ETag></CopyObjectResult>`},
			etag: `"abc"`, sse: types.ServerSideEncryptionAwsKms},
		{name: "200 error", answer: answer{200, nil, `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>`},
			code: "InternalError", class: errFault, wantErr: true},
		{name: "503", answer: answer{503, nil, `<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>`},
			code: "SlowDown", class: errThrottle, wantErr: true},
		{name: "412", answer: answer{412, nil, `<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`},
			code: "PreconditionFailed", class: errFatal, wantErr: true},
		{name: "garbage 200", answer: answer{200, nil, `<Foo/>`}, class: errFault, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.answer.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.answer.status)
				io.WriteString(w, tc.answer.body)
			}))
			defer srv.Close()
			c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
				Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")})
			out, err := c.CopyObject(context.Background(), &s3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("k"), CopySource: aws.String("src/k")}, copyObjectOpts)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v", err)
			}
			if err != nil {
				if got := classify(err); got != tc.class {
					t.Errorf("classify %v, want %v (%v)", got, tc.class, err)
				}
				var ae smithy.APIError
				if tc.code != "" && (!errors.As(err, &ae) || ae.ErrorCode() != tc.code) {
					t.Errorf("error %v, want code %s", err, tc.code)
				}
				return
			}
			if got := aws.ToString(out.CopyObjectResult.ETag); got != tc.etag {
				t.Errorf("ETag %q, want %q", got, tc.etag)
			}
			if out.ServerSideEncryption != tc.sse {
				t.Errorf("SSE %q, want %q", out.ServerSideEncryption, tc.sse)
			}
		})
	}
}

// FuzzParseCopyResult: any CopyObject answer body decodes without panicking,
// and a body whose first element is <Error> is always reported as one.
func FuzzParseCopyResult(f *testing.F) {
	for _, s := range []string{
		`<?xml version="1.0" encoding="UTF-8"?><CopyObjectResult><LastModified>2024-01-02T03:04:05.000Z</LastModified><ETag>&quot;abc&quot;</ETag></CopyObjectResult>`,
		"  \n<Error><Code>InternalError</Code></Error>", "", "<", "<?", "<!-- <Error> -->", "<CopyObjectResult><ETag>&#34;x&#34;</ETag>",
		"<CopyObjectResult><LastModified></LastModified></CopyObjectResult>",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, isErr, err := parseCopyResult(body)
		if isErr && (res != nil || err != nil) {
			t.Fatalf("error body with result %+v / %v", res, err)
		}
		if name, _, ok := rootElement(body); ok && name == "Error" && !isErr {
			t.Fatalf("<Error> root not reported: %q", body)
		}
	})
}

func TestUnescapeXML(t *testing.T) {
	for in, want := range map[string]string{
		`&quot;abc&quot;`:            `"abc"`,
		`&#34;x&#x22;`:               `"x"`,
		`a &amp; b &lt;c&gt; &apos;`: `a & b <c> '`,
		`AT&T`:                       `AT&T`,
		`&bogus; &#xZZ; &#;`:         `&bogus; &#xZZ; &#;`,
		`&amp`:                       `&amp`,
		`&#x1F600;`:                  "\U0001F600",
	} {
		if got := unescapeXML([]byte(in)); got != want {
			t.Errorf("unescapeXML(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzReadManifest: readManifest never panics, never claims more bytes
// than it was given, and the complete lines it accepted read back alike
// when read again alone (what a reopened, truncated file holds).
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(formatManifestLine("a", `"e"`, 1)+formatManifestLine("b\tc", `"f"`, 2)), true)
	f.Add([]byte("1\t\"e\"\t\"a\"\n2\t\"e"), true)
	f.Add([]byte("1\t\"e\"\t\"a\"\ngarbage\n"), false)
	f.Add([]byte("\n"), true)
	f.Fuzz(func(t *testing.T, data []byte, torn bool) {
		done := map[string]manifestEntry{}
		good, err := readManifest(bytes.NewReader(data), "fuzz", torn, done)
		if good < 0 || good > int64(len(data)) {
			t.Fatalf("good %d of %d bytes", good, len(data))
		}
		if err != nil {
			var me *ManifestError
			if !errors.As(err, &me) || me.Line < 1 || len(me.Text) > 64 {
				t.Fatalf("error %v", err)
			}
			return
		}
		again := map[string]manifestEntry{}
		if g2, err := readManifest(bytes.NewReader(data[:good]), "fuzz", false, again); err != nil || g2 != good || len(again) != len(done) {
			t.Fatalf("re-read of the %d good bytes: %d, %v, %d entries of %d", good, g2, err, len(again), len(done))
		}
		if !torn && good != int64(len(data)) {
			t.Fatalf("without tornTail all %d bytes must count, got %d", len(data), good)
		}
	})
}

// fakeClock is a clock whose Sleep advances Now.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }
func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.t = c.t.Add(d)
	return nil
}

func TestPrefixPacers(t *testing.T) {
	clk := &fakeClock{t: time.Unix(0, 0)}
	pp := &prefixPacers{now: clk.now, sleep: clk.sleep, m: map[string]*prefixState{}}
	// 100 requests in flight on a/, one throttled after 100 ms: a/ is paced
	// at 0.7·100/0.1 s = 700/s; b/ is not.
	var states []*prefixState
	for range 100 {
		s, _ := pp.start(context.Background(), "a/")
		states = append(states, s)
	}
	b, _ := pp.start(context.Background(), "b/")
	clk.t = clk.t.Add(100 * time.Millisecond)
	pp.done("a/", states[0], true, 100*time.Millisecond)
	if got := pp.rate("a/"); got != 700 {
		t.Fatalf("a/ paced at %v/s, want 700", got)
	}
	pp.done("b/", b, false, 100*time.Millisecond)
	if got := pp.rate("b/"); got != 0 {
		t.Fatalf("b/ paced at %v/s", got)
	}
	// A second throttle within 500 ms does not cut again; one after does.
	pp.done("a/", states[1], true, 100*time.Millisecond)
	clk.t = clk.t.Add(500 * time.Millisecond)
	pp.done("a/", states[2], true, 100*time.Millisecond)
	if got := pp.rate("a/"); got < 489.99 || got > 490.01 {
		t.Fatalf("after two throttles 500 ms apart: %v/s, want 490", got)
	}
	// Paced starts are spaced 1/490 s apart.
	start := clk.t
	for range 49 {
		s, _ := pp.start(context.Background(), "a/")
		states = append(states, s)
	}
	if d := clk.t.Sub(start); d < 97*time.Millisecond || d > 99*time.Millisecond {
		t.Fatalf("49 paced starts took %v, want 48/490 s", d)
	}
	// Successes 500 ms after the cut raise the rate 10% per 100 ms.
	clk.t = clk.t.Add(500 * time.Millisecond)
	pp.done("a/", states[3], false, 100*time.Millisecond)
	if got := pp.rate("a/"); got < 538.9 || got > 539.1 {
		t.Fatalf("after a success: %v/s, want 539", got)
	}
	// A second with nothing held back unpaces the prefix; idle entries go.
	clk.t = clk.t.Add(2 * time.Second)
	s, _ := pp.start(context.Background(), "a/")
	if got := pp.rate("a/"); got != 0 {
		t.Fatalf("idle prefix still paced at %v/s", got)
	}
	pp.done("a/", s, false, time.Millisecond)
	for _, s := range states[4:] {
		pp.done("a/", s, false, time.Millisecond)
	}
	if len(pp.m) != 0 {
		t.Fatalf("%d entries left", len(pp.m))
	}
}

func TestPaceKey(t *testing.T) {
	for _, tc := range []struct{ prefix, key, want string }{
		{"raw/", "raw/folder1/sub1/dt=1/a", "raw/folder1/"},
		{"raw/", "raw/top", "raw/"},
		{"", "a/b", "a/"},
		{"raw/", "other/x", "other/"},
	} {
		if got := paceKey(Location{Prefix: tc.prefix}, tc.key); got != tc.want {
			t.Errorf("paceKey(%q, %q) = %q, want %q", tc.prefix, tc.key, got, tc.want)
		}
	}
}
