package convert

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// tenRows is a header and ten records, bad of them with a value that is
// not a bigint.
func tenRows(bad int) string {
	var b strings.Builder
	b.WriteString("id,n\n")
	for i := range 10 {
		if i < bad {
			fmt.Fprintf(&b, "%d,x%d\n", i, i)
		} else {
			fmt.Fprintf(&b, "%d,%d\n", i, i)
		}
	}
	return b.String()
}

var tenRowsMapping = []Mapping{{Source: "id", Column: Column{Type: TypeInt64}}, {Source: "n", Column: Column{Type: TypeInt64}}}

// TestConvertAllQuarantinedFails is issue 12 case 4: a date column without
// a layout quarantined every record and Convert returned rows=0 and a nil
// error.
func TestConvertAllQuarantinedFails(t *testing.T) {
	input := "order_id,purchase_date\n1,05/03/2021\n2,06/03/2021\n"
	for _, withWriter := range []bool{false, true} {
		t.Run(fmt.Sprint("quarantine writer ", withWriter), func(t *testing.T) {
			dir := t.TempDir()
			var q bytes.Buffer
			res, err := mustConverter(DirSink(dir), func(o *ConverterOptions) {
				o.Mapping = []Mapping{{Source: "order_id"}, {Source: "purchase_date", Column: Column{Type: TypeDate}}}
				if withWriter {
					o.Quarantine = &q
					o.MaxQuarantineRatio = 1 // tolerates anything but all
				}
			}).Convert(context.Background(), strings.NewReader(input))
			var qe *QuarantineError
			if !errors.As(err, &qe) {
				t.Fatalf("Convert = %+v, %v; want *QuarantineError", res, err)
			}
			t.Logf("error: %v", err)
			if qe.Rows != 0 || qe.Quarantined != 2 || len(qe.First) != 2 ||
				qe.First[0] != (RowError{Line: 2, Column: "purchase_date", Reason: "bad value: not a date (layout yyyy-MM-dd)"}) ||
				qe.First[1].Line != 3 {
				t.Fatalf("error %+v", qe)
			}
			if strings.Contains(err.Error(), "05/03/2021") {
				t.Fatalf("error message holds record values: %v", err)
			}
			if files := listAll(t, dir); len(files) != 0 {
				t.Fatalf("sink holds %v after a failed run", files)
			}
			if withWriter && strings.Count(q.String(), "\n") != 3 {
				t.Fatalf("quarantine output %q", q.String())
			}
		})
	}
}

func listAll(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	var walk func(d string)
	sink := DirSink(dir)
	walk = func(d string) {
		names, err := sink.List(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, names...)
	}
	walk("")
	return out
}

func TestConvertQuarantineRatio(t *testing.T) {
	tests := []struct {
		name    string
		bad     int
		writer  bool
		ratio   float64
		wantErr string // "" for success
	}{
		{"no writer, one bad record fails", 1, false, 0, "1 of the first 10 records were quarantined and there is no Quarantine writer"},
		{"no writer, explicit ratio", 1, false, 0.2, ""},
		{"writer, default ratio, 10%", 1, true, 0, ""},
		{"writer, default ratio, 20%", 2, true, 0, "2 of 10 records were quarantined, more than MaxQuarantineRatio 0.1"},
		{"writer, negative tolerates none", 1, true, -1, "1 of the first 10 records were quarantined and MaxQuarantineRatio tolerates none"},
		{"writer, ratio 1, 90%", 9, true, 1, ""},
		{"writer, ratio 1, all", 10, true, 1, "all 10 records were quarantined"},
		{"no bad record", 0, false, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q bytes.Buffer
			res, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
				o.Mapping = tenRowsMapping
				o.MaxQuarantineRatio = tt.ratio
				if tt.writer {
					o.Quarantine = &q
				}
			}).Convert(context.Background(), strings.NewReader(tenRows(tt.bad)))
			if tt.wantErr == "" {
				if err != nil || res.Rows != int64(10-tt.bad) || res.Quarantined != int64(tt.bad) {
					t.Fatalf("Convert = %+v, %v", res, err)
				}
				return
			}
			var qe *QuarantineError
			if !errors.As(err, &qe) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want *QuarantineError with %q", err, tt.wantErr)
			}
			if qe.Quarantined != int64(tt.bad) || qe.Rows != int64(10-tt.bad) || qe.First[0].Line != 2 || qe.First[0].Column != "n" {
				t.Fatalf("error %+v", qe)
			}
		})
	}
	for _, r := range []float64{1.5, -0 + 2} {
		_, err := NewConverter(DirSink(t.TempDir()), func(o *ConverterOptions) { o.MaxQuarantineRatio = r })
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Field != "MaxQuarantineRatio" {
			t.Fatalf("ratio %v: err = %v, want *OptionError", r, err)
		}
	}
}

// TestConvertQuarantineErrorListsFirstReasons: at most five reasons, in
// input order, and a count of the rest.
func TestConvertQuarantineErrorListsFirstReasons(t *testing.T) {
	_, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
		o.Mapping = tenRowsMapping
		o.MaxQuarantineRatio = 0.5
		o.RowGroupRows = 2 // several chunks, committed in order
		o.Workers = 3
	}).Convert(context.Background(), strings.NewReader(tenRows(8)+"1,2,3\n"))
	var qe *QuarantineError
	if !errors.As(err, &qe) || len(qe.First) != maxQuarantineReasons {
		t.Fatalf("err = %v", err)
	}
	for i, r := range qe.First {
		if r.Line != int64(i+2) {
			t.Fatalf("reasons out of order: %+v", qe.First)
		}
	}
	if !strings.HasSuffix(err.Error(), "; and 4 more") {
		t.Fatalf("message %q", err)
	}
}

// TestConvertQuarantineFailureKeepsPartition: a failed run publishes
// nothing and removes nothing, so the partition keeps the earlier run.
func TestConvertQuarantineFailureKeepsPartition(t *testing.T) {
	dir := t.TempDir()
	conv := func(input string) (*Result, error) {
		return mustConverter(DirSink(dir), func(o *ConverterOptions) {
			o.Mapping = tenRowsMapping
			o.Partitions = []PartitionKey{{Name: "day", Value: "01"}}
		}).Convert(context.Background(), strings.NewReader(input))
	}
	first, err := conv(tenRows(0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conv(tenRows(10)); err == nil {
		t.Fatal("all-bad run succeeded")
	}
	names, err := DirSink(dir).List(context.Background(), "day=01/")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{first.Files[0].Name}) {
		t.Fatalf("partition holds %v, want only %s", names, first.Files[0].Name)
	}
}

func TestConvertHeaderModes(t *testing.T) {
	tests := []struct {
		name          string
		input         string
		mode          HeaderMode
		mapping       []Mapping
		header, ambig bool
		rows          int64
	}{
		{"detect: typed column below", "name,n\nann,1\nbob,2\n", HeaderDetect, nil, true, false, 2},
		{"detect: all text is ambiguous", "name,city\nann,paris\nbob,oslo\n", HeaderDetect, nil, false, true, 3},
		{"detect: one record of text", "name,city\n", HeaderDetect, nil, false, true, 1},
		{"detect: numbers first", "1,2\n3,4\n", HeaderDetect, nil, false, false, 2},
		{"present: all text", "name,city\nann,paris\n", HeaderPresent, nil, true, false, 1},
		{"absent: all text", "name,city\nann,paris\n", HeaderAbsent, nil, false, false, 2},
		{"detect, mapping names a column", "name,city\nann,paris\n", HeaderDetect, []Mapping{{Source: "city"}}, true, false, 1},
		{"detect, mapping of colN, all text", "name,city\nann,paris\n", HeaderDetect, []Mapping{{Source: "col1"}}, false, true, 2},
		{"detect, mapping of colN, typed below", "abc,def\n1,2\n", HeaderDetect, []Mapping{{Source: "col1"}}, false, false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
				o.Header = tt.mode
				o.Mapping = tt.mapping
			}).Convert(context.Background(), strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if res.Header != tt.header || res.HeaderAmbiguous != tt.ambig || res.Rows != tt.rows {
				t.Fatalf("header %v ambiguous %v rows %d; want %v %v %d", res.Header, res.HeaderAmbiguous, res.Rows, tt.header, tt.ambig, tt.rows)
			}
			if res.Inference != nil && res.Inference.Ambiguous != tt.ambig {
				t.Fatalf("Inference.Ambiguous %v", res.Inference.Ambiguous)
			}
		})
	}
	_, err := NewConverter(DirSink(t.TempDir()), func(o *ConverterOptions) { o.Header = 7 })
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Field != "Header" {
		t.Fatalf("Header 7: err = %v, want *OptionError", err)
	}
}

// TestNewConverterRefusesInvalidOptions: a value the converter cannot
// honour is an *OptionError from the constructor, never a silent default.
func TestNewConverterRefusesInvalidOptions(t *testing.T) {
	tests := []struct {
		field string
		set   func(*ConverterOptions)
	}{
		{"SampleRows", func(o *ConverterOptions) { o.SampleRows = -1 }},
		{"SampleBytes", func(o *ConverterOptions) { o.SampleBytes = -1 }},
		{"RowGroupRows", func(o *ConverterOptions) { o.RowGroupRows = -5 }},
		{"RowGroupBytes", func(o *ConverterOptions) { o.RowGroupBytes = -5 }},
		{"Workers", func(o *ConverterOptions) { o.Workers = -2 }},
		{"MaxRecordBytes", func(o *ConverterOptions) { o.MaxRecordBytes = -1 }},
		{"Delimiter", func(o *ConverterOptions) { o.Delimiter = '"' }},
		{"Delimiter", func(o *ConverterOptions) { o.Delimiter = '\n' }},
	}
	for _, tt := range tests {
		_, err := NewConverter(DirSink(t.TempDir()), tt.set)
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Field != tt.field || oe.Type != "convert.ConverterOptions" {
			t.Errorf("%s: err = %v, want *OptionError for it", tt.field, err)
		}
	}
}

// TestConvertMappingMissingColumnNamesHeader is issue 12 case 4: the error
// listed col0, col1 instead of the header's names.
func TestConvertMappingMissingColumnNamesHeader(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		mode    HeaderMode
		columns []string
		msg     string
	}{
		{"detect", "name,amount\nann,1\n", HeaderDetect, []string{"name", "amount"},
			`mapping source column "amout" is not in the header (columns "name", "amount")`},
		{"detect, all text", "name,city\nann,oslo\n", HeaderDetect, []string{"name", "city"},
			`mapping source column "amout" is not in the header (columns "name", "city")`},
		{"present", "name,amount\nann,1\n", HeaderPresent, []string{"name", "amount"},
			`mapping source column "amout" is not in the header (columns "name", "amount")`},
		{"absent", "name,amount\nann,1\n", HeaderAbsent, []string{"col0", "col1"},
			`mapping source column "amout" is not in the input: the first record is not a header (Header is HeaderAbsent), so the columns are "col0", "col1"`},
		{"detect, data first", "1,2\n3,4\n", HeaderDetect, []string{"col0", "col1"},
			`the first record is not a header (it names no mapped column and Glue's header rule did not find a header; set Header: HeaderPresent if it is one), so the columns are "col0", "col1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
				o.Header = tt.mode
				o.Mapping = []Mapping{{Source: "amout", Column: Column{Type: TypeInt64}}, {Source: "name"}}
			}).Convert(context.Background(), strings.NewReader(tt.input))
			var se *SchemaError
			if !errors.As(err, &se) || se.Missing != "amout" || !slices.Equal(se.Columns, tt.columns) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v (%+v)\nwant *SchemaError with %q", err, se, tt.msg)
			}
		})
	}
}

func TestConvertMalformedHeader(t *testing.T) {
	_, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
		o.Header = HeaderPresent
		o.Mapping = []Mapping{{Source: "a"}}
	}).Convert(context.Background(), strings.NewReader("\na,b\"c\n1,2\n"))
	var se *SchemaError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "the header record (line 2) is malformed: bare quote in unquoted field") {
		t.Fatalf("err = %v", err)
	}
}

// blankReader streams n blank lines (each eol), then tail.
type blankReader struct {
	n    int
	eol  string
	tail *strings.Reader
}

func (b *blankReader) Read(p []byte) (int, error) {
	if b.n == 0 {
		return b.tail.Read(p)
	}
	k := 0
	for k+len(b.eol) <= len(p) && b.n > 0 {
		k += copy(p[k:], b.eol)
		b.n--
	}
	return k, nil
}

// TestConvertLeadingBlankLines is issue 12 case 14: 16 MiB of blank lines
// before the header failed with "record at line 1 is longer than …". They
// are skipped as blank lines anywhere else, at a bounded memory cost, and
// line numbers count them.
func TestConvertLeadingBlankLines(t *testing.T) {
	tests := []struct {
		eol       string
		bytes     int // of blank lines
		maxRecord int // MaxRecordBytes, 0 for the default
	}{
		{"\n", 40 << 20, 0},
		{"\r\n", 16 << 20, 0},
		{"\r\n", 16 << 20, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q %d MiB max record %d", tt.eol, tt.bytes>>20, tt.maxRecord), func(t *testing.T) {
			n := tt.bytes / len(tt.eol)
			var q bytes.Buffer
			c := mustConverter(&discardSink{memSink{files: map[string][]byte{}}}, func(o *ConverterOptions) {
				o.Mapping = []Mapping{{Source: "a"}, {Source: "b", Column: Column{Type: TypeInt64}}}
				o.Quarantine = &q
				o.MaxQuarantineRatio = 1
				o.Workers = 1
				o.MaxRecordBytes = tt.maxRecord
			})
			in := &blankReader{n: n, eol: tt.eol, tail: strings.NewReader("a,b\n1,2\n3,x\n")}
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			res, err := c.Convert(context.Background(), in)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d blank lines (%d MiB): %d MiB allocated in total", n, tt.bytes>>20, alloc>>20)
			if !res.Header || res.Rows != 1 || res.Quarantined != 1 {
				t.Fatalf("header %v rows %d quarantined %d", res.Header, res.Rows, res.Quarantined)
			}
			recs, err := csv.NewReader(&q).ReadAll()
			if err != nil || len(recs) != 2 || recs[1][0] != fmt.Sprint(n+3) {
				t.Fatalf("quarantine %q, want line %d", recs, n+3)
			}
			// The sample (1 MiB) and chunk buffers, never the blank lines.
			if alloc > 12<<20 {
				t.Fatalf("allocated %d MiB for %d MiB of blank lines", alloc>>20, tt.bytes>>20)
			}
		})
	}
}

// TestConvertLineNumbersAfterBlankLines: blank lines before the header
// were not counted in the line numbers of the records after it.
func TestConvertLineNumbersAfterBlankLines(t *testing.T) {
	for _, mode := range []HeaderMode{HeaderPresent, HeaderDetect} {
		var q bytes.Buffer
		_, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
			o.Header = mode
			o.Mapping = []Mapping{{Source: "a"}, {Source: "b", Column: Column{Type: TypeInt64}}}
			o.Quarantine = &q
			o.MaxQuarantineRatio = 1
			o.SampleBytes = 4 // the header straddles sample reads
		}).Convert(context.Background(), io.MultiReader(strings.NewReader("\r\n\n\na,b\n1,2\n\n3,x\n")))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&q).ReadAll()
		if err != nil || len(recs) != 2 || recs[1][0] != "7" {
			t.Fatalf("mode %d: quarantine %q, want line 7", mode, recs)
		}
	}
}

// failSink is a DirSink whose files in the partition fail: on Close
// (closeFails) or on the write of the Parquet trailer (trailerFails).
type failSink struct {
	Sink
	partition    string
	closeFails   bool
	trailerFails bool
}

type failFile struct {
	io.WriteCloser
	s *failSink
	n int
}

func (s *failSink) Create(ctx context.Context, name string) (io.WriteCloser, error) {
	w, err := s.Sink.Create(ctx, name)
	if err != nil || !strings.HasPrefix(name, s.partition) {
		return w, err
	}
	return &failFile{WriteCloser: w, s: s}, nil
}

func (f *failFile) Write(p []byte) (int, error) {
	if f.s.trailerFails && f.n+len(p) > 4 && bytes.HasSuffix(p, []byte("PAR1")) {
		return 0, errors.New("disk full")
	}
	f.n += len(p)
	return f.WriteCloser.Write(p)
}

func (f *failFile) Close() error {
	if f.s.closeFails {
		f.WriteCloser.(interface{ Abort() error }).Abort()
		return errors.New("upload refused")
	}
	return f.WriteCloser.Close()
}

func (f *failFile) Abort() error { return f.WriteCloser.(interface{ Abort() error }).Abort() }

// TestConvertFailedFinishLeavesEarlierFiles: when one partition's file
// fails at the end, the other partitions' new files were left published
// beside the earlier run's files (every row twice), and a file whose
// Parquet trailer failed was published without it.
func TestConvertFailedFinishLeavesEarlierFiles(t *testing.T) {
	input := "day,n\n01,1\n02,2\n03,3\n"
	conv := func(sink Sink, runID string) (*Result, error) {
		return mustConverter(sink, func(o *ConverterOptions) {
			o.Mapping = []Mapping{{Source: "day"}, {Source: "n", Column: Column{Type: TypeInt64}}}
			o.Partitions = []PartitionKey{{Name: "day", Column: "day"}}
			o.RunID = runID
		}).Convert(context.Background(), strings.NewReader(input))
	}
	for _, tt := range []struct {
		name          string
		close, footer bool
	}{{"close fails", true, false}, {"trailer write fails", false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := conv(DirSink(dir), "earlier"); err != nil {
				t.Fatal(err)
			}
			_, err := conv(&failSink{Sink: DirSink(dir), partition: "day=02/", closeFails: tt.close, trailerFails: tt.footer}, "later")
			if err == nil {
				t.Fatal("a run whose file failed succeeded")
			}
			t.Logf("error: %v", err)
			for _, d := range []string{"day=01/", "day=02/", "day=03/"} {
				names, err := DirSink(dir).List(context.Background(), d)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(names, []string{d + "part-earlier-00000.parquet"}) {
					t.Fatalf("%s holds %q, want only the earlier run's file", d, names)
				}
			}
		})
	}
}

// TestConvertFailedRunSinkWithoutAbort: a sink whose files cannot be
// aborted (no Abort method) kept the files of a failed run; they are
// removed now.
func TestConvertFailedRunSinkWithoutAbort(t *testing.T) {
	sink := &memSink{files: map[string][]byte{}}
	_, err := mustConverter(sink, func(o *ConverterOptions) {
		o.Mapping = tenRowsMapping
		o.RowGroupRows = 2 // the good rows are committed before the bad ones are counted
	}).Convert(context.Background(), strings.NewReader(tenRows(0)+"10,x\n"))
	var qe *QuarantineError
	if !errors.As(err, &qe) {
		t.Fatalf("err = %v", err)
	}
	if len(sink.files) != 0 {
		t.Fatalf("a failed run left %d files", len(sink.files))
	}
}

// TestConvertBadRecordsWithoutWriterNotCopied: without a Quarantine writer
// the text of bad records was still copied, doubling a chunk's memory.
func TestConvertBadRecordsWithoutWriterNotCopied(t *testing.T) {
	var in bytes.Buffer
	in.WriteString("id,n\n")
	for i := range 100_000 {
		fmt.Fprintf(&in, "%d,not a number %0100d\n", i, i)
	}
	size := in.Len()
	alloc := func(q io.Writer) uint64 {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := mustConverter(&discardSink{memSink{files: map[string][]byte{}}}, func(o *ConverterOptions) {
			o.Mapping = tenRowsMapping
			o.Workers = 1
			o.Quarantine = q
		}).Convert(context.Background(), bytes.NewReader(in.Bytes()))
		runtime.ReadMemStats(&after)
		var qe *QuarantineError
		if !errors.As(err, &qe) || qe.Quarantined != 100_000 {
			t.Fatalf("err = %v", err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	with, without := alloc(io.Discard), alloc(nil)
	t.Logf("%d MB of bad records: %d MB allocated with a Quarantine writer, %d MB without", size/1e6, with/1e6, without/1e6)
	if without+uint64(size)/2 > with {
		t.Fatalf("without a writer the bad records' text is still copied")
	}
}

// TestConvertStopsAtFirstBadRecord: when no bad record is tolerated the
// run stops at the first one instead of reading the rest of the input (an
// endless reader here; the deadline only detects a run that does not
// stop).
func TestConvertStopsAtFirstBadRecord(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	in := io.MultiReader(strings.NewReader("a,b\n1,2\nx,2\n"), endless{})
	_, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
		o.Mapping = []Mapping{{Source: "a", Column: Column{Type: TypeInt64}}, {Source: "b", Column: Column{Type: TypeInt64}}}
		o.RowGroupRows = 1000
	}).Convert(ctx, in)
	var qe *QuarantineError
	if !errors.As(err, &qe) || !qe.Stopped || qe.First[0].Line != 3 || qe.First[0].Column != "a" {
		t.Fatalf("err = %v, want a stopped *QuarantineError at line 3", err)
	}
	t.Logf("error: %v", err)
}
