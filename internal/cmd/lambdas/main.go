// Command lambdas builds every AWS Lambda main under examples/ for the
// provided.al2023 runtime on arm64 and zips each as a deployable package.
//
// A Lambda main is any package main under examples/ that lives in a
// directory named lambda/<name> (examples/<system>/lambda/<name>/main.go).
// Each is built with GOOS=linux GOARCH=arm64 CGO_ENABLED=0 -tags lambda.norpc
// into a binary named bootstrap and written to <out>/<system>-<name>.zip.
//
//	go run ./internal/cmd/lambdas -out dist/lambda
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	root := flag.String("examples", "examples", "directory to search for lambda/<name> mains")
	out := flag.String("out", "dist/lambda", "directory for the zipped packages")
	flag.Parse()
	n, err := buildAll(*root, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lambdas:", err)
		os.Exit(1)
	}
	fmt.Printf("built %d Lambda package(s) into %s\n", n, *out)
}

func buildAll(root, out string) (int, error) {
	var mains []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && filepath.Base(filepath.Dir(path)) == "lambda" {
			if _, err := os.Stat(filepath.Join(path, "main.go")); err == nil {
				mains = append(mains, path)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return 0, err
	}
	for _, dir := range mains {
		rel, _ := filepath.Rel(root, dir) // <system>/lambda/<name>
		parts := strings.Split(filepath.ToSlash(rel), "/")
		name := parts[0] + "-" + parts[len(parts)-1]
		if err := build(dir, filepath.Join(out, name+".zip")); err != nil {
			return 0, fmt.Errorf("%s: %w", dir, err)
		}
		fmt.Printf("  %s -> %s.zip\n", dir, name)
	}
	return len(mains), nil
}

func build(dir, zipPath string) error {
	tmp, err := os.MkdirTemp("", "lambda-build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", bin, "./"+filepath.ToSlash(dir))
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return err
	}
	return zipBootstrap(bin, zipPath)
}

func zipBootstrap(bin, zipPath string) error {
	src, err := os.Open(bin)
	if err != nil {
		return err
	}
	defer src.Close()
	f, err := os.Create(zipPath)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	h.SetMode(0o755) // the runtime executes it
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = io.Copy(w, src)
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
