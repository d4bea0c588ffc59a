package engine

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// decoder maps a JSON record onto an input stream's columns by their
// mappings, without building a generic tree: one pass over the bytes,
// descending only into objects that hold mapped columns.
type decoder struct {
	root  *pathNode
	types []value.Type
	names []string
	// intern keeps short VARCHAR values per column: streams repeat a few
	// values (locations, states, tickers), so rows need no allocation.
	intern []interner
}

const (
	internMaxLen     = 64
	internMaxEntries = 4096
	internSlots      = 256 // a power of 2
)

// interner returns one string per distinct short value: a direct-mapped
// cache of recent values in front of a map. A hit costs a short hash and
// one comparison, a quarter of a map lookup (the map lookup was the
// largest single cost of a string column).
type interner struct {
	slots [internSlots]string
	m     map[string]string
}

func (d *decoder) str(col int, b []byte) string {
	if len(b) > internMaxLen {
		return string(b)
	}
	in := &d.intern[col]
	h := shortHash(b) & (internSlots - 1)
	if s := in.slots[h]; s == string(b) {
		return s
	}
	s, ok := in.m[string(b)]
	if !ok {
		s = string(b)
		if len(in.m) < internMaxEntries {
			in.m[s] = s
		}
	}
	in.slots[h] = s
	return s
}

// shortHash hashes b from its length and at most its first and last 8
// bytes: enough to spread the short values intern caches.
func shortHash(b []byte) uint64 {
	var x uint64
	if len(b) >= 8 {
		x = binary.LittleEndian.Uint64(b) ^ bits.RotateLeft64(binary.LittleEndian.Uint64(b[len(b)-8:]), 29)
	} else {
		for i, c := range b {
			x |= uint64(c) << (8 * i)
		}
	}
	x ^= uint64(len(b)) << 56
	x *= 0x9e3779b97f4a7c15
	return x ^ x>>32
}

type pathNode struct {
	kids map[string]*pathNode
	col  int
	// names and nodes list kids in order when there are few: comparing a
	// few short keys beats hashing each one (a fifth of a demo record's
	// decoding).
	names []string
	nodes []*pathNode
}

const linearKids = 8

// kid returns the child named key, or nil.
func (n *pathNode) kid(key []byte) *pathNode {
	if n.names != nil {
		for i, name := range n.names {
			if string(key) == name {
				return n.nodes[i]
			}
		}
		return nil
	}
	return n.kids[string(key)]
}

// checkColumns refuses an input stream's columns with no name, a
// duplicate name or an invalid type, and makes an integer of unknown width
// a BIGINT (in cols).
func checkColumns(cols []value.Column) error {
	if len(cols) == 0 {
		return errors.New("no columns")
	}
	seen := map[string]bool{}
	for i, c := range cols {
		if c.Name == "" || seen[c.Name] {
			return fmt.Errorf("column %d: empty or duplicate name %q", i, c.Name)
		}
		seen[c.Name] = true
		// An INTERVAL is no column type (the reference allows intervals
		// only in expressions).
		if (c.Type.Kind == value.KindString || c.Type.Kind == value.KindBinary) && c.Type.Len < 1 || c.Type.Kind == value.KindNull || c.Type.Kind == value.KindInterval || c.Type.Kind == value.KindMonths || c.Type.Kind > value.KindBinary {
			return fmt.Errorf("column %q: invalid type %s", c.Name, c.Type)
		}
		if c.Type.Kind == value.KindInt && c.Type.Bits == 0 {
			cols[i].Type.Bits = 64
		}
	}
	return nil
}

func newDecoder(cols []value.Column) (*decoder, error) {
	if err := checkColumns(cols); err != nil {
		return nil, err
	}
	d := &decoder{root: &pathNode{col: -1}}
	for i, c := range cols {
		path, err := parseMapping(c)
		if err != nil {
			return nil, err
		}
		n := d.root
		for k, seg := range path {
			if n.kids == nil {
				n.kids = map[string]*pathNode{}
			}
			next := n.kids[seg]
			if next == nil {
				next = &pathNode{col: -1}
				n.kids[seg] = next
			}
			n = next
			if k < len(path)-1 && n.col >= 0 || k == len(path)-1 && (n.col >= 0 || n.kids != nil) {
				return nil, fmt.Errorf("column %q: mapping %q overlaps another column's", c.Name, c.Mapping)
			}
		}
		n.col = i
		d.types = append(d.types, cols[i].Type)
		d.names = append(d.names, c.Name)
		d.intern = append(d.intern, interner{m: map[string]string{}})
	}
	d.root.index()
	return d, nil
}

// index fills names and nodes for nodes with few kids, recursively.
func (n *pathNode) index() {
	n.names, n.nodes = nil, nil
	if len(n.kids) > 0 && len(n.kids) <= linearKids {
		for name, k := range n.kids {
			n.names = append(n.names, name)
			n.nodes = append(n.nodes, k)
		}
	}
	for _, k := range n.kids {
		k.index()
	}
}

// CheckMapping reports whether c's JSON mapping is one the decoder reads
// ($.field or $.a.b).
func CheckMapping(c value.Column) error {
	_, err := parseMapping(c)
	return err
}

func parseMapping(c value.Column) ([]string, error) {
	m := c.Mapping
	if m == "" {
		return []string{c.Name}, nil
	}
	if !strings.HasPrefix(m, "$.") || len(m) == 2 || strings.ContainsAny(m, "[]*") {
		return nil, fmt.Errorf("column %q: mapping %q must be $.field or $.a.b (arrays are not supported)", c.Name, m)
	}
	parts := strings.Split(m[2:], ".")
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("column %q: mapping %q has an empty segment", c.Name, m)
		}
	}
	return parts, nil
}

// InputError is a record that does not match its input stream's schema.
type InputError struct {
	Column string // empty when the record is not a JSON object
	Msg    string
}

func (e *InputError) Error() string {
	if e.Column == "" {
		return e.Msg
	}
	return fmt.Sprintf("column %q: %s", e.Column, e.Msg)
}

func (d *decoder) decode(data []byte, out []value.Value) error {
	clear(out)
	p := skipWS(data, 0)
	if p >= len(data) || data[p] != '{' {
		return &InputError{Msg: "record is not a JSON object"}
	}
	p, err := d.object(data, p, d.root, out)
	if err != nil {
		return err
	}
	if p = skipWS(data, p); p != len(data) {
		return &InputError{Msg: fmt.Sprintf("invalid JSON: trailing data at byte %d", p)}
	}
	return nil
}

var errBadJSON = &InputError{Msg: "invalid JSON"}

// object parses the object at b[p] ('{'), filling mapped columns.
func (d *decoder) object(b []byte, p int, n *pathNode, out []value.Value) (int, error) {
	p = skipWS(b, p+1)
	if p < len(b) && b[p] == '}' {
		return p + 1, nil
	}
	for {
		if p >= len(b) || b[p] != '"' {
			return 0, errBadJSON
		}
		ks, ke, esc, _, np := scanString(b, p)
		if np < 0 {
			return 0, errBadJSON
		}
		var kid *pathNode
		if esc {
			var key string
			if json.Unmarshal(b[ks-1:ke+1], &key) != nil {
				return 0, errBadJSON
			}
			kid = n.kid([]byte(key))
		} else {
			kid = n.kid(b[ks:ke])
		}
		p = skipWS(b, np)
		if p >= len(b) || b[p] != ':' {
			return 0, errBadJSON
		}
		p = skipWS(b, p+1)
		var err error
		switch {
		case kid == nil:
			p, err = skipValue(b, p, 0)
		case kid.col >= 0:
			p, err = d.value(b, p, kid.col, out)
		case p < len(b) && b[p] == '{':
			p, err = d.object(b, p, kid, out)
		default:
			p, err = skipValue(b, p, 0) // not an object: its nested columns stay NULL
		}
		if err != nil {
			return 0, err
		}
		p = skipWS(b, p)
		if p >= len(b) {
			return 0, errBadJSON
		}
		if b[p] == '}' {
			return p + 1, nil
		}
		if b[p] != ',' {
			return 0, errBadJSON
		}
		p = skipWS(b, p+1)
	}
}

// value parses the JSON value at b[p] into column col.
func (d *decoder) value(b []byte, p, col int, out []value.Value) (int, error) {
	if p >= len(b) {
		return 0, errBadJSON
	}
	t := d.types[col]
	switch c := b[p]; {
	case c == 'n':
		np, err := lit(b, p, "null")
		out[col] = value.Value{} // a repeated key's last value wins
		return np, err
	case c == '"':
		return d.stringValue(b, p, col, out)
	case c == 't' || c == 'f':
		word := "true"
		if c == 'f' {
			word = "false"
		}
		np, err := lit(b, p, word)
		if err != nil {
			return 0, err
		}
		switch t.Kind {
		case value.KindBool:
			out[col] = value.BoolValue(c == 't')
		case value.KindString:
			if len(word) > t.Len {
				return 0, d.bad(col, "value of %d characters is too long for %s", len(word), t)
			}
			out[col] = value.StringValue(word)
		default:
			return 0, d.bad(col, "boolean value for %s column", t)
		}
		return np, nil
	case c == '-' || c >= '0' && c <= '9':
		return d.numberValue(b, p, col, out)
	case c == '{' || c == '[':
		np, err := skipValue(b, p, 0)
		if err != nil {
			return 0, err
		}
		if t.Kind != value.KindString {
			return 0, d.bad(col, "object or array for %s column", t)
		}
		raw := b[p:np]
		if len(raw) > t.Len && utf8.RuneCount(raw) > t.Len {
			return 0, d.bad(col, "value of %d characters is too long for %s", utf8.RuneCount(raw), t)
		}
		out[col] = value.StringValue(string(raw))
		return np, nil
	}
	return 0, errBadJSON
}

// bad is the *InputError of a value that does not fit column col.
func (d *decoder) bad(col int, format string, args ...any) error {
	return &InputError{Column: d.names[col], Msg: fmt.Sprintf(format, args...)}
}

// stringValue decodes the JSON string at b[p] into out[col]: a VARCHAR, a
// TIMESTAMP, a DATE, a TIME or a BINARY.
func (d *decoder) stringValue(b []byte, p, col int, out []value.Value) (int, error) {
	t := d.types[col]
	s, e, esc, high, np := scanString(b, p)
	if np < 0 {
		return 0, errBadJSON
	}
	var str string
	if high && !utf8.Valid(b[s:e]) {
		return 0, d.bad(col, "string is not valid UTF-8")
	}
	if esc {
		un, ok := unquoteJSON(b[s-1 : e+1])
		if !ok {
			return 0, errBadJSON
		}
		str = un
	} else {
		str = d.str(col, b[s:e])
	}
	switch t.Kind {
	case value.KindString:
		if len(str) > t.Len && utf8.RuneCountInString(str) > t.Len {
			return 0, d.bad(col, "value of %d characters is too long for %s", utf8.RuneCountInString(str), t)
		}
		out[col] = value.StringValue(str)
	case value.KindTime:
		ms, ok := parseTimestamp(str)
		if !ok {
			return 0, d.bad(col, "%q is not a timestamp", truncateRunes(str, 64))
		}
		out[col] = value.Value{K: value.KindTime, I: ms}
	default:
		// DATE, TIME and BINARY, off the hot path's switch.
		if err := d.textValue(str, col, out); err != nil {
			return 0, err
		}
	}
	return np, nil
}

// numberValue decodes the JSON number at b[p] into out[col]: an integer
// (a TIMESTAMP from a number is epoch milliseconds), a DOUBLE or its text
// in a VARCHAR.
func (d *decoder) numberValue(b []byte, p, col int, out []value.Value) (int, error) {
	t := d.types[col]
	e := numberEnd(b, p)
	num := b[p:e]
	switch t.Kind {
	case value.KindInt, value.KindTime:
		n, ok := parseInt(num)
		if !ok && !validNumber(num) {
			return 0, errBadJSON
		}
		if !ok {
			n, ok = parseIntSlow(num)
		}
		if !ok {
			f, err := strconv.ParseFloat(string(num), 64)
			if err != nil || f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
				return 0, d.bad(col, "%s is not an integer", truncateRunes(string(num), 32))
			}
			n = int64(f)
		}
		if t.Kind == value.KindInt && t.Bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
			return 0, d.bad(col, "%d is out of range for INTEGER", n)
		}
		out[col] = value.Value{K: t.Kind, I: n}
	case value.KindFloat:
		if f, ok := parseDecimal(num); ok {
			out[col] = value.FloatValue(f)
			break
		}
		if !validNumber(num) {
			return 0, errBadJSON
		}
		f, err := strconv.ParseFloat(string(num), 64)
		if err != nil {
			return 0, d.bad(col, "%s is out of range for DOUBLE", truncateRunes(string(num), 32))
		}
		out[col] = value.FloatValue(f)
	case value.KindString:
		if !validNumber(num) {
			return 0, errBadJSON
		}
		if len(num) > t.Len {
			return 0, d.bad(col, "value of %d characters is too long for %s", len(num), t)
		}
		out[col] = value.StringValue(string(num))
	default:
		return 0, d.bad(col, "number for %s column", t)
	}
	return e, nil
}

var timestampLayouts = []string{
	"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02",
}

// parseTimestamp reads "yyyy-MM-dd HH:mm:ss[.fff]", ISO 8601/RFC 3339 or a
// date, in UTC unless the text has an offset.
func parseTimestamp(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timestampLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}

// textValue decodes the JSON string s into a DATE, TIME or BINARY
// out[col].
//
//go:noinline
func (d *decoder) textValue(s string, col int, out []value.Value) error {
	t := d.types[col]
	if t.Kind != value.KindDate && t.Kind != value.KindTimeOfDay && t.Kind != value.KindBinary {
		return d.bad(col, "string value for %s column", t)
	}
	v, err := parseTextValue(s, t)
	if err != nil {
		return d.bad(col, "%s", err.Error())
	}
	out[col] = v
	return nil
}

// parseTextValue reads a DATE (yyyy-MM-dd), TIME (HH:mm:ss[.fff]) or
// BINARY (base64, KDA's JSON type for it) column's text.
func parseTextValue(s string, t value.Type) (value.Value, error) {
	k := t.Kind
	if k == value.KindBinary {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
		if err != nil {
			return value.Value{}, fmt.Errorf("%q is not base64", truncateRunes(s, 64))
		}
		if len(b) > t.Len {
			return value.Value{}, fmt.Errorf("value of %d bytes is too long for %s", len(b), t)
		}
		return value.Value{K: k, S: string(b)}, nil
	}
	if k == value.KindDate {
		if d, ok := value.ParseDate(s); ok {
			return value.Value{K: k, I: d}, nil
		}
		return value.Value{}, fmt.Errorf("%q is not a date (yyyy-MM-dd)", truncateRunes(s, 64))
	}
	if ms, ok := value.ParseTimeOfDay(s); ok {
		return value.Value{K: k, I: ms}, nil
	}
	return value.Value{}, fmt.Errorf("%q is not a time (HH:mm:ss[.fff])", truncateRunes(s, 64))
}

// unquoteJSON decodes a JSON string literal with escapes. It is a separate
// function so the decoded string's address never escapes the hot path.
func unquoteJSON(b []byte) (string, bool) {
	var s string
	if json.Unmarshal(b, &s) != nil {
		return "", false
	}
	return s, true
}
