package deploycheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/awslabs/goformation/v7/intrinsics"

	"github.com/lakekit/lakekit/internal/awstest"
)

// RIEModule is AWS's Lambda Runtime Interface Emulator, pinned. The tests
// build it once into the user cache directory.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
)

var (
	rieOnce sync.Once
	riePath string
	rieErr  error

	mainsOnce sync.Once
	mainsDir  string
	mainsErr  error
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deploycheck-bootstraps-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mainsDir = dir
	defer os.RemoveAll(dir)
	awstest.Main(m)
}

// rie returns the emulator's binary, building it with `go install` from the
// module proxy on first use (cached in $XDG_CACHE_HOME/lakekit or
// LAKEKIT_RIE to use another binary).
func rie(t *testing.T) string {
	t.Helper()
	rieOnce.Do(func() {
		if p := os.Getenv("LAKEKIT_RIE"); p != "" {
			riePath = p
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			rieErr = err
			return
		}
		bin := filepath.Join(cache, "lakekit", "aws-lambda-rie-"+RIEVersion)
		riePath = filepath.Join(bin, "aws-lambda-rie")
		if _, err := os.Stat(riePath); err == nil {
			return
		}
		cmd := exec.Command("go", "install", RIEModule+"/cmd/aws-lambda-rie@"+RIEVersion)
		cmd.Dir = os.TempDir() // outside any module: the pin is the version above
		cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOFLAGS=", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			rieErr = fmt.Errorf("building the Runtime Interface Emulator: %v\n%s", err, out)
		}
	})
	if rieErr != nil {
		t.Fatal(rieErr)
	}
	return riePath
}

// bootstrap builds every Lambda main as `make lambdas` does
// (internal/cmd/lambdas: -trimpath -tags lambda.norpc -ldflags "-s -w",
// CGO_ENABLED=0, a binary named bootstrap) but for this machine's
// architecture, once, and returns the one of package pkg
// ("<system>-<name>").
func bootstrap(t *testing.T, pkg string) string {
	t.Helper()
	mainsOnce.Do(func() {
		mains, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "*", "lambda", "*", "main.go"))
		args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", mainsDir + "/"}
		for _, m := range mains {
			args = append(args, "./"+filepath.ToSlash(filepath.Dir(filepath.Clean(strings.TrimPrefix(m, repoRoot+"/")))))
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			mainsErr = fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
			return
		}
		// go build names each binary after its folder; make lambdas names
		// the package <system>-<name> and the binary bootstrap.
		for _, m := range mains {
			dir := filepath.Dir(m)
			name := filepath.Base(dir)
			pkg := filepath.Base(filepath.Dir(filepath.Dir(dir))) + "-" + name
			if err := os.MkdirAll(filepath.Join(mainsDir, pkg), 0o755); err != nil {
				mainsErr = err
				return
			}
			if err := os.Rename(filepath.Join(mainsDir, name), filepath.Join(mainsDir, pkg, "bootstrap")); err != nil {
				mainsErr = err
				return
			}
		}
	})
	if mainsErr != nil {
		t.Fatal(mainsErr)
	}
	p := filepath.Join(mainsDir, pkg, "bootstrap")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("no Lambda main for package %s: %v", pkg, err)
	}
	return p
}

// emulated is one bootstrap running under the emulator.
type emulated struct {
	pkg     string
	url     string
	out     *lockedBuffer
	invoked int
	// ColdInit is the first invoke's round trip: the emulator starts the
	// bootstrap on the first invoke, so it is the cold start (init) plus
	// the handler's first run.
	ColdInit time.Duration
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLambda runs package pkg's bootstrap under the emulator with env (the
// template's variables, resolved) plus the SDK settings that point it at
// the local servers.
func startLambda(t *testing.T, pkg string, env map[string]string) *emulated {
	t.Helper()
	bin := bootstrap(t, pkg)
	emu := rie(t)
	port := freePort(t)
	cmd := exec.Command(emu, "--runtime-interface-emulator-address", "127.0.0.1:"+port,
		"--runtime-api-address", "127.0.0.1:"+freePort(t), bin) // the default, 9001, is one per machine
	cmd.Dir = filepath.Dir(bin) // the task root holds bootstrap, as in provided.al2023
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir(), "TZ=UTC",
		"AWS_REGION=" + awstest.Region, "AWS_ACCESS_KEY_ID=" + awstest.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awstest.SecretAccessKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_LAMBDA_FUNCTION_NAME=" + pkg, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256"}
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cmd.Env = append(cmd.Env, k+"="+env[k])
	}
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	e := &emulated{pkg: pkg, url: "http://127.0.0.1:" + port + "/2015-03-31/functions/function/invocations", out: out}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s under the emulator printed:\n%s", pkg, out.String())
		}
	})
	// The emulator listens at once and starts the bootstrap on the first
	// invoke (cold start).
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("emulator did not listen: %v\n%s", err, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e
}

// invoke posts event to the emulator's invoke API and returns the status
// and the response body.
func (e *emulated) invoke(t *testing.T, event any) (int, []byte) {
	t.Helper()
	body, err := json.Marshal(event)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 2 * time.Minute}
	sent := time.Now()
	resp, err := client.Post(e.url, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("invoke %s: %v", e.pkg, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if e.invoked == 0 {
		e.ColdInit = time.Since(sent)
		recordColdStart(e.pkg, e.ColdInit, e.out)
	}
	e.invoked++
	return resp.StatusCode, b
}

// waitLog waits until the emulator's output holds s: the emulator answers
// an invoke before it has logged all of it.
func (e *emulated) waitLog(s string) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(e.out.String(), s) {
			return true
		}
	}
	return false
}

// waitCount waits until the emulator's output holds s n times, and
// returns how many times it does.
func (e *emulated) waitCount(s string, n int) int {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Count(e.out.String(), s) >= n {
			break
		}
	}
	return strings.Count(e.out.String(), s)
}

// initRE finds the emulator's report of the bootstrap's init phase.
var initRE = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// initMillis is the init phase the emulator reported in log, or -1.
func initMillis(log string) float64 {
	if m := initRE.FindStringSubmatch(log); m != nil {
		if f, err := strconv.ParseFloat(m[1], 64); err == nil {
			return f
		}
	}
	return -1
}

// coldStart is one emulator start of a bootstrap: its first invoke's
// round trip (init + first run), and the emulator's output,
// read for its INIT REPORT when the report is made (the emulator may log
// it after it answered).
type coldStart struct {
	pkg   string
	first time.Duration
	out   *lockedBuffer
}

var coldStarts = struct {
	sync.Mutex
	rows []coldStart
}{}

func recordColdStart(pkg string, d time.Duration, out *lockedBuffer) {
	coldStarts.Lock()
	defer coldStarts.Unlock()
	coldStarts.rows = append(coldStarts.rows, coldStart{pkg, d, out})
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// templateEnv returns the environment the template gives function id
// (Globals included), every intrinsic resolved with local: logical id →
// the local server's value for !Ref, "Id.Attr" for !GetAtt. Parameters
// take their defaults unless local names them; pseudo parameters are the
// local servers' account and region. A variable the test cannot resolve
// fails it: the template and the test disagree.
func templateEnv(t *testing.T, template, id string, local map[string]string) map[string]string {
	t.Helper()
	var tmpl map[string]any
	readTemplate(t, template, &tmpl)
	fn := asMap(asMap(tmpl["Resources"])[id])
	if fn == nil {
		t.Fatalf("%s has no resource %s", template, id)
	}
	vars := merge(asMap(asMap(asMap(asMap(tmpl["Globals"])["Function"])["Environment"])["Variables"]),
		asMap(asMap(asMap(fn["Properties"])["Environment"])["Variables"]))
	lookup := func(name string) (string, bool) {
		if v, ok := local[name]; ok {
			return v, true
		}
		switch name {
		case "AWS::AccountId":
			return awstest.AccountID, true
		case "AWS::Region":
			return awstest.Region, true
		case "AWS::Partition":
			return "aws", true
		}
		if p := asMap(asMap(tmpl["Parameters"])[name]); p != nil {
			if d, ok := p["Default"]; ok {
				return fmt.Sprint(d), true
			}
		}
		return "", false
	}
	env := map[string]string{}
	for k, v := range vars {
		s, err := resolve(v, lookup)
		if err != nil {
			t.Fatalf("%s %s: environment %s: %v", template, id, k, err)
		}
		env[k] = s
	}
	return env
}

// readTemplate decodes the template at path (from the repository root)
// into v, its short-form intrinsics (!Ref, !Sub…) as their JSON forms,
// unresolved.
func readTemplate(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, path))
	if err != nil {
		t.Fatal(err)
	}
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(js, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func resolve(v any, lookup func(string) (string, bool)) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case float64, bool:
		return fmt.Sprint(x), nil
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			if s, ok := lookup(ref); ok {
				return s, nil
			}
			return "", fmt.Errorf("no local value for !Ref %s", ref)
		}
		if g, ok := x["Fn::GetAtt"]; ok {
			var name string
			switch a := g.(type) {
			case string:
				name = a
			case []any:
				name = fmt.Sprint(a[0]) + "." + fmt.Sprint(a[1])
			}
			if s, ok := lookup(name); ok {
				return s, nil
			}
			return "", fmt.Errorf("no local value for !GetAtt %s", name)
		}
		if s, ok := x["Fn::Sub"].(string); ok {
			var err error
			out := subVar.ReplaceAllStringFunc(s, func(m string) string {
				name := m[2 : len(m)-1]
				v, ok := lookup(name)
				if !ok {
					err = fmt.Errorf("no local value for ${%s}", name)
				}
				return v
			})
			return out, err
		}
	}
	return "", fmt.Errorf("cannot resolve %v", v)
}

// sample reads one of the sample events aws-lambda-go ships in
// events/testdata, from the module the nested module requires.
func sample(t *testing.T, name string, into any) {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/aws/aws-lambda-go").Output()
	if err != nil {
		t.Fatalf("go list aws-lambda-go: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "events", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// effect is one report row: a Lambda package, what its emulated invokes
// were given, what the test asserted, and the test.
type effect struct{ pkg, event, asserted, test string }

var effects = struct {
	sync.Mutex
	rows []effect
}{}

// recordEffect notes, for the report, what an emulated invoke was given and
// what the test asserted.
func recordEffect(t *testing.T, pkg, event, asserted string) {
	effects.Lock()
	defer effects.Unlock()
	effects.rows = append(effects.rows, effect{pkg, event, asserted, t.Name()})
}
