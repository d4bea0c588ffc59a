package kda

import "testing"

// TestOverlay: the examples of the KDA reference's OVERLAY page, NULL in,
// NULL out, and a negative length.
func TestOverlay(t *testing.T) {
	v := "VARCHAR(64)"
	runFnCases(t, []fnCase{
		{`OVERLAY('12345' PLACING 'foo' FROM 1)`, v, "", `"foo45"`},
		{`OVERLAY('12345' PLACING 'foo' FROM 0)`, v, "", `"foo345"`},
		{`OVERLAY('12345' PLACING 'foo' FROM -2)`, v, "", `"foo12345"`},
		{`OVERLAY('12345' PLACING 'foo' FROM 4)`, v, "", `"123foo"`},
		{`OVERLAY('12345' PLACING 'foo' FROM 17)`, v, "", `"12345foo"`},
		{`OVERLAY('12345' PLACING 'foo' FROM 2 FOR 0)`, v, "", `"1foo2345"`},
		{`OVERLAY('12345' PLACING 'foo' FROM 2 FOR 2)`, v, "", `"1foo45"`},
		{`OVERLAY('12345' PLACING 'foo' FROM 2 FOR 9)`, v, "", `"1foo"`},
		{`OVERLAY(S PLACING 'é' FROM N)`, v, `{"S":"héllo","N":3}`, `"héélo"`},
		{`OVERLAY(S PLACING 'x' FROM N)`, v, `{"S":null,"N":3}`, `null`},
		{`OVERLAY('abc' PLACING 'x' FROM 1 FOR N)`, v, `{"N":-1}`, `error: OVERLAY length -1 is negative`},
	})
}

// TestMoreLogParseFunctions: FAST_REGEX_LOG_PARSE (lazy groups, the fast
// regex syntax's literals, classes, @ and repetitions; NULL when the
// pattern does not account for the whole line), FIXED_COLUMN_LOG_PARSE
// (0-based START, FOR, typed and formatted columns, NOT NULL),
// SYS_LOG_PARSE (RFC 3164 lines) and W3C_LOG_PARSE 'IIS' (Microsoft's
// documented example line).
func TestMoreLogParseFunctions(t *testing.T) {
	v := "VARCHAR(64)"
	const web = `{"S":"192.168.254.30 - John [24/May/2004:22:01:02 -0700] \"GET /icons/apache_pba.gif HTTP/1.1\" 304 0"}`
	frlp := `FAST_REGEX_LOG_PARSE(S, '(.*)_(._.*)_.*')`
	const iis = `{"S":"192.168.114.201, -, 03/20/01, 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,"}`
	runFnCases(t, []fnCase{
		{frlp + `.COLUMN1 || '|' || ` + frlp + `.COLUMN2`, v, `{"S":"Mary_had_a_little_lamb"}`, `"Mary_had|a_little"`},
		{`FAST_REGEX_LOG_PARSE(S, '(.*)_(.*)_.*').COLUMN2`, v, `{"S":"Mary_had_a_little_lamb"}`, `"had"`},
		{`FAST_REGEX_LOG_PARSER(S, '([^ ]+) @"[" ([^ \]]+) "]"@').COLUMN2`, v, `{"S":"x [ 24/May/2004 ] y"}`, `"24/May/2004"`},
		{`FAST_REGEX_LOG_PARSE(S, '([0-9]+)"."([0-9]{1,3})').COLUMN2`, v, `{"S":"3.14"}`, `"14"`},
		{`FAST_REGEX_LOG_PARSE(S, '(a|b)+(c?)').COLUMN1`, v, `{"S":"abab"}`, `"b"`},
		{`FAST_REGEX_LOG_PARSE(S, '([^ ]*) ([^ ]*)').COLUMN2`, v, web, `null`},
		{`FAST_REGEX_LOG_PARSE(S, '([^ ]*) @"["(@)"]"@').COLUMN2`, v, web, `"24/May/2004:22:01:02 -0700"`},
		{`FAST_REGEX_LOG_PARSE(S, '(\.)\\()').COLUMN1`, v, `{"S":".\\"}`, `"."`},
		{`FAST_REGEX_LOG_PARSE(S, '(a)#').COLUMN1`, v, `{"S":"a"}`, `null`},
		{`FIXED_COLUMN_LOG_PARSE(S, 'ID TYPE INTEGER START 0 FOR 4, NAME TYPE VARCHAR(8) START 4 FOR 6').NAME`, v, `{"S":"0042ann   x"}`, `"ann   "`},
		{`FIXED_COLUMN_LOG_PARSE(S, 'ID TYPE INTEGER START 0 FOR 4, NAME TYPE VARCHAR(8) START 4 FOR 6').ID + 1`, "INTEGER", `{"S":"0042ann   x"}`, `43`},
		{`FIXED_COLUMN_LOG_PARSE(S, 'ID TYPE INTEGER START 0 FOR 4, REST TYPE VARCHAR(32) START 5').REST`, v, `{"S":"0042 the rest"}`, `"the rest"`},
		{`FIXED_COLUMN_LOG_PARSE(S, '"when" TYPE TIMESTAMP ''dd/MMM/yyyy:HH:mm:ss'' START 1 FOR 20')."when"`, "TIMESTAMP", `{"S":"[24/May/2004:22:01:02]"}`, `"2004-05-24 22:01:02.000"`},
		{`FIXED_COLUMN_LOG_PARSE(S, 'A TYPE VARCHAR(2) START 0 FOR 2, B TYPE DOUBLE START 9 FOR 3').B`, "DOUBLE", `{"S":"ab"}`, `null`},
		{`FIXED_COLUMN_LOG_PARSE(S, 'A TYPE VARCHAR(2) START 0 FOR 2, B TYPE DOUBLE NOT NULL START 9 FOR 3').A`, v, `{"S":"ab"}`, `error: FIXED_COLUMN_LOG_PARSE column "B" is NOT NULL but the line has no value for it`},
		{`FIXED_COLUMN_LOG_PARSE(S, 'N TYPE INTEGER START 0 FOR 3').N`, "INTEGER", `{"S":"x1"}`, `error: FIXED_COLUMN_LOG_PARSE column "N": "x1" is not an integer`},
		{`SYS_LOG_PARSE(S).COLUMN1`, "TIMESTAMP", `{"S":"Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"}`, `"1970-10-11 22:14:15.000"`},
		{`SYS_LOG_PARSE(S).COLUMN2`, v, `{"S":"Oct 11 22:14:15 mymachine su: 'su root' failed"}`, `"mymachine su: 'su root' failed"`},
		{`SYS_LOG_PARSE(S).COLUMN1`, "TIMESTAMP", `{"S":"Feb  5 17:32:18 10.0.0.99 Use the BFG!"}`, `"1970-02-05 17:32:18.000"`},
		{`SYS_LOG_PARSE(S).COLUMN2`, v, `{"S":"<34>Oct 11 22:14:15 mymachine"}`, `null`},
		{`SYS_LOG_PARSE(S).COLUMN2`, v, `{"S":"Feb 30 17:32:18 x"}`, `null`},
		{`W3C_LOG_PARSE(S, 'IIS').COLUMN1`, v, iis, `"192.168.114.201"`},
		{`W3C_LOG_PARSE(S, 'IIS').COLUMN4 || ' ' || W3C_LOG_PARSE(S, 'IIS').COLUMN14`, v, iis, `"7:55:20 /DeptLogo.gif"`},
		{`W3C_LOG_PARSE(S, 'IIS').COLUMN15`, v, iis, `"-"`},
		{`W3C_LOG_PARSE(S, 'IIS').COLUMN1`, v, web, `null`},
	})
}
