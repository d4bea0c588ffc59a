package engine

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lakekit/lakekit/internal/javatime"
	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The log parsers beyond REGEX_LOG_PARSE, W3C_LOG_PARSE and
// VARIABLE_COLUMN_LOG_PARSE: FAST_REGEX_LOG_PARSE (also spelled
// FAST_REGEX_LOG_PARSER, as the reference's title does),
// FIXED_COLUMN_LOG_PARSE and SYS_LOG_PARSE. A line that does not parse is
// a NULL row, as with REGEX_LOG_PARSE; a field that does not convert to
// its column's type is an evaluation error (the error_stream), as with
// VARIABLE_COLUMN_LOG_PARSE.

// iisFormat is W3C_LOG_PARSE's IIS format, which the reference names but
// does not spell out: Microsoft's IIS log file format, fifteen fields each
// followed by a comma (client IP, user name, date, time, service and
// instance, server name, server IP, time taken, client bytes, server
// bytes, status, Windows status, request type, target, parameters), as
// VARCHAR(1024) COLUMN1 … COLUMN15.
var iisFormat = regexp.MustCompile(`^` + strings.Repeat(`[ \t]*([^,]*?)[ \t]*,`, 15) + `[ \t]*$`)

// fastRegexLogParse is FAST_REGEX_LOG_PARSE(s, pattern): the pattern in
// the reference's fast regex syntax, translated to RE2 with every
// quantifier lazy and anchored at both ends; its parenthesised groups are
// COLUMN1 … COLUMNn VARCHAR(1024), or the row is NULL when the pattern
// does not account for all of s.
func fastRegexLogParse(e *syntax.Call, args []cexpr) (*rowFn, error) {
	if err := argKinds(e, args, 2, value.KindString, value.KindString); err != nil {
		return nil, err
	}
	pat, err := literalString(e, args, 1, "fast regex pattern (its groups are the columns)")
	if err != nil {
		return nil, err
	}
	src, err := translateFastRegex(pat)
	if err != nil {
		return nil, e.Args[1].ExprPos().Errorf("FAST_REGEX_LOG_PARSE pattern %q: %v", pat, err)
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, e.Args[1].ExprPos().Errorf("FAST_REGEX_LOG_PARSE pattern %q: %v", pat, err)
	}
	return &rowFn{cols: numberedColumns(re.NumSubexp()), parse: func(a []value.Value) ([]value.Value, error) {
		return regexRow(re, a[0].S), nil
	}}, nil
}

// translateFastRegex translates a fast regex (the dk.brics.automaton syntax the
// reference's table lists: [classes], [^classes], |, ?, *, +, {n}, {n,},
// {n,m}, . any character, # the empty language, @ any string, "literal",
// () the empty string, (…) a group, \c the character c; every other
// character is itself) into an anchored RE2 pattern with lazy
// quantifiers. Intersection (&), complement (~), named patterns <name>
// and numeric intervals <n-m> are errors.
func translateFastRegex(pat string) (string, error) {
	fr := &fastRegex{src: []rune(pat)}
	var b strings.Builder
	b.WriteString(`(?s)^(?:`)
	if err := fr.union(&b, 0); err != nil {
		return "", err
	}
	if fr.i < len(fr.src) {
		return "", fmt.Errorf("unexpected %q at offset %d", fr.src[fr.i], fr.i)
	}
	b.WriteString(`)$`)
	return b.String(), nil
}

type fastRegex struct {
	src []rune
	i   int
}

func (fr *fastRegex) peek() rune {
	if fr.i < len(fr.src) {
		return fr.src[fr.i]
	}
	return -1
}

const maxFastRegexDepth = 100

func (fr *fastRegex) union(b *strings.Builder, depth int) error {
	if depth > maxFastRegexDepth {
		return fmt.Errorf("groups nested more than %d deep", maxFastRegexDepth)
	}
	for {
		if err := fr.concat(b, depth); err != nil {
			return err
		}
		if fr.peek() != '|' {
			return nil
		}
		fr.i++
		b.WriteByte('|')
	}
}

func (fr *fastRegex) concat(b *strings.Builder, depth int) error {
	for {
		switch c := fr.peek(); c {
		case -1, '|', ')':
			return nil
		case '&', '~':
			return fmt.Errorf("%c (intersection or complement) at offset %d is not supported: RE2 has no such operator", c, fr.i)
		}
		if err := fr.repeat(b, depth); err != nil {
			return err
		}
	}
}

// repeat writes one simple expression and its quantifiers, each lazy.
func (fr *fastRegex) repeat(b *strings.Builder, depth int) error {
	var atom strings.Builder
	if err := fr.simple(&atom, depth); err != nil {
		return err
	}
	expr := atom.String()
	for {
		switch c := fr.peek(); c {
		case '?', '*', '+':
			fr.i++
			expr = "(?:" + expr + ")" + string(c) + "?"
		case '{':
			j := fr.i + 1
			for j < len(fr.src) && fr.src[j] != '}' {
				j++
			}
			if j >= len(fr.src) {
				return fmt.Errorf("unclosed { at offset %d", fr.i)
			}
			body := string(fr.src[fr.i+1 : j])
			lo, hi, comma := strings.Cut(body, ",")
			n, err := strconv.Atoi(lo)
			m := n
			if err == nil && comma && hi != "" {
				m, err = strconv.Atoi(hi)
			}
			if err != nil || n < 0 || n > 1000 || m < n || m > 1000 {
				return fmt.Errorf("bad repetition {%s} at offset %d (counts 0 to 1000)", body, fr.i)
			}
			fr.i = j + 1
			expr = "(?:" + expr + "){" + body + "}?"
		default:
			b.WriteString(expr)
			return nil
		}
	}
}

func (fr *fastRegex) simple(b *strings.Builder, depth int) error {
	start := fr.i
	switch c := fr.peek(); c {
	case '.':
		fr.i++
		b.WriteString(`.`)
	case '#':
		fr.i++
		b.WriteString(`[^\x00-\x{10FFFF}]`)
	case '@':
		fr.i++
		b.WriteString(`.*?`)
	case '"':
		j := fr.i + 1
		for j < len(fr.src) && fr.src[j] != '"' {
			j++
		}
		if j >= len(fr.src) {
			return fmt.Errorf("unclosed \" at offset %d", start)
		}
		b.WriteString("(?:" + regexp.QuoteMeta(string(fr.src[fr.i+1:j])) + ")")
		fr.i = j + 1
	case '(':
		fr.i++
		b.WriteByte('(')
		if fr.peek() != ')' {
			if err := fr.union(b, depth+1); err != nil {
				return err
			}
		}
		if fr.peek() != ')' {
			return fmt.Errorf("unclosed ( at offset %d", start)
		}
		fr.i++
		b.WriteByte(')')
	case '<':
		return fmt.Errorf("named patterns and numeric intervals (<…> at offset %d) are not supported", start)
	case '[':
		return fr.class(b)
	case '?', '*', '+', '{':
		return fmt.Errorf("%c at offset %d repeats nothing", c, start)
	default:
		r, err := fr.char()
		if err != nil {
			return err
		}
		b.WriteString(regexp.QuoteMeta(string(r)))
	}
	return nil
}

// char reads a character, \c being c.
func (fr *fastRegex) char() (rune, error) {
	if fr.peek() == '\\' {
		fr.i++
	}
	if fr.i >= len(fr.src) {
		return 0, fmt.Errorf("the pattern ends in \\")
	}
	r := fr.src[fr.i]
	fr.i++
	return r, nil
}

// class writes [classes] or [^classes].
func (fr *fastRegex) class(b *strings.Builder) error {
	start := fr.i
	fr.i++ // [
	b.WriteByte('[')
	if fr.peek() == '^' {
		fr.i++
		b.WriteByte('^')
	}
	n := 0
	for fr.peek() != ']' {
		if fr.i >= len(fr.src) {
			return fmt.Errorf("unclosed [ at offset %d", start)
		}
		lo, err := fr.char()
		if err != nil {
			return err
		}
		b.WriteString(classChar(lo))
		if fr.peek() == '-' && fr.i+1 < len(fr.src) && fr.src[fr.i+1] != ']' {
			fr.i++
			hi, err := fr.char()
			if err != nil {
				return err
			}
			if hi < lo {
				return fmt.Errorf("range %c-%c out of order at offset %d", lo, hi, start)
			}
			b.WriteString("-" + classChar(hi))
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("empty class at offset %d", start)
	}
	fr.i++
	b.WriteByte(']')
	return nil
}

func classChar(r rune) string {
	if r < utf8.RuneSelf && strings.ContainsRune(`\-[]^`, r) {
		return `\` + string(r)
	}
	if r == utf8.RuneError || r > utf8.MaxRune {
		return `\x{FFFD}`
	}
	return string(r)
}

// sysLogParse is SYS_LOG_PARSE(s): 'Mon DD HH:MM:SS message' as COLUMN1
// TIMESTAMP (syslog's time has no year: 1970, as Java's date parser gives
// for such a pattern) and COLUMN2 VARCHAR(1024), the rest of the line
// after the time; a line that does not start so is a NULL row.
func sysLogParse(e *syntax.Call, args []cexpr) (*rowFn, error) {
	if err := argKinds(e, args, 1, value.KindString); err != nil {
		return nil, err
	}
	cols := []value.Column{{Name: "COLUMN1", Type: value.Type{Kind: value.KindTime}}, {Name: "COLUMN2", Type: value.Varchar(1024)}}
	return &rowFn{cols: cols, parse: func(a []value.Value) ([]value.Value, error) {
		ms, rest, ok := parseSyslogTime(a[0].S)
		if !ok {
			return nil, nil
		}
		return []value.Value{{K: value.KindTime, I: ms}, value.StringValue(truncateRunes(rest, 1024))}, nil
	}}, nil
}

var syslogMonths = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// syslogDays are the days in each month of 1970.
var syslogDays = []int{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// parseSyslogTime reads RFC 3164's 'Mmm dd hh:mm:ss' (the day padded with
// a space or a zero) at the start of s: milliseconds into 1970 and the
// text after the time and one space.
func parseSyslogTime(s string) (int64, string, bool) {
	if len(s) < 15 {
		return 0, "", false
	}
	month := -1
	for i, m := range syslogMonths {
		if strings.EqualFold(s[:3], m) {
			month = i
		}
	}
	if month < 0 || s[3] != ' ' {
		return 0, "", false
	}
	rest := s[4:]
	if rest[0] == ' ' {
		rest = rest[1:]
	}
	digits := func(t string, n int) (int, bool) {
		if len(t) < n {
			return 0, false
		}
		v := 0
		for _, c := range []byte(t[:n]) {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	dn := 2
	if len(rest) > 1 && rest[1] == ' ' {
		dn = 1
	}
	day, ok := digits(rest, dn)
	if !ok || day < 1 || day > syslogDays[month] {
		return 0, "", false
	}
	rest = rest[dn:]
	if len(rest) < 9 || rest[0] != ' ' || rest[3] != ':' || rest[6] != ':' {
		return 0, "", false
	}
	h, ok1 := digits(rest[1:], 2)
	m, ok2 := digits(rest[4:], 2)
	sec, ok3 := digits(rest[7:], 2)
	if !ok1 || !ok2 || !ok3 || h > 23 || m > 59 || sec > 59 {
		return 0, "", false
	}
	rest = rest[9:]
	if rest != "" {
		if rest[0] != ' ' {
			return 0, "", false
		}
		rest = rest[1:]
	}
	yday := day - 1
	for _, d := range syslogDays[:month] {
		yday += d
	}
	return ((int64(yday)*24+int64(h))*60+int64(m))*60000 + int64(sec)*1000, rest, true
}

// fixedColumn is one column of FIXED_COLUMN_LOG_PARSE: characters start …
// start+n-1 of the line (n < 0: to its end).
type fixedColumn struct {
	start, n int
	notNull  bool
	layout   *javatime.Layout // a TIMESTAMP column's format, or nil
}

// fixedColumnRe reads one column description: name TYPE type ['format']
// [NOT NULL] START n [FOR m].
var fixedColumnRe = regexp.MustCompile(`(?is)^\s*("[^"]+"|[A-Za-z_][A-Za-z0-9_$]*)\s+TYPE\s+(.+?)\s*(?:'([^']*)'\s*)?(NOT\s+NULL\s+)?START\s+(\d{1,9})(?:\s+FOR\s+(\d{1,9}))?\s*$`)

// fixedColumnLogParse is FIXED_COLUMN_LOG_PARSE(s, 'name TYPE type
// ['format'] [NOT NULL] START n [FOR m], …'): each column the characters
// from position n (the first is 0) for m characters (to the end of s
// without FOR), converted to its type (a TIMESTAMP with its Java
// SimpleDateFormat format); a field past the end of s is NULL, a NULL in
// a NOT NULL column or a field that does not convert an evaluation error.
func fixedColumnLogParse(e *syntax.Call, args []cexpr) (*rowFn, error) {
	if err := argKinds(e, args, 2, value.KindString, value.KindString); err != nil {
		return nil, err
	}
	desc, err := literalString(e, args, 1, "column description")
	if err != nil {
		return nil, err
	}
	cols, fixed, err := parseFixedColumns(desc)
	if err != nil {
		return nil, e.Args[1].ExprPos().Errorf("FIXED_COLUMN_LOG_PARSE columns: %v", err)
	}
	return &rowFn{cols: cols, parse: func(a []value.Value) ([]value.Value, error) {
		line := []rune(a[0].S)
		out := make([]value.Value, len(cols))
		for i, fc := range fixed {
			if fc.start < len(line) {
				end := len(line)
				if fc.n >= 0 {
					end = min(end, fc.start+fc.n)
				}
				v, err := fc.convert(string(line[fc.start:end]), cols[i].Type)
				if err != nil {
					return nil, &EvalError{fmt.Sprintf("FIXED_COLUMN_LOG_PARSE column %q: %v", cols[i].Name, err)}
				}
				out[i] = v
			}
			if fc.notNull && out[i].K == value.KindNull {
				return nil, &EvalError{fmt.Sprintf("FIXED_COLUMN_LOG_PARSE column %q is NOT NULL but the line has no value for it", cols[i].Name)}
			}
		}
		return out, nil
	}}, nil
}

func (fc fixedColumn) convert(f string, t value.Type) (value.Value, error) {
	if fc.layout == nil {
		return parseField(f, t)
	}
	s := strings.TrimSpace(f)
	if s == "" {
		return value.Value{}, nil
	}
	civ, ok := fc.layout.Parse([]byte(s))
	if !ok {
		return value.Value{}, fmt.Errorf("%q does not match its format", truncateRunes(s, 64))
	}
	return value.Value{K: value.KindTime, I: floorDiv(civ.Micros(), 1000)}, nil
}

// parseFixedColumns reads FIXED_COLUMN_LOG_PARSE's column descriptions.
func parseFixedColumns(s string) ([]value.Column, []fixedColumn, error) {
	var cols []value.Column
	var fixed []fixedColumn
	for _, p := range splitTopLevel(s) {
		m := fixedColumnRe.FindStringSubmatch(p)
		if m == nil {
			return nil, nil, fmt.Errorf("%q is not NAME TYPE type [NOT NULL] START n [FOR m]", truncateRunes(strings.TrimSpace(p), 64))
		}
		name := m[1]
		if strings.HasPrefix(name, `"`) {
			name = name[1 : len(name)-1]
		} else {
			name = strings.ToUpper(name)
		}
		t, err := syntax.ParseType(strings.ToUpper(m[2]))
		if err != nil {
			return nil, nil, fmt.Errorf("column %s: %v", name, err)
		}
		fc := fixedColumn{n: -1, notNull: m[4] != ""}
		fc.start, _ = strconv.Atoi(m[5])
		if m[6] != "" {
			fc.n, _ = strconv.Atoi(m[6])
		}
		if m[3] != "" {
			if t.Kind != value.KindTime {
				return nil, nil, fmt.Errorf("column %s: only a TIMESTAMP column has a format", name)
			}
			if fc.layout, err = javatime.CompileLayout(m[3]); err != nil {
				return nil, nil, fmt.Errorf("column %s: %v", name, err)
			}
		}
		for _, c := range cols {
			if c.Name == name {
				return nil, nil, fmt.Errorf("column %s is described twice", name)
			}
		}
		cols = append(cols, value.Column{Name: name, Type: t})
		fixed = append(fixed, fc)
	}
	return cols, fixed, nil
}

// splitTopLevel splits s at the commas outside parentheses and quotes.
func splitTopLevel(s string) []string {
	var parts []string
	depth, start := 0, 0
	var quote rune
	for i, c := range s {
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}
