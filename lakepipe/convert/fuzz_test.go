package convert

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"
)

// memSink is an in-memory Sink for fuzzing.
type memSink struct {
	mu    sync.Mutex
	files map[string][]byte
}

type memFile struct {
	s    *memSink
	name string
	bytes.Buffer
}

func (f *memFile) Close() error {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.s.files[f.name] = f.Bytes()
	return nil
}

type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }

func (s *memSink) Create(_ context.Context, name string) (io.WriteCloser, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	return &memFile{s: s, name: name}, nil
}

func (s *memSink) Open(_ context.Context, name string) (SinkFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return memReader{bytes.NewReader(s.files[name])}, nil
}

func (s *memSink) List(_ context.Context, dir string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for n := range s.files {
		if path.Dir(n) == path.Clean(strings.TrimSuffix(dir, "/")+"/.") || dir == "" && !strings.Contains(n, "/") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (s *memSink) Remove(_ context.Context, names ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range names {
		delete(s.files, n)
	}
	return nil
}

// FuzzConvert feeds arbitrary bytes through inference, framing, parsing and
// encoding: it must never panic, every written row must read back, and
// written plus quarantined records never exceed the input's records.
func FuzzConvert(f *testing.F) {
	for _, seed := range []string{
		"a,b\n1,2\n",
		"id,name,when\n1,\"x\ny\",05/03/2021\n2,,\n",
		"\xef\xbb\xbfz,n\r\n007,1.5\r\n\"un\"\"closed,1\n",
		"a\n\"\n",
		"x,y\n1,2,3\n\"a\"b,c\nbare\"q,1\n",
		"",
		",,,\n,,,\n",
		"d\n2021-02-29\n2020-02-29\n",
		"\n\n\r\nname,city\nann,oslo\n",
		"n\n1\n2\nx\n",
	} {
		for mode := range uint8(3) {
			f.Add([]byte(seed), false, mode)
			f.Add([]byte(seed), true, mode)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, mapped bool, mode uint8) {
		sink := &memSink{files: map[string][]byte{}}
		header := HeaderMode(mode % 3)
		c := mustConverter(sink, func(o *ConverterOptions) {
			o.RowGroupRows = 3
			o.SampleRows = 4
			o.DropNullFields = true
			o.Header = header
			o.Quarantine = io.Discard
			o.MaxQuarantineRatio = float64(mode%4) / 3 // 0 is the default
			if mapped {
				o.Header = HeaderAbsent
				o.Mapping = []Mapping{
					{Source: "col0", Column: Column{Name: "d", Type: TypeDate, Layout: "dd/MM/yyyy"}},
				}
			}
		})
		res, err := c.Convert(context.Background(), bytes.NewReader(data))
		var qe *QuarantineError
		if errors.As(err, &qe) {
			// Nothing published, and the error holds what it says.
			if len(sink.files) != 0 {
				t.Fatalf("a run that failed with %v left %d files", err, len(sink.files))
			}
			if qe.Quarantined == 0 || len(qe.First) == 0 || len(qe.First) > maxQuarantineReasons {
				t.Fatalf("quarantine error %+v", qe)
			}
			for _, r := range qe.First {
				if r.Line < 1 || r.Line > int64(bytes.Count(data, []byte{'\n'})+1) {
					t.Fatalf("reason at line %d of %d lines", r.Line, bytes.Count(data, []byte{'\n'})+1)
				}
			}
			return
		}
		if err != nil {
			return // schema errors (e.g. no column 0) are fine
		}
		if res.HeaderAmbiguous && (res.Header || mapped || header != HeaderDetect) {
			t.Fatalf("HeaderAmbiguous with header %v, mapped %v, mode %d", res.Header, mapped, header)
		}
		if res.Inference != nil && (res.Inference.Header != res.Header || res.Inference.Ambiguous != res.HeaderAmbiguous) {
			t.Fatalf("inference %+v, result header %v ambiguous %v", res.Inference, res.Header, res.HeaderAmbiguous)
		}
		if q := res.Quarantined; q > 0 && (res.Rows == 0 || float64(q) > c.opts.MaxQuarantineRatio*float64(q+res.Rows)) {
			t.Fatalf("rows %d quarantined %d past ratio %v without an error", res.Rows, q, c.opts.MaxQuarantineRatio)
		}
		records := int64(bytes.Count(data, []byte{'\n'}) + 1)
		if res.Rows+res.Quarantined > records {
			t.Fatalf("rows %d + quarantined %d > %d lines", res.Rows, res.Quarantined, records)
		}
		var n int64
		for _, fl := range res.Files {
			b := sink.files[fl.Name]
			pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatalf("%s: %v", fl.Name, err)
			}
			n += pf.NumRows()
		}
		if n != res.Rows {
			t.Fatalf("files hold %d rows, result says %d", n, res.Rows)
		}
	})
}

// FuzzConvertMatchesEncodingCSV: on input that encoding/csv reads without
// error (strict quotes, equal field counts, no carriage returns, whose
// handling inside quotes differs), the converter writes exactly the records
// encoding/csv returns, in order, whatever the chunking.
func FuzzConvertMatchesEncodingCSV(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n", "\"x\ny\",z\n\"\"\"\",\n", "a\n\nb\n", ",\n\"\",\"\"\"\"\n", "p,\"q,r\"\n\"s\"\"t\",u",
	} {
		f.Add([]byte(s), uint8(1))
	}
	f.Fuzz(func(t *testing.T, data []byte, rowGroup uint8) {
		if bytes.ContainsRune(data, '\r') || !utf8.Valid(data) || bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
			return
		}
		want, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		if err != nil || len(want) == 0 {
			return
		}
		var mapping []Mapping
		for i := range want[0] {
			mapping = append(mapping, Mapping{Source: fmt.Sprintf("col%d", i), Column: Column{Name: fmt.Sprintf("c%d", i)}})
		}
		sink := &memSink{files: map[string][]byte{}}
		res, err := mustConverter(sink, func(o *ConverterOptions) {
			o.Header = HeaderAbsent
			o.Mapping = mapping
			o.RowGroupRows = int(rowGroup%7) + 1
			o.SampleBytes = int(rowGroup%5) + 1
		}).Convert(context.Background(), bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if res.Quarantined != 0 || res.Rows != int64(len(want)) {
			t.Fatalf("%q: rows %d quarantined %d, encoding/csv read %d", data, res.Rows, res.Quarantined, len(want))
		}
		b := sink.files[res.Files[0].Name]
		pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		r := parquet.NewReader(pf)
		rows := make([]parquet.Row, len(want))
		n, _ := r.ReadRows(rows)
		if n != len(want) {
			t.Fatalf("read %d rows", n)
		}
		for i, row := range rows[:n] {
			for j, v := range row {
				if got := string(v.ByteArray()); got != want[i][j] {
					t.Fatalf("%q: row %d field %d = %q, encoding/csv %q", data, i, j, got, want[i][j])
				}
			}
		}
	})
}

// FuzzConvertLeadingBlankLines: blank lines before the first record change
// nothing but the line numbers, which shift by their count, whatever the
// sample size.
func FuzzConvertLeadingBlankLines(f *testing.F) {
	for _, s := range []string{"a,b\n1,2\n3,x\n", "\"h\nx\",n\n1,2\n", "x\n", "a,b\n\n1,\"\n"} {
		f.Add([]byte(s), uint8(3), uint8(1), false)
		f.Add([]byte(s), uint8(40), uint8(7), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, blanks, sample uint8, crlf bool) {
		if bytes.Contains(data, []byte("\xef\xbb\xbf")) {
			return // a BOM counts only at the very start
		}
		conv := func(in []byte) (*Result, [][]string, error) {
			var q bytes.Buffer
			res, err := mustConverter(&memSink{files: map[string][]byte{}}, func(o *ConverterOptions) {
				o.Mapping = []Mapping{{Source: "a"}, {Source: "b", Column: Column{Type: TypeInt64}}}
				o.Quarantine = &q
				o.MaxQuarantineRatio = 1
				o.SampleBytes = int(sample)%9 + 1
				o.RowGroupRows = 2
			}).Convert(context.Background(), bytes.NewReader(in))
			recs, _ := csv.NewReader(&q).ReadAll()
			return res, recs, err
		}
		eol := "\n"
		if crlf {
			eol = "\r\n"
		}
		k := int(blanks % 50)
		plain, pq, perr := conv(data)
		padded, bq, berr := conv(append([]byte(strings.Repeat(eol, k)), data...))
		if (perr == nil) != (berr == nil) {
			t.Fatalf("without blank lines err %v, with %d: %v", perr, k, berr)
		}
		if perr != nil {
			return
		}
		if plain.Rows != padded.Rows || plain.Quarantined != padded.Quarantined || plain.Header != padded.Header {
			t.Fatalf("rows %d/%d quarantined %d/%d header %v/%v", plain.Rows, padded.Rows, plain.Quarantined, padded.Quarantined, plain.Header, padded.Header)
		}
		for i := 1; i < len(pq) && i < len(bq); i++ {
			if pq[i][0] != strconv.Itoa(mustAtoi(t, bq[i][0])-k) {
				t.Fatalf("quarantined line %s with %d blank lines before, %s without", bq[i][0], k, pq[i][0])
			}
		}
	})
}

func mustAtoi(t *testing.T, s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
