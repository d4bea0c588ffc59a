package awslocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"

	"github.com/lakekit/lakekit/internal/awstest/node"
)

// EnvNodeDir names the environment variable that points the helpers at an
// install of the npm servers: a directory holding serve.mjs and
// node_modules, as `lakekit local install` or `npm ci` leaves it.
const EnvNodeDir = "LAKEKIT_NODE_DIR"

// ModulePath is lakekit's module path, whose cmd/lakekit installs the servers.
const ModulePath = "github.com/lakekit/lakekit"

// sourceDir is node.SourceDir; tests point it elsewhere.
var sourceDir = node.SourceDir

// installedMarker is the file npm ci writes last; its presence means the
// install finished.
const installedMarker = "node_modules/.package-lock.json"

// NodeDir returns the directory holding an installed copy of the npm
// servers. It looks, in order, at $LAKEKIT_NODE_DIR (used as given, never
// passed over), at internal/awstest/node in a lakekit checkout (where `make
// test-deps` installs them), and at [CacheDir] (where `lakekit local
// install` does). When none holds them, the error is a *MissingError whose
// Fix is [InstallCommand].
func NodeDir() (string, error) {
	if d := os.Getenv(EnvNodeDir); d != "" {
		if !installed(d) {
			return "", &MissingError{What: "the npm servers (in " + EnvNodeDir + "=" + d + ")", Fix: lakekitCommand() + " local install --dir " + d}
		}
		return d, nil
	}
	if d := sourceDir(); d != "" && installed(d) {
		return d, nil
	}
	cache, err := CacheDir()
	if err == nil && installed(cache) {
		return cache, nil
	}
	where := "the npm servers (looked in " + cache + ")"
	if err != nil {
		where = "the npm servers (" + err.Error() + ")"
	}
	return "", &MissingError{What: where, Fix: InstallCommand()}
}

func installed(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(installedMarker)))
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "serve.mjs"))
	return err == nil
}

// CacheDir returns where `lakekit local install` puts the npm servers:
// os.UserCacheDir()/lakekit/npm-<version>, version being [node.Version],
// a hash of the pinned files, so that lakekit versions with different pins
// keep separate installs.
func CacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "lakekit", "npm-"+node.Version()), nil
}

// InstallCommand returns the command that installs the npm servers this
// build of lakekit pins: `go run` of cmd/lakekit at the version of lakekit
// the running program was built with (latest when that is unknown, as in a
// build with a replace directive), and the in-repository alternative.
func InstallCommand() string {
	return lakekitCommand() + " local install   (inside a lakekit checkout: make test-deps)"
}

// lakekitCommand is the `go run` of cmd/lakekit at the running program's
// version of lakekit.
func lakekitCommand() string {
	version := "latest"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range append([]*debug.Module{&bi.Main}, bi.Deps...) {
			if m.Path == ModulePath && m.Replace == nil && m.Version != "" && m.Version != "(devel)" {
				version = m.Version
			}
		}
	}
	return "go run " + ModulePath + "/cmd/lakekit@" + version
}

// InstallOptions configures [Install].
type InstallOptions struct {
	// Dir is where to install; empty means [CacheDir].
	Dir string
	// Force reinstalls over an existing install; by default one is kept.
	Force bool
	// Stdout and Stderr receive npm's output; nil discards it.
	Stdout, Stderr io.Writer
}

// InstallResult is what [Install] did.
type InstallResult struct {
	Dir     string // the install, as [CacheDir] names it
	Already bool   // it was installed before: nothing was done
}

// Install installs the pinned npm servers into o.Dir: it writes the embedded package.json, package-lock.json and serve.mjs to a
// new directory beside it, runs `npm ci` there, and renames the directory
// to o.Dir once npm succeeded, so that a helper never sees half an install.
func Install(ctx context.Context, o InstallOptions) (InstallResult, error) {
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = CacheDir(); err != nil {
			return InstallResult{}, fmt.Errorf("lakekit: no cache directory: %w", err)
		}
	}
	res := InstallResult{Dir: dir}
	if installed(dir) && !o.Force {
		res.Already = true
		return res, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return res, errors.New("lakekit: npm is not on PATH; install Node.js 20 or later with npm (Debian: apt-get install -y nodejs npm)")
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return res, err
	}
	tmp, err := os.MkdirTemp(parent, ".install-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	for _, name := range node.Names {
		b, err := fs.ReadFile(node.Files(), name)
		if err != nil {
			return res, err
		}
		if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
			return res, err
		}
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = tmp
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("lakekit: npm ci in %s: %w", tmp, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return res, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return res, err
	}
	return res, nil
}
