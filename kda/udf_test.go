package kda

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

var udfInput = Input{Columns: []Column{{Name: "d", Type: Double}, {Name: "n", Type: Bigint}, {Name: "s", Type: Varchar(8)}}}

// runUDF compiles sql over udfInput, inserts recs and returns the rows of
// "out" and of the error_stream.
func runUDF(t *testing.T, sql string, recs ...string) (out, errs []string) {
	t.Helper()
	e, err := NewEngine(sql, []Input{udfInput})
	if err != nil {
		t.Fatal(err)
	}
	o, er := collect(t, e, "out"), collect(t, e, ErrorStream)
	for _, r := range recs {
		if err := e.InsertJSON(DefaultInputStream, []byte(r), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	e.Flush()
	return *o, *er
}

// TestCreateFunctionReferenceExample: the reference's own example,
// get_fraction, called in the SELECT list and in WHERE.
func TestCreateFunctionReferenceExample(t *testing.T) {
	sql := `
CREATE FUNCTION get_fraction( degrees DOUBLE )
    RETURNS DOUBLE
    CONTAINS SQL
    RETURN degrees - FLOOR(degrees) ;
CREATE STREAM "out" ("f" DOUBLE);
CREATE PUMP "p" AS INSERT INTO "out" SELECT STREAM get_fraction("d") FROM "SOURCE_SQL_STREAM_001" WHERE GET_FRACTION("d") > 0.1;`
	out, errs := runUDF(t, sql, `{"d": 10.25}`, `{"d": 3.0}`, `{"d": -1.5}`, `{"d": null}`)
	want := []string{`{"f":0.25}`, `{"f":0.5}`}
	if !slices.Equal(out, want) || len(errs) != 0 {
		t.Fatalf("got %v (errors %v), want %v", out, errs, want)
	}
}

// TestCreateFunctionClauses: every characteristic clause of the syntax,
// RETURNS NULL ON NULL INPUT against CALLED ON NULL INPUT, functions
// calling functions, overloads by parameter type, a function in a GROUP
// BY window (key and aggregate argument) and in a sliding window.
func TestCreateFunctionClauses(t *testing.T) {
	sql := `
CREATE FUNCTION "strict"(x BIGINT) RETURNS BIGINT LANGUAGE SQL NOT DETERMINISTIC CONTAINS SQL READS SQL DATA
    RETURNS NULL ON NULL INPUT RETURN COALESCE(x, -1) * 10;
CREATE FUNCTION "lenient"(x BIGINT) RETURNS BIGINT LANGUAGE SQL DETERMINISTIC CONTAINS SQL CALLED ON NULL INPUT
    RETURN COALESCE(x, -1) * 10;
CREATE FUNCTION twice(x BIGINT) RETURNS BIGINT SPECIFIC twice_int CONTAINS SQL RETURN "lenient"(x) * 2;
CREATE FUNCTION twice(x VARCHAR(8)) RETURNS VARCHAR(16) SPECIFIC twice_str CONTAINS SQL RETURN x || x;
CREATE FUNCTION bucket(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN x / 10;
CREATE STREAM "out" ("a" BIGINT, "b" BIGINT, "c" BIGINT, "t" VARCHAR(16));
CREATE PUMP "p" AS INSERT INTO "out" SELECT STREAM "strict"("n"), "lenient"("n"), twice("n"), twice("s") FROM "SOURCE_SQL_STREAM_001";
CREATE STREAM "win" ("k" BIGINT, "total" BIGINT);
CREATE PUMP "w" AS INSERT INTO "win" SELECT STREAM bucket("n"), SUM(twice("n")) FROM "SOURCE_SQL_STREAM_001"
    GROUP BY bucket("n"), STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE);
CREATE STREAM "sl" ("m" BIGINT);
CREATE PUMP "s" AS INSERT INTO "sl" SELECT STREAM MAX(bucket("n")) OVER (ROWS 1 PRECEDING) FROM "SOURCE_SQL_STREAM_001";`
	e, err := NewEngine(sql, []Input{udfInput})
	if err != nil {
		t.Fatal(err)
	}
	out, win, sl := collect(t, e, "out"), collect(t, e, "win"), collect(t, e, "sl")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range []string{`{"n": 3, "s": "ab"}`, `{"n": null, "s": null}`, `{"n": 12, "s": "x"}`, `{"n": 15, "s": ""}`} {
		if err := e.InsertJSON(DefaultInputStream, []byte(r), t0.Add(time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	e.Flush()
	wantOut := []string{
		`{"a":30,"b":30,"c":60,"t":"abab"}`,
		`{"a":null,"b":-10,"c":-20,"t":null}`,
		`{"a":120,"b":120,"c":240,"t":"xx"}`,
		`{"a":150,"b":150,"c":300,"t":""}`,
	}
	wantWin := []string{`{"k":0,"total":60}`, `{"k":null,"total":-20}`, `{"k":1,"total":540}`}
	wantSl := []string{`{"m":0}`, `{"m":0}`, `{"m":1}`, `{"m":1}`}
	if !slices.Equal(*out, wantOut) || !slices.Equal(*win, wantWin) || !slices.Equal(*sl, wantSl) {
		t.Fatalf("out %v\nwin %v\nsl %v\nwant %v\n%v\n%v", *out, *win, *sl, wantOut, wantWin, wantSl)
	}
}

// TestCreateOrReplaceFunction: OR REPLACE replaces the body in place, so
// a pump compiled before the replacement calls the new body; without OR
// REPLACE a second definition is an error.
func TestCreateOrReplaceFunction(t *testing.T) {
	sql := `
CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN x + 1;
CREATE STREAM "out" ("a" BIGINT);
CREATE PUMP "p" AS INSERT INTO "out" SELECT STREAM f("n") FROM "SOURCE_SQL_STREAM_001";
CREATE OR REPLACE FUNCTION f(y BIGINT) RETURNS BIGINT CONTAINS SQL RETURN y + 100;`
	out, _ := runUDF(t, sql, `{"n": 1}`)
	if !slices.Equal(out, []string{`{"a":101}`}) {
		t.Fatalf("got %v, want the replaced body's 101", out)
	}
	_, err := NewEngine(`CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN x;
CREATE FUNCTION f(y BIGINT) RETURNS BIGINT CONTAINS SQL RETURN y;`, []Input{udfInput})
	if err == nil || !strings.Contains(err.Error(), "sql 2:17: function F(BIGINT) already exists") {
		t.Fatalf("got %v", err)
	}
}

// TestFunctionArgumentsAreNotCast: a value too long for a VARCHAR(n)
// parameter, or a result that does not fit the declared type, fails the
// row to the error_stream, naming the function.
func TestFunctionArgumentsAreNotCast(t *testing.T) {
	sql := `
CREATE FUNCTION short(x VARCHAR(2)) RETURNS VARCHAR(2) CONTAINS SQL RETURN x;
CREATE FUNCTION grow(x VARCHAR(8)) RETURNS VARCHAR(3) CONTAINS SQL RETURN x || x;
CREATE STREAM "out" ("a" VARCHAR(2), "b" VARCHAR(3));
CREATE PUMP "p" AS INSERT INTO "out" SELECT STREAM short("s"), grow('a') FROM "SOURCE_SQL_STREAM_001";
CREATE STREAM "out2" ("b" VARCHAR(3));
CREATE PUMP "q" AS INSERT INTO "out2" SELECT STREAM grow("s") FROM "SOURCE_SQL_STREAM_001";`
	out, errs := runUDF(t, sql, `{"s": "ab"}`, `{"s": "abc"}`)
	if !slices.Equal(out, []string{`{"a":"ab","b":"aa"}`}) || len(errs) != 3 ||
		!strings.Contains(errs[0], "GROW result") || !strings.Contains(errs[1], "SHORT argument 1 (X)") || !strings.Contains(errs[2], "GROW result") {
		t.Fatalf("out %v\nerrors %v", out, errs)
	}
}

// TestCreateFunctionErrors: every mistake is a compile error at its
// line:col that says what is wrong.
func TestCreateFunctionErrors(t *testing.T) {
	const frac = "CREATE FUNCTION get_fraction(degrees DOUBLE) RETURNS DOUBLE CONTAINS SQL RETURN degrees - FLOOR(degrees);\n"
	const use = "CREATE STREAM \"out\" (\"a\" DOUBLE);\nCREATE PUMP \"p\" AS INSERT INTO \"out\" SELECT STREAM "
	const from = ` FROM "SOURCE_SQL_STREAM_001";`
	tests := []struct{ sql, want string }{
		{frac + use + `get_fraction("n")` + from, `sql 3:52: call GET_FRACTION(BIGINT) matches no function GET_FRACTION(DOUBLE): arguments must be of the parameters' types, with no implicit casts (use CAST)`},
		{frac + use + `get_fraction(1)` + from, `sql 3:52: call GET_FRACTION(BIGINT) matches no function`},
		{frac + use + `get_fraction("d", 1.0)` + from, `sql 3:52: call GET_FRACTION(DOUBLE, DOUBLE) matches no function GET_FRACTION(DOUBLE)`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN f(x - 1);", `sql 1:64: function F calls itself: recursion is a cycle`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN x;\nCREATE FUNCTION g(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN f(x);\nCREATE OR REPLACE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN g(x);",
			`sql 3:75: function F would call itself through G → F: recursion is a cycle`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN x + \"n\";", `sql 1:68: function F: "n" is not one of its parameters (a function body reads only its parameters)`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS DOUBLE CONTAINS SQL RETURN x + 1;", `sql 1:66: function F returns DOUBLE but its body is BIGINT: cast it (no implicit casts)`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL RETURN SUM(x);", `sql 1:64: aggregate SUM needs GROUP BY`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT LANGUAGE JAVA EXTERNAL NAME 'class F.f';", `sql 1:72: CREATE FUNCTION F … EXTERNAL NAME (a Java UDF or UDX: KDA runs user-defined functions written in SQL only`},
		{"CREATE FUNCTION upper(x VARCHAR(4)) RETURNS VARCHAR(4) CONTAINS SQL RETURN x;", `sql 1:17: function UPPER is a function of the KDA reference`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CONTAINS SQL;", `sql 1:56: expected RETURN expression (or EXTERNAL NAME), found ;`},
		{"CREATE FUNCTION f(x BIGINT, x DOUBLE) RETURNS BIGINT RETURN 1;", `sql 1:29: duplicate parameter "X"`},
		{"CREATE FUNCTION f(c CURSOR) RETURNS BIGINT RETURN 1;", `sql 1:19: function F: a CURSOR parameter needs RETURNS TABLE(…)`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT CALLED ON INPUT RETURN 1;", `sql 1:54: expected NULL, found INPUT`},
		{"CREATE FUNCTION f(x BIGINT) RETURNS BIGINT RETURN x;\nCREATE FUNCTION f(x VARCHAR(2)) RETURNS BIGINT RETURN 1;\n" + use + "f(NULL)" + from, `sql 4:52: call F(NULL) is ambiguous: it fits F(BIGINT) and F(VARCHAR(2)) (cast the NULL)`},
	}
	for _, tc := range tests {
		_, err := NewEngine(tc.sql, []Input{udfInput})
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n got %v\nwant %s", tc.sql, err, tc.want)
		}
	}
	_, err := NewEngine(frac+use+`"APP".get_fraction("d")`+from, []Input{udfInput})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || ue.Construct != "the qualified function name APP.GET_FRACTION (call a function by its name alone)" || ue.Line != 3 || ue.Col != 52 {
		t.Errorf("qualified name: %v", err)
	}
	_, err = NewEngine("CREATE FUNCTION f(x BIGINT) RETURNS BIGINT LANGUAGE JAVA RETURN x;", []Input{udfInput})
	if !errors.As(err, &ue) || ue.Construct != "CREATE FUNCTION … LANGUAGE JAVA (KDA runs user-defined functions written in SQL only)" || ue.Col != 53 {
		t.Errorf("LANGUAGE JAVA: %v", err)
	}
}
