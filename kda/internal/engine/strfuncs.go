package engine

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// The string and search functions of the KDA SQL reference. Regular
// expressions are Java's in KDA and RE2 here: the common syntax is the
// same; lookaround, backreferences and possessive quantifiers fail at
// compile time for a literal pattern (in the error_stream for a computed
// one).

// argKinds checks that a call has between min and len(kinds) arguments,
// argument i of kind kinds[i] (or NULL).
func argKinds(e *syntax.Call, args []cexpr, min int, kinds ...value.Kind) error {
	if len(args) < min || len(args) > len(kinds) {
		if min == len(kinds) {
			return e.P.Errorf("%s takes %d arguments, got %d", e.Name, min, len(args))
		}
		return e.P.Errorf("%s takes %d to %d arguments, got %d", e.Name, min, len(kinds), len(args))
	}
	for i, a := range args {
		if a.typ != kinds[i] && a.typ != value.KindNull && !(kinds[i] == value.KindInt && a.typ == value.KindFloat) {
			return e.Args[i].ExprPos().Errorf("argument %d of %s must be %s, got %s", i+1, e.Name, kinds[i], a.typ)
		}
	}
	return nil
}

// evalArgs evaluates args; null reports whether one was NULL.
func evalArgs(v *env, args []cexpr, out []value.Value) (null bool, err error) {
	for i, a := range args {
		x, err := a.fn(v)
		if err != nil {
			return false, err
		}
		if x.K == value.KindNull {
			null = true
		}
		out[i] = x
	}
	return null, nil
}

// strictCall compiles a function of fixed arity that is NULL when any
// argument is NULL.
func strictCall(typ value.Kind, args []cexpr, f func(a []value.Value) (value.Value, error)) cexpr {
	return cexpr{typ: typ, fn: func(v *env) (value.Value, error) {
		a := make([]value.Value, len(args))
		null, err := evalArgs(v, args, a)
		if err != nil || null {
			return value.Value{}, err
		}
		return f(a)
	}}
}

// regexCache compiles the patterns a call meets: once at compile time for a
// literal, else the last one seen.
type regexCache struct {
	translate func(string) (string, error) // nil: the pattern is a regex
	pat       string
	re        *regexp.Regexp
}

func (c *regexCache) get(pat string) (*regexp.Regexp, error) {
	if c.re != nil && c.pat == pat {
		return c.re, nil
	}
	src := pat
	if c.translate != nil {
		var err error
		if src, err = c.translate(pat); err != nil {
			return nil, err
		}
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, &EvalError{"pattern " + strconv.Quote(pat) + " is not supported: " + err.Error() + " (RE2 has no lookaround, backreferences or possessive quantifiers)"}
	}
	c.pat, c.re = pat, re
	return re, nil
}

// regexCall compiles a strict call whose argument pat is a pattern: f gets
// the compiled pattern with the argument values.
func regexCall(e *syntax.Call, args []cexpr, pat int, translate func(string) (string, error), f func(re *regexp.Regexp, a []value.Value) (value.Value, error)) (cexpr, error) {
	rc, err := newRegexCache(e.Args[pat], args[pat], translate)
	if err != nil {
		return cexpr{}, err
	}
	return strictCall(value.KindString, args, func(a []value.Value) (value.Value, error) {
		re, err := rc.get(a[pat].S)
		if err != nil {
			return value.Value{}, err
		}
		return f(re, a)
	}), nil
}

// newRegexCache precompiles a literal pattern argument, failing at its
// position.
func newRegexCache(arg syntax.Expr, c cexpr, translate func(string) (string, error)) (*regexCache, error) {
	rc := &regexCache{translate: translate}
	if c.lit != nil && c.lit.K == value.KindString {
		if _, err := rc.get(c.lit.S); err != nil {
			return nil, arg.ExprPos().Errorf("%s", err.Error())
		}
	}
	return rc, nil
}

// similarToRegex translates a SQL SIMILAR TO pattern to an RE2 regular
// expression body: % is any run, _ one character, | * + ? {m,n} ( ) and
// [...] are as in regular expressions, esc (if not 0) quotes the next
// character, and everything else (. ^ $ \ included) stands for itself.
func similarToRegex(p string, esc rune) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(p); {
		r, n := utf8.DecodeRuneInString(p[i:])
		i += n
		switch {
		case esc != 0 && r == esc:
			if i >= len(p) {
				return "", &EvalError{"SIMILAR TO pattern " + strconv.Quote(p) + " ends with its escape character"}
			}
			q, m := utf8.DecodeRuneInString(p[i:])
			i += m
			b.WriteString(regexp.QuoteMeta(string(q)))
		case inClass:
			if r == ']' {
				inClass = false
			}
			if r == '\\' {
				b.WriteString(`\\`)
			} else {
				b.WriteRune(r)
			}
		case r == '%':
			b.WriteString(".*")
		case r == '_':
			b.WriteString(".")
		case r == '[':
			inClass = true
			b.WriteRune(r)
			if i < len(p) && p[i] == '^' {
				b.WriteByte('^')
				i++
			}
			if i < len(p) && p[i] == ']' { // a leading ] is literal
				b.WriteString(`\]`)
				i++
			}
		case strings.ContainsRune("|*+?{}()", r):
			b.WriteRune(r)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	if inClass {
		return "", &EvalError{"SIMILAR TO pattern " + strconv.Quote(p) + " has an unclosed ["}
	}
	return b.String(), nil
}

// escapeRune reads an ESCAPE argument: one character.
func escapeRune(s string) (rune, error) {
	if utf8.RuneCountInString(s) != 1 {
		return 0, &EvalError{"escape " + strconv.Quote(s) + " must be one character"}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return r, nil
}

// compileSimilar compiles x SIMILAR TO pattern [ESCAPE c]: a whole-string
// match.
func compileSimilar(e *syntax.Call, args []cexpr) (cexpr, error) {
	if err := argKinds(e, args, 2, value.KindString, value.KindString, value.KindString); err != nil {
		return cexpr{}, err
	}
	esc := rune(0)
	if len(args) == 3 {
		if args[2].lit == nil {
			return cexpr{}, e.Args[2].ExprPos().Errorf("ESCAPE needs a literal character")
		}
		r, err := escapeRune(args[2].lit.S)
		if err != nil {
			return cexpr{}, e.Args[2].ExprPos().Errorf("%s", err.Error())
		}
		esc = r
		args = args[:2]
	}
	c, err := regexCall(e, args, 1, func(p string) (string, error) {
		body, err := similarToRegex(p, esc)
		return "^(?s:" + body + ")$", err
	}, func(re *regexp.Regexp, a []value.Value) (value.Value, error) {
		return value.BoolValue(re.MatchString(a[0].S)), nil
	})
	c.typ = value.KindBool
	return c, err
}

// runeOffset returns the byte offset of the n-th character of s (0-based),
// or len(s).
func runeOffset(s string, n int) int {
	i := 0
	for i < len(s) && n > 0 {
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
		n--
	}
	return i
}

// runeSlice returns the runes [from, from+n) of s (0-based; n < 0: to the
// end), clamped to s.
func runeSlice(s string, from, n int) string {
	i := runeOffset(s, from)
	if n < 0 {
		return s[i:]
	}
	return s[i : i+runeOffset(s[i:], n)]
}

// compileSubstring compiles SUBSTRING(s FROM start [FOR len]), (s, start
// [, len]) and SUBSTRING(s FROM regex [FOR len]): the first match of the
// regular expression (NULL without one), cut to len characters.
func compileSubstring(e *syntax.Call, args []cexpr) (cexpr, error) {
	if len(args) >= 2 && args[1].typ == value.KindString {
		if err := argKinds(e, args, 2, value.KindString, value.KindString, value.KindInt); err != nil {
			return cexpr{}, err
		}
		return regexCall(e, args, 1, nil, func(re *regexp.Regexp, a []value.Value) (value.Value, error) {
			loc := re.FindStringIndex(a[0].S)
			if loc == nil {
				return value.Value{}, nil
			}
			m := a[0].S[loc[0]:loc[1]]
			if len(a) == 3 {
				if a[2].I < 0 {
					return value.Value{}, &EvalError{"SUBSTRING length " + strconv.FormatInt(a[2].I, 10) + " is negative"}
				}
				m = runeSlice(m, 0, int(min(a[2].I, 1<<30)))
			}
			return value.StringValue(m), nil
		})
	}
	k := value.KindString
	if len(args) > 0 && args[0].typ == value.KindBinary {
		k = value.KindBinary // positions count bytes
	}
	if err := argKinds(e, args, 2, k, value.KindInt, value.KindInt); err != nil {
		return cexpr{}, err
	}
	return strictCall(k, args, func(a []value.Value) (value.Value, error) {
		start, n := intArg(a[1]), int64(-1)
		if len(a) == 3 {
			if n = intArg(a[2]); n < 0 {
				return value.Value{}, &EvalError{"SUBSTRING length " + strconv.FormatInt(n, 10) + " is negative"}
			}
		}
		if start < 1 {
			// Characters before the first count against the length.
			if n >= 0 {
				n = max(0, n-(1-start))
			}
			start = 1
		}
		if k == value.KindBinary {
			b := a[0].S[min(int64(len(a[0].S)), start-1):]
			if n >= 0 && n < int64(len(b)) {
				b = b[:n]
			}
			return value.Value{K: k, S: b}, nil
		}
		return value.StringValue(runeSlice(a[0].S, int(min(start-1, 1<<30)), int(min(n, 1<<30)))), nil
	}), nil
}

// compileOverlay compiles OVERLAY(s PLACING r FROM start [FOR n]): s's
// first start-1 characters, r, then s after its first start+n-1 (n is r's
// length without FOR), as the reference's examples give: a start below 1
// puts r first, one past the end appends it; a negative n is an error.
func compileOverlay(e *syntax.Call, args []cexpr) (cexpr, error) {
	if len(args) < 3 {
		return cexpr{}, e.P.Errorf("OVERLAY needs (s PLACING r FROM start [FOR n])")
	}
	if err := argKinds(e, args, 3, value.KindString, value.KindString, value.KindInt, value.KindInt); err != nil {
		return cexpr{}, err
	}
	return strictCall(value.KindString, args, func(a []value.Value) (value.Value, error) {
		s, r, start := a[0].S, a[1].S, intArg(a[2])
		n := int64(utf8.RuneCountInString(r))
		if len(a) == 4 {
			if n = intArg(a[3]); n < 0 {
				return value.Value{}, &EvalError{"OVERLAY length " + strconv.FormatInt(n, 10) + " is negative"}
			}
		}
		const most = 1 << 30
		head := int(min(max(start-1, 0), most))
		tail := int(min(max(start-1+n, 0), most))
		return value.StringValue(runeSlice(s, 0, head) + r + runeSlice(s, tail, -1)), nil
	}), nil
}

// intArg is an integer argument (a DOUBLE truncated).
func intArg(v value.Value) int64 {
	if v.K == value.KindFloat {
		return int64(v.F)
	}
	return v.I
}

// compileSubstringSimilar compiles SUBSTRING(s SIMILAR 'R1<c>"R2<c>"R3'
// ESCAPE 'c'): when s SIMILAR TO R1R2R3, the part R2 matched (R1 as short
// as it can be), else NULL.
func compileSubstringSimilar(e *syntax.Call, args []cexpr) (cexpr, error) {
	if err := argKinds(e, args, 3, value.KindString, value.KindString, value.KindString); err != nil {
		return cexpr{}, err
	}
	if args[2].lit == nil {
		return cexpr{}, e.Args[2].ExprPos().Errorf("ESCAPE needs a literal character")
	}
	esc, err := escapeRune(args[2].lit.S)
	if err != nil {
		return cexpr{}, e.Args[2].ExprPos().Errorf("%s", err.Error())
	}
	sep := string(esc) + `"`
	rc, err := newRegexCache(e.Args[1], args[1], func(p string) (string, error) {
		parts := strings.Split(p, sep)
		if len(parts) != 3 {
			return "", &EvalError{"SUBSTRING SIMILAR pattern " + strconv.Quote(p) + " needs two " + sep + " separators"}
		}
		var re [3]string
		for i, part := range parts {
			r, err := similarToRegex(part, esc)
			if err != nil {
				return "", err
			}
			re[i] = r
		}
		return "^(?sU:" + re[0] + ")(?s:(" + re[1] + "))(?s:" + re[2] + ")$", nil
	})
	if err != nil {
		return cexpr{}, err
	}
	return strictCall(value.KindString, args[:2], func(a []value.Value) (value.Value, error) {
		re, err := rc.get(a[1].S)
		if err != nil {
			return value.Value{}, err
		}
		m := re.FindStringSubmatch(a[0].S)
		if m == nil {
			return value.Value{}, nil
		}
		return value.StringValue(m[1]), nil
	}), nil
}

// compilePosition compiles POSITION(search IN source): the 1-based
// character position of the first occurrence, 0 if none.
func compilePosition(e *syntax.Call, args []cexpr) (cexpr, error) {
	if err := argKinds(e, args, 2, value.KindString, value.KindString); err != nil {
		return cexpr{}, err
	}
	return strictCall(value.KindInt, args, func(a []value.Value) (value.Value, error) {
		i := strings.Index(a[1].S, a[0].S)
		if i < 0 {
			return value.IntValue(0), nil
		}
		return value.IntValue(int64(utf8.RuneCountInString(a[1].S[:i])) + 1), nil
	}), nil
}

// compileTrim compiles TRIM(mode, char, s) as the parser builds it.
func compileTrim(e *syntax.Call, args []cexpr) (cexpr, error) {
	if err := argKinds(e, args, 3, value.KindString, value.KindString, value.KindString); err != nil {
		return cexpr{}, err
	}
	mode := args[0].lit.S
	return strictCall(value.KindString, args, func(a []value.Value) (value.Value, error) {
		c := a[1].S
		if utf8.RuneCountInString(c) != 1 {
			return value.Value{}, &EvalError{"TRIM character " + strconv.Quote(c) + " must be one character"}
		}
		s := a[2].S
		if mode != "TRAILING" {
			s = strings.TrimLeft(s, c)
		}
		if mode != "LEADING" {
			s = strings.TrimRight(s, c)
		}
		return value.StringValue(s), nil
	}), nil
}

// compileInitcap compiles INITCAP(s): the first character of each
// space-delimited word upper-case, the others lower-case.
func compileInitcap(e *syntax.Call, args []cexpr) (cexpr, error) {
	if err := argKinds(e, args, 1, value.KindString); err != nil {
		return cexpr{}, err
	}
	return strictCall(value.KindString, args, func(a []value.Value) (value.Value, error) {
		var b strings.Builder
		b.Grow(len(a[0].S))
		start := true
		for _, r := range a[0].S {
			if unicode.IsSpace(r) {
				start = true
				b.WriteRune(r)
				continue
			}
			if start {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			start = false
		}
		return value.StringValue(b.String()), nil
	}), nil
}

// javaReplacement turns a java.util.regex replacement ($1, ${name}, \$)
// into a Go Expand template for re.
func javaReplacement(r string, re *regexp.Regexp) (string, error) {
	var b strings.Builder
	for i := 0; i < len(r); i++ {
		c := r[i]
		switch {
		case c == '\\' && i+1 < len(r):
			i++
			if r[i] == '$' {
				b.WriteString("$$")
			} else {
				b.WriteByte(r[i])
			}
		case c == '$' && i+1 < len(r) && r[i+1] == '{':
			end := strings.IndexByte(r[i:], '}')
			if end < 0 {
				return "", &EvalError{"replacement " + strconv.Quote(r) + " has an unclosed ${"}
			}
			b.WriteString(r[i : i+end+1])
			i += end
		case c == '$' && i+1 < len(r) && r[i+1] >= '0' && r[i+1] <= '9':
			// Java reads as many digits as still name a group.
			j := i + 2
			for j < len(r) && r[j] >= '0' && r[j] <= '9' {
				if n, _ := strconv.Atoi(r[i+1 : j+1]); n > re.NumSubexp() {
					break
				}
				j++
			}
			b.WriteString("${" + r[i+1:j] + "}")
			i = j - 1
		case c == '$':
			return "", &EvalError{"replacement " + strconv.Quote(r) + " has a $ that names no group"}
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// compileRegexReplace compiles REGEX_REPLACE(original, regex, replacement,
// startPosition, occurrence): matches from the startPosition-th character
// on are replaced, all of them for occurrence 0, else only the
// occurrence-th.
func compileRegexReplace(e *syntax.Call, args []cexpr) (cexpr, error) {
	if err := argKinds(e, args, 5, value.KindString, value.KindString, value.KindString, value.KindInt, value.KindInt); err != nil {
		return cexpr{}, err
	}
	return regexCall(e, args, 1, nil, func(re *regexp.Regexp, a []value.Value) (value.Value, error) {
		start, occ := intArg(a[3]), intArg(a[4])
		if start < 1 {
			return value.Value{}, &EvalError{"REGEX_REPLACE startPosition " + strconv.FormatInt(start, 10) + " is less than 1"}
		}
		if occ < 0 {
			return value.Value{}, &EvalError{"REGEX_REPLACE occurrence " + strconv.FormatInt(occ, 10) + " is negative"}
		}
		tmpl, err := javaReplacement(a[2].S, re)
		if err != nil {
			return value.Value{}, err
		}
		s := a[0].S
		if start-1 >= int64(utf8.RuneCountInString(s)) {
			return a[0], nil
		}
		off := runeOffset(s, int(start-1))
		var b strings.Builder
		b.WriteString(s[:off])
		last, k := off, int64(0)
		for _, m := range re.FindAllStringSubmatchIndex(s[off:], -1) {
			k++
			if occ != 0 && k != occ {
				continue
			}
			b.WriteString(s[last : off+m[0]])
			for i := range m {
				if m[i] >= 0 {
					m[i] += off
				}
			}
			b.Write(re.ExpandString(nil, tmpl, s, m))
			last = m[1]
			if occ != 0 {
				break
			}
		}
		b.WriteString(s[last:])
		return value.StringValue(b.String()), nil
	})
}
