// Package sqstest starts local SQS, SNS and DynamoDB servers for the tests
// of code that uses them, the way net/http/httptest starts HTTP servers:
// one line in a test gives a server on 127.0.0.1 and SDK clients
// configured for it, and the server is stopped by process id when the
// test ends.
//
//	func TestOrders(t *testing.T) {
//		srv := sqstest.New(t) // fauxqs: SQS and SNS
//		queue := srv.NewQueue(t)
//		err := sendOrders(ctx, srv.SQS, queue) // the code under test
//		…
//	}
//
// [New] runs fauxqs, which serves SQS (the AWS JSON protocol of the
// current SDK: batches with attributes, long polling, visibility changes,
// ApproximateReceiveCount, RedrivePolicy to a DLQ) and SNS, whose
// subscriptions deliver to its queues. [NewDynamoDB] runs dynalite
// (conditional writes fail with ConditionalCheckFailedException, as on
// AWS). Both are npm servers run by Node.js from the install that `lakekit
// local install` makes; a test that finds none fails with the command to
// run:
//
//	go run github.com/lakekit/lakekit/cmd/lakekit@latest local install
//
// Each call starts a fresh server process (a few hundred milliseconds):
// tests that share one call New in a parent test and run subtests.
// fauxqs refuses message bodies with characters above U+FFFF, which real
// SQS accepts.
//
// # Concurrency
//
// A server and its clients may be used from parallel tests.
package sqstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Server is a running fauxqs: SQS and SNS on one endpoint.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint: region us-east-1, static
	// credentials, BaseEndpoint. Build other clients from it.
	Config aws.Config
	// SQS and SNS are clients for the server.
	SQS *sqs.Client
	SNS *sns.Client

	srv *awslocal.Server
}

// New starts fauxqs in a child process on 127.0.0.1 and stops it by
// process id when the test ends. It fails the test, naming the command
// that fixes it, when Node.js or the npm servers are not installed.
func New(tb testing.TB) *Server {
	tb.Helper()
	return awslocal.NewAs(tb, awslocal.Fauxqs, newServer)
}

// Start is [New] for programs that are not tests: the caller closes
// the server.
func Start(ctx context.Context) (*Server, error) {
	return awslocal.StartAs(ctx, awslocal.Fauxqs, newServer)
}

func newServer(srv *awslocal.Server) *Server {
	return &Server{Endpoint: srv.Endpoint, Config: srv.Config, SQS: srv.SQS(), SNS: srv.SNS(), srv: srv}
}

// NewQueue creates a queue with a name unique to the test and the given
// attributes (nil for none; "FifoQueue": "true" makes a FIFO queue, whose
// name ends in .fifo) and returns its URL. It fails the test when the
// queue cannot be created.
func (s *Server) NewQueue(tb testing.TB, attributes map[string]string) string {
	tb.Helper()
	name := awslocal.Name(tb, "q")
	if attributes["FifoQueue"] == "true" {
		name = name[:min(len(name), 75)] + ".fifo"
	}
	out, err := s.SQS.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: &name, Attributes: attributes})
	if err != nil {
		tb.Fatalf("sqstest: create queue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// Close stops the server. It is safe to call more than once; New
// calls it when the test ends.
func (s *Server) Close() error { return s.srv.Close() }

// DynamoDB is a running dynalite.
type DynamoDB struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint.
	Config aws.Config
	// Client is a DynamoDB client for the server.
	Client *dynamodb.Client

	srv *awslocal.Server
}

// NewDynamoDB starts dynalite in a child process on 127.0.0.1 and stops it
// by process id when the test ends. It fails the test, naming the command
// that fixes it, when Node.js or the npm servers are not installed.
func NewDynamoDB(tb testing.TB) *DynamoDB {
	tb.Helper()
	return awslocal.NewAs(tb, awslocal.Dynalite, newDynamoDB)
}

// StartDynamoDB is [NewDynamoDB] for programs that are not tests: the
// caller closes the server.
func StartDynamoDB(ctx context.Context) (*DynamoDB, error) {
	return awslocal.StartAs(ctx, awslocal.Dynalite, newDynamoDB)
}

func newDynamoDB(srv *awslocal.Server) *DynamoDB {
	return &DynamoDB{Endpoint: srv.Endpoint, Config: srv.Config, Client: srv.DynamoDB(), srv: srv}
}

// Close stops the server. It is safe to call more than once; NewDynamoDB
// calls it when the test ends.
func (d *DynamoDB) Close() error { return d.srv.Close() }
