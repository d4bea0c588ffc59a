// Package node holds the pinned npm servers of lakekit's test kit: the
// package.json and package-lock.json that `lakekit local install` installs
// (and `make test-deps` installs beside them, in this directory), and
// serve.mjs, which starts one server on 127.0.0.1 for the Go side.
package node

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"runtime"
)

//go:embed package.json package-lock.json serve.mjs
var files embed.FS

// Files returns package.json, package-lock.json and serve.mjs.
func Files() fs.FS { return files }

// Names lists the embedded files, in the order [Version] hashes them.
var Names = []string{"package.json", "package-lock.json", "serve.mjs"}

// Version identifies this set of files: the first 12 hex digits of the
// SHA-256 of the embedded files. An install is kept per version, so two
// lakekit versions with different pins do not overwrite each other.
func Version() string {
	h := sha256.New()
	for _, n := range Names {
		b, err := files.ReadFile(n)
		if err != nil {
			panic(err) // embedded at build time: cannot happen
		}
		h.Write([]byte(n))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// SourceDir returns this directory as it was when the package was built:
// inside a lakekit checkout, where `make test-deps` installs node_modules;
// in the module cache for a user's module, where nothing is installed.
func SourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	return filepath.Dir(file)
}
