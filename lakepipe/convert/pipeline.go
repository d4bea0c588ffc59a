package convert

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

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
	g.Go(func() error { return run.commit(ctx, order, tokens, free, res) })
	return g.Wait()
}

// commit commits the chunks' row groups in input order, writes their
// quarantined records, and gives each chunk's token (and buffer) back.
func (run *conversion) commit(ctx context.Context, order <-chan *chunk, tokens <-chan struct{}, free chan<- []byte, res *Result) error {
	o := &run.c.opts
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
		if err := run.commitGroups(ch, res); err != nil {
			return err
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
}

// commitGroups commits a chunk's row groups to their partitions' files.
func (run *conversion) commitGroups(ch *chunk, res *Result) error {
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
	return nil
}

// process parses one chunk and encodes its row groups: each record is
// split, its fields decoded, and the row added to the group of its
// partition. When no partition value comes from the data (run.direct)
// the one group is known before decoding, and values are decoded
// straight into its columns; otherwise into a scratch row whose
// partition path picks the group, then copied.
func (run *conversion) process(ctx context.Context, ch *chunk) error {
	ncod := len(run.codecs)
	row := make([]parquet.Value, ncod)
	scratch := make([][]parquet.Value, ncod) // row as one-row columns
	for i := range scratch {
		scratch[i] = row[i : i+1]
	}
	null := make([]bool, ncod)
	ch.nonNull = make([]int64, ncod)
	recs := recordCursor{data: ch.data, line: ch.line, delim: run.c.opts.Delimiter, nextQuote: -1}
	var parts partitionGroups
	for recs.pos < len(recs.data) {
		start, rec, reason := recs.next()
		if rec == nil && reason == "" {
			continue // a blank line
		}
		bad := func(column, reason string) {
			ch.bad = append(ch.bad, badRecord{line: start, column: column, reason: reason, record: run.quarantineText(rec)})
		}
		if reason != "" {
			bad("", reason)
			continue
		}
		if len(recs.fields) != run.width {
			bad("", fmt.Sprintf("%s: %d fields, want %d", ReasonFieldCount, len(recs.fields), run.width))
			continue
		}
		grp, dst, at := parts.direct(run, ch), scratch, 0
		if grp != nil {
			dst, at = grp.vals, grp.n // leaf i is codec i: no partition-only codecs
		}
		if cd := run.decodeRow(recs.fields, dst, at, null); cd != nil {
			bad(cd.Name, cd.bad)
			continue
		}
		if grp == nil {
			grp = parts.of(run, ch, row, null)
			for leaf, ci := range run.leaves {
				grp.vals[leaf][grp.n] = row[ci]
			}
		}
		grp.commitRow(run, null, ch.nonNull)
		if grp.n == flushRows {
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

// recordCursor splits a chunk into records.
type recordCursor struct {
	data      []byte
	pos       int
	line      int64 // the line of the record at pos
	delim     byte
	nextQuote int // index of the next '"' at or after pos (len(data): none); -1: unknown
	fields    []csvField
	arena     []byte
}

// next splits the record at pos into c.fields and moves past it. It
// returns the record's line and text, and why it is malformed ("" when it
// is not); a blank line is a nil record.
func (c *recordCursor) next() (line int64, rec []byte, reason string) {
	line = c.line
	// Fast path: a line without quotes is a whole record and splits on
	// the delimiter alone.
	end := len(c.data)
	if nl := bytes.IndexByte(c.data[c.pos:], '\n'); nl >= 0 {
		end = c.pos + nl + 1
	}
	if c.nextQuote < c.pos {
		c.nextQuote = len(c.data)
		if q := bytes.IndexByte(c.data[c.pos:], '"'); q >= 0 {
			c.nextQuote = c.pos + q
		}
	}
	if c.nextQuote >= end {
		rec = trimEOL(c.data[c.pos:end])
		c.pos = end
		c.line++
		if blankRecord(rec) {
			return line, nil, ""
		}
		c.fields = splitPlain(rec, c.delim, c.fields)
		return line, rec, ""
	}
	end, lines, complete, open := recordEnd(c.data, c.pos, c.delim)
	rec = trimEOL(c.data[c.pos:end])
	c.line += int64(lines)
	c.pos = end
	if !complete && open {
		return line, rec, ReasonUnterminated
	}
	c.fields, c.arena, reason = splitRecord(rec, c.delim, c.fields, c.arena)
	return line, rec, reason
}

// decodeRow decodes field i into dst[i][at] and null[i], and returns
// the codec of the first value that does not decode (nil: the row is
// good).
func (run *conversion) decodeRow(fields []csvField, dst [][]parquet.Value, at int, null []bool) *colCodec {
	for i := range run.codecs {
		cd := &run.codecs[i]
		v, isNull, good := run.decode(cd, fields[cd.src])
		if !good {
			return cd
		}
		dst[i][at], null[i] = v, isNull // a NULL is the zero Value
	}
	return nil
}

// partitionGroups finds the group of a row in one chunk.
type partitionGroups struct {
	byKey  map[string]*group
	last   *group // rows of one partition come in runs
	keyBuf []byte
}

// direct returns the one group of a run whose partition values are
// all constant (run.direct), adding it to ch; nil otherwise.
func (p *partitionGroups) direct(run *conversion, ch *chunk) *group {
	if !run.direct {
		return nil
	}
	if p.last == nil {
		p.last = run.newGroup(run.constKey)
		ch.groups = append(ch.groups, p.last)
	}
	return p.last
}

// of returns the group of the row's partition, adding it to ch.
func (p *partitionGroups) of(run *conversion, ch *chunk, row []parquet.Value, null []bool) *group {
	p.keyBuf = run.partitionPath(p.keyBuf[:0], row, null)
	if p.last != nil && p.last.key == string(p.keyBuf) {
		return p.last
	}
	grp := p.byKey[string(p.keyBuf)]
	if grp == nil {
		key := string(p.keyBuf)
		grp = run.newGroup(key)
		if p.byKey == nil {
			p.byKey = map[string]*group{}
		}
		p.byKey[key] = grp
		ch.groups = append(ch.groups, grp)
	}
	p.last = grp
	return grp
}

// commitRow completes the row just written at vals[…][n]: its
// definition levels and column indexes, and the count of its non-NULL
// values.
func (grp *group) commitRow(run *conversion, null []bool, nonNull []int64) {
	for leaf, ci := range run.leaves {
		p := &grp.vals[leaf][grp.n]
		def := 0
		if !null[ci] {
			def = 1
			nonNull[ci]++
		}
		p.SetDefinitionLevel(def) // in place: inlined, unlike Level
		p.SetColumnIndex(leaf)
	}
	if !run.direct {
		// Columns that are partition values only (no leaf).
		for ci := range run.codecs {
			if !null[ci] && run.codecs[ci].leaf < 0 {
				nonNull[ci]++
			}
		}
	}
	grp.rows++
	grp.n++
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

// quarantineText is the text of a bad record for the Quarantine writer;
// without one it is not kept (a chunk of bad records would double its
// memory for nothing).
func (run *conversion) quarantineText(rec []byte) string {
	if run.c.opts.Quarantine == nil {
		return ""
	}
	return string(rec)
}
