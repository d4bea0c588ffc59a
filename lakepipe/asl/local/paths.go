package local

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lakekit/lakekit/lakepipe/asl"
)

// output shapes a Task's or Parallel's result into the state's output:
// ResultSelector, then ResultPath into the raw input, then OutputPath.
func (x *execution) output(name string, selector map[string]any, resultPath, outputPath asl.Path, raw, result any) (any, error) {
	if selector != nil {
		var err error
		if result, err = x.payload(name, selector, result); err != nil {
			return nil, err
		}
	}
	out, err := x.resultPath(name, resultPath, raw, result)
	if err != nil {
		return nil, err
	}
	return x.outputPath(name, outputPath, out)
}

func (x *execution) waitFor(name string, s *asl.Wait, eff any) (time.Duration, error) {
	switch {
	case s.Seconds > 0:
		return time.Duration(s.Seconds) * time.Second, nil
	case s.Timestamp != "":
		t, _ := time.Parse(time.RFC3339, s.Timestamp)
		return t.Sub(x.clock.Now()), nil
	case s.SecondsPath != "":
		v, err := x.get(name, string(s.SecondsPath), eff)
		if err != nil {
			return 0, err
		}
		n, ok := number(v)
		if !ok || n < 0 {
			return 0, fail(name, asl.ErrorRuntime, "SecondsPath %s is not a non-negative number", s.SecondsPath)
		}
		return time.Duration(n * float64(time.Second)), nil
	case s.TimestampPath != "":
		v, err := x.get(name, string(s.TimestampPath), eff)
		if err != nil {
			return 0, err
		}
		str, _ := v.(string)
		t, err := time.Parse(time.RFC3339, str)
		if err != nil {
			return 0, fail(name, asl.ErrorRuntime, "TimestampPath %s is not an RFC 3339 timestamp", s.TimestampPath)
		}
		return t.Sub(x.clock.Now()), nil
	}
	return 0, nil
}

// get evaluates a path against the input, or the context object for "$$".
func (x *execution) get(name, path string, doc any) (any, error) {
	pp, err := asl.ParsePath(path)
	if err != nil {
		return nil, fail(name, asl.ErrorRuntime, "%v", err)
	}
	if pp.Context {
		doc = x.ctxObj
	}
	v, err := pp.Get(doc)
	if err != nil {
		return nil, fail(name, asl.ErrorRuntime, "Invalid path %q: the path does not exist in the input", path)
	}
	return v, nil
}

func (x *execution) inputPath(name string, p asl.Path, input any) (any, error) {
	switch p {
	case "":
		return input, nil
	case asl.Null:
		return map[string]any{}, nil
	}
	return x.get(name, string(p), input)
}

func (x *execution) outputPath(name string, p asl.Path, out any) (any, error) {
	return x.inputPath(name, p, out)
}

func (x *execution) resultPath(name string, p asl.Path, raw, result any) (any, error) {
	switch p {
	case "", "$":
		return result, nil
	case asl.Null:
		return raw, nil
	}
	pp, err := asl.ParsePath(string(p))
	if err != nil {
		return nil, fail(name, asl.ErrorRuntime, "%v", err)
	}
	out, err := pp.Set(raw, result)
	if err != nil {
		return nil, fail(name, asl.ErrorResultPathMatchFailure, "ResultPath %s: %v", p, err)
	}
	return out, nil
}

// payload builds a Parameters or ResultSelector document: keys ending in
// ".$" take the value of their path.
func (x *execution) payload(name string, tmpl map[string]any, input any) (any, error) {
	out := make(map[string]any, len(tmpl))
	for k, v := range tmpl {
		if key, ok := strings.CutSuffix(k, ".$"); ok {
			s, _ := v.(string)
			if strings.HasPrefix(s, "States.") {
				val, err := x.intrinsic(s, input)
				if err != nil {
					cause := err.Error()
					var f *failure
					if errors.As(err, &f) {
						cause = f.cause
					}
					return nil, fail(name, asl.ErrorIntrinsicFailure, "%s: %s", s, cause)
				}
				out[key] = val
				continue
			}
			val, err := x.get(name, s, input)
			if err != nil {
				var f *failure
				if errors.As(err, &f) {
					f.name = asl.ErrorParameterPathFailure
					f.cause = fmt.Sprintf("The JSONPath %s specified for the field %s could not be found in the input", s, k)
				}
				return nil, err
			}
			out[key] = val
			continue
		}
		if m, ok := v.(map[string]any); ok {
			sub, err := x.payload(name, m, input)
			if err != nil {
				return nil, err
			}
			out[k] = sub
			continue
		}
		out[k] = v
	}
	return out, nil
}

func decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}
