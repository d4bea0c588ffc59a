package sqsbatch_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

// raceState forces, on every request, the interleaving that makes
// ReceiveMessage fail with "use of closed network connection": the server
// answers while net/http is still in its request-body write, smithy-go
// closes the body when the HTTP client returns, and only then does net/http
// make its trailing read of the body.
type raceState struct {
	mu         sync.Mutex
	returned   chan struct{} // closed when the HTTP client's Do has returned
	bodyClosed chan struct{} // closed at the first socket read after that
	hold       time.Duration // how long that read waits for net/http to close the connection
}

// reset starts a request whose response read waits up to hold for the
// connection to close: long without the fix (the close comes, but a loaded
// machine may take a while to schedule it), short with it (no close comes).
func (s *raceState) reset(hold time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.returned = make(chan struct{})
	s.bodyClosed = make(chan struct{})
	s.hold = hold
}

func (s *raceState) current() (returned, bodyClosed chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.returned, s.bodyClosed
}

func (s *raceState) holdFor() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hold
}

// raceConn holds the end of the request-body write until smithy-go has
// closed the body, and the rest of the response until net/http has closed
// the connection (or the request's hold has passed: with the fix no close
// comes).
//
// Why the first socket read after Do returned marks the body's close:
// smithy-go closes the request body right after the HTTP client returns, in
// the goroutine that then deserializes the response; net/http's own read
// loop does not touch the socket until that body is consumed. Reads are cut
// to 512 bytes so that most of the 10 KiB answer is still on the socket.
type raceConn struct {
	net.Conn
	state  *raceState
	closed chan struct{}
	once   sync.Once
	waited chan struct{} // the request whose response was held back
}

func (c *raceConn) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(c.Conn, r) // the body, sent straight to the socket
	_, bodyClosed := c.state.current()
	select {
	case <-bodyClosed:
	case <-time.After(5 * time.Second):
	}
	return n, err // net/http now makes its trailing read of the closed body
}

func (c *raceConn) Read(p []byte) (int, error) {
	returned, bodyClosed := c.state.current()
	select {
	case <-returned:
		if c.waited != returned {
			c.waited = returned
			close(bodyClosed)
			select {
			case <-c.closed:
			case <-time.After(c.state.holdFor()):
			}
		}
	default:
	}
	if len(p) > 512 {
		p = p[:512]
	}
	return c.Conn.Read(p)
}

func (c *raceConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

type signalClient struct {
	next  *http.Client
	state *raceState
}

func (s signalClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := s.next.Do(req)
	returned, _ := s.state.current()
	close(returned)
	return resp, err
}

// TestSafeRequestBodyClosedConnectionRace reproduces the TESTING.md pitfall
// against fauxqs with the real SDK: without SafeRequestBody every forced
// race fails ReceiveMessage with a closed connection; with it none does.
func TestSafeRequestBodyClosedConnectionRace(t *testing.T) {
	ctx := context.Background()
	srv := awstest.Shared(t, awstest.Fauxqs)
	c := srv.SQS()
	url := newQueue(t, c, "race", map[string]string{"VisibilityTimeout": "0"}) // received messages stay visible
	// Ten 1 KiB messages: the answer is larger than net/http's read buffer,
	// so part of it is still on the socket when the connection closes.
	sendN(t, c, url, 10, func(int) string { return strings.Repeat("r", 1024) })

	state := &raceState{}
	dialer := &net.Dialer{}
	transport := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &raceConn{Conn: conn, state: state, closed: make(chan struct{})}, nil
	}}
	defer transport.CloseIdleConnections()
	racy := sqs.NewFromConfig(srv.Config, func(o *sqs.Options) {
		o.HTTPClient = signalClient{next: &http.Client{Transport: transport}, state: state}
		o.RetryMaxAttempts = 1 // show the error the SDK would retry
	})
	receive := func(hold time.Duration, optFns ...func(*sqs.Options)) (int, error) {
		state.reset(hold)
		out, err := racy.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10}, optFns...)
		if err != nil {
			return 0, err
		}
		return len(out.Messages), nil
	}
	for i := range 3 {
		_, err := receive(10 * time.Second)
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("call %d without the fix: got %v, want use of closed network connection", i, err)
		}
	}
	for i := range 3 {
		n, err := receive(300*time.Millisecond, sqsbatch.SafeRequestBody)
		if err != nil || n != 10 {
			t.Fatalf("call %d with SafeRequestBody: %d messages, %v", i, n, err)
		}
	}
}
