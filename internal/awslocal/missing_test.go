package awslocal_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/internal/awslocal"
	"github.com/lakekit/lakekit/kda/kinesistest"
	"github.com/lakekit/lakekit/lakepipe/asl/sfntest"
	"github.com/lakekit/lakekit/s3copy/s3test"
	"github.com/lakekit/lakekit/sqsbatch/sqstest"
)

// installCmd is what a user's test prints when the npm servers are not
// installed: this test binary is built from a checkout, so its lakekit
// version is unknown and the command names @latest.
const installCmd = "go run github.com/lakekit/lakekit/cmd/lakekit@latest local install"

// withoutServers hides every install of the npm servers from the helpers:
// no LAKEKIT_NODE_DIR, a checkout directory and a user cache that hold
// nothing.
func withoutServers(t *testing.T) string {
	t.Setenv(awslocal.EnvNodeDir, "")
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	awslocal.SetSourceDir(t, t.TempDir())
	return cache
}

// fatalTB records the message a helper fails its test with.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs helper as a test would and returns what it failed with ("" if
// it did not fail).
func failure(t *testing.T, helper func(testing.TB)) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() { defer close(done); helper(f) }()
	<-done
	return f.msg
}

func TestHelpersNameTheInstallCommand(t *testing.T) {
	cache := withoutServers(t)
	if got := awslocal.InstallCommand(); !strings.HasPrefix(got, installCmd) {
		t.Fatalf("InstallCommand() = %q", got)
	}
	for name, helper := range map[string]func(testing.TB){
		"s3test.NewMultipart": func(tb testing.TB) { s3test.NewMultipart(tb) },
		"sqstest.New":         func(tb testing.TB) { sqstest.New(tb) },
		"sqstest.NewDynamoDB": func(tb testing.TB) { sqstest.NewDynamoDB(tb) },
		"kinesistest.New":     func(tb testing.TB) { kinesistest.New(tb) },
		"sfntest.New":         func(tb testing.TB) { sfntest.New(tb) },
	} {
		t.Run(name, func(t *testing.T) {
			msg := failure(t, helper)
			if !strings.Contains(msg, "run: "+installCmd) || !strings.Contains(msg, filepath.Join(cache, "lakekit")) {
				t.Fatalf("%s failed with %q; want the command %q and the cache directory it looked in", name, msg, installCmd)
			}
		})
	}
	// The in-process servers need nothing installed.
	if msg := failure(t, func(tb testing.TB) { s3test.New(tb) }); msg != "" {
		t.Fatalf("s3test.New: %s", msg)
	}
}

func TestStartWithoutServers(t *testing.T) {
	withoutServers(t)
	_, err := awslocal.Start(context.Background(), awslocal.Fauxqs)
	var missing *awslocal.MissingError
	if !errors.As(err, &missing) || !strings.HasPrefix(missing.Fix, installCmd) {
		t.Fatalf("Start: %v", err)
	}
	if _, err := awslocal.NodeTool("asl-validator/package.json"); !errors.As(err, &missing) || !strings.HasPrefix(missing.Fix, installCmd) {
		t.Fatalf("NodeTool: %v", err)
	}
}

func TestStartWithoutNode(t *testing.T) {
	withoutServers(t)
	t.Setenv("PATH", t.TempDir())
	_, err := awslocal.Start(context.Background(), awslocal.Dynalite)
	var missing *awslocal.MissingError
	if !errors.As(err, &missing) || !strings.Contains(missing.Fix, "apt-get install -y nodejs npm && "+installCmd) {
		t.Fatalf("Start without node: %v", err)
	}
}

// A LAKEKIT_NODE_DIR that holds nothing is reported, never passed over for
// another install.
func TestNodeDirEnvEmpty(t *testing.T) {
	withoutServers(t)
	dir := t.TempDir()
	t.Setenv(awslocal.EnvNodeDir, dir)
	_, err := awslocal.NodeDir()
	var missing *awslocal.MissingError
	if !errors.As(err, &missing) || !strings.Contains(missing.What, dir) || missing.Fix != installCmd+" --dir "+dir {
		t.Fatalf("NodeDir: %v", err)
	}
}

// An install is found in the cache directory, and Install keeps it.
func TestNodeDirCache(t *testing.T) {
	withoutServers(t)
	dir, err := awslocal.CacheDir()
	if err != nil {
		t.Fatal(err)
	}
	fakeInstall(t, dir)
	if got, err := awslocal.NodeDir(); err != nil || got != dir {
		t.Fatalf("NodeDir() = %q, %v; want %q", got, err, dir)
	}
	res, err := awslocal.Install(context.Background(), awslocal.InstallOptions{})
	if err != nil || !res.Already || res.Dir != dir {
		t.Fatalf("Install over an install: %+v, %v", res, err)
	}
}

// fakeInstall makes dir look like a finished npm ci of the servers.
func fakeInstall(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"serve.mjs", "node_modules/.package-lock.json"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
