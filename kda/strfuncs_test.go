package kda

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fnInput is the input of runFnCases: a string, an integer, a TIMESTAMP.
var fnInput = Input{Columns: []Column{{Name: "S", Type: Varchar(256)}, {Name: "N", Type: Bigint}, {Name: "T", Type: Timestamp}}}

// evalSQLOn returns the JSON of expr, computed into a column of type typ
// for one input record of in, or the error_stream's MESSAGE.
func evalSQLOn(t *testing.T, in Input, expr, typ, rec string) string {
	t.Helper()
	sql := `CREATE STREAM "o" ("v" ` + typ + `);
CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM ` + expr + ` FROM "SOURCE_SQL_STREAM_001";`
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	e, err := NewEngine(sql, []Input{in}, func(o *EngineOptions) { o.Now = func() time.Time { return now } })
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	var out string
	must(0, e.Subscribe("o", func(r Row) { out = string(r.Get("v").AppendJSON(nil)) }))
	must(0, e.Subscribe(ErrorStream, func(r Row) { out = "error: " + r.Get("MESSAGE").S }))
	must(0, e.InsertJSON(DefaultInputStream, []byte(rec), now))
	return out
}

type fnCase struct{ expr, typ, rec, want string }

func runFnCases(t *testing.T, cases []fnCase) {
	t.Helper()
	runFnCasesOn(t, fnInput, cases)
}

// runFnCasesOn is runFnCases with the input in.
func runFnCasesOn(t *testing.T, in Input, cases []fnCase) {
	t.Helper()
	for _, c := range cases {
		rec := c.rec
		if rec == "" {
			rec = `{}`
		}
		if got := evalSQLOn(t, in, c.expr, c.typ, rec); got != c.want {
			t.Errorf("%s on %s = %s, want %s", c.expr, rec, got, c.want)
		}
	}
}

// TestSubstring: the FROM/FOR examples of the KDA reference's SUBSTRING
// page, the comma form, FROM a regular expression, and SIMILAR … ESCAPE
// (the SQL standard's examples).
func TestSubstring(t *testing.T) {
	v := "VARCHAR(64)"
	runFnCases(t, []fnCase{
		{`SUBSTRING('123456789' FROM 3 FOR 4)`, v, "", `"3456"`},
		{`SUBSTRING('123456789' FROM 17 FOR 4)`, v, "", `""`},
		{`SUBSTRING('123456789' FROM -1 FOR 4)`, v, "", `"12"`},
		{`SUBSTRING('123456789' FROM 6 FOR 0)`, v, "", `""`},
		{`SUBSTRING('123456789' FROM 8 FOR 4)`, v, "", `"89"`},
		{`SUBSTRING('123456789', 3)`, v, "", `"3456789"`},
		{`SUBSTRING(S, 2, 2)`, v, `{"S":"héllo"}`, `"él"`},
		{`SUBSTRING(S FROM N)`, v, `{"S":null,"N":1}`, `null`},
		{`SUBSTRING('TECHNOLOGY' FROM 'L[A-Z]*')`, v, "", `"LOGY"`},
		{`SUBSTRING('TECHNOLOGY' FROM 'L[A-Z]*' FOR 2)`, v, "", `"LO"`},
		{`SUBSTRING('TECHNOLOGY' FROM 'X+')`, v, "", `null`},
		{`SUBSTRING('abcabc' SIMILAR 'a#"bcab#"c' ESCAPE '#')`, v, "", `"bcab"`},
		{`SUBSTRING('abcabc' SIMILAR 'a#"%#"c' ESCAPE '#')`, v, "", `"bcab"`},
		{`SUBSTRING('abcabc' SIMILAR '_#"%#"_' ESCAPE '#')`, v, "", `"bcab"`},
		{`SUBSTRING('abcabc' SIMILAR '#"(abc)*#"' ESCAPE '#')`, v, "", `"abcabc"`},
		{`SUBSTRING('abcabc' SIMILAR '#"abc#"' ESCAPE '#')`, v, "", `null`},
		{`SUBSTRING('123' FROM 1 FOR N)`, v, `{"N":-1}`, `error: SUBSTRING length -1 is negative`},
	})
}

// TestSimilarTo: SIMILAR TO matches the whole string; % _ | * + ? {m,n}
// () [] are special, . is not, and ESCAPE quotes.
func TestSimilarTo(t *testing.T) {
	b := "BOOLEAN"
	runFnCases(t, []fnCase{
		{`'a' SIMILAR TO 'a'`, b, "", `true`},
		{`'a' SIMILAR TO 'A'`, b, "", `false`},
		{`'ab' SIMILAR TO 'a_'`, b, "", `true`},
		{`'abcd' SIMILAR TO 'a%'`, b, "", `true`},
		{`'abcd' SIMILAR TO 'b%'`, b, "", `false`},
		{`'abc' SIMILAR TO '(abc|xyz)'`, b, "", `true`},
		{`'aaab' SIMILAR TO 'a+b'`, b, "", `true`},
		{`'ab' SIMILAR TO 'a{2}b'`, b, "", `false`},
		{`'a1' SIMILAR TO '[a-c][0-9]'`, b, "", `true`},
		{`'ax' SIMILAR TO 'a.'`, b, "", `false`},
		{`'a.' SIMILAR TO 'a.'`, b, "", `true`},
		{`'a%' SIMILAR TO 'a\%' ESCAPE '\'`, b, "", `true`},
		{`'ab' SIMILAR TO 'a\%' ESCAPE '\'`, b, "", `false`},
		{`S NOT SIMILAR TO '%TECH%'`, b, `{"S":"ENERGY"}`, `true`},
		{`S SIMILAR TO '%TECH%'`, b, `{"S":null}`, `null`},
	})
}

// TestStringFunctions: POSITION, TRIM, INITCAP and REGEX_REPLACE,
// including the REGEX_REPLACE reference example.
func TestStringFunctions(t *testing.T) {
	v := "VARCHAR(64)"
	runFnCases(t, []fnCase{
		{`POSITION('world' IN 'hello world')`, "INTEGER", "", `7`},
		{`POSITION('x' IN 'abc')`, "INTEGER", "", `0`},
		{`POSITION('' IN 'abc')`, "INTEGER", "", `1`},
		{`POSITION('l' IN S)`, "INTEGER", `{"S":"héllo"}`, `3`},
		{`TRIM('  a b  ')`, v, "", `"a b"`},
		{`TRIM(LEADING 'x' FROM 'xxaxx')`, v, "", `"axx"`},
		{`TRIM(TRAILING 'x' FROM 'xxaxx')`, v, "", `"xxa"`},
		{`TRIM(BOTH 'x' FROM 'xxaxx')`, v, "", `"a"`},
		{`TRIM(BOTH FROM '  a  ')`, v, "", `"a"`},
		{`TRIM('x' FROM 'xax')`, v, "", `"a"`},
		{`TRIM('xy' FROM 'xax')`, v, "", `error: TRIM character "xy" must be one character`},
		{`INITCAP('i Love sql')`, v, "", `"I Love Sql"`},
		{`INITCAP('hELLO  wORLD-wide')`, v, "", `"Hello  World-wide"`},
		{`REGEX_REPLACE(S, 'TECHNOLOGY', 'INFORMATION TECHNOLOGY', 1, 0)`, v, `{"S":"TECHNOLOGY"}`, `"INFORMATION TECHNOLOGY"`},
		{`REGEX_REPLACE('aaa', 'a', 'b', 2, 0)`, v, "", `"abb"`},
		{`REGEX_REPLACE('aaa', 'a', 'b', 1, 2)`, v, "", `"aba"`},
		{`REGEX_REPLACE('aaa', 'a', 'b', 9, 0)`, v, "", `"aaa"`},
		{`REGEX_REPLACE('joe@example', '(\w+)@(\w+)', '$2 has $1, \$1', 1, 0)`, v, "", `"example has joe, $1"`},
		{`REGEX_REPLACE('a', 'a', 'b', 0, 0)`, v, "", `error: REGEX_REPLACE startPosition 0 is less than 1`},
	})
}

// TestLogParseFunctions: REGEX_LOG_PARSE (the reference's example on the
// demo stream's SECTOR), W3C_LOG_PARSE on the developer guide's web log
// line, and VARIABLE_COLUMN_LOG_PARSE with escapes, quotes and typed
// columns.
func TestLogParseFunctions(t *testing.T) {
	v := "VARCHAR(64)"
	const line = `{"S":"192.168.254.30 - John [24/May/2004:22:01:02 -0700] \"GET /icons/apache_pba.gif HTTP/1.1\" 304 0"}`
	runFnCases(t, []fnCase{
		{`REGEX_LOG_PARSE(S, '.*([E].).*([R].*)').COLUMN1 || '|' || REGEX_LOG_PARSE(S, '.*([E].).*([R].*)').COLUMN2`, v, `{"S":"ENERGY"}`, `"EN|RGY"`},
		{`REGEX_LOG_PARSE(S, '.*([E].).*([R].*)').COLUMN1`, v, `{"S":"TECHNOLOGY"}`, `null`},
		{`W3C_LOG_PARSE(S, 'COMMON').COLUMN1`, v, line, `"192.168.254.30"`},
		{`W3C_LOG_PARSE(S, 'COMMON').COLUMN3`, v, line, `"John"`},
		{`W3C_LOG_PARSE(S, 'COMMON').COLUMN4`, v, line, `"[24/May/2004:22:01:02 -0700]"`},
		{`W3C_LOG_PARSE(S, 'COMMON').COLUMN5`, v, line, `"GET /icons/apache_pba.gif HTTP/1.1"`},
		{`W3C_LOG_PARSE(S, 'COMMON').COLUMN6 || '/' || W3C_LOG_PARSE(S, 'COMMON').COLUMN7`, v, line, `"304/0"`},
		{`W3C_LOG_PARSE(S, '%h %u').COLUMN2`, v, `{"S":"host user"}`, `"user"`},
		{`W3C_LOG_PARSE(S, 'COMMON').COLUMN1`, v, `{"S":"not a log line"}`, `null`},
		{`VARIABLE_COLUMN_LOG_PARSE(S, 3, ',', '\', '"').COLUMN2`, v, `{"S":"a,b\\,c,\"d,e\""}`, `"b,c"`},
		{`VARIABLE_COLUMN_LOG_PARSE(S, 3, ',', '\', '"').COLUMN3`, v, `{"S":"a,b\\,c,\"d,e\""}`, `"d,e"`},
		{`VARIABLE_COLUMN_LOG_PARSE(S, 'NAME TYPE VARCHAR(8), AGE TYPE INTEGER NOT NULL', '|').AGE + 1`, "INTEGER", `{"S":"ann|41"}`, `42`},
		{`VARIABLE_COLUMN_LOG_PARSE(S, 'NAME TYPE VARCHAR(8), AGE TYPE INTEGER', '|').AGE`, "INTEGER", `{"S":"ann"}`, `null`},
		{`VARIABLE_COLUMN_LOG_PARSE(S, 'NAME TYPE VARCHAR(8), AGE TYPE INTEGER', '|').AGE`, "INTEGER", `{"S":"ann|x"}`, `error: VARIABLE_COLUMN_LOG_PARSE column "AGE": "x" is not an integer`},
	})
}

// TestTimeFunctions: TO_TIMESTAMP and UNIX_TIMESTAMP convert Unix
// milliseconds, TSDIFF subtracts, CURRENT_ROW_TIMESTAMP is the engine's
// clock, CHAR_TO_TIMESTAMP parses with defaults for missing fields (the
// reference's 'yyyy-MM' example), TIMESTAMP_TO_CHAR formats (and gives
// 'null' for NULL, as documented).
func TestTimeFunctions(t *testing.T) {
	ts, v := "TIMESTAMP", "VARCHAR(64)"
	runFnCases(t, []fnCase{
		{`TO_TIMESTAMP(N)`, ts, `{"N":1252984524123}`, `"2009-09-15 03:15:24.123"`},
		{`UNIX_TIMESTAMP(T)`, "BIGINT", `{"T":"2009-09-15 03:15:24.123"}`, `1252984524123`},
		{`TSDIFF(T, TIMESTAMP '2009-09-15 03:15:00')`, "BIGINT", `{"T":"2009-09-15 03:15:24.123"}`, `24123`},
		{`TSDIFF(N, 1000)`, "BIGINT", `{"N":1500}`, `500`},
		{`TSDIFF(T, N)`, "BIGINT", `{"T":null,"N":1}`, `null`},
		{`CURRENT_ROW_TIMESTAMP`, ts, "", `"2026-12-03 10:00:00.000"`},
		{`CHAR_TO_TIMESTAMP('yyyy-MM-dd HH:mm:ss', '2009-09-16 03:15:24')`, ts, "", `"2009-09-16 03:15:24.000"`},
		{`CHAR_TO_TIMESTAMP('yyyy-MM', '2009-09')`, ts, "", `"2009-09-01 00:00:00.000"`},
		{`CHAR_TO_TIMESTAMP('dd/MM/yyyy', S)`, ts, `{"S":"31/12/1999"}`, `"1999-12-31 00:00:00.000"`},
		{`CHAR_TO_TIMESTAMP('yyyy-MM', S)`, ts, `{"S":"x"}`, `error: CHAR_TO_TIMESTAMP: 'x' does not match 'yyyy-MM'`},
		{`TIMESTAMP_TO_CHAR('yyyy-MM-dd HH:mm:ss.SSS', T)`, v, `{"T":"2009-09-16 03:15:24.5"}`, `"2009-09-16 03:15:24.500"`},
		{`TIMESTAMP_TO_CHAR('EEE d MMM yyyy', T)`, v, `{"T":"2009-09-16 03:15:24"}`, `"Wed 16 Sep 2009"`},
		{`TIMESTAMP_TO_CHAR('yyyy', T)`, v, `{"T":null}`, `"null"`},
	})
}

// TestCastPairs: CAST between every pair the reference's table lists for
// the types the engine has, and a compile-time error for the others.
func TestCastPairs(t *testing.T) {
	v := "VARCHAR(64)"
	runFnCases(t, []fnCase{
		{`CAST(N AS VARCHAR(8))`, v, `{"N":42}`, `"42"`},
		{`CAST(N AS CHAR(1))`, v, `{"N":42}`, `"4"`},
		{`CAST(N AS DOUBLE)`, "DOUBLE", `{"N":42}`, `42.0`},
		{`CAST(2.5 AS INTEGER)`, "INTEGER", "", `2`},
		{`CAST(2.5 AS DECIMAL(8,2))`, "DOUBLE", "", `2.5`},
		{`CAST(2.5 AS VARCHAR(8))`, v, "", `"2.5"`},
		{`CAST(100.0 AS VARCHAR(8))`, v, "", `"100.0"`},
		{`CAST(1e20 AS VARCHAR(16))`, v, "", `"1.0E20"`},
		{`CAST(0.0001 AS VARCHAR(16))`, v, "", `"1.0E-4"`},
		{`CAST(S AS INTEGER)`, "INTEGER", `{"S":" 12 "}`, `12`},
		{`CAST(S AS DOUBLE)`, "DOUBLE", `{"S":"1.5"}`, `1.5`},
		{`CAST(S AS TIMESTAMP)`, "TIMESTAMP", `{"S":"2009-09-16 03:15:24"}`, `"2009-09-16 03:15:24.000"`},
		{`CAST(S AS BOOLEAN)`, "BOOLEAN", `{"S":"true"}`, `true`},
		{`CAST(S AS VARCHAR(2))`, v, `{"S":"abc"}`, `"ab"`},
		{`CAST(S AS INTEGER)`, "INTEGER", `{"S":"x"}`, `error: cannot cast 'x' to INTEGER`},
		{`CAST(T AS VARCHAR(32))`, v, `{"T":"2009-09-16 03:15:24"}`, `"2009-09-16 03:15:24.000"`},
		{`CAST(T AS TIMESTAMP)`, "TIMESTAMP", `{"T":"2009-09-16 03:15:24"}`, `"2009-09-16 03:15:24.000"`},
		{`CAST(S = 'a' AS VARCHAR(5))`, v, `{"S":"a"}`, `"TRUE"`},
		{`CAST(S = 'a' AS BOOLEAN)`, "BOOLEAN", `{"S":"b"}`, `false`},
	})
	for _, bad := range []string{`CAST(T AS BIGINT)`, `CAST(S = 'a' AS INTEGER)`, `CAST(N AS TIMESTAMP)`, `CAST(N AS BOOLEAN)`} {
		_, err := NewEngine(`CREATE STREAM "o" ("v" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `+bad+` FROM "SOURCE_SQL_STREAM_001";`, []Input{fnInput})
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), "not a conversion the KDA reference allows") {
			t.Errorf("%s: err %v, want a compile error", bad, err)
		}
	}
}

// TestFunctionCompileErrors: a function the engine lacks, a pattern RE2
// cannot run, and a row function used as a value fail at compile time at
// their line and column.
func TestFunctionCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		expr      string
		at        string // the error's column is where this first appears in expr
		msg       string
		construct string
	}{
		{"N +\n   NUMBER_TO_CHAR(N, '9')", "NUMBER_TO_CHAR", "NUMBER_TO_CHAR is not supported yet", "NUMBER_TO_CHAR"},
		{"REGEX_REPLACE(S, '(a)\\1', 'b', 1, 0)", "'(a)", "is not supported", ""},
		{"REGEX_LOG_PARSE(S, '(?=x)').COLUMN1", "'(?=", "is not supported", ""},
		{"REGEX_LOG_PARSE(S, '(a)')", "REGEX", "returns a row", ""},
		{"REGEX_LOG_PARSE(S, '(a)').COLUMN2", "COLUMN2", `has no column "COLUMN2"`, ""},
		{"FAST_REGEX_LOG_PARSE(S, '(a)&b').COLUMN1", "'(a)", "& (intersection or complement) at offset 3 is not supported", ""},
		{"FAST_REGEX_LOG_PARSE(S, '<IP>').COLUMN1", "'<IP", "named patterns and numeric intervals", ""},
		{"FIXED_COLUMN_LOG_PARSE(S, 'A TYPE INTEGER').A", "'A TYPE", "is not NAME TYPE type [NOT NULL] START n [FOR m]", ""},
		{"FIXED_COLUMN_LOG_PARSE(S, 'A TYPE INTEGER ''yyyy'' START 0').A", "'A TYPE", "only a TIMESTAMP column has a format", ""},
		{"OVERLAY(S PLACING 'x' 1)", "1)", "expected FROM", ""},
		{"CHAR_TO_TIMESTAMP('yyyy-MM-dd qq', S)", "'yyyy", "CHAR_TO_TIMESTAMP", ""},
		{"UPPER(S).X", ".X", "no '.' after a function that does not return a row", ""},
	} {
		const prefix = `CREATE STREAM "o" ("v" VARCHAR(8)); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `
		i := strings.Index(tc.expr, tc.at)
		line := 1 + strings.Count(tc.expr[:i], "\n")
		col := len(prefix) + i + 1
		if line > 1 {
			col = i - strings.LastIndex(tc.expr[:i], "\n")
		}
		sql := prefix + tc.expr + ` FROM "SOURCE_SQL_STREAM_001";`
		_, err := NewEngine(sql, []Input{fnInput})
		var se *SQLError
		if !errors.As(err, &se) || se.Line != line || se.Col != col || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s: err %v, want %d:%d %q", tc.expr, err, line, col, tc.msg)
			continue
		}
		var ue *UnsupportedError
		if tc.construct != "" && (!errors.As(err, &ue) || ue.Construct != tc.construct) {
			t.Errorf("%s: err %v, want *UnsupportedError %q", tc.expr, err, tc.construct)
		}
	}
}
