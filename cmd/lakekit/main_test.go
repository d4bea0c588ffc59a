package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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

// TestAWSConfig checks the config errors every AWS command reports before
// it starts work (exit code 3), and that a custom endpoint is path-style.
func TestAWSConfig(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_REGION", "")
	os.Unsetenv("AWS_REGION")
	a := &app{}
	ctx := context.Background()
	if _, err := a.awsConfig(ctx); err == nil || !strings.Contains(err.Error(), "no AWS region") {
		t.Fatalf("no region: %v", err)
	}
	a.region = "eu-west-1"
	_, err := a.awsConfig(ctx)
	if ce := (configError{}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("no credentials: %v", err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKID")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	a.endpointURL = "http://127.0.0.1:1"
	cfg, err := a.awsConfig(ctx)
	if err != nil || cfg.Region != "eu-west-1" || aws.ToString(cfg.BaseEndpoint) != a.endpointURL {
		t.Fatalf("config %+v, %v", cfg, err)
	}
	if !a.s3Client(cfg).Options().UsePathStyle {
		t.Error("custom endpoint: want path-style S3 addressing")
	}
	if (&app{}).s3Client(cfg).Options().UsePathStyle {
		t.Error("AWS endpoint: want virtual-hosted S3 addressing")
	}
}

// TestOutputModes: off a terminal there is no progress and no color, and
// --json replaces the text summary.
func TestOutputModes(t *testing.T) {
	var out bytes.Buffer
	a := &app{stdout: &out}
	if a.progress() || a.color() {
		t.Fatal("progress or color on a buffer")
	}
	text := func(w io.Writer) { fmt.Fprintln(w, "text") }
	if err := a.summary(map[string]int{"n": 1}, text); err != nil || out.String() != "text\n" {
		t.Fatalf("text summary %q, %v", out.String(), err)
	}
	out.Reset()
	a.json = true
	if err := a.summary(map[string]int{"n": 1}, text); err != nil || out.String() != "{\n  \"n\": 1\n}\n" {
		t.Fatalf("json summary %q, %v", out.String(), err)
	}
	out.Reset()
	a.json, a.quiet = false, true
	if err := a.summary(nil, text); err != nil || out.Len() != 0 {
		t.Fatalf("quiet summary %q", out.String())
	}
}
