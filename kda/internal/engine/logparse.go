package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The log parsing functions return a row; SQL selects its columns with
// REGEX_LOG_PARSE(…).COLUMN1. Each call is evaluated once per input row
// however many of its columns are selected.

// rowFn is a compiled row-valued call.
type rowFn struct {
	cols []value.Column
	args []cexpr
	// parse returns the row for the argument values, or nil for a NULL
	// row (no match).
	parse func(a []value.Value) ([]value.Value, error)

	last, argv []value.Value
	out        []value.Value
	valid      bool
}

// eval returns the row for v's argument values, reusing the last one when
// they are unchanged (several columns of one call on one input row).
func (r *rowFn) eval(v *env) ([]value.Value, error) {
	null, err := evalArgs(v, r.args, r.argv)
	if err != nil {
		return nil, err
	}
	if r.valid && equalValues(r.argv, r.last) {
		return r.out, nil
	}
	r.valid = false
	var out []value.Value
	if !null {
		if out, err = r.parse(r.argv); err != nil {
			return nil, err
		}
	}
	copy(r.last, r.argv)
	r.out, r.valid = out, true
	return out, nil
}

func equalValues(a, b []value.Value) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// compileField compiles f(…).NAME.
func (s *scope) compileField(e *syntax.Field) (cexpr, error) {
	key := e.X.String()
	rf := s.rows[key]
	if rf == nil {
		var err error
		if rf, err = s.compileRowCall(e.X); err != nil {
			return cexpr{}, err
		}
		if s.rows == nil {
			s.rows = map[string]*rowFn{}
		}
		s.rows[key] = rf
	}
	for i, c := range rf.cols {
		if c.Name == e.Name {
			return cexpr{typ: c.Type.Kind, fn: func(v *env) (value.Value, error) {
				row, err := rf.eval(v)
				if err != nil || row == nil {
					return value.Value{}, err
				}
				return row[i], nil
			}}, nil
		}
	}
	names := make([]string, len(rf.cols))
	for i, c := range rf.cols {
		names[i] = c.Name
	}
	return cexpr{}, e.P.Errorf("%s has no column %q (it has %s)", e.X.Name, e.Name, strings.Join(names, ", "))
}

func (s *scope) compileRowCall(e *syntax.Call) (*rowFn, error) {
	args := make([]cexpr, len(e.Args))
	for i, a := range e.Args {
		c, err := s.compile(a)
		if err != nil {
			return nil, err
		}
		args[i] = c
	}
	var rf *rowFn
	var err error
	switch e.Name {
	case "REGEX_LOG_PARSE":
		rf, err = regexLogParse(e, args)
	case "W3C_LOG_PARSE":
		rf, err = w3cLogParse(e, args)
	case "FAST_REGEX_LOG_PARSE", "FAST_REGEX_LOG_PARSER":
		rf, err = fastRegexLogParse(e, args)
	case "FIXED_COLUMN_LOG_PARSE":
		rf, err = fixedColumnLogParse(e, args)
	case "SYS_LOG_PARSE":
		rf, err = sysLogParse(e, args)
	default:
		rf, err = variableColumnLogParse(e, args)
	}
	if err != nil {
		return nil, err
	}
	rf.args = args
	rf.argv = make([]value.Value, len(args))
	rf.last = make([]value.Value, len(args))
	return rf, nil
}

// literalString is the literal VARCHAR argument i, or an error naming it.
func literalString(e *syntax.Call, args []cexpr, i int, what string) (string, error) {
	if i >= len(args) || args[i].lit == nil || args[i].lit.K != value.KindString {
		p := e.P
		if i < len(e.Args) {
			p = e.Args[i].ExprPos()
		}
		return "", p.Errorf("argument %d of %s must be a literal %s", i+1, e.Name, what)
	}
	return args[i].lit.S, nil
}

// numberedColumns are COLUMN1 … COLUMNn, VARCHAR(1024).
func numberedColumns(n int) []value.Column {
	cols := make([]value.Column, n)
	for i := range cols {
		cols[i] = value.Column{Name: "COLUMN" + strconv.Itoa(i+1), Type: value.Varchar(1024)}
	}
	return cols
}

// regexRow parses s with a whole-string match of re: one VARCHAR per group
// (an unmatched group is NULL), or a NULL row.
func regexRow(re *regexp.Regexp, s string) []value.Value {
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil
	}
	out := make([]value.Value, re.NumSubexp())
	for i := range out {
		if a, b := m[2*i+2], m[2*i+3]; a >= 0 {
			out[i] = value.StringValue(truncateRunes(s[a:b], 1024))
		}
	}
	return out
}

// regexLogParse is REGEX_LOG_PARSE(s, pattern): the pattern's groups as
// COLUMN1 … COLUMNn when it matches all of s, else NULL.
func regexLogParse(e *syntax.Call, args []cexpr) (*rowFn, error) {
	if err := argKinds(e, args, 2, value.KindString, value.KindString); err != nil {
		return nil, err
	}
	pat, err := literalString(e, args, 1, "pattern (its groups are the columns)")
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile("^(?:" + pat + ")$")
	if err != nil {
		return nil, e.Args[1].ExprPos().Errorf("REGEX_LOG_PARSE pattern %q is not supported: %v (RE2 has no lookaround, backreferences or possessive quantifiers)", pat, err)
	}
	return &rowFn{cols: numberedColumns(re.NumSubexp()), parse: func(a []value.Value) ([]value.Value, error) {
		return regexRow(re, a[0].S), nil
	}}, nil
}

// w3cFormats are W3C_LOG_PARSE's predefined formats.
var w3cFormats = map[string]string{
	"COMMON":            `%h %l %u %t "%r" %>s %b`,
	"COMMON WITH VHOST": `%v %h %l %u %t "%r" %>s %b`,
	"NCSA EXTENDED":     `%h %l %u %t "%r" %>s %b "%[Referer]i" "%[User-agent]i"`,
	"REFERER":           `%[Referer]i ---> %U`,
	"AGENT":             `%[User-agent]i`,
}

// w3cRegex turns an Apache log format into a regular expression with one
// group per specifier: %t is the bracketed time, a specifier between
// double quotes anything but a quote, any other a run of non-spaces.
func w3cRegex(format string) (string, int, error) {
	var b strings.Builder
	b.WriteString("^")
	n := 0
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			r, w := utf8.DecodeRuneInString(format[i:])
			b.WriteString(regexp.QuoteMeta(string(r)))
			i += w
			continue
		}
		j := i + 1
		if j < len(format) && format[j] == '%' {
			b.WriteString("%")
			i = j + 1
			continue
		}
		for j < len(format) && strings.IndexByte("!<>,0123456789", format[j]) >= 0 {
			j++
		}
		if j < len(format) && (format[j] == '{' || format[j] == '[') {
			closer := map[byte]byte{'{': '}', '[': ']'}[format[j]]
			k := strings.IndexByte(format[j:], closer)
			if k < 0 {
				return "", 0, fmt.Errorf("unclosed %c at offset %d", format[j], j)
			}
			j += k + 1
		}
		if j >= len(format) || !(format[j] >= 'a' && format[j] <= 'z' || format[j] >= 'A' && format[j] <= 'Z') {
			return "", 0, fmt.Errorf("specifier at offset %d has no letter", i)
		}
		quoted := i > 0 && format[i-1] == '"' && j+1 < len(format) && format[j+1] == '"'
		switch {
		case format[j] == 't':
			b.WriteString(`(\[[^\]]*\])`)
		case quoted:
			b.WriteString(`([^"]*)`)
		default:
			b.WriteString(`(\S*)`)
		}
		n++
		i = j + 1
	}
	b.WriteString("$")
	return b.String(), n, nil
}

// w3cLogParse is W3C_LOG_PARSE(s, format), format a predefined name (IIS:
// iisFormat) or an Apache log format: one VARCHAR column per specifier,
// COLUMN1 … COLUMNn, or NULL when s does not have the format.
func w3cLogParse(e *syntax.Call, args []cexpr) (*rowFn, error) {
	if err := argKinds(e, args, 2, value.KindString, value.KindString); err != nil {
		return nil, err
	}
	format, err := literalString(e, args, 1, "format")
	if err != nil {
		return nil, err
	}
	if f, ok := w3cFormats[strings.ToUpper(strings.TrimSpace(format))]; ok {
		format = f
	} else if strings.EqualFold(strings.TrimSpace(format), "IIS") {
		return &rowFn{cols: numberedColumns(15), parse: func(a []value.Value) ([]value.Value, error) {
			return regexRow(iisFormat, a[0].S), nil
		}}, nil
	}
	src, n, err := w3cRegex(format)
	if err != nil {
		return nil, e.Args[1].ExprPos().Errorf("W3C_LOG_PARSE format %q: %v", format, err)
	}
	re := regexp.MustCompile(src)
	return &rowFn{cols: numberedColumns(n), parse: func(a []value.Value) ([]value.Value, error) {
		return regexRow(re, a[0].S), nil
	}}, nil
}

// variableColumnLogParse is VARIABLE_COLUMN_LOG_PARSE(s, columns, delimiter
// [, escape, quote]): s split at each delimiter (not after the escape
// character, nor between quotes) into the columns: a number n gives
// COLUMN1 … COLUMNn VARCHAR(1024), a list 'NAME TYPE type, …' typed
// columns. Missing fields are NULL, extra ones ignored.
func variableColumnLogParse(e *syntax.Call, args []cexpr) (*rowFn, error) {
	if len(args) != 3 && len(args) != 5 {
		return nil, e.P.Errorf("VARIABLE_COLUMN_LOG_PARSE takes 3 or 5 arguments, got %d", len(args))
	}
	if err := argKinds(e, args[:1], 1, value.KindString); err != nil {
		return nil, err
	}
	var cols []value.Column
	switch lit := args[1].lit; {
	case lit != nil && lit.K == value.KindInt && lit.I >= 1 && lit.I <= 1000:
		cols = numberedColumns(int(lit.I))
	case lit != nil && lit.K == value.KindString:
		var err error
		if cols, err = parseColumnList(lit.S); err != nil {
			return nil, e.Args[1].ExprPos().Errorf("VARIABLE_COLUMN_LOG_PARSE columns: %v", err)
		}
	default:
		return nil, e.Args[1].ExprPos().Errorf("argument 2 of VARIABLE_COLUMN_LOG_PARSE must be a column count (1 to 1000) or a literal column list")
	}
	delim, err := literalString(e, args, 2, "delimiter")
	if err != nil {
		return nil, err
	}
	if delim == "" {
		return nil, e.Args[2].ExprPos().Errorf("the delimiter is empty")
	}
	var esc, openQ, closeQ rune
	if len(args) == 5 {
		es, err := literalString(e, args, 3, "escape character")
		if err != nil {
			return nil, err
		}
		qs, err := literalString(e, args, 4, "quote characters")
		if err != nil {
			return nil, err
		}
		er, qr := []rune(es), []rune(qs)
		if len(er) > 1 || len(qr) > 2 {
			return nil, e.Args[3].ExprPos().Errorf("the escape must be at most one character and the quotes at most two")
		}
		if len(er) == 1 {
			esc = er[0]
		}
		if len(qr) > 0 {
			openQ, closeQ = qr[0], qr[len(qr)-1]
		}
	}
	return &rowFn{cols: cols, parse: func(a []value.Value) ([]value.Value, error) {
		fields := splitFields(a[0].S, delim, esc, openQ, closeQ)
		out := make([]value.Value, len(cols))
		for i := range out {
			if i >= len(fields) {
				break
			}
			v, err := parseField(fields[i], cols[i].Type)
			if err != nil {
				return nil, &EvalError{fmt.Sprintf("VARIABLE_COLUMN_LOG_PARSE column %q: %v", cols[i].Name, err)}
			}
			out[i] = v
		}
		return out, nil
	}}, nil
}

// splitFields splits s at delim, honouring an escape character and quotes
// (0: none), which are removed.
func splitFields(s, delim string, esc, openQ, closeQ rune) []string {
	var fields []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		switch {
		case esc != 0 && r == esc && i+w < len(s):
			_, w2 := utf8.DecodeRuneInString(s[i+w:])
			cur.WriteString(s[i+w : i+w+w2])
			i += w + w2
			continue
		case inQuote && r == closeQ:
			inQuote = false
		case !inQuote && openQ != 0 && r == openQ:
			inQuote = true
		case !inQuote && strings.HasPrefix(s[i:], delim):
			fields = append(fields, cur.String())
			cur.Reset()
			i += len(delim)
			continue
		default:
			cur.WriteRune(r)
		}
		i += w
	}
	return append(fields, cur.String())
}

// parseColumnList reads 'NAME TYPE type [NOT NULL], …'.
func parseColumnList(s string) ([]value.Column, error) {
	var cols []value.Column
	depth, start := 0, 0
	var parts []string
	for i, c := range s {
		switch c {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		f := strings.Fields(p)
		if len(f) < 3 || !strings.EqualFold(f[1], "TYPE") {
			return nil, fmt.Errorf("%q is not NAME TYPE type", strings.TrimSpace(p))
		}
		name := f[0]
		if uq, err := strconv.Unquote(name); err == nil && strings.HasPrefix(name, `"`) {
			name = uq
		} else {
			name = strings.ToUpper(name)
		}
		rest := strings.Join(f[2:], " ")
		rest = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(rest), " NULL"), " NOT"))
		t, err := syntax.ParseType(rest)
		if err != nil {
			return nil, fmt.Errorf("column %s: %v", name, err)
		}
		cols = append(cols, value.Column{Name: name, Type: t})
	}
	return cols, nil
}
