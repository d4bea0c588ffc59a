package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// DiscoverSchema infers input columns from sample JSON records, as the KDA
// console's "Discover schema" does: one column per leaf field (nested
// objects flattened to parent_child with mapping $.parent.child), integers
// as INTEGER (BIGINT beyond 32 bits), other numbers as DOUBLE, booleans as
// BOOLEAN, strings that all parse as timestamps as TIMESTAMP, other
// strings, arrays and mixed kinds as VARCHAR(n) with n the longest value
// rounded up to a power of two (at least 4). Columns are ordered by first
// appearance. Records that are not JSON objects are an error.
func DiscoverSchema(samples [][]byte) ([]value.Column, error) {
	var sc schemaStats
	for i, rec := range samples {
		dec := json.NewDecoder(strings.NewReader(string(rec)))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil || m == nil {
			return nil, fmt.Errorf("kda: sample %d is not a JSON object", i)
		}
		sc.walk("", "$", m)
	}
	if len(sc.order) == 0 {
		return nil, errors.New("kda: no fields found in the samples")
	}
	cols := make([]value.Column, 0, len(sc.order))
	for _, s := range sc.order {
		cols = append(cols, value.Column{Name: s.name, Mapping: s.mapping, Type: s.typ()})
	}
	return cols, nil
}

// schemaStats is what DiscoverSchema saw of each leaf field, in order of
// first appearance.
type schemaStats struct {
	order  []*fieldStat
	byPath map[string]*fieldStat
}

// fieldStat is what the samples held in one field.
type fieldStat struct {
	name, mapping string
	kinds         map[string]bool
	maxLen        int
	big           bool // an integer outside INTEGER's range
}

// walk records the fields of m, an object at path; nested objects become
// columns named prefix_field.
func (sc *schemaStats) walk(prefix, path string, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[k]
		name, mp := prefix+k, path+"."+k
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			sc.walk(name+"_", mp, sub)
			continue
		}
		s := sc.byPath[mp]
		if s == nil {
			if sc.byPath == nil {
				sc.byPath = map[string]*fieldStat{}
			}
			s = &fieldStat{name: name, mapping: mp, kinds: map[string]bool{}}
			sc.byPath[mp] = s
			sc.order = append(sc.order, s)
		}
		s.add(v)
	}
}

// add records one value of the field.
func (s *fieldStat) add(v any) {
	var text string
	switch v := v.(type) {
	case nil:
		return
	case bool:
		s.kinds["bool"] = true
		text = strconv.FormatBool(v)
	case json.Number:
		text = v.String()
		if n, err := v.Int64(); err == nil {
			s.kinds["int"] = true
			s.big = s.big || n > math.MaxInt32 || n < math.MinInt32
		} else {
			s.kinds["float"] = true
		}
	case string:
		text = v
		if _, ok := parseTimestamp(v); ok && len(v) >= 10 {
			s.kinds["time"] = true
		} else {
			s.kinds["string"] = true
		}
	default:
		b, _ := json.Marshal(v)
		text = string(b)
		s.kinds["string"] = true
	}
	s.maxLen = max(s.maxLen, utf8.RuneCountInString(text))
}

// typ is the narrowest column type that holds every value seen; VARCHAR
// lengths are powers of two from 4.
func (s *fieldStat) typ() value.Type {
	switch {
	case len(s.kinds) == 1 && s.kinds["int"]:
		if s.big {
			return value.Bigint
		}
		return value.Integer
	case len(s.kinds) == 1 && s.kinds["bool"]:
		return value.Boolean
	case len(s.kinds) == 1 && s.kinds["time"]:
		return value.Timestamp
	case len(s.kinds) > 0 && !s.kinds["bool"] && !s.kinds["string"] && !s.kinds["time"]:
		return value.Double
	}
	n := 4
	for n < s.maxLen {
		n *= 2
	}
	return value.Varchar(n)
}
