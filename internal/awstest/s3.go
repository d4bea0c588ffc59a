package awstest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 returns a client on a fresh in-process gofakes3 server (memory backend,
// plain HTTP), closed when the test ends. gofakes3 implements CopyObject,
// multipart upload, ranges, DeleteObjects and pagination, but not
// UploadPartCopy: use [S3Multipart] for that.
func S3(tb testing.TB) *s3.Client {
	tb.Helper()
	return S3Server(tb).S3()
}

// S3Server starts a fresh in-process gofakes3 server, closed when the test
// ends, and returns it with its endpoint.
func S3Server(tb testing.TB) *Server {
	tb.Helper()
	srv := StartS3()
	tb.Cleanup(func() { _ = srv.Close() })
	return srv
}

// S3ServerWrapped is S3Server on backend (a fresh memory backend when nil),
// with the server's handler passed through wrap first: a test counts,
// holds or answers requests there. The Server's S3 method builds clients
// for it, and it is closed when the test ends.
func S3ServerWrapped(tb testing.TB, backend gofakes3.Backend, wrap func(next http.Handler) http.Handler) *Server {
	tb.Helper()
	if backend == nil {
		backend = s3mem.New()
	}
	hs := httptest.NewServer(wrap(gofakes3.New(backend, gofakes3.WithLogger(gofakes3.DiscardLog())).Server()))
	srv := newServer("gofakes3", hs.URL, func() error { hs.Close(); return nil })
	tb.Cleanup(func() { _ = srv.Close() })
	return srv
}

// StartS3 starts an in-process gofakes3 server for programs that are not
// tests; the caller closes it.
func StartS3() *Server {
	faker := gofakes3.New(s3mem.New(), gofakes3.WithLogger(gofakes3.DiscardLog()))
	hs := httptest.NewServer(faker.Server())
	return newServer("gofakes3", hs.URL, func() error { hs.Close(); return nil })
}
