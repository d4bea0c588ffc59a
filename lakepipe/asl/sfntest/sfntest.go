// Package sfntest starts a local Step Functions server for the tests of
// code that creates or runs state machines, the way net/http/httptest
// starts HTTP servers: one line in a test gives a server on 127.0.0.1 and
// an SDK client configured for it, stopped by process id when the test
// ends.
//
//	func TestDefinitionIsAccepted(t *testing.T) {
//		srv := sfntest.New(t) // stepfunctions-local
//		arn := srv.NewStateMachine(t, definition)
//		…
//	}
//
// The server is stepfunctions-local, an npm server run by Node.js from the
// install that `lakekit local install` makes; a test that finds none fails
// with the command to run:
//
//	go run github.com/lakekit/lakekit/cmd/lakekit@latest local install
//
// It checks definitions at CreateStateMachine and executes Pass, Choice,
// Wait, Succeed and Fail states, not Map; where it differs from AWS, follow
// AWS: its Pass states ignore Parameters, it refuses "ResultPath": null,
// and an execution that ends in a Fail state reports SUCCEEDED (its history
// shows the FailStateEntered event). To run a definition with
// Go task handlers, use lakepipe/asl/local instead.
//
// # Concurrency
//
// A Server and its Client may be used from parallel tests.
package sfntest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Server is a running stepfunctions-local.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	// Config is an aws.Config for Endpoint: region us-east-1, static
	// credentials, BaseEndpoint.
	Config aws.Config
	// Client is a Step Functions client for the server.
	Client *sfn.Client

	srv *awslocal.Server
}

// RoleARN is the execution role NewStateMachine gives state machines; the
// local server does not check it.
const RoleARN = "arn:aws:iam::000000000000:role/sfntest"

// New starts stepfunctions-local in a child process on 127.0.0.1 and
// stops it by process id when the test ends. It fails the test, naming the
// command that fixes it, when Node.js or the npm servers are not installed.
func New(tb testing.TB) *Server {
	tb.Helper()
	return awslocal.NewAs(tb, awslocal.StepFunctionsLocal, newServer)
}

// Start is [New] for programs that are not tests: the caller closes
// the server.
func Start(ctx context.Context) (*Server, error) {
	return awslocal.StartAs(ctx, awslocal.StepFunctionsLocal, newServer)
}

func newServer(srv *awslocal.Server) *Server {
	return &Server{Endpoint: srv.Endpoint, Config: srv.Config, Client: srv.StepFunctions(), srv: srv}
}

// NewStateMachine creates a state machine from an Amazon States Language
// definition, with a name unique to the test, and returns its ARN. It
// fails the test when the server refuses the definition.
func (s *Server) NewStateMachine(tb testing.TB, definition string) string {
	tb.Helper()
	out, err := s.Client.CreateStateMachine(context.Background(), &sfn.CreateStateMachineInput{
		Name: aws.String(awslocal.Name(tb, "sm")), Definition: &definition, RoleArn: aws.String(RoleARN),
	})
	if err != nil {
		tb.Fatalf("sfntest: create state machine: %v", err)
	}
	return aws.ToString(out.StateMachineArn)
}

// Close stops the server. It is safe to call more than once; New
// calls it when the test ends.
func (s *Server) Close() error { return s.srv.Close() }
