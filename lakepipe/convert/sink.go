package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Sink is where a Converter writes its files: a local directory or an S3
// prefix. Names are slash-separated and relative to the sink's root.
type Sink interface {
	// Create starts a new file; it is complete, and visible under its name,
	// when Close returns nil. A writer that also has an Abort() error method
	// is aborted instead of closed when a conversion fails, so that no
	// partial file is published.
	Create(ctx context.Context, name string) (io.WriteCloser, error)
	// Open opens a complete file for reading.
	Open(ctx context.Context, name string) (SinkFile, error)
	// List returns the names of the files directly in dir ("" is the root).
	List(ctx context.Context, dir string) ([]string, error)
	// Remove deletes files.
	Remove(ctx context.Context, names ...string) error
}

// SinkFile is an opened file of a Sink.
type SinkFile interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// ErrUnsafeName reports a file name that is absolute or leaves the sink's
// root.
var ErrUnsafeName = errors.New("convert: file name escapes the sink root")

func checkName(name string) error {
	if name == "" || strings.HasPrefix(name, "/") || !filepath.IsLocal(filepath.FromSlash(name)) || path.Clean(name) != name {
		return fmt.Errorf("%w: %q", ErrUnsafeName, name)
	}
	return nil
}

// DirSink writes files under a local directory. Files are written to a
// temporary name and renamed on Close, so a reader never sees half a file.
func DirSink(root string) Sink { return dirSink{root: root} }

type dirSink struct{ root string }

func (d dirSink) path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

func (d dirSink) Create(_ context.Context, name string) (io.WriteCloser, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return nil, err
	}
	return &dirFile{f: f, final: p}, nil
}

type dirFile struct {
	f     *os.File
	final string
}

func (w *dirFile) Write(p []byte) (int, error) { return w.f.Write(p) }

func (w *dirFile) Close() error {
	if err := w.f.Close(); err != nil {
		_ = os.Remove(w.f.Name())
		return err
	}
	return os.Rename(w.f.Name(), w.final)
}

// Abort discards the file.
func (w *dirFile) Abort() error {
	w.f.Close()
	return os.Remove(w.f.Name())
}

type osSinkFile struct {
	*os.File
	size int64
}

func (f osSinkFile) Size() int64 { return f.size }

func (d dirSink) Open(_ context.Context, name string) (SinkFile, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return osSinkFile{File: f, size: st.Size()}, nil
}

func (d dirSink) List(_ context.Context, dir string) ([]string, error) {
	p := d.root
	if dir != "" {
		var err error
		if p, err = d.path(strings.TrimSuffix(dir, "/")); err != nil {
			return nil, err
		}
	}
	ents, err := os.ReadDir(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".tmp-") {
			out = append(out, path.Join(strings.TrimSuffix(dir, "/"), e.Name()))
		}
	}
	return out, nil
}

func (d dirSink) Remove(_ context.Context, names ...string) error {
	var errs []error
	for _, n := range names {
		p, err := d.path(n)
		if err == nil {
			err = os.Remove(p)
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
