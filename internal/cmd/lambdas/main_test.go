package main

import (
	"archive/zip"
	"debug/elf"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestBuildAll builds a Lambda main found by the examples/<system>/lambda/<name>
// convention and checks the package: one executable named bootstrap, an
// ELF binary for linux/arm64.
func TestBuildAll(t *testing.T) {
	root := t.TempDir()
	mainDir := filepath.Join(root, "sys", "lambda", "hello")
	if err := os.MkdirAll(mainDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Not a Lambda main: no lambda/ parent.
	if err := os.MkdirAll(filepath.Join(root, "sys", "cmd", "tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := "package main\n\nfunc main() {}\n"
	for _, d := range []string{mainDir, filepath.Join(root, "sys", "cmd", "tool")} {
		if err := os.WriteFile(filepath.Join(d, "main.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module example.com/x\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(root); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chdir(wd) })

	out := filepath.Join(root, "dist")
	n, err := buildAll(".", out)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("built %d packages, want 1", n)
	}
	zr, err := zip.OpenReader(filepath.Join(out, "sys-hello.zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("zip holds %v, want only bootstrap", zr.File)
	}
	if mode := zr.File[0].Mode(); mode.Perm() != 0o755 {
		t.Fatalf("bootstrap mode %v, want 0755", mode)
	}
	rc, err := zr.File[0].Open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(root, "bootstrap")
	if err := os.WriteFile(tmp, data, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_AARCH64 || f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		t.Fatalf("bootstrap is %v/%v, want linux arm64", f.Machine, f.OSABI)
	}
}
