package asl

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// PathSegment is one step of a parsed JSONPath.
type PathSegment struct {
	Key      string // object member, when Index < 0 and !Wildcard
	Index    int    // array index, or -1
	Wildcard bool   // [*] or .*
}

// ParsedPath is a JSONPath of the subset ASL uses: "$" (the state input)
// or "$$" (the context object) followed by .name, ['name'], [n] and [*]
// segments.
type ParsedPath struct {
	Context  bool
	Segments []PathSegment
}

// ParsePath parses a path.
func ParsePath(p string) (ParsedPath, error) {
	var pp ParsedPath
	rest, ok := strings.CutPrefix(p, "$")
	if !ok {
		return pp, fmt.Errorf("path %q does not start with $", p)
	}
	if r, ok := strings.CutPrefix(rest, "$"); ok {
		pp.Context, rest = true, r
	}
	for rest != "" {
		switch rest[0] {
		case '.':
			rest = rest[1:]
			if strings.HasPrefix(rest, ".") {
				return pp, fmt.Errorf("path %q: recursive descent (..) is not supported", p)
			}
			end := strings.IndexAny(rest, ".[")
			if end < 0 {
				end = len(rest)
			}
			name := rest[:end]
			rest = rest[end:]
			switch {
			case name == "":
				return pp, fmt.Errorf("path %q: empty member name", p)
			case name == "*":
				pp.Segments = append(pp.Segments, PathSegment{Index: -1, Wildcard: true})
			case strings.ContainsAny(name, "]'\" ()?@"):
				return pp, fmt.Errorf("path %q: bad character in member %q", p, name)
			default:
				pp.Segments = append(pp.Segments, PathSegment{Key: name, Index: -1})
			}
		case '[':
			end := strings.IndexByte(rest, ']')
			if end < 0 {
				return pp, fmt.Errorf("path %q: unclosed [", p)
			}
			inner := rest[1:end]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				key := inner[1 : len(inner)-1]
				if strings.ContainsAny(key, "'\"") {
					return pp, fmt.Errorf("path %q: quote inside a bracketed member", p)
				}
				pp.Segments = append(pp.Segments, PathSegment{Key: key, Index: -1})
				rest = rest[end+1:]
				continue
			}
			if inner == "*" {
				pp.Segments = append(pp.Segments, PathSegment{Index: -1, Wildcard: true})
				rest = rest[end+1:]
				continue
			}
			n, err := strconv.Atoi(inner)
			if err != nil || n < 0 || inner != strconv.Itoa(n) {
				return pp, fmt.Errorf("path %q: unsupported selector [%s]", p, inner)
			}
			pp.Segments = append(pp.Segments, PathSegment{Index: n})
			rest = rest[end+1:]
		default:
			return pp, fmt.Errorf("path %q: unexpected %q", p, rest[0])
		}
	}
	return pp, nil
}

// ErrPathNotFound says that a path selects nothing in a document.
var ErrPathNotFound = errors.New("path not found")

// Get returns the value the path selects in doc (a value decoded from
// JSON: map[string]any, []any, string, json.Number/float64, bool, nil).
// A path with wildcards returns a []any of the matches.
func (pp ParsedPath) Get(doc any) (any, error) {
	return getSegs(doc, pp.Segments)
}

func getSegs(doc any, segs []PathSegment) (any, error) {
	for i, s := range segs {
		switch {
		case s.Wildcard:
			var items []any
			switch d := doc.(type) {
			case []any:
				items = d
			case map[string]any:
				for _, k := range sortedMapKeys(d) {
					items = append(items, d[k])
				}
			default:
				return nil, ErrPathNotFound
			}
			out := []any{}
			for _, it := range items {
				v, err := getSegs(it, segs[i+1:])
				if err == nil {
					out = append(out, v)
				}
			}
			return out, nil
		case s.Index >= 0:
			arr, ok := doc.([]any)
			if !ok || s.Index >= len(arr) {
				return nil, ErrPathNotFound
			}
			doc = arr[s.Index]
		default:
			obj, ok := doc.(map[string]any)
			if !ok {
				return nil, ErrPathNotFound
			}
			v, ok := obj[s.Key]
			if !ok {
				return nil, ErrPathNotFound
			}
			doc = v
		}
	}
	return doc, nil
}

// Set returns doc with value placed at the path (a reference path: no
// wildcards), creating objects on the way; "$" replaces doc. It fails when
// the path runs through a value that is not an object (AWS's
// States.ResultPathMatchFailure).
func (pp ParsedPath) Set(doc, value any) (any, error) {
	if pp.Context {
		return nil, errors.New("cannot write to the context object")
	}
	return setSegs(doc, pp.Segments, value)
}

func setSegs(doc any, segs []PathSegment, value any) (any, error) {
	if len(segs) == 0 {
		return value, nil
	}
	s := segs[0]
	switch {
	case s.Wildcard:
		return nil, errors.New("cannot write through a wildcard")
	case s.Index >= 0:
		arr, ok := doc.([]any)
		if !ok || s.Index >= len(arr) {
			return nil, fmt.Errorf("index %d out of range", s.Index)
		}
		out := append([]any(nil), arr...)
		v, err := setSegs(arr[s.Index], segs[1:], value)
		if err != nil {
			return nil, err
		}
		out[s.Index] = v
		return out, nil
	default:
		var obj map[string]any
		switch d := doc.(type) {
		case map[string]any:
			obj = make(map[string]any, len(d)+1)
			for k, v := range d {
				obj[k] = v
			}
		case nil:
			obj = map[string]any{}
		default:
			return nil, fmt.Errorf("member %q of a %s", s.Key, jsonKind(doc))
		}
		v, err := setSegs(obj[s.Key], segs[1:], value)
		if err != nil {
			return nil, err
		}
		obj[s.Key] = v
		return obj, nil
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

func sortedMapKeys(m map[string]any) []string {
	return slices.Sorted(maps.Keys(m))
}
