package convert

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"
	"golang.org/x/sync/errgroup"
)

// The pipeline: one chunker goroutine cuts the input at record boundaries
// into chunks of RowGroupRows records; Workers goroutines each parse a
// chunk and encode it into one row group per partition
// (parquet.ConcurrentRowGroupWriter: pages are compressed in the worker);
// one committer goroutine commits the row groups in input order and writes
// quarantined records. A token per chunk, taken by the chunker and given
// back by the committer, bounds the chunks alive to Workers+2.

// chunk is one unit of work.
type chunk struct {
	data []byte
	line int64 // line number of the first record
	done chan struct{}
	err  error

	groups  []*group
	bad     []badRecord
	nonNull []int64
}

type badRecord struct {
	line   int64
	column string
	reason string
	record string
}

// group is the rows of one partition in one chunk.
type group struct {
	key  string
	pw   *partFile
	rg   *parquet.ConcurrentRowGroupWriter
	vals [][]parquet.Value // per leaf: flushRows slots, the first n pending
	n    int
	rows int64
}

// partFile is the open file of one partition.
type partFile struct {
	mu     sync.Mutex
	dir    string // k=v/…/ or ""
	name   string
	values []string
	out    io.WriteCloser
	cw     *countWriter
	w      *parquet.GenericWriter[any]
	rows   int64
	free   []*parquet.ConcurrentRowGroupWriter // committed, reusable
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// flushRows is how many rows a group buffers before writing them to its
// column writers; pages are cut between such writes.
const flushRows = 1024

func (run *conversion) pipeline(r io.Reader, line int64, res *Result) error {
	o := &run.c.opts
	g, ctx := errgroup.WithContext(run.ctx)
	tokens := make(chan struct{}, o.Workers+2)
	work := make(chan *chunk)
	order := make(chan *chunk, o.Workers+2)
	free := make(chan []byte, 2) // spare chunk buffers: bounded, not one per token

	g.Go(func() error {
		defer close(order)
		defer close(work)
		return run.chunker(ctx, r, line, tokens, work, order, free)
	})
	for range o.Workers {
		g.Go(func() error {
			for ch := range work {
				ch.err = run.process(ctx, ch)
				close(ch.done)
				if ch.err != nil {
					return ch.err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		var q quarantineWriter
		if o.Quarantine != nil {
			q.w = csv.NewWriter(o.Quarantine)
		}
		for ch := range order {
			select {
			case <-ch.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if ch.err != nil {
				return ch.err
			}
			for _, grp := range ch.groups {
				grp.pw.mu.Lock()
				n, err := grp.rg.Commit()
				grp.pw.rows += n
				if err == nil {
					grp.pw.free = append(grp.pw.free, grp.rg)
				}
				grp.pw.mu.Unlock()
				if err != nil {
					return fmt.Errorf("convert: writing %s: %w", grp.pw.name, err)
				}
				res.Rows += n
				run.c.stats.rows.Add(n)
			}
			for _, b := range ch.bad {
				if len(run.firstBad) < maxQuarantineReasons {
					run.firstBad = append(run.firstBad, RowError{Line: b.line, Column: b.column, Reason: b.reason})
				}
				if err := q.write(b); err != nil {
					return fmt.Errorf("convert: writing quarantine: %w", err)
				}
			}
			res.Quarantined += int64(len(ch.bad))
			run.c.stats.quarantined.Add(int64(len(ch.bad)))
			if len(ch.bad) > 0 && o.MaxQuarantineRatio == 0 {
				// No bad record is tolerated: the outcome is known, so
				// stop instead of reading the rest of the input.
				return &QuarantineError{Rows: res.Rows, Quarantined: res.Quarantined, First: run.firstBad,
					Stopped: true, noWriter: o.Quarantine == nil}
			}
			for i, n := range ch.nonNull {
				run.nonNull[i] += n
			}
			select {
			case free <- ch.data[:0]:
			default:
			}
			ch.data, ch.groups = nil, nil
			<-tokens
		}
		if q.w != nil {
			q.w.Flush()
			if err := q.w.Error(); err != nil {
				return fmt.Errorf("convert: writing quarantine: %w", err)
			}
		}
		return nil
	})
	return g.Wait()
}

// chunker cuts the input into chunks of RowGroupRows records.
func (run *conversion) chunker(ctx context.Context, r io.Reader, line int64, tokens chan struct{},
	work, order chan<- *chunk, free chan []byte) error {
	o := &run.c.opts
	const readSize = 1 << 20
	// The first chunk's size is estimated from the sample; later ones from
	// the previous chunk.
	lastChunk := min(run.avgRecord*o.RowGroupRows, o.RowGroupBytes)
	buf := make([]byte, 0, max(lastChunk+lastChunk/8+readSize, 4*readSize))
	scan, rows := 0, 0
	nextQuote := -1 // index of the next '"' at or after scan (len(buf): none); -1: unknown
	eof := false
	emit := func(end int) error {
		select {
		case tokens <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		ch := &chunk{data: buf[:end:end], line: line, done: make(chan struct{})}
		line += int64(bytes.Count(ch.data, []byte{'\n'}))
		var next []byte
		select {
		case next = <-free:
		default:
		}
		lastChunk = end
		want := max(lastChunk+lastChunk/8+readSize, len(buf)-end+readSize)
		if cap(next) < want {
			next = make([]byte, 0, want)
		}
		buf = append(next[:0], buf[end:]...)
		scan, rows = 0, 0
		nextQuote = -1
		select {
		case order <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		select {
		case work <- ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		return nil
	}
	for {
		for rows < o.RowGroupRows && scan < o.RowGroupBytes && scan < len(buf) {
			// Fast path: the line ends before the next quote, so it is a
			// whole record; one IndexByte per line.
			if nextQuote < scan {
				nextQuote = len(buf)
				if q := bytes.IndexByte(buf[scan:], '"'); q >= 0 {
					nextQuote = scan + q
				}
			}
			if nl := bytes.IndexByte(buf[scan:], '\n'); nl >= 0 && scan+nl < nextQuote {
				scan, rows = scan+nl+1, rows+1
				continue
			}
			end, _, complete, _ := recordEnd(buf, scan, o.Delimiter)
			if !complete {
				if end-scan > o.MaxRecordBytes {
					return &RecordTooLongError{Line: line + int64(bytes.Count(buf[:scan], []byte{'\n'})), Limit: o.MaxRecordBytes}
				}
				if eof {
					scan, rows = len(buf), rows+1
				}
				break
			}
			scan, rows = end, rows+1
		}
		if rows >= o.RowGroupRows || scan >= o.RowGroupBytes || eof && scan > 0 {
			if err := emit(scan); err != nil {
				return err
			}
			continue
		}
		if eof {
			return nil
		}
		if cap(buf)-len(buf) < readSize {
			buf = slices.Grow(buf, max(cap(buf), lastChunk/2, readSize))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		nextQuote = -1 // "no quote" meant none up to the old end
		if err == io.EOF {
			eof = true
		} else if err != nil {
			return fmt.Errorf("convert: reading input: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// process parses one chunk and encodes its row groups.
func (run *conversion) process(ctx context.Context, ch *chunk) error {
	o := &run.c.opts
	data := ch.data
	ncod := len(run.codecs)
	row := make([]parquet.Value, ncod)
	null := make([]bool, ncod)
	ch.nonNull = make([]int64, ncod)
	var fields []csvField
	var arena []byte
	var keyBuf []byte
	groups := map[string]*group{}
	var last *group // rows of one partition come in runs
	var one *group  // the only group when run.direct
	nextQuote := -1 // index of the next '"' at or after pos (len(data): none)
	line := ch.line
	for pos := 0; pos < len(data); {
		start := line
		var rec []byte
		// Fast path: a line without quotes is a whole record and splits on
		// the delimiter alone.
		nl := bytes.IndexByte(data[pos:], '\n')
		end := len(data)
		if nl >= 0 {
			end = pos + nl + 1
		}
		if nextQuote < pos {
			nextQuote = len(data)
			if q := bytes.IndexByte(data[pos:], '"'); q >= 0 {
				nextQuote = pos + q
			}
		}
		if nextQuote >= end {
			rec = trimEOL(data[pos:end])
			pos = end
			line++
			if blankRecord(rec) {
				continue
			}
			fields = splitPlain(rec, o.Delimiter, fields)
		} else {
			end, nl, complete, open := recordEnd(data, pos, o.Delimiter)
			rec = trimEOL(data[pos:end])
			line += int64(nl)
			pos = end
			if !complete && open {
				ch.bad = append(ch.bad, badRecord{line: start, reason: ReasonUnterminated, record: run.quarantineText(rec)})
				continue
			}
			var reason string
			fields, arena, reason = splitRecord(rec, o.Delimiter, fields, arena)
			if reason != "" {
				ch.bad = append(ch.bad, badRecord{line: start, reason: reason, record: run.quarantineText(rec)})
				continue
			}
		}
		bad := func(column, reason string) {
			ch.bad = append(ch.bad, badRecord{line: start, column: column, reason: reason, record: run.quarantineText(rec)})
		}
		if len(fields) != run.width {
			bad("", fmt.Sprintf("%s: %d fields, want %d", ReasonFieldCount, len(fields), run.width))
			continue
		}
		if run.direct {
			// No partition values come from the data: decode straight into
			// the one group's columns, undoing the row if a value is bad.
			if one == nil {
				one = run.newGroup(run.constKey)
				ch.groups = append(ch.groups, one)
			}
			ok := true
			for leaf, ci := range run.leaves {
				cd := &run.codecs[ci]
				v, isNull, good := run.decode(cd, fields[cd.src])
				if !good {
					for l := range leaf {
						if !one.vals[l][one.n].IsNull() {
							ch.nonNull[run.leaves[l]]--
						}
					}
					bad(cd.Name, cd.bad)
					ok = false
					break
				}
				def := 1
				if isNull {
					def = 0
				} else {
					ch.nonNull[ci]++
				}
				p := &one.vals[leaf][one.n]
				*p = v
				p.SetDefinitionLevel(def) // in place: inlined, unlike Level
				p.SetColumnIndex(leaf)
			}
			if !ok {
				continue
			}
			one.rows++
			if one.n++; one.n == flushRows {
				if err := run.flushGroup(one); err != nil {
					return err
				}
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			continue
		}
		ok := true
		for i := range run.codecs {
			cd := &run.codecs[i]
			v, isNull, good := run.decode(cd, fields[cd.src])
			if !good {
				bad(cd.Name, cd.bad)
				ok = false
				break
			}
			row[i], null[i] = v, isNull
		}
		if !ok {
			continue
		}
		keyBuf = run.partitionPath(keyBuf[:0], row, null)
		grp := last
		if grp == nil || grp.key != string(keyBuf) {
			grp = groups[string(keyBuf)]
		}
		if grp == nil {
			key := string(keyBuf)
			grp = run.newGroup(key)
			groups[key] = grp
			ch.groups = append(ch.groups, grp)
		}
		last = grp
		for leaf, ci := range run.leaves {
			def := 1
			v := row[ci]
			if null[ci] {
				def, v = 0, parquet.Value{}
			} else {
				ch.nonNull[ci]++
			}
			p := &grp.vals[leaf][grp.n]
			*p = v
			p.SetDefinitionLevel(def)
			p.SetColumnIndex(leaf)
		}
		for ci := range run.codecs {
			if !null[ci] && run.codecs[ci].leaf < 0 {
				ch.nonNull[ci]++
			}
		}
		grp.rows++
		if grp.n++; grp.n == flushRows {
			if err := run.flushGroup(grp); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	// Groups whose every row was bad have no row group and no file.
	ch.groups = slices.DeleteFunc(ch.groups, func(g *group) bool { return g.rows == 0 })
	for _, grp := range ch.groups {
		if err := run.flushGroup(grp); err != nil {
			return err
		}
		if err := grp.rg.Flush(); err != nil {
			return fmt.Errorf("convert: encoding %s: %w", grp.pw.name, err)
		}
	}
	return nil
}

// flushGroup writes the group's pending values to its row group, opening
// the partition's file and row group on first use.
func (run *conversion) flushGroup(grp *group) error {
	if grp.rg == nil {
		pw, err := run.partWriter(grp.key)
		if err != nil {
			return err
		}
		pw.mu.Lock()
		if n := len(pw.free); n > 0 {
			grp.rg, pw.free = pw.free[n-1], pw.free[:n-1]
		} else {
			grp.rg = pw.w.BeginRowGroup()
		}
		pw.mu.Unlock()
		grp.pw = pw
	}
	return grp.flush()
}

func (grp *group) flush() error {
	if grp.n == 0 {
		return nil
	}
	cws := grp.rg.ColumnWriters()
	for leaf, vals := range grp.vals {
		if _, err := cws[leaf].WriteRowValues(vals[:grp.n]); err != nil {
			return fmt.Errorf("convert: encoding %s: %w", grp.pw.name, err)
		}
		clear(vals[:grp.n]) // drop references to the chunk's bytes
	}
	grp.n = 0
	return nil
}

// newGroup returns an empty group with room for flushRows rows.
func (run *conversion) newGroup(key string) *group {
	g := &group{key: key, vals: make([][]parquet.Value, len(run.leaves))}
	for i := range g.vals {
		g.vals[i] = make([]parquet.Value, flushRows)
	}
	return g
}

// partWriter returns the writer of a partition path, creating it.
func (run *conversion) partWriter(dir string) (*partFile, error) {
	run.mu.Lock()
	defer run.mu.Unlock()
	if pw := run.writers[dir]; pw != nil {
		return pw, nil
	}
	name := fmt.Sprintf("%spart-%s-00000.parquet", dir, run.runID)
	// The run's context, not the pipeline's: the file outlives the
	// pipeline's errgroup and is closed in finish.
	out, err := run.c.sink.Create(run.ctx, name)
	if err != nil {
		return nil, err
	}
	cw := &countWriter{w: out}
	w := parquet.NewGenericWriter[any](cw, run.schema,
		parquet.Compression(run.c.opts.Compression.codec()),
		parquet.CreatedBy("lakekit", "", ""))
	pw := &partFile{dir: dir, name: name, out: out, cw: cw, w: w, values: partitionValues(dir)}
	run.writers[dir] = pw
	run.order = append(run.order, pw)
	return pw, nil
}

// partitionValues splits k=v/k=v/ into the unescaped values.
func partitionValues(dir string) []string {
	var vals []string
	for _, seg := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
		if _, v, ok := strings.Cut(seg, "="); ok {
			vals = append(vals, unescapePartitionValue(v))
		}
	}
	return vals
}

// abort discards the files of a failed run: a sink writer with an Abort
// method (both of this package's) never publishes them; others are closed
// and then removed.
func (run *conversion) abort() {
	for _, pw := range run.order {
		run.discard(pw)
	}
	run.rollback()
}

// discard aborts a partition's file; one that could only be closed is
// published, and is removed by rollback.
func (run *conversion) discard(pw *partFile) {
	if !abortFile(pw.out) {
		run.published = append(run.published, pw.name)
	}
}

// finish closes the files, applies DropNullFields and replaces the files of
// earlier runs.
//
// Until the first file of an earlier run is removed, a failure removes
// the files this run published, so that the partitions hold their earlier
// files only, never both runs' rows; after it, the new files stay.
func (run *conversion) finish(res *Result) (err error) {
	ctx := run.ctx
	removing := false
	defer func() {
		if err != nil && !removing {
			run.rollback()
		}
	}()
	for i, pw := range run.order {
		if err := pw.w.Close(); err != nil {
			// The footer is missing: publishing would leave a file that
			// no reader can open.
			for _, rest := range run.order[i:] {
				run.discard(rest)
			}
			return fmt.Errorf("convert: closing %s: %w", pw.name, err)
		}
		if err := pw.out.Close(); err != nil {
			for _, rest := range run.order[i+1:] {
				run.discard(rest)
			}
			return fmt.Errorf("convert: publishing %s: %w", pw.name, err)
		}
		run.published = append(run.published, pw.name)
	}
	res.BytesIn = run.bytesIn.Load()
	if run.c.opts.DropNullFields && res.Rows > 0 {
		if err := run.dropNullColumns(ctx, res); err != nil {
			return err
		}
	}
	written := map[string]bool{}
	for _, pw := range run.order {
		res.Files = append(res.Files, OutputFile{Name: pw.name, Partition: pw.values, Rows: pw.rows, Bytes: pw.cw.n})
		written[pw.name] = true
	}
	slices.SortFunc(res.Files, func(a, b OutputFile) int { return strings.Compare(a.Name, b.Name) })
	for _, pw := range run.order {
		names, err := run.c.sink.List(ctx, pw.dir)
		if err != nil {
			return err
		}
		replaced := func(n string) bool { // a file this run replaces
			base := path.Base(n)
			if run.c.opts.KeepOtherRuns && !strings.HasPrefix(base, "part-"+run.runID+"-") {
				return false
			}
			return strings.HasSuffix(base, ".parquet")
		}
		var stale []string
		for _, n := range names {
			if replaced(n) && !written[n] {
				stale = append(stale, n)
			}
		}
		if len(stale) > 0 {
			removing = true
			if err := run.c.sink.Remove(ctx, stale...); err != nil {
				return err
			}
			res.Removed = append(res.Removed, stale...)
		}
		// A killed run leaves an incomplete upload: invisible, but billed
		// until a lifecycle rule ends it. This run's own uploads are all
		// complete by now, so one that started before it and names a file
		// it replaces (or its own file, from a killed run with the same
		// RunID) is such an orphan.
		if a, ok := run.c.sink.(uploadAborter); ok {
			aborted, err := a.abortUploads(ctx, pw.dir, replaced, run.started)
			res.AbortedUploads = append(res.AbortedUploads, aborted...)
			if err != nil {
				// The data is published; only the clean-up failed.
				run.c.opts.Logger.Warn("convert: aborting incomplete uploads", "dir", pw.dir, "err", err)
			}
		}
	}
	return nil
}

// rollback removes the files a failed run published, one by one so that
// one failure does not keep the others.
func (run *conversion) rollback() {
	ctx := context.WithoutCancel(run.ctx)
	for _, name := range run.published {
		if err := run.c.sink.Remove(ctx, name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			run.c.opts.Logger.Warn("convert: removing a file of a failed run", "file", name, "err", err)
		}
	}
}

// uploadAborter is a sink whose files can be left as incomplete uploads
// (S3 multipart uploads).
type uploadAborter interface {
	// abortUploads aborts the incomplete uploads of the files directly in
	// dir that started before t and for which stale is true, and returns
	// their names.
	abortUploads(ctx context.Context, dir string, stale func(name string) bool, before time.Time) ([]string, error)
}

// dropNullColumns rewrites the files without the columns that were NULL in
// every row. It reads the output, never the input again, and costs nothing
// when no column is all NULL.
func (run *conversion) dropNullColumns(ctx context.Context, res *Result) error {
	var keep []Column
	for _, ci := range run.leaves {
		if run.nonNull[ci] == 0 {
			res.Dropped = append(res.Dropped, run.codecs[ci].Name)
			continue
		}
		keep = append(keep, run.codecs[ci].Column)
	}
	if len(res.Dropped) == 0 {
		return nil
	}
	if len(keep) == 0 {
		// Every column is NULL: a Parquet file without columns cannot hold
		// rows, so nothing is dropped.
		res.Dropped = nil
		return nil
	}
	res.Schema = Schema{Columns: keep}
	target := parquetSchema(keep)
	for _, pw := range run.order {
		newName := strings.TrimSuffix(pw.name, ".parquet") + "-d.parquet"
		n, err := rewriteProjected(ctx, run.c.sink, pw.name, newName, target, run.c.opts.Compression)
		if err != nil {
			return err
		}
		pw.cw.n = n
		run.published = append(run.published, newName)
		if err := run.c.sink.Remove(ctx, pw.name); err != nil {
			return err
		}
		pw.name = newName
	}
	return nil
}

func rewriteProjected(ctx context.Context, sink Sink, from, to string, schema *parquet.Schema, comp Compression) (int64, error) {
	in, err := sink.Open(ctx, from)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	f, err := parquet.OpenFile(in, in.Size())
	if err != nil {
		return 0, fmt.Errorf("convert: reopening %s: %w", from, err)
	}
	conv, err := parquet.Convert(schema, f.Schema())
	if err != nil {
		return 0, fmt.Errorf("convert: projecting %s: %w", from, err)
	}
	out, err := sink.Create(ctx, to)
	if err != nil {
		return 0, err
	}
	cw := &countWriter{w: out}
	w := parquet.NewGenericWriter[any](cw, schema, parquet.Compression(comp.codec()), parquet.CreatedBy("lakekit", "", ""))
	for _, rg := range f.RowGroups() {
		if _, err := w.WriteRowGroup(parquet.ConvertRowGroup(rg, conv)); err != nil {
			abortNamed(ctx, sink, to, out)
			return 0, fmt.Errorf("convert: rewriting %s: %w", from, err)
		}
	}
	if err := w.Close(); err != nil {
		abortNamed(ctx, sink, to, out)
		return 0, fmt.Errorf("convert: rewriting %s: %w", from, err)
	}
	return cw.n, out.Close()
}

// abortFile aborts a sink file when it can, or closes it; it reports
// whether it aborted.
func abortFile(out io.WriteCloser) bool {
	if a, ok := out.(interface{ Abort() error }); ok {
		_ = a.Abort()
		return true
	}
	_ = out.Close()
	return false
}

// abortNamed discards a file no run has recorded.
func abortNamed(ctx context.Context, sink Sink, name string, out io.WriteCloser) {
	if !abortFile(out) {
		_ = sink.Remove(context.WithoutCancel(ctx), name)
	}
}

// quarantineText is the text of a bad record for the Quarantine writer;
// without one it is not kept (a chunk of bad records would double its
// memory for nothing).
func (run *conversion) quarantineText(rec []byte) string {
	if run.c.opts.Quarantine == nil {
		return ""
	}
	return string(rec)
}
