package s3copy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
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
// completed object ("size<TAB>etag<TAB>quoted key").
//
// Write policy: records are gathered in memory and written to the file, a
// whole number of lines in one write, every FileManifestFlushEvery records
// or when the last write is FileManifestFlushInterval old (checked on each
// Record), and on Flush, which also fsyncs the file (Copy flushes at the
// end of every run, failed or not; Close flushes too). A process killed
// (SIGKILL, OOM) loses only the records not yet written: at most
// FileManifestFlushEvery, and no more than the last
// FileManifestFlushInterval's; those objects are copied again, which is
// harmless. A machine that crashes may lose what was written since the
// last fsync, with the same effect. A record is written only after its
// object's copy succeeded, so the manifest never names an object that was
// not copied.
//
// A write cut short by the kill leaves a torn last line: OpenFileManifest
// drops it (truncating the file to its last complete line, so the next
// record starts a line of its own). Any other line that does not parse is
// corruption, and OpenFileManifest fails with a *ManifestError rather than
// guess.
type FileManifest struct {
	mu        sync.Mutex
	done      map[string]manifestEntry
	f         *os.File
	buf       []byte // records not yet written, whole lines
	pending   int
	lastWrite time.Time
	err       error // the first write error, returned by every later call
}

// FileManifest write policy, see FileManifest.
const (
	FileManifestFlushEvery    = 256
	FileManifestFlushInterval = time.Second
)

// maxManifestLine bounds a manifest line: a size, an ETag and a key quoted
// with strconv.Quote (at most 4 bytes per key byte, plus the quotes).
const maxManifestLine = 4*MaxKeyLength + 256

// ManifestError is OpenFileManifest's and OpenS3Manifest's error for a
// manifest that holds a line that is not a manifest record (other than a
// file's torn last line) or a line longer than any record can be.
type ManifestError struct {
	Path string // the file, or s3://bucket/key of the segment
	Line int    // 1-based
	Text string // the start of the line, at most 64 bytes
	Err  error
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("s3copy: manifest %s line %d (%q): %v", e.Path, e.Line, e.Text, e.Err)
}

func (e *ManifestError) Unwrap() error { return e.Err }

var (
	errManifestLine    = errors.New("not a manifest record (size<TAB>etag<TAB>quoted key); the manifest is corrupt or not one")
	errManifestTooLong = fmt.Errorf("line longer than %d bytes; the manifest is corrupt or not one", maxManifestLine)
)

// readManifest loads the records of r into done. It returns the length
// of the complete lines read. With tornTail, a last line with no newline
// is a write cut short and is left out; otherwise it must be a record too.
func readManifest(r io.Reader, path string, tornTail bool, done map[string]manifestEntry) (int64, error) {
	br := bufio.NewReaderSize(r, maxManifestLine+1)
	var good int64
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if err == io.EOF && len(line) == 0 {
			return good, nil
		}
		if err == io.EOF && tornTail {
			return good, nil // a torn last line
		}
		if err != nil && err != io.EOF {
			if errors.Is(err, bufio.ErrBufferFull) {
				err = errManifestTooLong
			}
			return good, &ManifestError{Path: path, Line: n, Text: string(line[:min(len(line), 64)]), Err: err}
		}
		text := strings.TrimSuffix(string(line), "\n")
		key, e, ok := parseManifestLine(text)
		if !ok {
			return good, &ManifestError{Path: path, Line: n, Text: text[:min(len(text), 64)], Err: errManifestLine}
		}
		done[key] = e
		good += int64(len(line))
		if err == io.EOF {
			return good, nil
		}
	}
}

// OpenFileManifest opens (creating if needed) the manifest file at path and
// loads its entries. A torn last line (a write cut short by a kill) is
// dropped; any other bad line is a *ManifestError. Close it when done.
func OpenFileManifest(path string) (*FileManifest, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	m := &FileManifest{done: map[string]manifestEntry{}, f: f, lastWrite: time.Now()}
	good, err := readManifest(f, path, true, m.done)
	if err != nil {
		f.Close()
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.Size() != good {
		// Cut the torn line off, so that it never ends up mid-file.
		if err == nil {
			err = f.Truncate(good)
		}
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("s3copy: manifest %s: drop torn last line: %w", path, err)
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
	if m.err != nil {
		return m.err // the file can't be written: gather nothing more
	}
	m.buf = append(m.buf, formatManifestLine(key, etag, size)...)
	m.pending++
	if m.pending >= FileManifestFlushEvery || time.Since(m.lastWrite) >= FileManifestFlushInterval {
		return m.writeLocked()
	}
	return m.err
}

// writeLocked writes the gathered lines in one write.
func (m *FileManifest) writeLocked() error {
	if m.err != nil {
		return m.err
	}
	m.lastWrite = time.Now()
	if len(m.buf) == 0 {
		return nil
	}
	_, err := m.f.Write(m.buf)
	if err != nil {
		m.err = fmt.Errorf("s3copy: write manifest %s: %w", m.f.Name(), err)
		return m.err
	}
	m.buf, m.pending = m.buf[:0], 0
	return nil
}

// Flush implements Manifest: it writes gathered records and syncs the
// file.
func (m *FileManifest) Flush(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.f == nil {
		return nil
	}
	if err := m.writeLocked(); err != nil {
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
