package s3copy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// Manifest records the objects a run completed so that a later run over the
// same trees skips them (resume after a killed run). An entry matches only
// the same source key with the same ETag and size, so a source object that
// changed since is copied again.
//
// Implementations must be safe for concurrent use.
type Manifest interface {
	// Completed reports whether an earlier run recorded the object.
	Completed(srcKey, etag string, size int64) bool
	// Record records an object as completed (copied or found unchanged).
	Record(srcKey, etag string, size int64) error
	// Flush makes the recorded entries durable. Copy calls it at the end of
	// a run, whatever the outcome.
	Flush(ctx context.Context) error
}

type manifestEntry struct {
	etag string
	size int64
}

// FileManifest is a Manifest kept in a local append-only file, one line per
// completed object ("size<TAB>etag<TAB>quoted key"). Lines are buffered and
// written to the file every FileManifestFlushEvery records and on Flush, so
// a killed run loses at most that many records (those objects are copied
// again, which is harmless). A torn last line is ignored on load.
type FileManifest struct {
	mu      sync.Mutex
	done    map[string]manifestEntry
	f       *os.File
	w       *bufio.Writer
	pending int
}

// FileManifestFlushEvery is how many records FileManifest buffers before it
// writes them to its file.
const FileManifestFlushEvery = 256

// OpenFileManifest opens (creating if needed) the manifest file at path and
// loads its entries. Close it when done.
func OpenFileManifest(path string) (*FileManifest, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	m := &FileManifest{done: map[string]manifestEntry{}, f: f}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 4*MaxKeyLength+256)
	for sc.Scan() {
		if key, e, ok := parseManifestLine(sc.Text()); ok {
			m.done[key] = e
		}
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, fmt.Errorf("s3copy: read manifest %s: %w", path, err)
	}
	m.w = bufio.NewWriter(f)
	// A run killed mid-write leaves a torn last line: end it, so the next
	// record starts on a line of its own.
	if st, err := f.Stat(); err == nil && st.Size() > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, st.Size()-1); err == nil && last[0] != '\n' {
			m.w.WriteByte('\n')
		}
	}
	return m, nil
}

// parseManifestLine parses one manifest line; ok is false for a torn or
// foreign line.
func parseManifestLine(line string) (key string, e manifestEntry, ok bool) {
	sizeStr, rest, ok1 := strings.Cut(line, "\t")
	etag, quoted, ok2 := strings.Cut(rest, "\t")
	if !ok1 || !ok2 {
		return "", e, false
	}
	size, err := strconv.ParseInt(sizeStr, 10, 64)
	if err != nil || size < 0 {
		return "", e, false
	}
	key, err = strconv.Unquote(quoted)
	if err != nil || key == "" || len(key) > MaxKeyLength {
		return "", e, false
	}
	return key, manifestEntry{etag: etag, size: size}, true
}

func formatManifestLine(key, etag string, size int64) string {
	return strconv.FormatInt(size, 10) + "\t" + strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, etag) + "\t" + strconv.Quote(key) + "\n"
}

// Len returns the number of completed objects the manifest holds.
func (m *FileManifest) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.done)
}

// Completed implements Manifest.
func (m *FileManifest) Completed(key, etag string, size int64) bool {
	m.mu.Lock()
	e, ok := m.done[key]
	m.mu.Unlock()
	return ok && e.etag == etag && e.size == size
}

// Record implements Manifest.
func (m *FileManifest) Record(key, etag string, size int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return errors.New("s3copy: manifest is closed")
	}
	m.done[key] = manifestEntry{etag: etag, size: size}
	if _, err := m.w.WriteString(formatManifestLine(key, etag, size)); err != nil {
		return err
	}
	m.pending++
	if m.pending >= FileManifestFlushEvery {
		m.pending = 0
		return m.w.Flush()
	}
	return nil
}

// Flush implements Manifest: it writes buffered records and syncs the file.
func (m *FileManifest) Flush(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return nil
	}
	m.pending = 0
	if err := m.w.Flush(); err != nil {
		return err
	}
	return m.f.Sync()
}

// Close flushes and closes the file.
func (m *FileManifest) Close() error {
	err := m.Flush(context.Background())
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return err
	}
	err = errors.Join(err, m.f.Close())
	m.f = nil
	return err
}
