package awstest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// Kind names one of the npm servers.
type Kind = awslocal.Kind

// The npm servers, pinned in node/package.json.
const (
	S3rver             = awslocal.S3rver             // @20minutes/s3rver 4.0.4: S3 with UploadPartCopy
	Fauxqs             = awslocal.Fauxqs             // fauxqs 1.9.2: SQS and SNS
	KinesisLocal       = awslocal.KinesisLocal       // kinesis-local 0.6.2: Kinesis Data Streams
	Dynalite           = awslocal.Dynalite           // dynalite 4.0.0: DynamoDB
	StepFunctionsLocal = awslocal.StepFunctionsLocal // stepfunctions-local 1.3.1: not Map
)

// MissingError says that Node.js or an npm server is not installed, and how
// to fix it.
type MissingError = awslocal.MissingError

// Start starts a server of the given kind on a free 127.0.0.1 port and waits
// until it accepts connections. The caller must Close it. Tests use the
// shared helpers ([SQS], [Kinesis], …) instead.
func Start(ctx context.Context, kind Kind) (*Server, error) {
	return awslocal.Start(ctx, kind)
}

// NodeTool returns the absolute path of a file inside an installed npm
// package (for example "asl-validator/dist/bin/asl-validator.js", to run with
// node), failing the test with the install command when it is missing.
func NodeTool(tb testing.TB, path string) string {
	tb.Helper()
	full, err := awslocal.NodeTool(path)
	if err != nil {
		tb.Fatal(err)
	}
	return full
}

// Servers shared by the tests of one binary.
var shared = struct {
	sync.Mutex
	inMain  bool
	servers map[Kind]*sharedServer
}{servers: map[Kind]*sharedServer{}}

type sharedServer struct {
	once sync.Once
	srv  *Server
	err  error
}

// Main runs the tests of a package binary and then stops, by process id,
// every npm server they started. Call it from TestMain:
//
//	func TestMain(m *testing.M) { awstest.Main(m) }
func Main(m *testing.M) {
	shared.Lock()
	shared.inMain = true
	shared.Unlock()
	code := m.Run()
	if err := StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// StopShared stops every shared server this binary started. [Main] calls it.
func StopShared() error {
	shared.Lock()
	defer shared.Unlock()
	var errs []error
	for kind, s := range shared.servers {
		if s.srv != nil {
			errs = append(errs, s.srv.Close())
		}
		delete(shared.servers, kind)
	}
	return errors.Join(errs...)
}

// Shared returns the binary's server of the given kind, starting it on first
// use. It fails the test, naming the fix, when the server can't be had.
func Shared(tb testing.TB, kind Kind) *Server {
	tb.Helper()
	shared.Lock()
	if !shared.inMain {
		shared.Unlock()
		tb.Fatalf("awstest: %s is shared by the package's tests and stopped when they end; add to this package's tests:\n\tfunc TestMain(m *testing.M) { awstest.Main(m) }", kind)
	}
	s := shared.servers[kind]
	if s == nil {
		s = &sharedServer{}
		shared.servers[kind] = s
	}
	shared.Unlock()
	s.once.Do(func() { s.srv, s.err = Start(context.Background(), kind) })
	if s.err != nil {
		tb.Fatal(s.err)
	}
	return s.srv
}

// S3Multipart returns a client on the binary's s3rver, the local S3 server
// that implements UploadPartCopy with CopySourceRange. It is disk-backed and
// slower than [S3]; tests should use their own buckets.
func S3Multipart(tb testing.TB) *s3.Client {
	tb.Helper()
	return Shared(tb, S3rver).S3()
}

// SQS returns a client on the binary's fauxqs.
func SQS(tb testing.TB) *sqs.Client {
	tb.Helper()
	return Shared(tb, Fauxqs).SQS()
}

// SNS returns a client on the binary's fauxqs, the same server as [SQS], so
// SNS subscriptions deliver to its queues.
func SNS(tb testing.TB) *sns.Client {
	tb.Helper()
	return Shared(tb, Fauxqs).SNS()
}

// Kinesis returns a client on the binary's kinesis-local.
func Kinesis(tb testing.TB) *kinesis.Client {
	tb.Helper()
	return Shared(tb, KinesisLocal).Kinesis()
}

// StepFunctions returns a client on the binary's stepfunctions-local.
func StepFunctions(tb testing.TB) *sfn.Client {
	tb.Helper()
	return Shared(tb, StepFunctionsLocal).StepFunctions()
}

// DynamoDB returns a client on the binary's dynalite.
func DynamoDB(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return Shared(tb, Dynalite).DynamoDB()
}
