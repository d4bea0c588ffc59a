package convert

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// HeaderMode says whether the first record is a header.
type HeaderMode int

// Header modes.
const (
	// HeaderDetect decides as Glue's CSV classifier does: the first record
	// is a header when every field in it is text (not a number or boolean),
	// shorter than 150 characters (except the last), and at least one column
	// of the sampled data below it is not text. A file whose columns are all
	// text therefore has no detected header (Result.HeaderAmbiguous
	// says so): set HeaderPresent for it.
	HeaderDetect HeaderMode = iota
	// HeaderPresent: the first record is the header.
	HeaderPresent
	// HeaderAbsent: there is no header; columns are named col0, col1, ….
	HeaderAbsent
)

// maxHeaderField is Glue's limit on the length of a header field (all but
// the last).
const maxHeaderField = 150

// Inference classes of a field's text.
const (
	classEmpty = iota
	classInt
	classFloat
	classBool
	classString
)

// classify returns the narrowest type the text parses as, with Glue's
// classifier rules and one correction: an integer with a leading zero
// ("007", "-01") is text, so ZIP codes and identifiers keep their digits.
// Integers beyond int64 are text, not double, so no digit is lost.
func classify(b []byte) int {
	if len(b) == 0 {
		return classEmpty
	}
	if _, ok := parseIntText(b); ok {
		return classInt
	}
	if isFloatText(b) {
		return classFloat
	}
	if _, ok := parseBoolText(b); ok {
		return classBool
	}
	return classString
}

// parseInt parses a decimal int64 without leading zeros or '+'.
func parseIntText(b []byte) (int64, bool) {
	neg := false
	i := 0
	if len(b) > 0 && b[0] == '-' {
		neg = true
		i = 1
	}
	if i == len(b) || len(b)-i > 19 {
		return 0, false
	}
	if b[i] == '0' && len(b)-i > 1 {
		return 0, false
	}
	var n uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > 1<<63-1 {
		return 0, false
	}
	return int64(n), true
}

// isFloatText reports whether b is a decimal number with a fraction or an
// exponent: -?D+(.D+)?([eE][+-]?D+)?, with no leading zero in the integer
// part. NaN, Inf, hex and underscores are text.
func isFloatText(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == start || b[start] == '0' && i-start > 1 {
		return false
	}
	frac := false
	if i < len(b) && b[i] == '.' {
		i++
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return false
		}
		frac = true
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		s := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == s {
			return false
		}
		frac = true
	}
	return frac && i == len(b)
}

// parseFloat parses any decimal float text Go accepts, except NaN, Inf and
// hex, which are not numbers in a CSV file.
func parseFloatText(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	return f, err == nil
}

// parseBool accepts true and false in any letter case, as Glue does.
func parseBoolText(b []byte) (bool, bool) {
	switch len(b) {
	case 4:
		if b[0]|0x20 == 't' && b[1]|0x20 == 'r' && b[2]|0x20 == 'u' && b[3]|0x20 == 'e' {
			return true, true
		}
	case 5:
		if b[0]|0x20 == 'f' && b[1]|0x20 == 'a' && b[2]|0x20 == 'l' && b[3]|0x20 == 's' && b[4]|0x20 == 'e' {
			return false, true
		}
	}
	return false, false
}

// columnGuess accumulates the classes seen in one column of the sample.
type columnGuess struct {
	seen [classString + 1]int
}

func (g *columnGuess) observe(b []byte) { g.seen[classify(b)]++ }

// typ is the inferred type: text wins over everything; booleans mixed with
// numbers are text; integers mixed with floats are double; a column empty
// in the whole sample is string.
func (g *columnGuess) typ() Type {
	s := g.seen
	switch {
	case s[classString] > 0:
		return TypeString
	case s[classBool] > 0 && (s[classInt] > 0 || s[classFloat] > 0):
		return TypeString
	case s[classBool] > 0:
		return TypeBool
	case s[classFloat] > 0:
		return TypeFloat64
	case s[classInt] > 0:
		return TypeInt64
	}
	return TypeString
}

// Inference is what the converter decided from the sample.
type Inference struct {
	Header bool // whether the first record was taken as the header
	// Ambiguous: HeaderDetect saw a first record of text over columns of
	// text only (or nothing below it), which Glue's rule cannot decide.
	Ambiguous bool
	Source    []string // source column names (from the header or colN)
	Columns   []Column // inferred output columns, in source order
}

// infer decides the header and the column types from the sampled records
// (fields of each, the first record first).
func infer(records [][]string, mode HeaderMode) Inference {
	width := 0
	for _, r := range records {
		width = max(width, len(r))
	}
	var inf Inference
	if len(records) == 0 {
		return inf
	}
	switch mode {
	case HeaderPresent:
		inf.Header = true
	case HeaderAbsent:
	default:
		inf.Header, inf.Ambiguous = detectHeader(records[0], guessColumns(records[1:], 0))
	}
	data := records
	if inf.Header {
		data = records[1:]
	}
	gs := guessColumns(data, width)
	inf.Source = make([]string, width)
	if inf.Header {
		copy(inf.Source, records[0])
	}
	names := normalizeNames(inf.Source)
	for i := range width {
		inf.Columns = append(inf.Columns, Column{Name: names[i], Type: gs[i].typ()})
	}
	for i, s := range inf.Source {
		if s == "" {
			inf.Source[i] = "col" + strconv.Itoa(i)
		}
	}
	return inf
}

// detectHeader applies Glue's rule: the first record is a header when each
// of its fields is text (not a number or boolean; all but the last shorter
// than 150 characters) and some column below is not text. ambiguous
// reports a text-only first record with nothing but text (or nothing)
// below it, where the rule cannot tell; it then says "no header", as Glue
// does.
// guessColumns classifies the fields of each column of rows, at least
// width columns.
func guessColumns(rows [][]string, width int) []columnGuess {
	for _, r := range rows {
		width = max(width, len(r))
	}
	gs := make([]columnGuess, width)
	for _, r := range rows {
		for i, f := range r {
			gs[i].observe([]byte(f))
		}
	}
	return gs
}

func detectHeader(first []string, below []columnGuess) (header, ambiguous bool) {
	for i, f := range first {
		if classify([]byte(f)) != classString {
			return false, false
		}
		if i < len(first)-1 && len(f) >= maxHeaderField {
			return false, false
		}
	}
	for _, g := range below {
		if g.seen[classInt]+g.seen[classFloat]+g.seen[classBool] > 0 && g.typ() != TypeString {
			return true, false
		}
	}
	return false, true
}

// normalizeNames makes catalog-safe column names as Glue does: lower case,
// characters other than letters, digits and '_' become '_', an empty name
// becomes colN, and a repeated name gets a _2, _3, … suffix.
func normalizeNames(src []string) []string {
	out := make([]string, len(src))
	used := map[string]bool{}
	for i, s := range src {
		n := normalizeName(s)
		if n == "" {
			n = "col" + strconv.Itoa(i)
		}
		base := n
		for k := 2; used[n]; k++ {
			n = fmt.Sprintf("%s_%d", base, k)
		}
		used[n] = true
		out[i] = n
	}
	return out
}

func normalizeName(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	var b strings.Builder
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
