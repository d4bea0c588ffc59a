package convert

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

// readFile reads a Parquet file back with parquet-go: the column names
// and types as the file declares them, and the rows as Go values (nil for
// NULL, string, int64, float64, bool, time.Time for dates and timestamps).
func readFile(t *testing.T, sink Sink, name string) (cols []string, types []string, rows [][]any) {
	t.Helper()
	f, err := sink.Open(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size())
	if err != nil {
		t.Fatal(err)
	}
	for _, fld := range pf.Schema().Fields() {
		cols = append(cols, fld.Name())
		typ := fld.Type()
		lt := ""
		if l := typ.LogicalType(); l != nil {
			lt = l.String()
		}
		types = append(types, fmt.Sprintf("%s %s", typ.Kind(), lt))
	}
	r := parquet.NewReader(pf)
	defer r.Close()
	buf := make([]parquet.Row, 64)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			out := make([]any, len(cols))
			for _, v := range row {
				out[v.Column()] = goValue(v, types[v.Column()])
			}
			rows = append(rows, out)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return cols, types, rows
}

func goValue(v parquet.Value, typ string) any {
	if v.IsNull() {
		return nil
	}
	switch {
	case strings.Contains(typ, "DATE"):
		return time.Unix(int64(v.Int32())*86400, 0).UTC()
	case strings.Contains(typ, "TIMESTAMP"):
		return time.UnixMicro(v.Int64()).UTC()
	}
	switch v.Kind() {
	case parquet.ByteArray:
		return string(v.ByteArray())
	case parquet.Int64:
		return v.Int64()
	case parquet.Int32:
		return int64(v.Int32())
	case parquet.Double:
		return v.Double()
	case parquet.Boolean:
		return v.Boolean()
	}
	return v.String()
}

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func TestConvertRoundTripTypes(t *testing.T) {
	long := strings.Repeat("λ€𝄞x", 50_000) // 0.45 MB: longer than a page
	input := "id,name,amount,price,active,bought,seen\n" +
		"1,\"Zoë \"\"the\"\" ünïcode\",00042,12.345,true,05/03/2021,2021-03-05 10:11:12.123456\n" +
		"2,\"multi\nline, \"\"quoted\"\"\",,,FALSE,,\n" +
		"3,\"" + long + "\",-7,-0.5,false,29/02/2020,1969-12-31 23:59:59\n" +
		"4,,+8,1000,True,31/12/1899,2262-04-11 23:47:16\n"
	dir := t.TempDir()
	var q bytes.Buffer
	c := mustConverter(DirSink(dir), func(o *ConverterOptions) {
		o.Mapping = []Mapping{
			{Source: "id", Column: Column{Type: TypeInt64}},
			{Source: "name", Column: Column{Name: "customer", Type: TypeString}},
			{Source: "amount", Column: Column{Type: TypeInt64}},
			{Source: "price", Column: Column{Type: TypeDecimal, Precision: 10, Scale: 2}},
			{Source: "active", Column: Column{Type: TypeBool}},
			{Source: "bought", Column: Column{Type: TypeDate, Layout: "dd/MM/yyyy"}},
			{Source: "seen", Column: Column{Type: TypeTimestamp, Layout: "yyyy-MM-dd HH:mm:ss[.SSSSSS]"}},
		}
		o.RunID = "r1"
		o.Quarantine = &q
		o.MaxQuarantineRatio = 1 // half the records are bad on purpose
	})
	_, err := c.Convert(context.Background(), strings.NewReader(input))
	var se *SchemaError
	if !errors.As(err, &se) {
		t.Fatalf("optional section layout: err = %v, want *SchemaError (brackets are not supported)", err)
	}
	c.opts.Mapping[6].Layout = "yyyy-MM-dd HH:mm:ss.SSSSSS"
	res, err := c.Convert(context.Background(), strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	// Row 3 and 4 have timestamps without a fraction: quarantined, lines 5 and 6.
	if res.Rows != 2 || res.Quarantined != 2 || len(res.Files) != 1 {
		t.Fatalf("rows %d quarantined %d files %d: %s", res.Rows, res.Quarantined, len(res.Files), q.String()[:min(q.Len(), 300)])
	}
	c.opts.Mapping[6].Layout = "" // default yyyy-MM-dd HH:mm:ss: the fraction row is bad instead
	c.opts.Mapping[6].Type = TypeString
	c.opts.RunID = "r2"
	res, err = c.Convert(context.Background(), strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 4 || res.Quarantined != 0 {
		t.Fatalf("rows %d quarantined %d", res.Rows, res.Quarantined)
	}
	if len(res.Removed) != 1 {
		t.Fatalf("rerun removed %v, want the first run's file", res.Removed)
	}
	cols, types, rows := readFile(t, DirSink(dir), res.Files[0].Name)
	if want := []string{"id", "customer", "amount", "price", "active", "bought", "seen"}; !slices.Equal(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
	wantTypes := []string{"INT64 INT(64,true)", "BYTE_ARRAY STRING", "INT64 INT(64,true)", "INT64 DECIMAL(10,2)",
		"BOOLEAN ", "INT32 DATE", "BYTE_ARRAY STRING"}
	if !slices.Equal(types, wantTypes) {
		t.Fatalf("types %q, want %q", types, wantTypes)
	}
	want := [][]any{
		{int64(1), `Zoë "the" ünïcode`, int64(42), int64(1235), true, date(2021, 3, 5), "2021-03-05 10:11:12.123456"},
		{int64(2), "multi\nline, \"quoted\"", nil, nil, false, nil, ""},
		{int64(3), long, int64(-7), int64(-50), false, date(2020, 2, 29), "1969-12-31 23:59:59"},
		{int64(4), "", int64(8), int64(100000), true, date(1899, 12, 31), "2262-04-11 23:47:16"},
	}
	for i := range want {
		for j := range want[i] {
			if fmt.Sprint(rows[i][j]) != fmt.Sprint(want[i][j]) {
				t.Errorf("row %d col %s = %.60v, want %.60v", i, cols[j], rows[i][j], want[i][j])
			}
		}
	}
}

func TestConvertTimestampsAndQuarantine(t *testing.T) {
	input := "k,ts,n\r\n" + // CRLF input
		"a,2021-03-05T10:11:12.5,1\r\n" +
		"b,2021-02-30T00:00:00.0,2\r\n" + // impossible date: line 3
		"\"c\nd\",1999-01-01T00:00:00.25,3\r\n" + // two-line record: lines 4-5
		"e,1999-01-01T00:00:00.0,x\r\n" + // bad int: line 6
		"f,\"x\"y,1\r\n" + // text after a closing quote: line 7
		"g,bare\"quote,1\r\n" + // line 8
		"h,1999-01-01T00:00:00.0\r\n" + // field count: line 9
		"\r\n" + // blank line 10 is skipped
		"i,1970-01-01T00:00:00.0,9\r\n" +
		"j,\"never closed,1\r\n" // line 12: unterminated at EOF
	var q bytes.Buffer
	sink := DirSink(t.TempDir())
	c := mustConverter(sink, func(o *ConverterOptions) {
		o.Mapping = []Mapping{
			{Source: "k", Column: Column{Type: TypeString}},
			{Source: "ts", Column: Column{Type: TypeTimestamp, Layout: "yyyy-MM-dd'T'HH:mm:ss.S"}},
			{Source: "n", Column: Column{Type: TypeInt64}},
		}
		o.Quarantine = &q
		o.MaxQuarantineRatio = 1 // most records are bad on purpose
		o.RowGroupRows = 2       // several chunks: line numbers must carry across
		o.Workers = 3
	})
	res, err := c.Convert(context.Background(), strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&q).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs[1:] {
		got = append(got, r[0]+" "+r[1]+" "+strings.SplitN(r[2], ":", 2)[0])
	}
	want := []string{
		"3 ts bad value", "6 n bad value", "7  text after closing quote", "8  bare quote in unquoted field",
		"9  field count", "12  unterminated quoted field",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("quarantine:\n%q\nwant\n%q", got, want)
	}
	if recs[0][3] != "record" || recs[1][3] != "b,2021-02-30T00:00:00.0,2" {
		t.Fatalf("quarantine record text %q", recs[1])
	}
	if res.Rows != 3 || res.Quarantined != 6 {
		t.Fatalf("rows %d quarantined %d", res.Rows, res.Quarantined)
	}
	if st := c.Stats(); st != (ConverterStats{Runs: 1, BytesIn: int64(len(input)), Rows: 3, Quarantined: 6, Files: 1}) {
		t.Fatalf("stats %+v", st)
	}
	_, types, rows := readFile(t, sink, res.Files[0].Name)
	if types[1] != "INT64 TIMESTAMP(isAdjustedToUTC=false,unit=MICROS)" {
		t.Fatalf("timestamp type %q", types[1])
	}
	wantRows := [][]any{
		{"a", time.Date(2021, 3, 5, 10, 11, 12, 5e8, time.UTC), int64(1)},
		{"c\nd", time.Date(1999, 1, 1, 0, 0, 0, 25e7, time.UTC), int64(3)},
		{"i", time.Unix(0, 0).UTC(), int64(9)},
	}
	if fmt.Sprint(rows) != fmt.Sprint(wantRows) {
		t.Fatalf("rows\n%v\nwant\n%v", rows, wantRows)
	}
}

func TestConvertInference(t *testing.T) {
	tests := []struct {
		name   string
		csv    string
		header bool
		cols   string // name:type …
	}{
		{"leading zeros stay strings", "zip,n\n01234,1\n98765,2\n", true, "zip:string n:bigint"},
		{"mixed int and float is double", "a,b\n1,x\n2.5,y\n", true, "a:double b:string"},
		{"empty column is string", "a,b,c\n1,,x\n2,,y\n", true, "a:bigint b:string c:string"},
		{"bool and int mixed is string", "a,b\ntrue,1\n1,2\n", true, "a:string b:bigint"},
		{"booleans any case", "flag,n\nTRUE,1\nfalse,2\n", true, "flag:boolean n:bigint"},
		{"all strings: no header (Glue)", "name,city\nann,paris\nbob,rome\n", false, "col0:string col1:string"},
		{"numeric first row: no header", "1,2\n3,4\n", false, "col0:bigint col1:bigint"},
		{"int64 overflow is string", "big,n\n9223372036854775808,1\n", true, "big:string n:bigint"},
		{"names normalized", "First Name,Amount (EUR),amount__eur_\nx,1,2\n", true, "first_name:string amount__eur_:bigint amount__eur__2:bigint"},
		{"BOM and CRLF", "\xef\xbb\xbfid,v\r\n1,2.0\r\n", true, "id:bigint v:double"},
		{"NaN is text", "v,n\nNaN,1\n", true, "v:string n:bigint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := mustConverter(DirSink(t.TempDir())).Convert(context.Background(), strings.NewReader(tt.csv))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range res.Schema.Columns {
				got = append(got, c.Name+":"+c.Type.String())
			}
			if strings.Join(got, " ") != tt.cols || res.Header != tt.header {
				t.Fatalf("got %q header=%v, want %q header=%v", strings.Join(got, " "), res.Header, tt.cols, tt.header)
			}
			// Infer decides the same from the sample alone.
			inf, err := Infer(strings.NewReader(tt.csv))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(inf, res.Inference) {
				t.Fatalf("Infer = %+v, Convert inferred %+v", inf, res.Inference)
			}
		})
	}
}

func TestInferEdges(t *testing.T) {
	if inf, err := Infer(strings.NewReader("\n\n")); err != nil || len(inf.Columns) != 0 {
		t.Fatalf("blank input: %+v, %v", inf, err)
	}
	var se *SchemaError
	if _, err := Infer(strings.NewReader("a,\"b\n1,2\n"), func(o *ConverterOptions) { o.Header = HeaderPresent }); !errors.As(err, &se) {
		t.Fatalf("malformed header: %v, want a *SchemaError", err)
	}
	var oe *OptionError
	if _, err := Infer(strings.NewReader("a\n1\n"), func(o *ConverterOptions) { o.SampleRows = -1 }); !errors.As(err, &oe) {
		t.Fatalf("SampleRows -1: %v, want an *OptionError", err)
	}
	inf, err := Infer(strings.NewReader("a;b\nx;1\n"), func(o *ConverterOptions) { o.Delimiter = ';' })
	if err != nil || !inf.Header || len(inf.Columns) != 2 || inf.Columns[1].Type != TypeInt64 {
		t.Fatalf("delimiter ';': %+v, %v", inf, err)
	}
}

func TestConvertInferredValueOutsideSample(t *testing.T) {
	var b strings.Builder
	b.WriteString("n,s\n")
	for i := range 50 {
		fmt.Fprintf(&b, "%d,x\n", i)
	}
	b.WriteString("oops,y\n") // line 52
	var q bytes.Buffer
	res, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
		o.SampleRows = 10
		o.Quarantine = &q
	}).Convert(context.Background(), strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if res.Schema.Columns[0].Type != TypeInt64 || res.Rows != 50 || res.Quarantined != 1 || !strings.Contains(q.String(), "52,n,bad value: not a bigint,\"oops,y\"") {
		t.Fatalf("schema %v rows %d quarantined %d quarantine %q", res.Schema, res.Rows, res.Quarantined, q.String())
	}
}

func TestConvertPartitionsAndReplace(t *testing.T) {
	dir := t.TempDir()
	sink := DirSink(dir)
	input := "email_id,units,purchase_date\n" +
		"a@x,1,05/03/2021\n" +
		"b@x,2,06/03/2021\n" +
		"c@x,3,05/03/2021\n" +
		"d@x,4,\n"
	mapping := []Mapping{
		{Source: "email_id", Column: Column{Type: TypeString}},
		{Source: "units", Column: Column{Type: TypeInt64}},
		{Source: "purchase_date", Column: Column{Type: TypeDate, Layout: "dd/MM/yyyy"}},
	}
	conv := func(parts []PartitionKey, runID string) *Result {
		t.Helper()
		res, err := mustConverter(sink, func(o *ConverterOptions) {
			o.Mapping = mapping
			o.Partitions = parts
			o.RunID = runID
			o.RowGroupRows = 1
		}).Convert(context.Background(), strings.NewReader(input))
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := conv(DatePartitions("purchase_date"), "r1")
	var got []string
	for _, f := range res.Files {
		got = append(got, fmt.Sprintf("%s %v %d", f.Name, f.Partition, f.Rows))
	}
	want := []string{
		"year=2021/month=03/day=05/part-r1-00000.parquet [2021 03 05] 2",
		"year=2021/month=03/day=06/part-r1-00000.parquet [2021 03 06] 1",
		"year=" + HiveDefaultPartition + "/month=" + HiveDefaultPartition + "/day=" + HiveDefaultPartition + "/part-r1-00000.parquet [" +
			HiveDefaultPartition + " " + HiveDefaultPartition + " " + HiveDefaultPartition + "] 1",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("files\n%q\nwant\n%q", got, want)
	}
	// One row group per chunk: RowGroupRows=1 gives two in the 05 partition.
	f, _ := sink.Open(context.Background(), res.Files[0].Name)
	pf, err := parquet.OpenFile(f, f.Size())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.RowGroups()); n != 2 {
		t.Fatalf("row groups %d, want 2", n)
	}
	f.Close()

	// Processing-date partitions: the rerun replaces, never duplicates.
	day := time.Date(2020, 3, 7, 23, 30, 0, 0, time.FixedZone("x", -2*3600)) // 2020-03-08 UTC
	r1 := conv(ProcessingDatePartitions(day), "p1")
	r2 := conv(ProcessingDatePartitions(day), "p2")
	if r1.Files[0].Name != "year=2020/month=03/day=08/part-p1-00000.parquet" || r2.Rows != 4 {
		t.Fatalf("files %v rows %d", r1.Files, r2.Rows)
	}
	if !slices.Equal(r2.Removed, []string{r1.Files[0].Name}) {
		t.Fatalf("removed %v, want %v", r2.Removed, r1.Files[0].Name)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, "year=2020/month=03/day=08"))
	if len(ents) != 1 {
		t.Fatalf("partition holds %d files after rerun", len(ents))
	}
	// KeepOtherRuns: another input the same day adds a file; rerunning it
	// replaces only its own.
	for range 2 {
		res, err := mustConverter(sink, func(o *ConverterOptions) {
			o.Mapping = mapping
			o.Partitions = ProcessingDatePartitions(day)
			o.RunID = "second_csv"
			o.KeepOtherRuns = true
		}).Convert(context.Background(), strings.NewReader(input))
		if err != nil || len(res.Removed) != 0 {
			t.Fatalf("keep other runs: removed %v err %v", res.Removed, err)
		}
	}
	ents, _ = os.ReadDir(filepath.Join(dir, "year=2020/month=03/day=08"))
	if len(ents) != 2 {
		t.Fatalf("partition holds %d files, want p2's and second_csv's", len(ents))
	}

	// A whole-value partition column leaves the files, and values are escaped.
	res, err = mustConverter(sink, func(o *ConverterOptions) {
		o.Mapping = []Mapping{{Source: "a", Column: Column{Type: TypeString}}, {Source: "b", Column: Column{Type: TypeInt64}}}
		o.Partitions = []PartitionKey{{Name: "a", Column: "a"}}
	}).Convert(context.Background(), strings.NewReader("a,b\n../x=y,1\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Files[0].Name, "a=..%2Fx%3Dy/") || res.Files[0].Partition[0] != "../x=y" || len(res.Schema.Columns) != 1 {
		t.Fatalf("file %+v schema %v", res.Files[0], res.Schema)
	}
}

func TestConvertDropNullFields(t *testing.T) {
	sink := DirSink(t.TempDir())
	input := "a,b,c,d\n1,,x,\n2,,,\n3,,y,\n"
	res, err := mustConverter(sink, func(o *ConverterOptions) {
		o.DropNullFields = true
		o.EmptyStringsAsNull = true
		o.Header = HeaderPresent
		o.RowGroupRows = 2
	}).Convert(context.Background(), strings.NewReader(input))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Dropped, []string{"b", "d"}) {
		t.Fatalf("dropped %v, want [b d]", res.Dropped)
	}
	cols, _, rows := readFile(t, sink, res.Files[0].Name)
	if !slices.Equal(cols, []string{"a", "c"}) || fmt.Sprint(rows) != "[[1 x] [2 <nil>] [3 y]]" {
		t.Fatalf("cols %v rows %v", cols, rows)
	}
	names, _ := sink.List(context.Background(), "")
	if len(names) != 1 || names[0] != res.Files[0].Name {
		t.Fatalf("sink holds %v, want only %s", names, res.Files[0].Name)
	}
	// A column NULL in the sample but not later is kept: it is per run, not
	// per sample or per row.
	res, err = mustConverter(sink, func(o *ConverterOptions) {
		o.DropNullFields = true
		o.SampleRows = 1
		o.Mapping = []Mapping{{Source: "a", Column: Column{Type: TypeInt64}}, {Source: "b", Column: Column{Type: TypeInt64}}}
	}).Convert(context.Background(), strings.NewReader("a,b\n1,\n2,\n3,7\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Dropped) != 0 || len(res.Schema.Columns) != 2 {
		t.Fatalf("dropped %v", res.Dropped)
	}
}

func TestConvertSchemaErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  func(*ConverterOptions)
	}{
		{"unknown source", func(o *ConverterOptions) { o.Mapping = []Mapping{{Source: "nope"}} }},
		{"bad layout", func(o *ConverterOptions) {
			o.Mapping = []Mapping{{Source: "a", Column: Column{Type: TypeDate, Layout: "dd/QQ/yyyy"}}}
		}},
		{"decimal too wide", func(o *ConverterOptions) {
			o.Mapping = []Mapping{{Source: "a", Column: Column{Type: TypeDecimal, Precision: 20}}}
		}},
		{"partition on a missing column", func(o *ConverterOptions) { o.Partitions = DatePartitions("zz") }},
		{"date part of a string", func(o *ConverterOptions) { o.Partitions = DatePartitions("a") }},
		{"bad partition name", func(o *ConverterOptions) { o.Partitions = []PartitionKey{{Name: "../x", Value: "1"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mustConverter(DirSink(t.TempDir()), tt.opt).Convert(context.Background(), strings.NewReader("a,b\nx,1\n"))
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want *SchemaError", err)
			}
		})
	}
}

func TestConvertRecordTooLong(t *testing.T) {
	input := "a,b\n1,\"" + strings.Repeat("x", 5000) // never closes
	_, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
		o.MaxRecordBytes = 1000
		o.SampleBytes = 100
		o.Header = HeaderPresent
	}).Convert(context.Background(), strings.NewReader(input))
	var tl *RecordTooLongError
	if !errors.As(err, &tl) || tl.Line != 2 {
		t.Fatalf("err = %v, want *RecordTooLongError at line 2", err)
	}
}

func TestConvertCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := io.MultiReader(strings.NewReader("a,b\n1,2\n"), endless{})
	_, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) { o.SampleBytes = 64 }).Convert(ctx, r)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = "1,2\n"[i%4]
	}
	return len(p) - len(p)%4, nil
}

func TestSinkRejectsEscapingNames(t *testing.T) {
	for _, name := range []string{"../x", "/abs", "a/../../b", "", "a//b"} {
		if _, err := DirSink(t.TempDir()).Create(context.Background(), name); !errors.Is(err, ErrUnsafeName) {
			t.Errorf("Create(%q) err = %v, want ErrUnsafeName", name, err)
		}
	}
}

func TestConvertEmptyInput(t *testing.T) {
	for _, in := range []string{"", "\n\r\n\n"} {
		res, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) {
			o.Mapping = []Mapping{{Source: "a"}}
		}).Convert(context.Background(), strings.NewReader(in))
		if err != nil || res.Rows != 0 || len(res.Files) != 0 {
			t.Fatalf("%q: %+v %v", in, res, err)
		}
	}
	// A header without data is no error either.
	res, err := mustConverter(DirSink(t.TempDir()), func(o *ConverterOptions) { o.Mapping = []Mapping{{Source: "a"}} }).
		Convert(context.Background(), strings.NewReader("a,b\n"))
	if err != nil || res.Rows != 0 || len(res.Files) != 0 || !res.Header {
		t.Fatalf("header only: %+v %v", res, err)
	}
}

func TestConvertRowGroupBytes(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "%d,%s\n", i, strings.Repeat("x", 1000))
	}
	sink := DirSink(t.TempDir())
	res, err := mustConverter(sink, func(o *ConverterOptions) { o.RowGroupBytes = 100_000 }).
		Convert(context.Background(), strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	f, _ := sink.Open(context.Background(), res.Files[0].Name)
	defer f.Close()
	pf, err := parquet.OpenFile(f, f.Size())
	if err != nil {
		t.Fatal(err)
	}
	// ≈ 1 MB of CSV in row groups of at most 100 records (100 KB).
	if n := len(pf.RowGroups()); n < 10 || res.Rows != 1000 {
		t.Fatalf("%d row groups, %d rows", n, res.Rows)
	}
	for _, rg := range pf.RowGroups() {
		if rg.NumRows() > 100 {
			t.Fatalf("row group of %d rows", rg.NumRows())
		}
	}
}

func TestConvertCompression(t *testing.T) {
	for _, tt := range []struct {
		c    Compression
		want string
	}{{Snappy, "SNAPPY"}, {Zstd, "ZSTD"}, {Gzip, "GZIP"}, {Uncompressed, "UNCOMPRESSED"}} {
		sink := DirSink(t.TempDir())
		res, err := mustConverter(sink, func(o *ConverterOptions) { o.Compression = tt.c }).
			Convert(context.Background(), strings.NewReader("a,b\n1,xxxxxxxxxxxxxxxx\n2,xxxxxxxxxxxxxxxx\n"))
		if err != nil {
			t.Fatal(err)
		}
		f, _ := sink.Open(context.Background(), res.Files[0].Name)
		pf, err := parquet.OpenFile(f, f.Size())
		if err != nil {
			t.Fatal(err)
		}
		if got := pf.Metadata().RowGroups[0].Columns[1].MetaData.Codec.String(); got != tt.want {
			t.Errorf("%v: codec %s", tt.c, got)
		}
		f.Close()
		if _, _, rows := readFile(t, sink, res.Files[0].Name); fmt.Sprint(rows) != "[[1 xxxxxxxxxxxxxxxx] [2 xxxxxxxxxxxxxxxx]]" {
			t.Errorf("%v: rows %v", tt.c, rows)
		}
	}
}
