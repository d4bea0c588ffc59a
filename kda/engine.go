package kda

import (
	"errors"
	"log/slog"
	"time"

	"github.com/lakekit/lakekit/internal/opt"
	"github.com/lakekit/lakekit/kda/internal/engine"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Names the engine gives to streams it creates itself.
const (
	// DefaultInputStream is the name KDA gives the in-application input
	// stream mapped to the streaming source.
	DefaultInputStream = engine.DefaultInputStream
	// ErrorStream is the in-application stream that receives rows which do
	// not match their stream's schema or fail evaluation. Quote it in SQL:
	// "error_stream".
	ErrorStream = engine.ErrorStream
)

// Record formats of inputs (RecordFormat.Type) and destinations
// (AppOutput.Format, Output.Format), as KDA's RecordFormatType names them.
const (
	FormatJSON = engine.FormatJSON
	FormatCSV  = engine.FormatCSV
)

// Error names written to the error_stream's ERROR_NAME column.
const (
	// ErrorNameInput marks a record that does not match its input schema.
	ErrorNameInput = engine.ErrorNameInput
	// ErrorNameEval marks a row whose evaluation failed in a pump.
	ErrorNameEval = engine.ErrorNameEval
)

// ErrUnknownStream is returned for a stream name that no statement or input
// declared.
var ErrUnknownStream = engine.ErrUnknownStream

// Input declares an in-application input stream: its name (default
// DefaultInputStream), its columns with their JSON mappings, and its
// record format (default JSON).
type Input struct {
	Name    string
	Columns []Column
	Format  RecordFormat
}

// RecordFormat is how an input stream's records are laid out, as a KDA
// input schema's RecordFormat says: Type "JSON" (the default; one row per
// record, columns found by their Mapping) or "CSV" (rows split by
// RowDelimiter, default "\n"; fields by ColumnDelimiter, default ",";
// in column order, with no quoting; an empty non-VARCHAR field is NULL).
type RecordFormat = engine.Format

// EngineOptions configures an Engine.
type EngineOptions struct {
	// Now is the clock that stamps ROWTIME on rows inserted with a zero
	// time. Default time.Now.
	Now func() time.Time
	// Logger receives a debug line per error_stream row (never the row's
	// data). Default: discarded.
	Logger *slog.Logger
	// Tables are the reference tables pumps may JOIN. Default none.
	Tables []Table
}

// Row is one row delivered to a subscriber. Values is only valid during the
// callback; use Clone to keep it.
type Row struct {
	Stream  string
	Columns []Column
	Values  []Value
	// Rowtime is the row's ROWTIME in Unix milliseconds.
	Rowtime int64
}

// Time returns ROWTIME as a UTC time.
func (r Row) Time() time.Time { return time.UnixMilli(r.Rowtime).UTC() }

// Clone returns a copy of r whose Values the caller owns.
func (r Row) Clone() Row {
	r.Values = append([]Value(nil), r.Values...)
	return r
}

// AppendJSON appends the row as a JSON object keyed by column name, as KDA
// writes it to a JSON destination.
func (r Row) AppendJSON(dst []byte) []byte { return value.AppendRowJSON(dst, r.Columns, r.Values) }

// AppendCSV appends the row as KDA writes it to a CSV destination: the
// values in the stream's column order, comma-separated, ended by "\n";
// each formatted as in JSON (TIMESTAMP "yyyy-MM-dd HH:mm:ss.SSS", DATE
// "yyyy-MM-dd", TIME "HH:mm:ss.SSS", BOOLEAN true/false, VARBINARY
// base64), NULL as an empty field. A VARCHAR holding a comma, a double
// quote, CR or LF, or empty, is quoted with its quotes doubled (RFC 4180;
// the empty string as "" so that it stays apart from NULL). A row of one
// NULL column is an empty line.
func (r Row) AppendCSV(dst []byte) []byte { return value.AppendRowCSV(dst, r.Values) }

// rowEncoder returns how a destination of RecordFormatType format encodes
// a row: Row.AppendCSV for FormatCSV, else Row.AppendJSON. (Chosen once
// per destination: a format test per row costs the seed pumps 2.5%.)
func rowEncoder(format string) func(Row, []byte) []byte {
	if format == FormatCSV {
		return Row.AppendCSV
	}
	return Row.AppendJSON
}

// Get returns the value of the named column, or NULL.
func (r Row) Get(name string) Value {
	for i, c := range r.Columns {
		if c.Name == name {
			return r.Values[i]
		}
	}
	return Value{}
}

// EngineStats is a snapshot of an Engine's counters.
type EngineStats struct {
	// Rows counts rows inserted into each stream, including error_stream.
	Rows map[string]uint64
}

// Engine runs a KDA SQL application: rows inserted into its input streams
// flow through the pumps into in-application streams, whose rows are
// delivered to subscribers.
type Engine struct {
	e *engine.Engine
}

// NewEngine parses and compiles a KDA SQL application reading the given
// input streams (at least one; DiscoverSchema infers one from samples).
// SQL errors are *SQLError.
func NewEngine(sql string, inputs []Input, optFns ...func(*EngineOptions)) (*Engine, error) {
	var o EngineOptions
	for _, f := range optFns {
		f(&o)
	}
	if len(inputs) == 0 {
		return nil, errors.New("kda: NewEngine needs at least one input stream; declare its columns (see DiscoverSchema)")
	}
	io := engine.Options{Now: o.Now, Logger: o.Logger, Tables: o.Tables}
	io.Now = orNow(io.Now)
	io.Logger = opt.Logger(o.Logger)
	for _, in := range inputs {
		io.Inputs = append(io.Inputs, engine.Input(in))
	}
	e, err := engine.New(sql, io)
	if err != nil {
		return nil, err
	}
	return &Engine{e: e}, nil
}

// Subscribe registers fn to receive every row inserted into stream, in
// order. fn runs synchronously inside Insert/InsertJSON/Advance/Flush with
// the engine locked: it must not call back into the Engine.
func (e *Engine) Subscribe(stream string, fn func(Row)) error {
	return e.e.Subscribe(stream, func(r engine.Row) { fn(Row(r)) })
}

// Schema returns the columns of a stream.
func (e *Engine) Schema(stream string) ([]Column, error) { return e.e.Schema(stream) }

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() EngineStats { return EngineStats(e.e.Stats()) }

// InsertJSON maps a record onto the columns of an input stream and runs
// it through the pumps: a JSON record, or for an input whose Format is CSV,
// a CSV record of one or more rows. rowtime stamps ROWTIME (zero: EngineOptions.Now);
// ROWTIME never decreases, so an earlier time is raised to the last one.
// A record that does not match the schema goes to the error_stream and is
// not an error for the caller; InsertJSON fails only for an unknown stream.
func (e *Engine) InsertJSON(stream string, data []byte, rowtime time.Time) error {
	return e.e.InsertRecord(stream, data, rowtime)
}

// Insert inserts typed values into a stream (an input or any
// in-application stream), converting each to its column's type. A row that
// does not convert goes to the error_stream.
func (e *Engine) Insert(stream string, vals []Value, rowtime time.Time) error {
	return e.e.Insert(stream, vals, rowtime)
}

// Advance moves ROWTIME to t and closes every tumbling window that ends at
// or before t, emitting its rows. Without Advance a window closes when the
// first row of a later window arrives.
func (e *Engine) Advance(t time.Time) { e.e.Advance(t) }

// Flush closes every open window now, whatever its end, as at shutdown.
func (e *Engine) Flush() { e.e.Flush() }

// DiscoverSchema infers an input stream's columns from sample JSON records,
// as the KDA console's "Discover schema" does.
func DiscoverSchema(samples [][]byte) ([]Column, error) { return engine.DiscoverSchema(samples) }
