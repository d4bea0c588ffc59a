package sqsbatch_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/sqsbatch"
)

// pythonRows is the seed writer's encoding, run by python3 itself: every
// csv.DictReader row of the file as json.dumps writes it, one per line.
const pythonRows = `
import csv, json, sys
with open(sys.argv[1], newline='', encoding='utf-8') as f:
    for row in csv.DictReader(f):
        record = {}
        for k, v in row.items():
            record[k] = v
        sys.stdout.write(json.dumps(record) + "\n")
`

// corpusPieces are the characters Record.JSON must write as Python does.
var corpusPieces = []string{
	"plain", " ", "\"", "\"\"", "\\", "\\\"", "/", "&", "<", ">", "<tag> & 'q'", ",", ";",
	"\n", "\r", "\t", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f", "\u0080", "\u009f", "\u00a0",
	"é", "ß", "ñ", "€", "中文", "日本語テキスト", "한국어", "\u2028", "\u2029", "\ufeff", "\ud7ff", "\ue000", "\ufffd", "\uffff",
	"😀", "👍🏽", "👨‍👩‍👧", "𝄞", "\U0010ffff", "\U00010000", "🇫🇷",
}

func corpusValue(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(corpusPieces[r.IntN(len(corpusPieces))])
	}
	// encoding/csv turns a CRLF inside a quoted field into LF (Python's csv
	// keeps it): a parser difference, not an encoding one, left out here
	// and tested in TestCSVSource.
	return strings.ReplaceAll(b.String(), "\r\n", "\r \n")
}

// TestRecordJSONMatchesPython writes a CSV of 2,000 rows of emoji, CJK,
// control characters, quotes, backslashes and &<>, reads it with CSVSource
// and with python3's csv.DictReader, and requires Record.JSON to equal
// json.dumps(row) byte for byte, row by row.
func TestRecordJSONMatchesPython(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 is not installed: the comparison with json.dumps cannot run")
	}
	r := rand.New(rand.NewPCG(12, 6))
	header := []string{"id", " spaced name ", "é\"quote", "emoji😀", "&<>", "back\\slash"}
	var file bytes.Buffer
	cw := csv.NewWriter(&file)
	_ = cw.Write(header)
	for i := range 2000 {
		row := []string{corpusValue(r) + "k" + string(rune('0'+i%10))}
		for range header[1:] {
			row = append(row, corpusValue(r))
		}
		_ = cw.Write(row)
	}
	cw.Flush()
	path := filepath.Join(t.TempDir(), "corpus.csv")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", pythonRows, path).Output()
	if err != nil {
		t.Fatalf("python3: %v", err)
	}
	want := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")

	src, err := sqsbatch.NewCSV(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for ; ; n++ {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if n >= len(want) {
			t.Fatalf("Go read more rows than Python (%d)", len(want))
		}
		if got := string(rec.JSON()); got != want[n] {
			t.Fatalf("row %d (line %d):\n go: %s\n py: %s", n, rec.Line, got, want[n])
		}
		if rec.Message().Body != want[n] {
			t.Fatalf("row %d: Message body differs from JSON", n)
		}
	}
	if n != len(want) || n != 2000 {
		t.Fatalf("Go read %d rows, Python %d, want 2000", n, len(want))
	}
}

// TestCSVInvalidUTF8 refuses a row holding bytes that are not UTF-8 with a
// *RowError wrapping an *EncodingError that names the line, the column and
// the offset; the rows around it are read (Python would have failed the
// whole file in decode('utf-8')).
func TestCSVInvalidUTF8(t *testing.T) {
	in := "id,name,note\n1,ann,ok\n2,\"b\xffob\",x\n3,cy,\"multi\nline \xc3\"\n4,dee,é\n"
	src, err := sqsbatch.NewCSV(strings.NewReader(in), func(o *sqsbatch.CSVOptions) { o.KeyColumn = "id" })
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var encs []*sqsbatch.EncodingError
	var msgs []string
	for {
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		var re *sqsbatch.RowError
		var ee *sqsbatch.EncodingError
		if errors.As(err, &re) && errors.As(err, &ee) && !re.Fatal {
			encs = append(encs, ee)
			msgs = append(msgs, err.Error())
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, rec.Key)
	}
	if strings.Join(keys, ",") != "1,4" || len(encs) != 2 {
		t.Fatalf("keys %v, encoding errors %v", keys, msgs)
	}
	if e := encs[0]; e.Column != "name" || e.Field != 2 || e.Line != 3 || e.Offset != 1 {
		t.Errorf("first: %+v", e)
	}
	if e := encs[1]; e.Column != "note" || e.Field != 3 || e.Line != 4 || e.Offset != 11 {
		t.Errorf("second: %+v", e)
	}
	if want := `sqsbatch: CSV line 3: column "name" (field 2, line 3, column 3): invalid UTF-8 at byte 1 of the value`; msgs[0] != want {
		t.Errorf("message %q, want %q", msgs[0], want)
	}
	t.Logf("user sees: %s", msgs[0])
	if src.Skipped() != 2 {
		t.Errorf("Skipped() = %d", src.Skipped())
	}
}
