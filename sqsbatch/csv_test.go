package sqsbatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/sqsbatch"
)

type csvRow struct {
	line int
	key  string
	body string
}

// readAll reads every record, skipping malformed ones, and returns the
// records and the lines of the malformed rows.
func readAll(t *testing.T, s *sqsbatch.CSVSource) (rows []csvRow, bad []int) {
	t.Helper()
	for {
		rec, err := s.Next()
		if err == io.EOF {
			return rows, bad
		}
		var re *sqsbatch.RowError
		if errors.As(err, &re) {
			bad = append(bad, re.Line)
			if re.Fatal {
				return rows, bad
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, csvRow{rec.Line, rec.Key, string(rec.JSON())})
	}
}

func TestCSVSource(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []csvRow
		bad  []int
	}{
		{"plain", "id,name\n1,ann\n2,bob\n", []csvRow{{2, "1", `{"id": "1", "name": "ann"}`}, {3, "2", `{"id": "2", "name": "bob"}`}}, nil},
		{"no final newline", "id,name\n1,ann", []csvRow{{2, "1", `{"id": "1", "name": "ann"}`}}, nil},
		{"BOM and CRLF", "\xEF\xBB\xBFid,name\r\n1,ann\r\n2,bob\r\n", []csvRow{{2, "1", `{"id": "1", "name": "ann"}`}, {3, "2", `{"id": "2", "name": "bob"}`}}, nil},
		{"quoted newline, comma and quote", "id,note\n1,\"line one\nline two, with comma and \"\"quote\"\"\"\n2,x\n",
			[]csvRow{{2, "1", `{"id": "1", "note": "line one\nline two, with comma and \"quote\""}`}, {4, "2", `{"id": "2", "note": "x"}`}}, nil},
		{"quoted CRLF newline", "id,note\r\n1,\"a\r\nb\"\r\n", []csvRow{{2, "1", `{"id": "1", "note": "a\nb"}`}}, nil},
		{"wrong field count skipped", "id,name\n1,ann\n2\n3,cy,extra\n4,dee\n", []csvRow{{2, "1", `{"id": "1", "name": "ann"}`}, {5, "4", `{"id": "4", "name": "dee"}`}}, []int{3, 4}},
		{"bare quote skipped", "id,name\n1,an\"n\n2,bob\n", []csvRow{{3, "2", `{"id": "2", "name": "bob"}`}}, []int{2}},
		{"empty key skipped", "id,name\n,ann\n2,bob\n", []csvRow{{3, "2", `{"id": "2", "name": "bob"}`}}, []int{2}},
		{"key not first, JSON escapes", "name,id\n\"<tag> & \\\",7\n", []csvRow{{2, "7", `{"name": "<tag> & \\", "id": "7"}`}}, nil},
		{"header only", "id,name\n", nil, nil},
		{"header names kept as written", "id, name ,\"é \"\"q\"\"\"\n1, ann ,😀\n", []csvRow{{2, "1", `{"id": "1", " name ": " ann ", "\u00e9 \"q\"": "\ud83d\ude00"}`}}, nil},
		{"key column found despite its spaces", " id ,v\n7,x\n", []csvRow{{2, "7", `{" id ": "7", "v": "x"}`}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := sqsbatch.NewCSV(strings.NewReader(tc.in), func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id" })
			if err != nil {
				t.Fatal(err)
			}
			rows, bad := readAll(t, s)
			if len(rows) != len(tc.want) {
				t.Fatalf("rows %v, want %v", rows, tc.want)
			}
			for i := range rows {
				if rows[i] != tc.want[i] {
					t.Errorf("row %d: %+v, want %+v", i, rows[i], tc.want[i])
				}
				if !json.Valid([]byte(rows[i].body)) {
					t.Errorf("row %d: invalid JSON %s", i, rows[i].body)
				}
			}
			if len(bad) != len(tc.bad) || (len(bad) > 0 && !equalInts(bad, tc.bad)) {
				t.Errorf("malformed lines %v, want %v", bad, tc.bad)
			}
			if s.Skipped() != len(tc.bad) {
				t.Errorf("Skipped() = %d", s.Skipped())
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCSVHeaderErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, key string }{
		{"empty", "", ""},
		{"no key column", "a,b\n1,2\n", "id"},
		{"duplicate column", "id,id\n1,2\n", "id"},
		{"unnamed column", "id,,x\n", "id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := sqsbatch.NewCSV(strings.NewReader(tc.in), func(o *sqsbatch.CSVOptions) { o.KeyColumn = tc.key })
			var he *sqsbatch.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("got %v, want *HeaderError", err)
			}
		})
	}
}

// TestCSVStopsOnRunawayRecord: an unterminated quote would otherwise read
// the rest of the input as one field.
func TestCSVStopsOnRunawayRecord(t *testing.T) {
	in := io.MultiReader(strings.NewReader("id,note\n1,ok\n2,\"never closed\n"), &repeatReader{b: []byte("more text, no quote\n"), n: 4 << 20})
	s, err := sqsbatch.NewCSV(in, func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id"; o.MaxRecordBytes = 1 << 20 })
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := s.Next(); err != nil || rec.Key != "1" {
		t.Fatalf("first: %v %v", rec, err)
	}
	_, err = s.Next()
	var re *sqsbatch.RowError
	if !errors.As(err, &re) || !re.Fatal || !errors.Is(err, sqsbatch.ErrRecordTooLarge) {
		t.Fatalf("runaway record: %v", err)
	}
	if _, err2 := s.Next(); !errors.Is(err2, sqsbatch.ErrRecordTooLarge) {
		t.Fatalf("after a fatal error: %v", err2)
	}
}

type repeatReader struct {
	b []byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	n := 0
	for n < len(p) && r.n > 0 {
		c := copy(p[n:], r.b)
		n += c
		r.n -= c
	}
	return n, nil
}

// TestCSVFromS3With2MiBRow streams a CSV object from S3 whose second row is
// 2 MiB: with an Offload bucket it is sent through S3 and resolved by the
// consumer side; the other rows go straight to the queue.
func TestCSVFromS3With2MiBRow(t *testing.T) {
	ctx := context.Background()
	s3c := awstest.S3(t)
	bucket := awstest.Name(t, "csv")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("B", 2<<20)
	var obj bytes.Buffer
	obj.WriteString("\xEF\xBB\xBFid,payload\r\n1,small\r\n2,\"" + big + "\"\r\n3,\"multi\r\nline\"\r\n")
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String("in/rows.csv"), Body: bytes.NewReader(obj.Bytes())}); err != nil {
		t.Fatal(err)
	}
	src, err := sqsbatch.OpenS3CSV(ctx, s3c, bucket, "in/rows.csv", "", func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id" })
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	c := awstest.SQS(t)
	url := newQueue(t, c, "csv", nil)
	w := must(sqsbatch.NewWriter(c, url, func(o *sqsbatch.WriterOptions) {
		o.Offload = &sqsbatch.Offload{S3: s3c, Bucket: bucket, Prefix: "offload/"}
	}))
	var msgs []sqsbatch.Message
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, rec.Message())
	}
	results, err := w.SendAll(ctx, msgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.Err != nil || r.Offloaded != (i == 1) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	res := &sqsbatch.Resolver{S3: s3c, Buckets: []string{bucket}}
	bodies := map[string]string{}
	for _, m := range drain(t, c, url) {
		if i := len(aws.ToString(m.Body)); i > 1<<20 {
			t.Fatalf("a %d-byte body went through SQS", i)
		}
		m, err := res.Resolve(ctx, m)
		if err != nil {
			t.Fatal(err)
		}
		var row map[string]string
		if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &row); err != nil {
			t.Fatal(err)
		}
		bodies[row["id"]] = row["payload"]
	}
	if bodies["1"] != "small" || bodies["2"] != big || bodies["3"] != "multi\nline" {
		t.Fatalf("resolved rows: 1=%q 2=%d bytes 3=%q", bodies["1"], len(bodies["2"]), bodies["3"])
	}
}

// FuzzCSVSource: any input either fails the header, or yields records whose
// JSON is valid and has one member per column, or row errors naming a line;
// never a panic, and always an end.
func FuzzCSVSource(f *testing.F) {
	for _, s := range []string{
		"id,name\n1,ann\n", "\xEF\xBB\xBFid,n\r\n1,\"a\r\nb\"\r\n", "id,n\n1,\"x\n", "id\n\"\"\"\"\n", "a,b\n1\n2,3,4\n",
		"id,n\n1,an\"n\n2,b\n", "\xEF\xBB", "id,n\n\xff\xfe,\x00\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := sqsbatch.NewCSV(bytes.NewReader(data), func(o *sqsbatch.CSVOptions) { o.MaxRecordBytes = 1 << 16 })
		if err != nil {
			var he *sqsbatch.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("header: %T %v", err, err)
			}
			return
		}
		cols := len(s.Header())
		for i := 0; i < len(data)+2; i++ {
			rec, err := s.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var re *sqsbatch.RowError
				if !errors.As(err, &re) || re.Line < 1 {
					t.Fatalf("row error %T %v", err, err)
				}
				if re.Fatal {
					return
				}
				continue
			}
			body := rec.JSON()
			var obj map[string]string
			if err := json.Unmarshal(body, &obj); err != nil {
				t.Fatalf("invalid JSON %q: %v", body, err)
			}
			if len(obj) != cols || len(rec.Fields) != cols {
				t.Fatalf("%d members, %d columns", len(obj), cols)
			}
			for i, f := range rec.Fields {
				if obj[s.Header()[i]] != f {
					t.Fatalf("column %d: %q decodes to %q", i, f, obj[s.Header()[i]])
				}
			}
			for _, c := range body {
				if c < 0x20 || c > 0x7e {
					t.Fatalf("body holds byte %#x, not printable ASCII: %q", c, body)
				}
			}
		}
		t.Fatal("Next never reached the end")
	})
}

// TestWriteCSV streams a CSV into a queue: malformed rows are skipped and
// reported with their lines (or stop the run), a row too large for the
// queue is reported as failed, the rest arrive.
func TestWriteCSV(t *testing.T) {
	ctx := context.Background()
	c := awstest.SQS(t)
	in := "id,v\n1,a\n2\n3,\"" + strings.Repeat("x", 2<<20) + "\"\n4,d\n"
	for _, stop := range []bool{false, true} {
		t.Run(fmt.Sprint("stop=", stop), func(t *testing.T) {
			url := newQueue(t, c, "writecsv", nil)
			src, err := sqsbatch.NewCSV(strings.NewReader(in), func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id" })
			if err != nil {
				t.Fatal(err)
			}
			w := must(sqsbatch.NewWriter(c, url))
			on := sqsbatch.SkipMalformed
			if stop {
				on = sqsbatch.StopOnMalformed
			}
			rep, err := sqsbatch.WriteCSV(ctx, src, w, on)
			var re *sqsbatch.RowError
			if stop {
				if !errors.As(err, &re) || re.Line != 3 || rep.Rows != 1 || rep.Sent != 1 {
					t.Fatalf("stop: %v %+v", err, rep)
				}
				return
			}
			sendError(t, err, 3, 2, 1)
			var tl *sqsbatch.TooLargeError
			if rep.Rows != 3 || rep.Sent != 2 || rep.MalformedCount != 1 || rep.Malformed[0].Line != 3 ||
				rep.FailedCount != 1 || !errors.As(rep.Failed[0].Err, &tl) || rep.Failed[0].Key != "3" {
				t.Fatalf("report %+v", rep)
			}
			if got := len(drain(t, c, url)); got != 2 {
				t.Fatalf("received %d", got)
			}
		})
	}
}
