package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
)

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
