package kda

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// ReplayOptions configures Replay and ReplayToDir.
type ReplayOptions struct {
	// Preprocess stands in for the application's input preprocessing
	// Lambda: it returns the record to insert (nil drops it) or an error,
	// which stops the replay. Default nil: records are inserted as read.
	// An application with a preprocessor needs Preprocess or Preprocessed.
	Preprocess func(ctx context.Context, r KinesisRecord) ([]byte, error)
	// Preprocessed says the records were already transformed by the
	// application's preprocessor, so none is needed. Default false.
	Preprocessed bool
	// Logger receives a debug line per error_stream row (never the row's
	// data). Default: discarded.
	Logger *slog.Logger
	// References maps a reference table to a local file that replaces its
	// S3 object (TABLE=FILE). Default none.
	References map[string]string
	// S3 loads the reference tables References does not name. Default nil:
	// every reference table needs a file.
	S3 GetObjectAPI
}

// ReplayStats counts what a replay did.
type ReplayStats struct {
	// Records is the number of user records inserted (after
	// preprocessing drops).
	Records int
	// Rows counts the rows written per stream.
	Rows map[string]int
}

// Replay runs records through app as KDA would have, deterministically:
// records are taken in arrival order (stable for equal times), each one's
// ArrivalTime stamps its ROWTIME and is the engine's clock (so
// error_stream's ERROR_TIME is reproducible), and after the last record
// the clock runs on until every open window has closed. With an
// InputParallelism above 1, a record goes to in-application input stream
// number FNV-1a(PartitionKey) mod the count.
//
// The rows of each output stream of app (every stream the code creates
// when app has no OutputDescriptions) and of the error_stream are written
// to out(stream) in the stream's destination format
// (Application.OutputFormat): JSON lines, one object per row with
// "ROWTIME" ("yyyy-MM-dd HH:mm:ss.SSS", UTC) and the columns by name, in
// order; or for a CSV destination, CSV lines, ROWTIME then the columns
// in order as Row.AppendCSV writes them (no header line). out is called
// once per stream before the first record. Replaying the same records
// twice writes the same bytes.
func Replay(ctx context.Context, app *Application, records []KinesisRecord, out func(stream string) (io.Writer, error), optFns ...func(*ReplayOptions)) (ReplayStats, error) {
	var o ReplayOptions
	for _, f := range optFns {
		f(&o)
	}
	o.Logger = opt.Logger(o.Logger)
	st := ReplayStats{Rows: map[string]int{}}
	if len(app.Inputs) == 0 {
		return st, &ApplicationError{Path: "ApplicationDetail.InputDescriptions", Msg: "missing: the application has no input"}
	}
	input := app.Inputs[0]
	if input.PreprocessorARN != "" && o.Preprocess == nil && !o.Preprocessed {
		return st, &ApplicationError{Path: "ApplicationDetail.InputDescriptions[0].InputProcessingConfigurationDescription",
			Msg: "the application preprocesses its input with " + input.PreprocessorARN + ": set ReplayOptions.Preprocess, or ReplayOptions.Preprocessed for records it already transformed"}
	}
	tables, err := app.LoadReferences(ctx, o.S3, o.References)
	if err != nil {
		return st, err
	}
	recs := slices.Clone(records)
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].ArrivalTime.Before(recs[j].ArrivalTime) })
	var clock time.Time
	e, err := app.NewEngine(func(eo *EngineOptions) {
		eo.Now = func() time.Time { return clock }
		eo.Logger = o.Logger
		eo.Tables = tables
	})
	if err != nil {
		return st, err
	}
	w, err := newReplayWriters(e, app, out, st.Rows)
	if err != nil {
		return st, err
	}
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		data := r.Data
		if o.Preprocess != nil {
			if data, err = o.Preprocess(ctx, r); err != nil {
				return st, fmt.Errorf("kda: preprocessing record %s: %w", r.SequenceNumber, err)
			}
			if data == nil {
				continue
			}
		}
		clock = r.ArrivalTime
		stream := input.Streams[0]
		if n := len(input.Streams); n > 1 {
			h := fnv.New32a()
			h.Write([]byte(r.PartitionKey))
			stream = input.Streams[h.Sum32()%uint32(n)]
		}
		if err := e.InsertJSON(stream, data, r.ArrivalTime); err != nil {
			return st, err
		}
		st.Records++
		if w.err != nil {
			return st, w.err
		}
	}
	e.Flush()
	return st, errors.Join(w.err, w.flush())
}

// replayWriters buffers each stream's lines; err is the first write
// error (subscribers cannot return one).
type replayWriters struct {
	bufs []*bufio.Writer
	err  error
	line []byte
}

func newReplayWriters(e *Engine, app *Application, out func(string) (io.Writer, error), rows map[string]int) (*replayWriters, error) {
	streams := make([]string, 0, len(app.Outputs)+1)
	for _, o := range app.Outputs {
		if !slices.Contains(streams, o.Stream) {
			streams = append(streams, o.Stream)
		}
	}
	if len(streams) == 0 {
		streams = e.e.CreatedStreams()
	}
	if !slices.Contains(streams, ErrorStream) {
		streams = append(streams, ErrorStream) // its own output or not
	}
	w := &replayWriters{}
	for _, s := range streams {
		dst, err := out(s)
		if err != nil {
			return nil, fmt.Errorf("kda: output for stream %q: %w", s, err)
		}
		bw := bufio.NewWriter(dst)
		w.bufs = append(w.bufs, bw)
		rows[s] = 0
		csv := app.OutputFormat(s) == FormatCSV
		if err := e.Subscribe(s, func(r Row) {
			if w.err != nil {
				return
			}
			if csv {
				w.line = appendReplayCSV(w.line[:0], r)
			} else {
				w.line = appendReplayRow(w.line[:0], r)
			}
			if _, err := bw.Write(w.line); err != nil {
				w.err = fmt.Errorf("kda: writing stream %q: %w", r.Stream, err)
			}
			rows[r.Stream]++
		}); err != nil {
			return nil, err
		}
	}
	return w, nil
}

func (w *replayWriters) flush() error {
	for _, b := range w.bufs {
		if err := b.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// appendReplayRow appends r as one JSON line: ROWTIME, then the columns.
func appendReplayRow(dst []byte, r Row) []byte {
	dst = append(dst, `{"ROWTIME":`...)
	dst = value.Value{K: value.KindTime, I: r.Rowtime}.AppendJSON(dst)
	body := value.AppendRowJSON(nil, r.Columns, r.Values)
	if len(body) > 2 {
		dst = append(dst, ',')
		dst = append(dst, body[1:]...)
	} else {
		dst = append(dst, '}')
	}
	return append(dst, '\n')
}

// appendReplayCSV appends r as one CSV line: ROWTIME, then the columns.
func appendReplayCSV(dst []byte, r Row) []byte {
	dst = value.Value{K: value.KindTime, I: r.Rowtime}.AppendCSV(dst)
	if len(r.Values) == 0 {
		return append(dst, '\n')
	}
	return value.AppendRowCSV(append(dst, ','), r.Values)
}

// OutputFormat is the RecordFormatType of the stream's destination: the
// Format of the first of a.Outputs that names it, FormatJSON when none
// does (the error_stream without a destination, every stream of an
// application without OutputDescriptions).
func (a *Application) OutputFormat(stream string) string {
	for _, o := range a.Outputs {
		if o.Stream == stream && o.Format != "" {
			return o.Format
		}
	}
	return FormatJSON
}

// ReplayToDir is Replay writing each stream's rows to DIR/<STREAM>.jsonl,
// or DIR/<STREAM>.csv for a CSV destination (StreamFileName; the stream
// name path-escaped when it is not a plain file name), for
// comparison with what the KDA application wrote. dir is created if
// needed; existing files are replaced.
func ReplayToDir(ctx context.Context, app *Application, records []KinesisRecord, dir string, optFns ...func(*ReplayOptions)) (ReplayStats, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return ReplayStats{}, err
	}
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	st, err := Replay(ctx, app, records, func(stream string) (io.Writer, error) {
		f, err := os.Create(filepath.Join(dir, StreamFileName(stream, app.OutputFormat(stream))))
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		return f, nil
	}, optFns...)
	for _, f := range files {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	files = nil
	return st, err
}

// StreamFileName is the file ReplayToDir writes a stream's rows to in
// format (Application.OutputFormat): NAME.csv for FormatCSV, else
// NAME.jsonl, with NAME path-escaped so that any quoted stream name is one
// safe file name.
func StreamFileName(stream, format string) string {
	name := url.PathEscape(stream)
	if name != "" && name[0] == '.' {
		name = "%2E" + name[1:]
	}
	if format == FormatCSV {
		return name + ".csv"
	}
	return name + ".jsonl"
}
