package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// intrinsic evaluates an intrinsic function call such as
// States.Format('{}/year={}/', $.prefix, $.year). Supported: States.Format,
// States.StringToJson, States.JsonToString, States.Array, States.MathAdd
// and States.ArrayLength.
func (x *execution) intrinsic(expr string, input any) (any, error) {
	p := &intrinsicParser{s: expr}
	v, err := p.call(x, input)
	if err != nil {
		return nil, err
	}
	if p.skipSpace(); p.i != len(p.s) {
		return nil, fmt.Errorf("trailing %q", p.s[p.i:])
	}
	return v, nil
}

type intrinsicParser struct {
	s string
	i int
}

func (p *intrinsicParser) skipSpace() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *intrinsicParser) call(x *execution, input any) (any, error) {
	open := strings.IndexByte(p.s[p.i:], '(')
	if open < 0 {
		return nil, errors.New("not a function call")
	}
	name := p.s[p.i : p.i+open]
	p.i += open + 1
	var args []any
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ')' && len(args) == 0 {
			p.i++
			break
		}
		arg, err := p.arg(x, input)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		args = append(args, arg)
		p.skipSpace()
		if p.i >= len(p.s) {
			return nil, fmt.Errorf("%s: unclosed (", name)
		}
		if p.s[p.i] == ')' {
			p.i++
			break
		}
		if p.s[p.i] != ',' {
			return nil, fmt.Errorf("%s: unexpected %q", name, p.s[p.i])
		}
		p.i++
	}
	return applyIntrinsic(name, args)
}

func (p *intrinsicParser) arg(x *execution, input any) (any, error) {
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "'"):
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			c := p.s[p.i]
			if c == '\\' && p.i+1 < len(p.s) {
				p.i++
				b.WriteByte(p.s[p.i])
				continue
			}
			if c == '\'' {
				p.i++
				return b.String(), nil
			}
			b.WriteByte(c)
		}
		return nil, errors.New("unclosed string")
	case strings.HasPrefix(rest, "States."):
		return p.call(x, input)
	case strings.HasPrefix(rest, "$"):
		end := strings.IndexAny(rest, ",)")
		if end < 0 {
			end = len(rest)
		}
		path := strings.TrimSpace(rest[:end])
		p.i += end
		return x.get("", path, input)
	default:
		end := strings.IndexAny(rest, ",)")
		if end < 0 {
			end = len(rest)
		}
		lit := strings.TrimSpace(rest[:end])
		p.i += end
		switch lit {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		if _, err := strconv.ParseFloat(lit, 64); err != nil {
			return nil, fmt.Errorf("bad argument %q", lit)
		}
		return json.Number(lit), nil
	}
}

func applyIntrinsic(name string, args []any) (any, error) {
	switch name {
	case "States.Format":
		if len(args) == 0 {
			return nil, errors.New("States.Format needs a template")
		}
		tmpl, ok := args[0].(string)
		if !ok {
			return nil, errors.New("States.Format: the template is not a string")
		}
		var b strings.Builder
		n := 1
		for i := 0; i < len(tmpl); i++ {
			if tmpl[i] == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}' {
				if n >= len(args) {
					return nil, errors.New("States.Format: more {} than arguments")
				}
				switch v := args[n].(type) {
				case string:
					b.WriteString(v)
				case map[string]any, []any:
					return nil, errors.New("States.Format: arguments must be strings, numbers, booleans or null")
				default:
					data, _ := json.Marshal(v)
					b.Write(data)
				}
				n++
				i++
				continue
			}
			b.WriteByte(tmpl[i])
		}
		if n != len(args) {
			return nil, errors.New("States.Format: more arguments than {}")
		}
		return b.String(), nil
	case "States.StringToJson":
		s, ok := one[string](args)
		if !ok {
			return nil, errors.New("States.StringToJson needs one string")
		}
		return decode([]byte(s))
	case "States.JsonToString":
		if len(args) != 1 {
			return nil, errors.New("States.JsonToString needs one argument")
		}
		data, err := json.Marshal(args[0])
		return string(data), err
	case "States.Array":
		return append([]any{}, args...), nil
	case "States.ArrayLength":
		arr, ok := one[[]any](args)
		if !ok {
			return nil, errors.New("States.ArrayLength needs one array")
		}
		return json.Number(strconv.Itoa(len(arr))), nil
	case "States.MathAdd":
		if len(args) != 2 {
			return nil, errors.New("States.MathAdd needs two numbers")
		}
		a, ok1 := number(args[0])
		b, ok2 := number(args[1])
		if !ok1 || !ok2 || a != float64(int64(a)) || b != float64(int64(b)) {
			return nil, errors.New("States.MathAdd needs two integers")
		}
		return json.Number(strconv.FormatInt(int64(a)+int64(b), 10)), nil
	}
	return nil, fmt.Errorf("intrinsic function %s is not supported by the local runner", name)
}

func one[T any](args []any) (T, bool) {
	var zero T
	if len(args) != 1 {
		return zero, false
	}
	v, ok := args[0].(T)
	return v, ok
}
