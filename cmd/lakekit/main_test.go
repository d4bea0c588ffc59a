package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func lakekit(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestUsage(t *testing.T) {
	if code, out, _ := lakekit(); code != exitOK || !strings.Contains(out, "local") {
		t.Fatalf("bare lakekit: exit %d, %q", code, out)
	}
	if code, out, _ := lakekit("local", "--help"); code != exitOK || !strings.Contains(out, "install") {
		t.Fatalf("lakekit local --help: exit %d, %q", code, out)
	}
	for _, args := range [][]string{{"bogus"}, {"local", "bogus"}, {"local", "install", "--bogus"}, {"local", "install", "extra"}} {
		if code, _, errOut := lakekit(args...); code != exitUsage || !strings.HasPrefix(errOut, "lakekit: ") {
			t.Errorf("lakekit %s: exit %d, stderr %q; want exit %d", strings.Join(args, " "), code, errOut, exitUsage)
		}
	}
}

// TestLocalInstallKeeps runs `lakekit local install` over a finished
// install: it is kept, and npm is not run (the real install is what
// `make test-deps` and a user's first run do).
func TestLocalInstallKeeps(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "node_modules"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"serve.mjs", "node_modules/.package-lock.json"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), []byte("{}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", t.TempDir()) // no npm: it must not be needed
	code, out, errOut := lakekit("local", "install", "--dir", dir)
	if code != exitOK || out != "already installed in "+dir+" (--force reinstalls)\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = lakekit("local", "install", "--dir", dir, "--force")
	if code != exitFailure || !strings.Contains(errOut, "npm is not on PATH") {
		t.Fatalf("--force without npm: exit %d, stderr %q", code, errOut)
	}
}
