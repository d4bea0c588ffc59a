package kda

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/lakekit/lakekit/internal/opt"
)

// TemplateError is a KDG record template that cannot be parsed: an unknown
// helper, bad arguments or an unterminated {{ … }}. Line and Col (1-based,
// columns in bytes) point at the start of the offending expression.
type TemplateError struct {
	Line, Col int
	Helper    string // module.method when known
	Msg       string
}

func (e *TemplateError) Error() string {
	if e.Helper != "" {
		return fmt.Sprintf("template %d:%d: %s: %s", e.Line, e.Col, e.Helper, e.Msg)
	}
	return fmt.Sprintf("template %d:%d: %s", e.Line, e.Col, e.Msg)
}

// Template is a parsed Kinesis Data Generator record template: literal text
// with {{module.method(args)}} helpers whose arguments are JSON values.
// A Template is immutable and may be shared by Generators.
type Template struct {
	parts []tplPart
}

type tplPart struct {
	lit    string
	helper helperFunc // nil for a literal
}

// helperFunc appends one generated value to dst.
type helperFunc func(dst []byte, g *Generator) []byte

// ParseTemplate parses a KDG record template. Supported helpers:
//
//	random.number(n) | random.number({"min":a,"max":b,"precision":p})  inclusive bounds
//	random.arrayElement([…])
//	random.weightedArrayElement({"weights":[…],"data":[…]})
//	random.uuid  random.boolean
//	date.now("moment format")  date.utc("moment format")   (default ISO 8601)
//	name.firstName  name.lastName  internet.ip  lorem.word
//
// Parentheses may be omitted when a helper takes no arguments. Strings are
// inserted raw (a template puts its own quotes around them, as KDG does).
func ParseTemplate(src string) (*Template, error) {
	t := &Template{}
	var lit strings.Builder
	i := 0
	for i < len(src) {
		j := strings.Index(src[i:], "{{")
		if j < 0 {
			lit.WriteString(src[i:])
			break
		}
		lit.WriteString(src[i : i+j])
		start := i + j
		h, end, err := parseHelper(src, start)
		if err != nil {
			return nil, err
		}
		if lit.Len() > 0 {
			t.parts = append(t.parts, tplPart{lit: lit.String()})
			lit.Reset()
		}
		t.parts = append(t.parts, tplPart{helper: h})
		i = end
	}
	if lit.Len() > 0 {
		t.parts = append(t.parts, tplPart{lit: lit.String()})
	}
	return t, nil
}

// MustParseTemplate is ParseTemplate that panics on error, for templates
// fixed at compile time.
func MustParseTemplate(src string) *Template {
	t, err := ParseTemplate(src)
	if err != nil {
		panic(err)
	}
	return t
}

func lineCol(src string, off int) (int, int) {
	line, col := 1, 1
	for k := 0; k < off && k < len(src); k++ {
		if src[k] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// parseHelper parses the helper starting at src[start:] ("{{") and returns
// the offset just after its closing "}}".
func parseHelper(src string, start int) (helperFunc, int, error) {
	fail := func(off int, helper, format string, args ...any) (helperFunc, int, error) {
		l, c := lineCol(src, off)
		return nil, 0, &TemplateError{Line: l, Col: c, Helper: helper, Msg: fmt.Sprintf(format, args...)}
	}
	p := start + 2
	p = skipSpace(src, p)
	nameStart := p
	for p < len(src) && (isIdentByte(src[p]) || src[p] == '.') {
		p++
	}
	name := src[nameStart:p]
	if name == "" {
		return fail(start, "", "expected helper name after {{")
	}
	p = skipSpace(src, p)
	var args []json.RawMessage
	if p < len(src) && src[p] == '(' {
		end, ok := matchParen(src, p)
		if !ok {
			return fail(start, name, "unterminated argument list")
		}
		inner := strings.TrimSpace(src[p+1 : end])
		if inner != "" {
			if err := json.Unmarshal([]byte("["+inner+"]"), &args); err != nil {
				return fail(p+1, name, "arguments are not JSON: %v", err)
			}
		}
		p = skipSpace(src, end+1)
	}
	if !strings.HasPrefix(src[p:], "}}") {
		return fail(start, name, "expected }}")
	}
	h, err := buildHelper(name, args)
	if err != nil {
		return fail(start, name, "%v", err)
	}
	return h, p + 2, nil
}

func skipSpace(s string, p int) int {
	for p < len(s) && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r') {
		p++
	}
	return p
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// matchParen returns the offset of the ")" closing the "(" at open,
// skipping brackets and JSON strings.
func matchParen(s string, open int) (int, bool) {
	depth := 0
	inStr := false
	for k := open; k < len(s); k++ {
		c := s[k]
		if inStr {
			switch c {
			case '\\':
				k++
			case '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
			if depth == 0 {
				if c != ')' {
					return 0, false
				}
				return k, true
			}
			if depth < 0 {
				return 0, false
			}
		}
	}
	return 0, false
}

func buildHelper(name string, args []json.RawMessage) (helperFunc, error) {
	noArgs := func(h helperFunc) (helperFunc, error) {
		if len(args) != 0 {
			return nil, fmt.Errorf("takes no arguments, got %d", len(args))
		}
		return h, nil
	}
	switch name {
	case "random.number":
		return numberHelper(args)
	case "random.arrayElement":
		if len(args) != 1 {
			return nil, fmt.Errorf("takes one array, got %d arguments", len(args))
		}
		elems, err := rawElements(args[0])
		if err != nil {
			return nil, err
		}
		return func(dst []byte, g *Generator) []byte {
			return append(dst, elems[g.rnd.IntN(len(elems))]...)
		}, nil
	case "random.weightedArrayElement":
		return weightedHelper(args)
	case "random.uuid":
		return noArgs(func(dst []byte, g *Generator) []byte { return appendUUID(dst, g.rnd) })
	case "random.boolean":
		return noArgs(func(dst []byte, g *Generator) []byte { return strconv.AppendBool(dst, g.rnd.IntN(2) == 1) })
	case "date.now", "date.utc":
		layout := "YYYY-MM-DDTHH:mm:ssZ"
		if len(args) > 1 {
			return nil, fmt.Errorf("takes at most one format, got %d arguments", len(args))
		}
		if len(args) == 1 {
			if err := json.Unmarshal(args[0], &layout); err != nil {
				return nil, fmt.Errorf("format must be a string")
			}
		}
		f, err := parseMomentFormat(layout)
		if err != nil {
			return nil, err
		}
		utc := name == "date.utc"
		return func(dst []byte, g *Generator) []byte {
			t := g.opts.Now()
			if utc {
				t = t.UTC()
			} else {
				t = t.In(g.opts.Location)
			}
			return f.append(dst, t)
		}, nil
	case "name.firstName":
		return noArgs(listHelper(firstNames))
	case "name.lastName":
		return noArgs(listHelper(lastNames))
	case "lorem.word":
		return noArgs(listHelper(loremWords))
	case "internet.ip":
		return noArgs(func(dst []byte, g *Generator) []byte {
			v := g.rnd.Uint32()
			for k := 3; k >= 0; k-- {
				dst = strconv.AppendUint(dst, uint64(v>>(8*k)&0xff), 10)
				if k > 0 {
					dst = append(dst, '.')
				}
			}
			return dst
		})
	}
	return nil, fmt.Errorf("unknown helper")
}

func listHelper(list []string) helperFunc {
	return func(dst []byte, g *Generator) []byte { return append(dst, list[g.rnd.IntN(len(list))]...) }
}

// rawElements returns the elements of a JSON array, strings unquoted and
// everything else as its JSON text.
func rawElements(raw json.RawMessage) ([][]byte, error) {
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); err != nil || len(arr) == 0 {
		return nil, fmt.Errorf("argument must be a non-empty JSON array")
	}
	out := make([][]byte, len(arr))
	for i, e := range arr {
		var s string
		if json.Unmarshal(e, &s) == nil {
			out[i] = []byte(s)
		} else {
			out[i] = bytes.TrimSpace(e)
		}
	}
	return out, nil
}

func numberHelper(args []json.RawMessage) (helperFunc, error) {
	lo, hi, prec := 0.0, 99999.0, 1.0 // faker.js defaults
	switch len(args) {
	case 0:
	case 1:
		var n float64
		if json.Unmarshal(args[0], &n) == nil {
			hi = n
			break
		}
		var o struct {
			Min, Max, Precision *float64
		}
		if err := json.Unmarshal(args[0], &o); err != nil {
			return nil, fmt.Errorf("argument must be a number or {min,max,precision}")
		}
		if o.Min != nil {
			lo = *o.Min
		}
		if o.Max != nil {
			hi = *o.Max
		}
		if o.Precision != nil {
			prec = *o.Precision
		}
	default:
		return nil, fmt.Errorf("takes one argument, got %d", len(args))
	}
	if !(prec > 0) || math.IsInf(prec, 0) {
		return nil, fmt.Errorf("precision must be positive")
	}
	if hi < lo {
		return nil, fmt.Errorf("max %v is below min %v", hi, lo)
	}
	steps := math.Floor(hi/prec) - math.Ceil(lo/prec) + 1
	if !(steps >= 1) || steps > 1<<53 {
		return nil, fmt.Errorf("range [%v, %v] with precision %v is empty or too large", lo, hi, prec)
	}
	base := math.Ceil(lo / prec)
	n := uint64(steps)
	if prec == 1 && base >= -1<<53 && base <= 1<<53 {
		b := int64(base)
		return func(dst []byte, g *Generator) []byte {
			return strconv.AppendInt(dst, b+int64(g.rnd.Uint64N(n)), 10)
		}, nil
	}
	decimals := 0
	for p := prec; p < 1 && decimals < 15; p *= 10 {
		decimals++
	}
	return func(dst []byte, g *Generator) []byte {
		v := (base + float64(g.rnd.Uint64N(n))) * prec
		return strconv.AppendFloat(dst, v, 'f', decimals, 64)
	}, nil
}

func weightedHelper(args []json.RawMessage) (helperFunc, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf(`takes one {"weights":[…],"data":[…]} object`)
	}
	var o struct {
		Weights []float64
		Data    json.RawMessage
	}
	if err := json.Unmarshal(args[0], &o); err != nil {
		return nil, fmt.Errorf(`argument must be {"weights":[…],"data":[…]}`)
	}
	elems, err := rawElements(o.Data)
	if err != nil {
		return nil, fmt.Errorf("data: %v", err)
	}
	if len(o.Weights) != len(elems) {
		return nil, fmt.Errorf("%d weights for %d data elements", len(o.Weights), len(elems))
	}
	cum := make([]float64, len(elems))
	total := 0.0
	for i, w := range o.Weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("weight %v is not a finite non-negative number", w)
		}
		total += w
		cum[i] = total
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("weights must have a positive finite sum")
	}
	return func(dst []byte, g *Generator) []byte {
		x := g.rnd.Float64() * total
		for i, c := range cum {
			if x < c {
				return append(dst, elems[i]...)
			}
		}
		return append(dst, elems[len(elems)-1]...)
	}, nil
}

func appendUUID(dst []byte, r *rand.Rand) []byte {
	var b [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for k := range 8 {
		b[k] = byte(hi >> (8 * k))
		b[8+k] = byte(lo >> (8 * k))
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	for k, c := range b {
		if k == 4 || k == 6 || k == 8 || k == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexd[c>>4], hexd[c&15])
	}
	return dst
}

// GeneratorOptions configures a Generator.
type GeneratorOptions struct {
	// Seed makes the output reproducible: the same template, seed and clock
	// give the same records. Zero (the default) seeds from the runtime's
	// random source.
	Seed uint64
	// Rate is the target records per second of Run. Zero (the default) means
	// as fast as possible.
	Rate float64
	// Count is how many records Run produces before returning. Zero (the
	// default) means until ctx is done.
	Count int
	// Now is the clock date.now and date.utc read and Run paces records
	// by. Default time.Now. A Now frozen for reproducible dates needs a
	// Sleep that advances it (local.VirtualClock's pair), or Rate 0.
	Now func() time.Time
	// Sleep waits for the next record's due time in Run. Default: a real
	// timer that ends early with ctx.Err().
	Sleep func(ctx context.Context, d time.Duration) error
	// Location is the zone of date.now. Default UTC (a Lambda's zone; KDG
	// uses the browser's).
	Location *time.Location
}

// Generator produces records from a Template. It is not safe for
// concurrent use; give each goroutine its own (with different seeds).
type Generator struct {
	t    *Template
	rnd  *rand.Rand
	opts GeneratorOptions
}

// NewGenerator returns a Generator for t. Options it cannot honour are an
// *OptionError.
func NewGenerator(t *Template, optFns ...func(*GeneratorOptions)) (*Generator, error) {
	if t == nil {
		return nil, errors.New("kda: NewGenerator needs a template (see ParseTemplate)")
	}
	var o GeneratorOptions
	for _, f := range optFns {
		f(&o)
	}
	const typ = "kda.GeneratorOptions"
	if err := opt.Min(typ, "Rate", o.Rate, 0); err != nil {
		return nil, err
	}
	if err := opt.Min(typ, "Count", o.Count, 0); err != nil {
		return nil, err
	}
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	o.Now, o.Sleep = orNow(o.Now), orSleep(o.Sleep)
	o.Location = cmp.Or(o.Location, time.UTC)
	return &Generator{t: t, opts: o, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}, nil
}

// Append appends one generated record to dst.
func (g *Generator) Append(dst []byte) []byte {
	for _, p := range g.t.parts {
		if p.helper == nil {
			dst = append(dst, p.lit...)
		} else {
			dst = p.helper(dst, g)
		}
	}
	return dst
}

// Next returns one newly allocated record.
func (g *Generator) Next() []byte { return g.Append(nil) }

// Run calls emit with each record, paced at GeneratorOptions.Rate and
// stopping after GeneratorOptions.Count records, when emit fails, or when
// ctx is done. The slice passed to emit is reused after emit returns.
// Pacing is by schedule (record i is due at start + i/Rate on the Now
// clock, waited for with Sleep), so a slow emit is caught up on rather than
// lowering the average rate.
func (g *Generator) Run(ctx context.Context, emit func([]byte) error) error {
	var buf []byte
	start := g.opts.Now()
	for i := 0; g.opts.Count == 0 || i < g.opts.Count; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if g.opts.Rate > 0 {
			due := start.Add(time.Duration(float64(i) / g.opts.Rate * float64(time.Second)))
			if d := due.Sub(g.opts.Now()); d > 0 {
				if err := g.opts.Sleep(ctx, d); err != nil {
					return err
				}
			}
		}
		buf = g.Append(buf[:0])
		if err := emit(buf); err != nil {
			return err
		}
	}
	return nil
}

var firstNames = []string{"Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Ava", "Elijah", "Sophia", "Mateo", "Isabella", "Lucas", "Mia", "Levi", "Charlotte", "Aiden", "Harper", "Ethan", "Aarav", "Priya", "Wei", "Yuki", "Fatima", "Omar", "Chloe", "Jack"}
var lastNames = []string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Patel", "Nguyen", "Kim", "Chen", "Singh", "Khan"}
var loremWords = []string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim", "ad", "minim", "veniam", "quis", "nostrud", "exercitation"}
