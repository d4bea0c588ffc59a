// Package kinesistest starts local Kinesis Data Streams and Firehose
// servers for the tests of code that uses them, the way net/http/httptest
// starts HTTP servers: one line in a test gives a server on 127.0.0.1 and
// an SDK client configured for it, stopped when the test ends.
//
//	func TestClicks(t *testing.T) {
//		srv := kinesistest.New(t) // kinesis-local
//		stream := srv.NewStream(t, 2)   // two shards, ACTIVE
//		err := publish(ctx, srv.Client, stream) // the code under test
//		…
//	}
//
// [New] runs kinesis-local (PutRecords, ListShards, shard iterators,
// GetRecords, addressing by StreamARN), an npm server run by Node.js from
// the install that `lakekit local install` makes; a test that finds none
// fails with the command to run:
//
//	go run github.com/lakekit/lakekit/cmd/lakekit@latest local install
//
// Firehose has no local server; [NewFirehose] serves its wire protocol
// (AWS JSON 1.1, SigV4 checked) in process, keeps the records each
// delivery stream accepted, applies the service's batch limits, and fails
// entries on request the way the service does under load.
//
// # Concurrency
//
// Servers and their clients may be used from parallel tests.
package kinesistest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Server is a running kinesis-local.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint: region us-east-1, static
	// credentials, BaseEndpoint. Build other clients from it.
	Config aws.Config
	// Client is a Kinesis client for the server.
	Client *kinesis.Client

	srv *awslocal.Server
}

// New starts kinesis-local in a child process on 127.0.0.1 and stops
// it by process id when the test ends. It fails the test, naming the
// command that fixes it, when Node.js or the npm servers are not installed.
func New(tb testing.TB) *Server {
	tb.Helper()
	return awslocal.NewAs(tb, awslocal.KinesisLocal, newServer)
}

// Start is [New] for programs that are not tests: the caller closes
// the server.
func Start(ctx context.Context) (*Server, error) {
	return awslocal.StartAs(ctx, awslocal.KinesisLocal, newServer)
}

func newServer(srv *awslocal.Server) *Server {
	return &Server{Endpoint: srv.Endpoint, Config: srv.Config, Client: srv.Kinesis(), srv: srv}
}

// NewStream creates a stream with a name unique to the test and the given
// number of shards, waits until it is ACTIVE, and returns its name. It
// fails the test when the stream cannot be had.
func (s *Server) NewStream(tb testing.TB, shards int32) string {
	tb.Helper()
	name := awslocal.Name(tb, "s")
	if err := s.CreateStream(context.Background(), name, shards); err != nil {
		tb.Fatal(err)
	}
	return name
}

// CreateStream is [Server.NewStream] for programs that are not tests: it
// creates the named stream with the given number of shards and waits
// (up to 30 s) until it is ACTIVE.
func (s *Server) CreateStream(ctx context.Context, name string, shards int32) error {
	if _, err := s.Client.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: &name, ShardCount: &shards}); err != nil {
		return fmt.Errorf("kinesistest: create stream %s: %w", name, err)
	}
	w := kinesis.NewStreamExistsWaiter(s.Client, func(o *kinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &kinesis.DescribeStreamInput{StreamName: &name}, 30*time.Second); err != nil {
		return fmt.Errorf("kinesistest: stream %s never became ACTIVE: %w", name, err)
	}
	return nil
}

// StreamARN returns the ARN kinesis-local gives a stream of this name.
func StreamARN(name string) string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", awslocal.Region, awslocal.AccountID, name)
}

// Close stops the server. It is safe to call more than once; New
// calls it when the test ends.
func (s *Server) Close() error { return s.srv.Close() }
