package s3copy

import (
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// NewHTTPClient returns the SDK's HTTP client with a connection pool sized
// for a copier of the given concurrency (0: a copier of adaptive
// concurrency, which may reach DefaultMaxConcurrency; pass
// CopierOptions.MaxConcurrency if you set it). The SDK's default keeps only 10
// idle connections per host: a copier running 256 requests at once then
// opens (and on AWS, TLS-handshakes) a new connection for most requests
// and closes it after, which costs far more client CPU and memory than the
// copies themselves. The pool also caps connections per host at the same
// number: without a cap, a request that starts while another's connection
// is on its way back to the pool dials a new one, and a 256-way copy ends
// up holding about 370 connections (each with its buffers and two
// goroutines) for 256 requests. Connection buffers are 2 KiB each way
// instead of 4 KiB. Pass it to the client:
//
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(s3copy.NewHTTPClient(256)))
func NewHTTPClient(concurrency int) *awshttp.BuildableClient {
	if concurrency <= 0 {
		concurrency = DefaultMaxConcurrency
	}
	// Room for the listing paginators and multipart bookkeeping too.
	conns := concurrency + DefaultMaxListConcurrency + 16
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = max(t.MaxIdleConns, conns)
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, conns)
		t.MaxConnsPerHost = conns
		// A copy request is headers only and its answer a few hundred
		// bytes; larger bodies (listings) bypass the buffer. Half the
		// default 4 KiB per direction saves 2 KiB a connection, about 1 MiB
		// of live heap at 256 connections (and about 2 MiB of peak RSS in
		// BenchmarkCopy20k's own-process run).
		t.ReadBufferSize, t.WriteBufferSize = 2<<10, 2<<10
	})
}
