package engine

import (
	"errors"
	"regexp"
	"testing"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// logParser compiles name(S, arg) (name(S) without arg) as SQL does, with
// S a VARCHAR column and arg a literal, or returns the compile error.
func logParser(name string, arg *string) (*rowFn, error) {
	sc := &scope{stream: "s", cols: []value.Column{{Name: "S", Type: value.Varchar(1 << 20)}}, idx: map[string]int{"S": 0}}
	call := &syntax.Call{Name: name, Args: []syntax.Expr{&syntax.ColRef{Name: "S"}}}
	if arg != nil {
		call.Args = append(call.Args, &syntax.Literal{V: value.StringValue(*arg)})
	}
	return sc.compileRowCall(call)
}

// checkRow: a parsed row is NULL or has one value per column, each NULL
// or of its column's kind; a failure is an *EvalError (the error_stream),
// never a panic.
func checkRow(t *testing.T, rf *rowFn, line string) {
	t.Helper()
	row, err := rf.parse([]value.Value{value.StringValue(line)})
	if err != nil {
		var ee *EvalError
		if !errors.As(err, &ee) {
			t.Fatalf("%q: %T %v", line, err, err)
		}
		return
	}
	if row == nil {
		return
	}
	if len(row) != len(rf.cols) {
		t.Fatalf("%q: %d values for %d columns", line, len(row), len(rf.cols))
	}
	for i, v := range row {
		if v.K != value.KindNull && v.K != rf.cols[i].Type.Kind {
			t.Fatalf("%q column %d: %v, want %s", line, i, v, rf.cols[i].Type.Kind)
		}
		if v.K == value.KindString && utf8.RuneCountInString(v.S) > rf.cols[i].Type.Len && rf.cols[i].Type.Len > 0 {
			t.Fatalf("%q column %d: %d characters in %s", line, i, utf8.RuneCountInString(v.S), rf.cols[i].Type)
		}
	}
}

// FuzzFastRegexLogParse: any pattern translates to an RE2 pattern that
// compiles, or is a compile error naming it; any line then gives a NULL
// row or one value per group.
func FuzzFastRegexLogParse(f *testing.F) {
	for _, s := range [][2]string{
		{"(.*)_(._.*)_.*", "Mary_had_a_little_lamb"},
		{`([^ ]*) @"["(@)"]"@`, `1.2.3.4 - - [24/May/2004:22:01:02 -0700] "GET /" 200 0`},
		{`([0-9]{1,3})"."(a|b)+[\]-]#`, "12.ab"},
		{`(\(()[^a-c\-])`, "(d"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, line string) {
		src, err := translateFastRegex(pat)
		if err == nil {
			if _, err := regexp.Compile(src); err != nil {
				t.Fatalf("%q translated to %q, which does not compile: %v", pat, src, err)
			}
		}
		rf, err := logParser("FAST_REGEX_LOG_PARSE", &pat)
		if err != nil {
			var se *syntax.SQLError
			if !errors.As(err, &se) {
				t.Fatalf("%q: %T %v", pat, err, err)
			}
			return
		}
		checkRow(t, rf, line)
	})
}

// FuzzFixedColumnLogParse: any column description compiles or is a
// compile error; any line then gives typed values or an *EvalError.
func FuzzFixedColumnLogParse(f *testing.F) {
	f.Add("ID TYPE INTEGER START 0 FOR 4, NAME TYPE VARCHAR(8) START 4 FOR 6", "0042ann   x")
	f.Add(`"when" TYPE TIMESTAMP 'dd/MMM/yyyy:HH:mm:ss' NOT NULL START 1 FOR 20, X TYPE DOUBLE START 22`, "[24/May/2004:22:01:02] 1.5")
	f.Add("B TYPE BOOLEAN START 3", "héllo TRUE")
	f.Fuzz(func(t *testing.T, desc, line string) {
		rf, err := logParser("FIXED_COLUMN_LOG_PARSE", &desc)
		if err != nil {
			var se *syntax.SQLError
			if !errors.As(err, &se) {
				t.Fatalf("%q: %T %v", desc, err, err)
			}
			return
		}
		checkRow(t, rf, line)
	})
}

// FuzzSysLogParse: any line gives a NULL row or a time within 1970 and
// the rest of the line.
func FuzzSysLogParse(f *testing.F) {
	f.Add("Oct 11 22:14:15 mymachine su: 'su root' failed")
	f.Add("Feb  5 17:32:18 10.0.0.99 Use the BFG!")
	f.Add("Dec 31 23:59:59")
	rf, err := logParser("SYS_LOG_PARSE", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkRow(t, rf, line)
		if row, _ := rf.parse([]value.Value{value.StringValue(line)}); row != nil && (row[0].I < 0 || row[0].I >= 365*86_400_000) {
			t.Fatalf("%q: %d ms is not in 1970", line, row[0].I)
		}
	})
}

// FuzzW3CLogParseIIS: any line gives a NULL row or fifteen VARCHAR
// fields.
func FuzzW3CLogParseIIS(f *testing.F) {
	f.Add("192.168.114.201, -, 03/20/01, 7:55:20, W3SVC2, SALES1, 172.21.13.45, 4502, 163, 3223, 200, 0, GET, /DeptLogo.gif, -,")
	f.Add("172.16.255.255, anonymous, 03/20/01, 23:58:11, MSFTPSVC, SALES1, 172.16.255.255, 60, 275, 0, 0, 0, PASS, /Intro.htm, -,")
	iis := "IIS"
	rf, err := logParser("W3C_LOG_PARSE", &iis)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		checkRow(t, rf, line)
	})
}
