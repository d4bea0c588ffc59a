//go:generate sh copy.sh

// Package decbench compares JSON decoders on the work of the kda engine's
// input decoder: the seed's and the demo stream's records into rows of
// the engine's values. It is a separate module so the candidates never
// enter lakekit's go.mod; go generate copies the engine's decoder in.
//
//	cd kda/internal/engine/testdata/decbench && go generate && go test -run '^$' -bench Decode -cpu 1
package decbench

import (
	stdjson "encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/buger/jsonparser"
	"github.com/bytedance/sonic"
	"github.com/bytedance/sonic/ast"
	goccy "github.com/goccy/go-json"
	segjson "github.com/segmentio/encoding/json"
	"github.com/tidwall/gjson"
	"github.com/valyala/fastjson"

	"github.com/lakekit/lakekit/kda/internal/value"
)

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// Decoder is one candidate: a record's bytes into a row of the columns.
type Decoder interface {
	decode(data []byte, out []value.Value) error
}

// conv holds the column types and converts raw tokens into values, the
// same checks as the engine's decoder.
type conv struct {
	cols   []value.Column
	paths  [][]string
	intern []map[string]string
}

func newConv(cols []value.Column) conv {
	c := conv{cols: cols}
	for _, col := range cols {
		p, err := parseMapping(col)
		if err != nil {
			panic(err)
		}
		c.paths = append(c.paths, p)
		c.intern = append(c.intern, map[string]string{})
	}
	return c
}

func (c *conv) str(i int, b []byte) string {
	m := c.intern[i]
	if s, ok := m[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(m) < 4096 {
		m[s] = s
	}
	return s
}

func (c *conv) bad(i int, f string, a ...any) error {
	return &InputError{Column: c.cols[i].Name, Msg: fmt.Sprintf(f, a...)}
}

func (c *conv) setInt(i int, n int64, out []value.Value) error {
	t := c.cols[i].Type
	if t.Kind == value.KindInt && t.Bits == 32 && (n > math.MaxInt32 || n < math.MinInt32) {
		return c.bad(i, "%d is out of range for INTEGER", n)
	}
	switch t.Kind {
	case value.KindInt, value.KindTime:
		out[i] = value.Value{K: t.Kind, I: n}
	case value.KindFloat:
		out[i] = value.FloatValue(float64(n))
	default:
		return c.bad(i, "number for %s column", t)
	}
	return nil
}

func (c *conv) setFloat(i int, f float64, out []value.Value) error {
	t := c.cols[i].Type
	switch t.Kind {
	case value.KindFloat:
		out[i] = value.FloatValue(f)
	case value.KindInt, value.KindTime:
		if f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
			return c.bad(i, "%v is not an integer", f)
		}
		return c.setInt(i, int64(f), out)
	default:
		return c.bad(i, "number for %s column", t)
	}
	return nil
}

// setNumber converts a number's text.
func (c *conv) setNumber(i int, num []byte, out []value.Value) error {
	t := c.cols[i].Type
	switch t.Kind {
	case value.KindInt, value.KindTime:
		if n, ok := parseInt(num); ok {
			return c.setInt(i, n, out)
		}
		f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(num), len(num)), 64)
		if err != nil {
			return errBadJSON
		}
		return c.setFloat(i, f, out)
	case value.KindFloat:
		f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(num), len(num)), 64)
		if err != nil {
			return errBadJSON
		}
		out[i] = value.FloatValue(f)
	case value.KindString:
		out[i] = value.StringValue(string(num))
	default:
		return c.bad(i, "number for %s column", t)
	}
	return nil
}

func (c *conv) setString(i int, s string, out []value.Value) error {
	t := c.cols[i].Type
	switch t.Kind {
	case value.KindString:
		if len(s) > t.Len && utf8.RuneCountInString(s) > t.Len {
			return c.bad(i, "value too long for %s", t)
		}
		out[i] = value.StringValue(s)
	case value.KindTime:
		ms, ok := parseTimestamp(s)
		if !ok {
			return c.bad(i, "%q is not a timestamp", s)
		}
		out[i] = value.Value{K: value.KindTime, I: ms}
	default:
		return c.bad(i, "string value for %s column", t)
	}
	return nil
}

func (c *conv) setBool(i int, b bool, out []value.Value) error {
	switch c.cols[i].Type.Kind {
	case value.KindBool:
		out[i] = value.BoolValue(b)
	case value.KindString:
		out[i] = value.StringValue(strconv.FormatBool(b))
	default:
		return c.bad(i, "boolean value for %s column", c.cols[i].Type)
	}
	return nil
}

// ---- the engine's own scanner

type engineDec struct{ d *decoder }

func (e engineDec) decode(data []byte, out []value.Value) error { return e.d.decode(data, out) }

// ---- valyala/fastjson: parse into a reused tree, then Get each path

type fastjsonDec struct {
	conv
	p fastjson.Parser
}

func (d *fastjsonDec) decode(data []byte, out []value.Value) error {
	clear(out)
	v, err := d.p.ParseBytes(data)
	if err != nil {
		return errBadJSON
	}
	if v.Type() != fastjson.TypeObject {
		return &InputError{Msg: "record is not a JSON object"}
	}
	for i, path := range d.paths {
		x := v.Get(path...)
		if x == nil {
			continue
		}
		var err error
		switch x.Type() {
		case fastjson.TypeNull:
		case fastjson.TypeNumber:
			if k := d.cols[i].Type.Kind; k == value.KindString {
				err = d.setNumber(i, x.MarshalTo(nil), out)
			} else if k == value.KindFloat {
				err = d.setFloat(i, x.GetFloat64(), out)
			} else if n, e := x.Int64(); e == nil {
				err = d.setInt(i, n, out)
			} else {
				err = d.setFloat(i, x.GetFloat64(), out)
			}
		case fastjson.TypeString:
			b := x.GetStringBytes()
			err = d.setString(i, d.str(i, b), out)
		case fastjson.TypeTrue, fastjson.TypeFalse:
			err = d.setBool(i, x.Type() == fastjson.TypeTrue, out)
		default:
			err = d.bad(i, "object or array")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- buger/jsonparser: EachKey over the paths (does not validate the rest)

type jsonparserDec struct {
	conv
	err error
	out []value.Value
	cb  func(int, []byte, jsonparser.ValueType, error)
}

func newJSONParser(cols []value.Column) *jsonparserDec {
	d := &jsonparserDec{conv: newConv(cols)}
	d.cb = func(i int, b []byte, vt jsonparser.ValueType, err error) {
		if d.err != nil {
			return
		}
		if err != nil {
			d.err = errBadJSON
			return
		}
		switch vt {
		case jsonparser.Number:
			d.err = d.setNumber(i, b, d.out)
		case jsonparser.String:
			if !utf8.Valid(b) {
				d.err = d.bad(i, "not UTF-8")
				return
			}
			for _, c := range b {
				if c == '\\' {
					s, err := jsonparser.ParseString(b)
					if err != nil {
						d.err = errBadJSON
						return
					}
					d.err = d.setString(i, s, d.out)
					return
				}
			}
			d.err = d.setString(i, d.str(i, b), d.out)
		case jsonparser.Boolean:
			d.err = d.setBool(i, b[0] == 't', d.out)
		case jsonparser.Null:
		default:
			d.err = d.bad(i, "object or array")
		}
	}
	return d
}

func (d *jsonparserDec) decode(data []byte, out []value.Value) error {
	clear(out)
	d.err, d.out = nil, out
	if jsonparser.EachKey(data, d.cb, d.paths...) < 0 {
		return errBadJSON
	}
	return d.err
}

// ---- tidwall/gjson: validate, then GetBytes per path

type gjsonDec struct {
	conv
	gpaths []string
}

func newGJSON(cols []value.Column) *gjsonDec {
	d := &gjsonDec{conv: newConv(cols)}
	for _, p := range d.paths {
		d.gpaths = append(d.gpaths, strings.Join(p, "."))
	}
	return d
}

func (d *gjsonDec) decode(data []byte, out []value.Value) error {
	clear(out)
	if !gjson.ValidBytes(data) {
		return errBadJSON
	}
	for i, p := range d.gpaths {
		r := gjson.GetBytes(data, p)
		var err error
		switch r.Type {
		case gjson.Null:
		case gjson.Number:
			err = d.setNumber(i, []byte(r.Raw), out)
		case gjson.String:
			err = d.setString(i, d.str(i, []byte(r.Str)), out)
		case gjson.True, gjson.False:
			err = d.setBool(i, r.Type == gjson.True, out)
		default:
			err = d.bad(i, "object or array")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- bytedance/sonic ast: a Searcher per record, GetByPath per column

type sonicASTDec struct {
	conv
	ipaths [][]any
}

func newSonicAST(cols []value.Column) *sonicASTDec {
	d := &sonicASTDec{conv: newConv(cols)}
	for _, p := range d.paths {
		var ip []any
		for _, s := range p {
			ip = append(ip, s)
		}
		d.ipaths = append(d.ipaths, ip)
	}
	return d
}

func (d *sonicASTDec) decode(data []byte, out []value.Value) error {
	clear(out)
	src := unsafe.String(unsafe.SliceData(data), len(data))
	if !sonic.ConfigStd.Valid(data) {
		return errBadJSON
	}
	s := ast.NewSearcher(src)
	for i, p := range d.ipaths {
		n, err := s.GetByPath(p...)
		if err != nil {
			if errors.Is(err, ast.ErrNotExist) {
				continue
			}
			continue
		}
		switch n.TypeSafe() {
		case ast.V_NULL:
		case ast.V_NUMBER:
			raw, _ := n.Raw()
			err = d.setNumber(i, []byte(raw), out)
		case ast.V_STRING:
			str, _ := n.String()
			err = d.setString(i, d.str(i, []byte(str)), out)
		case ast.V_TRUE, ast.V_FALSE:
			err = d.setBool(i, n.TypeSafe() == ast.V_TRUE, out)
		default:
			err = d.bad(i, "object or array")
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// ---- reflection decoders (encoding/json, goccy/go-json, segmentio,
// sonic.Unmarshal) into a struct type built from the columns

type reflectDec struct {
	conv
	unmarshal func([]byte, any) error
	typ       reflect.Type
	ptr       reflect.Value
}

func newReflect(cols []value.Column, unmarshal func([]byte, any) error) *reflectDec {
	d := &reflectDec{conv: newConv(cols), unmarshal: unmarshal}
	var fields []reflect.StructField
	for i, c := range cols {
		if len(d.paths[i]) != 1 {
			panic("flat paths only")
		}
		var t reflect.Type
		switch c.Type.Kind {
		case value.KindInt:
			t = reflect.TypeFor[*int64]()
		case value.KindFloat:
			t = reflect.TypeFor[*float64]()
		case value.KindString:
			t = reflect.TypeFor[*string]()
		default:
			t = reflect.TypeFor[stdjson.RawMessage]()
		}
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: t, Tag: reflect.StructTag(fmt.Sprintf(`json:%q`, d.paths[i][0]))})
	}
	d.typ = reflect.StructOf(fields)
	d.ptr = reflect.New(d.typ)
	return d
}

func (d *reflectDec) decode(data []byte, out []value.Value) error {
	clear(out)
	s := d.ptr.Elem()
	s.SetZero()
	if err := d.unmarshal(data, d.ptr.Interface()); err != nil {
		return &InputError{Msg: err.Error()}
	}
	for i := range d.cols {
		f := s.Field(i)
		if f.IsNil() {
			continue
		}
		var err error
		switch x := f.Interface().(type) {
		case *int64:
			err = d.setInt(i, *x, out)
		case *float64:
			err = d.setFloat(i, *x, out)
		case *string:
			err = d.setString(i, *x, out)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Candidates returns every decoder under test for cols.
func Candidates(cols []value.Column) map[string]Decoder {
	ed, err := newDecoder(append([]value.Column(nil), cols...))
	if err != nil {
		panic(err)
	}
	return map[string]Decoder{
		"engine":        engineDec{ed},
		"fastjson":      &fastjsonDec{conv: newConv(cols)},
		"jsonparser":    newJSONParser(cols),
		"gjson":         newGJSON(cols),
		"sonic-ast":     newSonicAST(cols),
		"sonic":         newReflect(cols, sonic.ConfigStd.Unmarshal),
		"encoding-json": newReflect(cols, stdjson.Unmarshal),
		"goccy":         newReflect(cols, goccy.Unmarshal),
		"segmentio":     newReflect(cols, segjson.Unmarshal),
	}
}
