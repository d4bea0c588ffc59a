package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// Names the engine gives to streams it creates itself.
const (
	// DefaultInputStream is the name KDA gives the in-application input
	// stream mapped to the streaming source.
	DefaultInputStream = "SOURCE_SQL_STREAM_001"
	// ErrorStream is the in-application stream that receives rows which do
	// not match their stream's schema or fail evaluation. Quote it in SQL:
	// "error_stream".
	ErrorStream = "error_stream"
)

// ErrUnknownStream is returned for a stream name that no statement or input
// declared.
var ErrUnknownStream = errors.New("kda: unknown stream")

// errorStreamColumns is KDA's error_stream schema.
var errorStreamColumns = []value.Column{
	{Name: "ERROR_TIME", Type: value.Timestamp},
	{Name: "ERROR_LEVEL", Type: value.Varchar(10)},
	{Name: "ERROR_NAME", Type: value.Varchar(32)},
	{Name: "MESSAGE", Type: value.Varchar(1024)},
	{Name: "DATA_ROWTIME", Type: value.Timestamp},
	{Name: "DATA_ROW", Type: value.Varchar(49152)},
	{Name: "PUMP_NAME", Type: value.Varchar(128)},
}

// Error names written to the error_stream's ERROR_NAME column.
const (
	ErrorNameInput = "Input_Schema_Mismatch"
	ErrorNameEval  = "Evaluation_Error"
)

// Input declares an input stream: its name and its columns with their
// JSON mappings.
type Input struct {
	Name    string
	Columns []value.Column
	Format  Format
}

// Options configures an Engine. The caller fills every field.
type Options struct {
	Inputs []Input
	// Tables are the reference tables pumps may JOIN.
	Tables []Table
	// Now stamps ROWTIME on rows inserted with a zero time.
	Now func() time.Time
	// Logger receives a debug line per error_stream row.
	Logger *slog.Logger
}

// Row is one row delivered to a subscriber; Values is only valid during
// the callback.
type Row struct {
	Stream  string
	Columns []value.Column
	Values  []value.Value
	// Rowtime is the row's ROWTIME in Unix milliseconds.
	Rowtime int64
}

// Stats is a snapshot of an Engine's counters.
type Stats struct {
	// Rows counts rows inserted into each stream, including error_stream.
	Rows map[string]uint64
}

type stream struct {
	name  string
	cols  []value.Column
	idx   map[string]int
	pumps []*pump
	subs  []func(Row)
	rows  uint64
	dec   *decoder      // input streams only (JSON; nil for CSV)
	csv   *csvDecoder   // CSV input streams only
	input bool          // an input stream
	in    []value.Value // input streams: decode buffer
	env   env
	chain *chainInfo // a JOIN chain's hidden stream (chain.go), or nil
}

type pump struct {
	name     string
	src, dst *stream
	where    evalFn
	projs    []evalFn
	target   []int // destination column of each projection
	types    []value.Type
	direct   []int  // source column copied as is by projection i, or -1
	convert  []bool // projection i needs assign to its column type
	out      []value.Value
	win      *window
	slide    *slide
	join     *join
	distinct *distinct // SELECT STREAM DISTINCT, or nil
	sjoin    *streamJoin
	arms     []*pump   // the other SELECTs of a UNION ALL, on the first arm
	order    *orderArm // ORDER BY (order.go), or nil
	now      func() time.Time

	fn *tableFn // a table function's pump (tablefn.go)
}

// Engine runs a KDA SQL application: rows inserted into its input streams
// flow through the pumps into in-application streams, whose rows are
// delivered to subscribers.
type Engine struct {
	mu        sync.Mutex
	opts      Options
	streams   map[string]*stream
	pumps     []*pump
	pumpNames map[string]*pump
	errStream *stream
	tables    map[string]*table
	funcs     functions
	created   []string // streams CREATE STREAM made, in order
	last      int64    // last ROWTIME assigned; ROWTIME never goes back
	nextClose int64    // earliest end of an open window
	lastInput *stream  // InsertRecord's last stream
}

// New parses and compiles a KDA SQL application.
func New(sql string, o Options) (*Engine, error) {
	script, err := syntax.ParseSQL(sql)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: o, streams: map[string]*stream{}, pumpNames: map[string]*pump{}, nextClose: math.MaxInt64}
	e.errStream = e.addStream(ErrorStream, errorStreamColumns)
	for _, in := range o.Inputs {
		if err := e.addInput(in); err != nil {
			return nil, err
		}
	}
	e.tables = map[string]*table{}
	for _, t := range o.Tables {
		tb, err := newTable(t)
		if err != nil {
			return nil, fmt.Errorf("kda: %w", err)
		}
		if _, clash := e.streams[t.Name]; clash || e.tables[t.Name] != nil {
			return nil, fmt.Errorf("kda: reference table %q has the name of another stream or table", t.Name)
		}
		e.tables[t.Name] = tb
	}
	for _, st := range script.Stmts {
		if err := e.addStmt(st); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (e *Engine) addInput(in Input) error {
	name := in.Name
	if name == "" {
		name = DefaultInputStream
	}
	if _, dup := e.streams[name]; dup {
		return fmt.Errorf("kda: input stream %q declared twice", name)
	}
	cols := append([]value.Column(nil), in.Columns...) // the decoders normalise types
	var dec *decoder
	var csv *csvDecoder
	var err error
	switch in.Format.Type {
	case "", FormatJSON:
		dec, err = newDecoder(cols)
	case FormatCSV:
		csv, err = newCSVDecoder(in.Format, cols)
	default:
		err = fmt.Errorf("record format %q is not JSON or CSV", in.Format.Type)
	}
	if err != nil {
		return fmt.Errorf("kda: input %q: %w", name, err)
	}
	s := e.addStream(name, cols)
	s.dec, s.csv, s.input = dec, csv, true
	s.in = make([]value.Value, len(in.Columns))
	return nil
}

func (e *Engine) addStmt(st syntax.Stmt) error {
	switch st := st.(type) {
	case *syntax.CreateStream:
		if _, ok := e.tables[st.Name]; ok {
			return st.Pos.Errorf("%q is a reference table", st.Name)
		}
		if old, ok := e.streams[st.Name]; ok {
			if !st.OrReplace || old.input || old == e.errStream {
				return st.Pos.Errorf("stream %q already exists", st.Name)
			}
			if len(old.pumps) > 0 {
				return st.Pos.Errorf("stream %q is read by pump %q and cannot be replaced", st.Name, old.pumps[0].name)
			}
		}
		if _, replaced := e.streams[st.Name]; !replaced {
			e.created = append(e.created, st.Name)
		}
		e.addStream(st.Name, st.Columns)
		return nil
	case *syntax.CreatePump:
		return e.addPump(st)
	case *syntax.CreateFunction:
		return e.addFunction(st)
	}
	// A statement the parser knows and the engine does not run yet.
	return st.StmtPos().Unsupported(fmt.Sprintf("%T", st))
}

func (e *Engine) addStream(name string, cols []value.Column) *stream {
	s := &stream{name: name, cols: cols, idx: map[string]int{}}
	for i, c := range cols {
		s.idx[c.Name] = i
	}
	e.streams[name] = s
	return s
}

// reaches reports whether rows inserted into from can flow into to. It
// visits each stream once: pumps may join and fork streams, and following
// every path would take exponential time.
func (e *Engine) reaches(from, to *stream) bool {
	seen := map[*stream]bool{from: true}
	stack := []*stream{from}
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s == to {
			return true
		}
		for _, p := range s.pumps {
			if !seen[p.dst] {
				seen[p.dst] = true
				stack = append(stack, p.dst)
			}
		}
	}
	return false
}

// sqlCaseHint explains an unknown stream name in SQL that differs only in
// case from one that exists, as column errors do.
func (e *Engine) sqlCaseHint(name string) string {
	for n := range e.streams {
		if n != name && strings.EqualFold(n, name) {
			if strings.ToUpper(n) == n {
				return " (unquoted names are upper-cased: write " + strings.ToLower(n) + " or " + strconv.Quote(n) + ")"
			}
			return " (unquoted names are upper-cased: write " + strconv.Quote(n) + ")"
		}
	}
	return ""
}

// unknownStream is the error for a stream name passed to the Go API that no
// stream has; a name that differs only in case says which stream exists.
func (e *Engine) unknownStream(name, detail string) error {
	hint := ""
	for n := range e.streams {
		if n != name && strings.EqualFold(n, name) {
			if strings.ToUpper(n) == n {
				hint = " (unquoted names are upper-cased: the stream is " + strconv.Quote(n) + ")"
			} else {
				hint = " (names are case-sensitive: the stream is " + strconv.Quote(n) + ")"
			}
			break
		}
	}
	return fmt.Errorf("%w %q%s%s", ErrUnknownStream, name, detail, hint)
}

// Subscribe registers fn to receive every row inserted into stream, in
// order. fn runs synchronously inside Insert/InsertRecord/Advance/Flush with
// the engine locked: it must not call back into the Engine.
func (e *Engine) Subscribe(stream string, fn func(Row)) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.streams[stream]
	if !ok {
		return e.unknownStream(stream, "")
	}
	s.subs = append(s.subs, fn)
	return nil
}

// CreatedStreams returns the names of the streams the application's
// CREATE STREAM statements made, in order.
func (e *Engine) CreatedStreams() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.created...)
}

// Schema returns the columns of a stream.
func (e *Engine) Schema(stream string) ([]value.Column, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.streams[stream]
	if !ok {
		return nil, e.unknownStream(stream, "")
	}
	return append([]value.Column(nil), s.cols...), nil
}

// Stats returns a snapshot of the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := Stats{Rows: map[string]uint64{}}
	for n, s := range e.streams {
		st.Rows[n] = s.rows
	}
	return st
}

func (e *Engine) rowtime(t time.Time) int64 {
	if t.IsZero() {
		t = e.opts.Now()
	}
	ms := t.UnixMilli()
	if ms < e.last {
		ms = e.last
	}
	e.last = ms
	return ms
}

// InsertRecord maps a record (JSON or CSV, as the input stream's Format
// says) onto the columns of an input stream and runs its rows through the
// pumps. rowtime stamps ROWTIME (zero: Options.Now); ROWTIME never
// decreases, so an earlier time is raised to the last one. A record that
// does not match the schema goes to the error_stream and is not an error
// for the caller; InsertRecord fails only for an unknown stream.
func (e *Engine) InsertRecord(stream string, data []byte, rowtime time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.lastInput
	if s == nil || s.name != stream {
		var ok bool
		if s, ok = e.streams[stream]; !ok || !s.input {
			return e.unknownStream(stream, " (not an input stream)")
		}
		e.lastInput = s // records mostly arrive for one input stream
	}
	rt := e.rowtime(rowtime)
	if rt >= e.nextClose {
		e.advance(rt)
	}
	if s.csv != nil {
		s.csv.rows(data, s.in, func(row []value.Value, raw string, err error) {
			if err != nil {
				e.emitError(ErrorNameInput, err.Error(), rt, raw, "")
				return
			}
			e.insert(s, row, rt)
		})
		return nil
	}
	if err := s.dec.decode(data, s.in); err != nil {
		e.emitError(ErrorNameInput, err.Error(), rt, dataRow(data), "")
		return nil
	}
	e.insert(s, s.in, rt)
	return nil
}

// Insert inserts typed values into a stream (an input or any
// in-application stream), converting each to its column's type. A row that
// does not convert goes to the error_stream.
func (e *Engine) Insert(stream string, vals []value.Value, rowtime time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	s, ok := e.streams[stream]
	if !ok || s == e.errStream {
		return e.unknownStream(stream, "")
	}
	rt := e.rowtime(rowtime)
	if rt >= e.nextClose {
		e.advance(rt)
	}
	if len(vals) != len(s.cols) {
		e.emitError(ErrorNameInput, fmt.Sprintf("%d values for %d columns", len(vals), len(s.cols)), rt, valuesRow(vals), "")
		return nil
	}
	if len(s.in) != len(s.cols) {
		s.in = make([]value.Value, len(s.cols))
	}
	row := s.in
	for i, v := range vals {
		c, err := assign(v, s.cols[i].Type)
		if err != nil {
			e.emitError(ErrorNameInput, fmt.Sprintf("column %q: %v", s.cols[i].Name, err), rt, valuesRow(vals), "")
			return nil
		}
		row[i] = c
	}
	e.insert(s, row, rt)
	return nil
}

// Advance moves ROWTIME to t and closes every tumbling window that ends at
// or before t, emitting its rows. Without Advance a window closes when the
// first row of a later window arrives.
func (e *Engine) Advance(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(e.rowtime(t))
}

// Flush closes every open window now, whatever its end, as at shutdown.
func (e *Engine) Flush() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.advance(math.MaxInt64)
}

func (e *Engine) advance(t int64) {
	for _, p := range e.pumps {
		if p.sjoin != nil {
			e.expireJoin(p, t)
		}
		switch {
		case p.fn != nil:
			p.fn.op.Advance(t, p.fn.emit)
		case p.win == nil:
		case p.win.stagger:
			e.closeStagger(p, t)
		case p.win.millis == 0:
			if t == math.MaxInt64 { // Flush: the last value's groups
				e.closeGroups(p, e.last)
			}
		case p.win.open && t >= p.win.start+p.win.millis:
			e.closeWindow(p)
		}
		if p.order != nil && p.order.owner {
			e.closeOrder(p.order.s, t)
		}
	}
	e.setNextClose()
}

// setNextClose sets nextClose to the earliest end of an open window.
func (e *Engine) setNextClose() {
	e.nextClose = math.MaxInt64
	for _, p := range e.pumps {
		if end, ok := p.sjoin.nextExpiry(); ok && end < e.nextClose {
			e.nextClose = end
		}
		if end, ok := p.order.nextClose(); ok && end < e.nextClose {
			e.nextClose = end
		}
		if p.win == nil {
			continue
		}
		if end, ok := p.win.nextEnd(); ok && end < e.nextClose {
			e.nextClose = end
		}
	}
	e.nextClose = min(e.nextClose, e.tablesNextClose())
}

func (e *Engine) insert(s *stream, row []value.Value, rt int64) {
	s.rows++
	if len(s.subs) > 0 {
		r := Row{Stream: s.name, Columns: s.cols, Values: row, Rowtime: rt}
		for _, fn := range s.subs {
			fn(r)
		}
	}
	if len(s.pumps) == 0 {
		return
	}
	// Each stream has its own env: pumps form a DAG, so a stream's env is
	// never in use twice at once.
	env := &s.env
	env.row, env.rowtime = row, rt
	for _, p := range s.pumps {
		switch {
		case p.sjoin != nil:
			e.pushStreamJoin(p, s, env)
		case p.join == nil:
			e.pushRow(p, env)
		default:
			e.push(p, env)
		}
	}
}

// push runs the row in v through pump p: once per joined table row for a
// pump with a JOIN (once with a NULL table row for an unmatched LEFT JOIN).
func (e *Engine) push(p *pump, v *env) {
	j := p.join
	if j == nil {
		e.pushRow(p, v)
		return
	}
	matches, err := j.lookup(v)
	if err != nil {
		e.pumpError(p, v, err)
		return
	}
	if len(matches) == 0 && j.left {
		v.ref = j.nulls
		e.pushRow(p, v)
	}
	for _, m := range matches {
		v.ref = m
		e.pushRow(p, v)
	}
	v.ref = nil
}

func (e *Engine) pushRow(p *pump, v *env) {
	if p.fn != nil {
		e.pushTable(p, v)
		return
	}
	if p.where != nil {
		ok, err := p.where(v)
		if err != nil {
			e.pumpError(p, v, err)
			return
		}
		if ok.K != value.KindBool || ok.I == 0 {
			return
		}
	}
	if p.win != nil {
		if err := e.accumulate(p, v); err != nil {
			e.pumpError(p, v, err)
		}
		return
	}
	if p.slide != nil {
		if err := p.slide.update(v); err != nil {
			e.pumpError(p, v, err)
			return
		}
		v.aggs = p.slide.vals
	}
	out := p.out
	if len(p.projs) != len(out) {
		clear(out)
	}
	for i, f := range p.projs {
		if k := p.direct[i]; k >= 0 && !p.convert[i] {
			out[p.target[i]] = v.row[k]
			continue
		}
		x, err := f(v)
		if err == nil && p.convert[i] {
			x, err = assign(x, p.types[i])
		}
		if err != nil {
			e.pumpError(p, v, err)
			return
		}
		out[p.target[i]] = x
	}
	if p.distinct != nil {
		if ok, err := p.distinct.admit(out); !ok {
			if err != nil {
				e.pumpError(p, v, err)
			}
			return
		}
	}
	if p.order == nil {
		e.insert(p.dst, out, v.rowtime)
	} else if err := e.orderRow(p, v, out, v.rowtime); err != nil {
		e.pumpError(p, v, err)
	}
}

func (e *Engine) pumpError(p *pump, v *env, err error) {
	if p.src == e.errStream {
		e.opts.Logger.Debug("kda: dropped error_stream row that failed in a pump", "pump", p.name, "error", err)
		return
	}
	e.emitError(ErrorNameEval, err.Error(), v.rowtime, string(value.AppendRowJSON(nil, p.src.cols, v.row)), p.name)
}

func (e *Engine) emitError(name, msg string, rt int64, data, pumpName string) {
	e.opts.Logger.Debug("kda: row sent to error_stream", "error", name, "message", msg, "pump", pumpName)
	now := e.opts.Now().UnixMilli()
	row := []value.Value{
		{K: value.KindTime, I: now}, value.StringValue("Error"), value.StringValue(name), value.StringValue(truncateRunes(msg, 1024)),
		{K: value.KindTime, I: rt}, value.StringValue(truncateRunes(data, 49152)), value.StringValue(pumpName),
	}
	if pumpName == "" {
		row[6] = value.Value{}
	}
	e.insert(e.errStream, row, rt)
}
