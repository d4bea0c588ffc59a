package awslocal

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Region is the region every local client is configured with.
const Region = "us-east-1"

// Static credentials the local servers accept. s3rver checks signatures
// against its own fixed key pair, so every client uses it.
const (
	AccessKeyID     = "S3RVER"
	SecretAccessKey = "S3RVER"
)

// AccountID is the account id fauxqs and kinesis-local put in ARNs.
const AccountID = "000000000000"

// Server is one running local server.
type Server struct {
	// Name says which server this is: "gofakes3", "s3rver", "fauxqs",
	// "kinesis-local", "dynalite", "stepfunctions-local" or "wire".
	Name string
	// Endpoint is the base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint: region, static credentials and an
	// HTTP client that keeps enough idle connections for concurrent tests.
	Config aws.Config

	stop func() error
}

// Close stops the server. It is safe to call more than once.
func (s *Server) Close() error {
	if s == nil || s.stop == nil {
		return nil
	}
	stop := s.stop
	s.stop = nil
	return stop()
}

// NewServer describes a server running at endpoint; Close calls stop.
func NewServer(name, endpoint string, stop func() error) *Server {
	return &Server{Name: name, Endpoint: endpoint, Config: ClientConfig(endpoint), stop: stop}
}

// ClientConfig returns the aws.Config of clients for a local server at
// endpoint: [Region], the static credentials, BaseEndpoint and an HTTP
// client that keeps enough idle connections for concurrent tests.
func ClientConfig(endpoint string) aws.Config {
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		// Local benchmarks run hundreds of concurrent requests; the SDK's
		// default of 10 idle connections per host would churn through
		// ephemeral ports.
		t.MaxIdleConns = 1024
		t.MaxIdleConnsPerHost = 1024
		t.IdleConnTimeout = 30 * time.Second
	}).WithDialerOptions(func(d *net.Dialer) { d.Timeout = 5 * time.Second })
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   httpClient,
	}
}

// S3 returns an S3 client for the server, path-style as local servers need.
func (s *Server) S3(optFns ...func(*s3.Options)) *s3.Client {
	return s3.NewFromConfig(s.Config, append([]func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}, optFns...)...)
}

// SQS returns an SQS client for the server.
func (s *Server) SQS(optFns ...func(*sqs.Options)) *sqs.Client {
	return sqs.NewFromConfig(s.Config, optFns...)
}

// SNS returns an SNS client for the server.
func (s *Server) SNS(optFns ...func(*sns.Options)) *sns.Client {
	return sns.NewFromConfig(s.Config, optFns...)
}

// Kinesis returns a Kinesis client for the server.
func (s *Server) Kinesis(optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.NewFromConfig(s.Config, optFns...)
}

// StepFunctions returns a Step Functions client for the server.
func (s *Server) StepFunctions(optFns ...func(*sfn.Options)) *sfn.Client {
	return sfn.NewFromConfig(s.Config, optFns...)
}

// DynamoDB returns a DynamoDB client for the server.
func (s *Server) DynamoDB(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.NewFromConfig(s.Config, optFns...)
}

var nameSeq atomic.Uint64

// Name returns a unique resource name for a test: lower-case, at most 63
// characters, made of [a-z0-9-], so it is valid as an S3 bucket, SQS queue,
// SNS topic, Kinesis stream or DynamoDB table name.
func Name(tb testing.TB, prefix string) string {
	tb.Helper()
	var b strings.Builder
	for _, r := range strings.ToLower(prefix + "-" + tb.Name()) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	suffix := fmt.Sprintf("-%d-%04x", nameSeq.Add(1), rand.IntN(1<<16))
	if len(base) > 63-len(suffix) {
		base = strings.TrimRight(base[:63-len(suffix)], "-")
	}
	return base + suffix
}
