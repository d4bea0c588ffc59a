package awstest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Kind names one of the npm servers.
type Kind string

// The npm servers, pinned in node/package.json.
const (
	S3rver       Kind = "s3rver"        // @20minutes/s3rver 4.0.4: S3 with UploadPartCopy
	Fauxqs       Kind = "fauxqs"        // fauxqs 1.9.2: SQS and SNS
	KinesisLocal Kind = "kinesis-local" // kinesis-local 0.6.2: Kinesis Data Streams
	Dynalite     Kind = "dynalite"      // dynalite 4.0.0: DynamoDB
	// StepFunctionsLocal is stepfunctions-local 1.3.1: it accepts
	// CreateStateMachine (checking the definition) and runs
	// Pass/Choice/Wait/Succeed/Fail, but not Map.
	StepFunctionsLocal Kind = "stepfunctions-local"
)

// npm package directory of each kind, to tell whether it is installed.
var kindPackage = map[Kind]string{
	S3rver:             "@20minutes/s3rver",
	Fauxqs:             "fauxqs",
	KinesisLocal:       "kinesis-local",
	Dynalite:           "dynalite",
	StepFunctionsLocal: "stepfunctions-local",
}

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 60 * time.Second

// NodeDir returns the directory holding package.json, package-lock.json,
// serve.mjs and, once installed, node_modules. LAKEKIT_NODE_DIR overrides it.
func NodeDir() string {
	if d := os.Getenv("LAKEKIT_NODE_DIR"); d != "" {
		return d
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "internal/awstest/node"
	}
	return filepath.Join(filepath.Dir(file), "node")
}

// InstallCommand is the command that installs the npm servers.
func InstallCommand() string {
	return "npm ci --no-audit --no-fund --prefix " + NodeDir()
}

// MissingError says that Node.js or an npm server is not installed, and how
// to fix it.
type MissingError struct {
	What string // "node" or the npm package
	Fix  string // the exact command that fixes it
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("awstest: %s is not installed; run: %s", e.What, e.Fix)
}

// Start starts a server of the given kind on a free 127.0.0.1 port and waits
// until it accepts connections. The caller must Close it. Tests use the
// shared helpers ([SQS], [Kinesis], …) instead.
func Start(ctx context.Context, kind Kind) (*Server, error) {
	pkg, ok := kindPackage[kind]
	if !ok {
		return nil, fmt.Errorf("awstest: unknown server kind %q", kind)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, &MissingError{What: "node (Node.js 20)", Fix: "apt-get install -y nodejs npm && " + InstallCommand()}
	}
	dir := NodeDir()
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		return nil, &MissingError{What: "npm package " + pkg, Fix: InstallCommand()}
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		srv, err := startOnce(ctx, node, dir, kind)
		if err == nil {
			return srv, nil
		}
		lastErr = err
		if !errors.Is(err, errPortTaken) || ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

var errPortTaken = errors.New("port taken")

func startOnce(ctx context.Context, node, dir string, kind Kind) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	scratch, err := os.MkdirTemp("", "lakekit-"+string(kind)+"-")
	if err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if !started {
			_ = os.RemoveAll(scratch)
		}
	}()
	arg := string(kind)
	env := os.Environ()
	switch kind {
	case KinesisLocal:
		arg = "kinesis"
		tlsPort, err := freePort()
		if err != nil {
			return nil, err
		}
		env = append(env,
			"KINESIS_MOCK_PLAIN_PORT="+strconv.Itoa(port),
			"KINESIS_MOCK_TLS_PORT="+strconv.Itoa(tlsPort),
			"CREATE_STREAM_DURATION=50ms", "DELETE_STREAM_DURATION=50ms",
			"UPDATE_SHARD_COUNT_DURATION=50ms", "SPLIT_SHARD_DURATION=50ms", "MERGE_SHARDS_DURATION=50ms",
			"REGISTER_STREAM_CONSUMER_DURATION=50ms", "DEREGISTER_STREAM_CONSUMER_DURATION=50ms",
			"LOG_LEVEL=ERROR", "ROOT_LOG_LEVEL=ERROR", "SHOULD_PERSIST_DATA=false")
	case StepFunctionsLocal:
		arg = "stepfunctions"
		env = append(env, "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE=1")
	case S3rver:
		// s3rver 4 uses a digest OpenSSL 3 no longer enables by default.
		env = append(env, "NODE_OPTIONS=--openssl-legacy-provider")
	case Fauxqs:
		env = append(env, "FAUXQS_HOST=localhost", "FAUXQS_DEFAULT_REGION="+Region)
	}

	cmd := exec.Command(node, filepath.Join(dir, "serve.mjs"), arg, strconv.Itoa(port), scratch)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe() // closed by the kernel when we die: serve.mjs exits then
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logs := &tailBuffer{max: 8 << 10}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("awstest: start %s: %w", kind, err)
	}
	started = true // from here on kill removes scratch
	exited := make(chan struct{})
	var serving, stopping atomic.Bool
	go func() {
		_ = cmd.Wait()
		close(exited)
		if serving.Load() && !stopping.Load() {
			// A server dying under a test shows up there only as "connection
			// refused"; say which one died and what it printed.
			fmt.Fprintf(os.Stderr, "awstest: %s (pid %d) exited while in use (%s); its output:\n%s\n", kind, cmd.Process.Pid, cmd.ProcessState, logs.String())
		}
	}()
	kill := func() error {
		stopping.Store(true)
		_ = stdin.Close()
		// Negative pid: the whole process group, by id.
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		return os.RemoveAll(scratch)
	}

	readyc := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			if !sent && strings.HasPrefix(line, "READY ") {
				readyc <- true
				sent = true
				continue
			}
			logs.Write([]byte(line + "\n"))
		}
		if !sent {
			readyc <- false
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case ok := <-readyc:
		if ok {
			serving.Store(true)
			endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
			return newServer(string(kind), endpoint, kill), nil
		}
		<-exited
		_ = kill()
		out := logs.String()
		if strings.Contains(out, "EADDRINUSE") {
			return nil, fmt.Errorf("awstest: %s on port %d: %w", kind, port, errPortTaken)
		}
		return nil, fmt.Errorf("awstest: %s exited before it was ready (%s); its output:\n%s", kind, cmd.ProcessState, out)
	case <-timer.C:
		_ = kill()
		return nil, fmt.Errorf("awstest: %s did not accept connections within %s; its output:\n%s", kind, startTimeout, logs.String())
	case <-ctx.Done():
		_ = kill()
		return nil, ctx.Err()
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf.Write(p)
	if over := t.buf.Len() - t.max; over > 0 {
		t.buf.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
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

// NodeTool returns the absolute path of a file inside an installed npm
// package (for example "asl-validator/dist/bin/asl-validator.js", to run with
// node), failing the test with the install command when it is missing.
func NodeTool(tb testing.TB, path string) string {
	tb.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		tb.Fatal(&MissingError{What: "node (Node.js 20)", Fix: "apt-get install -y nodejs npm && " + InstallCommand()})
	}
	full := filepath.Join(NodeDir(), "node_modules", filepath.FromSlash(path))
	if _, err := os.Stat(full); err != nil {
		tb.Fatal(&MissingError{What: "npm file " + path, Fix: InstallCommand()})
	}
	return full
}

// DynamoDB returns a client on the binary's dynalite.
func DynamoDB(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return Shared(tb, Dynalite).DynamoDB()
}
