package awslocal

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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Kind names one of the npm servers.
type Kind string

// The npm servers, pinned in internal/awstest/node/package.json.
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

// MissingError says that Node.js or an npm server is not installed, and how
// to fix it.
type MissingError struct {
	What string // "node" or the npm package
	Fix  string // the exact command that fixes it
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("lakekit: %s is not installed; run: %s", e.What, e.Fix)
}

// NodeTool returns the absolute path of a file inside the installed npm
// packages (for example "asl-validator/dist/bin/asl-validator.js").
func NodeTool(path string) (string, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return "", errNoNode()
	}
	dir, err := NodeDir()
	if err != nil {
		return "", err
	}
	full := filepath.Join(dir, "node_modules", filepath.FromSlash(path))
	if _, err := os.Stat(full); err != nil {
		return "", &MissingError{What: "npm file " + path + " (in " + dir + ")", Fix: InstallCommand()}
	}
	return full, nil
}

func errNoNode() error {
	return &MissingError{What: "node (Node.js 20 or later)", Fix: "apt-get install -y nodejs npm && " + InstallCommand()}
}

// Start starts a server of the given kind on a free 127.0.0.1 port and waits
// until it accepts connections. The caller must Close it: that stops the
// server's process group by id. Should the caller die first, the server
// exits too (Pdeathsig, and its stdin closing).
func Start(ctx context.Context, kind Kind) (*Server, error) {
	pkg, ok := kindPackage[kind]
	if !ok {
		return nil, fmt.Errorf("lakekit: unknown server kind %q", kind)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errNoNode()
	}
	dir, err := NodeDir()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
		return nil, &MissingError{What: "npm package " + pkg + " (in " + dir + ")", Fix: InstallCommand()}
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
	arg, env, err := serverArgs(kind, port)
	if err != nil {
		return nil, err
	}

	cmd := exec.Command(node, filepath.Join(dir, "serve.mjs"), arg, strconv.Itoa(port), scratch)
	cmd.Dir = dir
	cmd.Env = env
	setProcAttr(cmd)
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
		return nil, fmt.Errorf("lakekit: start %s: %w", kind, err)
	}
	started = true // from here on kill removes scratch
	kill, exited, serving := supervise(cmd, stdin, kind, logs, scratch)
	readyc := watchReady(stdout, logs)

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case ok := <-readyc:
		if ok {
			serving.Store(true)
			endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
			return NewServer(string(kind), endpoint, kill), nil
		}
		<-exited
		_ = kill()
		out := logs.String()
		if strings.Contains(out, "EADDRINUSE") {
			return nil, fmt.Errorf("lakekit: %s on port %d: %w", kind, port, errPortTaken)
		}
		return nil, fmt.Errorf("lakekit: %s exited before it was ready (%s); its output:\n%s", kind, cmd.ProcessState, out)
	case <-timer.C:
		_ = kill()
		return nil, fmt.Errorf("lakekit: %s did not accept connections within %s; its output:\n%s", kind, startTimeout, logs.String())
	case <-ctx.Done():
		_ = kill()
		return nil, ctx.Err()
	}
}

// supervise watches the started server: kill stops it (stdin closed, then
// SIGTERM, SIGKILL after 3 s) and removes scratch; exited closes when it
// has exited; once serving is set, an exit that kill did not cause is
// reported on stderr.
func supervise(cmd *exec.Cmd, stdin io.Closer, kind Kind, logs *tailBuffer, scratch string) (func() error, <-chan struct{}, *atomic.Bool) {
	exited := make(chan struct{})
	serving := new(atomic.Bool)
	var stopping atomic.Bool
	go func() {
		_ = cmd.Wait()
		close(exited)
		if serving.Load() && !stopping.Load() {
			// A server dying under a test shows up there only as "connection
			// refused"; say which one died and what it printed.
			fmt.Fprintf(os.Stderr, "lakekit: %s (pid %d) exited while in use (%s); its output:\n%s\n", kind, cmd.Process.Pid, cmd.ProcessState, logs.String())
		}
	}()
	kill := func() error {
		stopping.Store(true)
		_ = stdin.Close()
		terminate(cmd.Process)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			kill(cmd.Process)
			<-exited
		}
		return os.RemoveAll(scratch)
	}
	return kill, exited, serving
}

// serverArgs is serve.mjs's server argument for kind and the environment
// the server runs with on port.
func serverArgs(kind Kind, port int) (string, []string, error) {
	arg := string(kind)
	env := os.Environ()
	switch kind {
	case KinesisLocal:
		arg = "kinesis"
		tlsPort, err := freePort()
		if err != nil {
			return "", nil, err
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
	return arg, env, nil
}

// watchReady reads the server's stdout: the channel gets true at its
// "READY <port>" line, or false if stdout ends first; every other line goes
// to logs.
func watchReady(stdout io.Reader, logs *tailBuffer) <-chan bool {
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
	return readyc
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

// StartAs starts a server of kind as [Start] does and returns it as the
// kit package's own type, made by wrap.
func StartAs[T any](ctx context.Context, kind Kind, wrap func(*Server) T) (T, error) {
	srv, err := Start(ctx, kind)
	if err != nil {
		var zero T
		return zero, err
	}
	return wrap(srv), nil
}

// NewAs is [StartAs] for a test: it fails tb with Start's error (which
// names the command that installs a missing server) and stops the server
// when the test ends.
func NewAs[T any](tb testing.TB, kind Kind, wrap func(*Server) T) T {
	tb.Helper()
	srv, err := Start(context.Background(), kind)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = srv.Close() })
	return wrap(srv)
}
