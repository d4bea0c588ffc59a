package awstest

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"

	"github.com/lakekit/lakekit/internal/awslocal"
	"github.com/lakekit/lakekit/s3copy/s3test"
)

// S3 returns a client on a fresh in-process gofakes3 server (memory backend,
// plain HTTP), closed when the test ends: [s3test.New]'s client.
// gofakes3 does not implement UploadPartCopy: use [S3Multipart] for that.
func S3(tb testing.TB) *s3.Client {
	tb.Helper()
	return s3test.New(tb).Client
}

// S3Server starts a fresh in-process gofakes3 server, closed when the test
// ends, and returns it with its endpoint.
func S3Server(tb testing.TB) *Server {
	tb.Helper()
	return fromKit(s3test.New(tb))
}

// S3ServerWrapped is S3Server on backend (a fresh memory backend when nil),
// with the server's handler passed through wrap first: a test counts,
// holds or answers requests there. It is closed when the test ends.
func S3ServerWrapped(tb testing.TB, backend gofakes3.Backend, wrap func(next http.Handler) http.Handler) *Server {
	tb.Helper()
	return fromKit(s3test.New(tb, func(o *s3test.ServerOptions) { o.Backend, o.Wrap = backend, wrap }))
}

// StartS3 starts an in-process gofakes3 server for programs that are not
// tests; the caller closes it.
func StartS3() *Server {
	return fromKit(s3test.Start())
}

func fromKit(s *s3test.Server) *Server {
	return awslocal.NewServer("gofakes3", s.Endpoint, s.Close)
}
