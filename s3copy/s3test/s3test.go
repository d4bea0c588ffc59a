// Package s3test starts local S3 servers for the tests of code that uses
// S3, the way net/http/httptest starts HTTP servers: one line in a test
// gives a server on 127.0.0.1 and an SDK client configured for it, and the
// server stops when the test ends.
//
//	func TestArchive(t *testing.T) {
//		srv := s3test.New(t) // in-process gofakes3, fresh per call
//		bucket := srv.NewBucket(t)
//		err := archive(ctx, srv.Client, bucket) // the code under test
//		…
//	}
//
// [New] is gofakes3 (github.com/johannesboyne/gofakes3) in process:
// fast, in memory, with CopyObject, multipart upload, ranges,
// DeleteObjects and pagination, but not UploadPartCopy. [NewMultipart]
// is s3rver, an npm server that implements UploadPartCopy with
// CopySourceRange: disk-backed and slower, for multipart copies. It runs
// under Node.js from the npm servers that `lakekit local install`
// installs; a test that finds none fails with the command to run:
//
//	go run github.com/lakekit/lakekit/cmd/lakekit@latest local install
//
// Every server speaks plain HTTP (over TLS the SDK's streaming checksums
// would be stored as object bytes by gofakes3) and takes the static
// credentials in the clients' Config. Clients use path-style addressing.
//
// Programs that are not tests (a local runner, an Example) use [Start] and
// [StartMultipart] and close the server themselves.
//
// # Concurrency
//
// A Server and its Client may be used from parallel tests.
package s3test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Server is a running local S3 server.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint: region us-east-1, static
	// credentials, BaseEndpoint. Build other clients from it.
	Config aws.Config
	// Client is an S3 client for the server, path-style.
	Client *s3.Client

	srv *awslocal.Server
}

// ServerOptions configures the in-process server of [New] and
// [Start].
type ServerOptions struct {
	// Backend stores the buckets and objects. Nil means a fresh in-memory
	// backend (gofakes3's s3mem).
	Backend gofakes3.Backend
	// Wrap, when set, wraps the server's handler: a test counts, delays or
	// answers requests there before gofakes3 sees them. Nil means none.
	Wrap func(next http.Handler) http.Handler
}

// New starts an in-process gofakes3 server on 127.0.0.1, closed when
// the test ends.
func New(tb testing.TB, optFns ...func(*ServerOptions)) *Server {
	tb.Helper()
	s := Start(optFns...)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Start is [New] for programs that are not tests: the caller closes
// the server.
func Start(optFns ...func(*ServerOptions)) *Server {
	var o ServerOptions
	for _, fn := range optFns {
		fn(&o)
	}
	if o.Backend == nil {
		o.Backend = s3mem.New()
	}
	var h http.Handler = gofakes3.New(o.Backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()
	if o.Wrap != nil {
		h = o.Wrap(h)
	}
	hs := httptest.NewServer(h)
	return newServer(awslocal.NewServer("gofakes3", hs.URL, func() error { hs.Close(); return nil }))
}

// NewMultipart starts s3rver, the local S3 server that implements
// UploadPartCopy with CopySourceRange, in a child process on 127.0.0.1
// with its own scratch directory, and stops it by process id when the
// test ends. It fails the test, naming the command that fixes it, when
// Node.js or the npm servers are not installed.
func NewMultipart(tb testing.TB) *Server {
	tb.Helper()
	return awslocal.NewAs(tb, awslocal.S3rver, newServer)
}

// StartMultipart is [NewMultipart] for programs that are not tests:
// the caller closes the server.
func StartMultipart(ctx context.Context) (*Server, error) {
	return awslocal.StartAs(ctx, awslocal.S3rver, newServer)
}

func newServer(srv *awslocal.Server) *Server {
	return &Server{Endpoint: srv.Endpoint, Config: srv.Config, Client: srv.S3(), srv: srv}
}

// NewClient returns another S3 client for the server (path-style), with
// optFns applied after the server's settings: a test sets retries, a
// checksum policy or middleware there.
func (s *Server) NewClient(optFns ...func(*s3.Options)) *s3.Client {
	return s.srv.S3(optFns...)
}

// NewBucket creates a bucket with a name unique to the test (derived from
// tb.Name(), valid as an S3 bucket name) and returns the name. It fails the
// test when the bucket cannot be created.
func (s *Server) NewBucket(tb testing.TB) string {
	tb.Helper()
	name := awslocal.Name(tb, "b")
	if _, err := s.Client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &name}); err != nil {
		tb.Fatalf("s3test: create bucket %s: %v", name, err)
	}
	return name
}

// Close stops the server. It is safe to call more than once; New and
// NewMultipart call it when the test ends.
func (s *Server) Close() error {
	return s.srv.Close()
}
