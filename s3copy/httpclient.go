package s3copy

import (
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// NewHTTPClient returns the SDK's HTTP client with a connection pool sized
// for a copier of the given concurrency. The SDK's default keeps only 10
// idle connections per host: a copier running 256 requests at once then
// opens (and on AWS, TLS-handshakes) a new connection for most requests
// and closes it after, which costs far more client CPU and memory than the
// copies themselves. Pass it to the client:
//
//	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(s3copy.NewHTTPClient(256)))
func NewHTTPClient(concurrency int) *awshttp.BuildableClient {
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	// Room for the listing paginators and multipart bookkeeping too.
	idle := concurrency + DefaultListConcurrency + 16
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = max(t.MaxIdleConns, idle)
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, idle)
	})
}
