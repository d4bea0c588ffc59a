package kda

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Sink receives the rows of an in-application stream, one record each
// (JSON, or CSV for an Output whose Format is FormatCSV): a Delivery (S3,
// Firehose-style) or a FirehoseSink (the real Firehose).
type Sink interface {
	Put(ctx context.Context, record []byte, arrival time.Time) error
	Flush(ctx context.Context) error
}

// Output connects an in-application stream to a Sink, like a KDA
// application's destination.
type Output struct {
	Stream string
	Sink   Sink
	// Format is the destination's RecordFormatType (AppOutput.Format):
	// FormatCSV writes each row as Row.AppendCSV does, a "\n"-terminated
	// line (a Delivery of CSV records wants NoNewline, or every record is
	// followed by an empty line, as with Firehose's newline delimiter
	// option); FormatJSON or empty, as Row.AppendJSON does.
	Format string
}

// App is a running KDA application: JSON records into its input stream,
// the rows of its output streams, as JSON or CSV records, into sinks.
type App struct {
	engine *Engine
	input  string
	sinks  []Sink

	mu  sync.Mutex
	ctx context.Context
	err error
	buf []byte
}

// NewApp connects engine's outputs to sinks. input is the input stream fed
// by Process (empty: DefaultInputStream).
func NewApp(engine *Engine, input string, outputs ...Output) (*App, error) {
	if input == "" {
		input = DefaultInputStream
	}
	if _, err := engine.Schema(input); err != nil {
		return nil, err
	}
	a := &App{engine: engine, input: input}
	for _, o := range outputs {
		if o.Format != "" && o.Format != FormatJSON && o.Format != FormatCSV {
			return nil, &OptionError{Type: "kda.Output", Field: "Format", Value: o.Format, Want: "FormatJSON or FormatCSV"}
		}
		sink, encode := o.Sink, rowEncoder(o.Format)
		if err := engine.Subscribe(o.Stream, func(r Row) {
			if a.err != nil {
				return
			}
			a.buf = encode(r, a.buf[:0])
			if err := sink.Put(a.ctx, a.buf, r.Time()); err != nil {
				a.err = fmt.Errorf("output %q: %w", r.Stream, err)
			}
		}); err != nil {
			return nil, err
		}
		a.sinks = append(a.sinks, sink)
	}
	return a, nil
}

// Engine returns the app's engine.
func (a *App) Engine() *Engine { return a.engine }

// Process runs one JSON record through the application. ROWTIME is
// arrival (zero: the engine's clock). It returns a sink's error; the sink
// keeps its rows buffered, so retrying the record (as the Lambda adapter
// and Consumer do) may deliver some rows twice: at-least-once, never lost
// while the process lives. Flush before acknowledging input for good.
func (a *App) Process(ctx context.Context, data []byte, arrival time.Time) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ctx, a.err = ctx, nil
	if err := a.engine.InsertJSON(a.input, data, arrival); err != nil {
		return err
	}
	return a.err
}

// HandleRecord is a RecordHandler running each Kinesis user record through
// the application; ROWTIME is the record's approximate arrival time.
func (a *App) HandleRecord(ctx context.Context, r KinesisRecord) error {
	return a.Process(ctx, r.Data, r.ArrivalTime)
}

// Flush writes every sink's buffer.
func (a *App) Flush(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	errs := make([]error, 0, len(a.sinks))
	for _, s := range a.sinks {
		errs = append(errs, s.Flush(ctx))
	}
	return errors.Join(errs...)
}

var (
	_ Sink = (*Delivery)(nil)
	_ Sink = (*FirehoseSink)(nil)
)
