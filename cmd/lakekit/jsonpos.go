package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// jsonNode is one value of a JSON document with where it is written: for
// an object member, the offset of its key (the line an editor should
// show); for an array element or the document, the offset of the value.
type jsonNode struct {
	pos     int
	members []jsonMember // an object's, in document order
	elems   []*jsonNode  // an array's
}

type jsonMember struct {
	key  string
	node *jsonNode
}

// maxLocateDepth bounds the nesting jsonLocate descends into (ASL's own
// limit is asl.MaxNestingDepth), so that hostile input cannot grow the
// stack.
const maxLocateDepth = 200

var errLocateDepth = errors.New("JSON nested too deeply to locate")

// jsonLocate parses data into the tree of its values' positions.
func jsonLocate(data []byte) (*jsonNode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	return locateValue(dec, data, 0)
}

// skipSep returns the offset of the next token at or after off.
func skipSep(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

func locateValue(dec *json.Decoder, data []byte, depth int) (*jsonNode, error) {
	if depth > maxLocateDepth {
		return nil, errLocateDepth
	}
	n := &jsonNode{pos: skipSep(data, int(dec.InputOffset()))}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return n, nil
	}
	for dec.More() {
		if d == '[' {
			el, err := locateValue(dec, data, depth+1)
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, el)
			continue
		}
		kpos := skipSep(data, int(dec.InputOffset()))
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		v, err := locateValue(dec, data, depth+1)
		if err != nil {
			return nil, err
		}
		v.pos = kpos
		n.members = append(n.members, jsonMember{key, v})
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return nil, err
	}
	return n, nil
}

// member returns the member named key, or nil.
func (n *jsonNode) member(key string) *jsonNode {
	for _, m := range n.members {
		if m.key == key {
			return m.node
		}
	}
	return nil
}

// find returns the node at path (object keys and array indexes) or, when
// the path leaves the document, its deepest node on the way. A key may
// hold dots ("year.$" in "Parameters.year.$"): a segment that names no
// member is tried joined with the segments after it.
func (n *jsonNode) find(path []string) *jsonNode {
	for len(path) > 0 {
		if n.elems != nil || n.members == nil {
			i, err := strconv.Atoi(path[0])
			if err != nil || i < 0 || i >= len(n.elems) {
				return n
			}
			n, path = n.elems[i], path[1:]
			continue
		}
		next := (*jsonNode)(nil)
		for k := len(path); k > 0 && next == nil; k-- {
			if next = n.member(strings.Join(path[:k], ".")); next != nil {
				path = path[k:]
			}
		}
		if next == nil {
			return n
		}
		n = next
	}
	return n
}

// findKey returns the first node, depth first, that is the member key of
// an object under n, or nil.
func (n *jsonNode) findKey(key string) *jsonNode {
	for _, m := range n.members {
		if m.key == key {
			return m.node
		}
	}
	for _, m := range n.members {
		if f := m.node.findKey(key); f != nil {
			return f
		}
	}
	for _, e := range n.elems {
		if f := e.findKey(key); f != nil {
			return f
		}
	}
	return nil
}

// lineCol returns the 1-based line and byte column of offset off.
func lineCol(data []byte, off int) (line, col int) {
	off = min(max(off, 0), len(data))
	before := data[:off]
	line = 1 + bytes.Count(before, []byte("\n"))
	return line, off - bytes.LastIndexByte(before, '\n')
}

// fieldPath splits a validator field such as "Retry[1].ErrorEquals" into
// path segments: "Retry", "1", "ErrorEquals".
func fieldPath(field string) []string {
	var segs []string
	for _, part := range strings.Split(field, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			j := strings.IndexByte(part, ']')
			if i < 0 || j < i {
				segs = append(segs, part)
				break
			}
			if i > 0 {
				segs = append(segs, part[:i])
			}
			segs = append(segs, part[i+1:j])
			part = part[j+1:]
		}
	}
	return segs
}
