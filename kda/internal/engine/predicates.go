package engine

import (
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

func (s *scope) compileLike(e *syntax.Like) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	if x.typ != value.KindString && x.typ != value.KindNull {
		return cexpr{}, e.P.Errorf("LIKE needs a VARCHAR, got %s", x.typ)
	}
	pat, not := e.Pattern, e.Not
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil || a.K == value.KindNull {
			return value.Value{}, err
		}
		return value.BoolValue(likeMatch(a.S, pat) != not), nil
	}}, nil
}

// likeMatch reports whether s matches the LIKE pattern p: % matches any run
// of characters, _ one character, anything else itself. It needs no
// compiled form (a regexp built from a megabyte pattern took minutes and
// gigabytes) and takes O(len(s)·len(p)) at worst: on a mismatch it
// retries only from the last %.
func likeMatch(s, p string) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch p[pi] {
			case '%':
				starP, starS = pi, si
				pi++
				continue
			case '_':
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			default:
				_, pn := utf8.DecodeRuneInString(p[pi:])
				_, sn := utf8.DecodeRuneInString(s[si:])
				if pn == sn && p[pi:pi+pn] == s[si:si+sn] {
					si += sn
					pi += pn
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last % swallow one more character and retry after it.
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si, pi = starS, starP+1
	}
	for pi < len(p) && p[pi] == '%' {
		pi++
	}
	return pi == len(p)
}

func (s *scope) compileCase(e *syntax.Case) (cexpr, error) {
	var operand *cexpr
	if e.Operand != nil {
		op, err := s.compile(e.Operand)
		if err != nil {
			return cexpr{}, err
		}
		operand = &op
	}
	conds := make([]cexpr, len(e.Whens))
	results := make([]cexpr, 0, len(e.Whens)+1)
	for i, w := range e.Whens {
		c, err := s.compile(w.Cond)
		if err != nil {
			return cexpr{}, err
		}
		if operand != nil {
			if !comparable(operand.typ, c.typ) {
				return cexpr{}, w.Cond.ExprPos().Errorf("cannot compare %s with %s", operand.typ, c.typ)
			}
		} else if c.typ != value.KindBool && c.typ != value.KindNull {
			return cexpr{}, w.Cond.ExprPos().Errorf("WHEN needs a BOOLEAN condition, got %s", c.typ)
		}
		conds[i] = c
		r, err := s.compile(w.Result)
		if err != nil {
			return cexpr{}, err
		}
		results = append(results, r)
	}
	var elseFn *cexpr
	if e.Else != nil {
		el, err := s.compile(e.Else)
		if err != nil {
			return cexpr{}, err
		}
		elseFn = &el
		results = append(results, el)
	}
	typ, err := commonKind(e.P, "CASE", results)
	if err != nil {
		return cexpr{}, err
	}
	return cexpr{typ: typ, fn: func(v *env) (value.Value, error) {
		var opv value.Value
		if operand != nil {
			var err error
			if opv, err = operand.fn(v); err != nil {
				return opv, err
			}
		}
		for i, c := range conds {
			cv, err := c.fn(v)
			if err != nil {
				return cv, err
			}
			hit := false
			if operand != nil {
				hit = opv.K != value.KindNull && cv.K != value.KindNull && compareValues(opv, cv) == 0
			} else {
				hit = cv.K == value.KindBool && cv.I == 1
			}
			if hit {
				r, err := results[i].fn(v)
				return widen(r, typ), err
			}
		}
		if elseFn != nil {
			r, err := elseFn.fn(v)
			return widen(r, typ), err
		}
		return value.Value{}, nil
	}}, nil
}

func (s *scope) compileBetween(e *syntax.Between) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	lo, err := s.compile(e.Lo)
	if err != nil {
		return cexpr{}, err
	}
	hi, err := s.compile(e.Hi)
	if err != nil {
		return cexpr{}, err
	}
	for _, b := range []cexpr{lo, hi} {
		if !comparable(x.typ, b.typ) {
			return cexpr{}, e.P.Errorf("cannot compare %s with %s", x.typ, b.typ)
		}
	}
	not := e.Not
	// x >= lo AND x <= hi in three-valued logic, x evaluated once; hi is
	// not evaluated when x < lo.
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil {
			return a, err
		}
		l, err := lo.fn(v)
		if err != nil {
			return l, err
		}
		geLo := a.K != value.KindNull && l.K != value.KindNull
		if geLo && compareValues(a, l) < 0 {
			return value.BoolValue(not), nil
		}
		h, err := hi.fn(v)
		if err != nil {
			return h, err
		}
		if a.K != value.KindNull && h.K != value.KindNull && compareValues(a, h) > 0 {
			return value.BoolValue(not), nil
		}
		if !geLo || h.K == value.KindNull {
			return value.Value{}, nil
		}
		return value.BoolValue(!not), nil
	}}, nil
}

func (s *scope) compileIn(e *syntax.In) (cexpr, error) {
	x, err := s.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	list := make([]cexpr, len(e.List))
	for i, le := range e.List {
		c, err := s.compile(le)
		if err != nil {
			return cexpr{}, err
		}
		if !comparable(x.typ, c.typ) {
			return cexpr{}, le.ExprPos().Errorf("cannot compare %s with %s", x.typ, c.typ)
		}
		list[i] = c
	}
	not := e.Not
	// x = l1 OR x = l2 … in three-valued logic, x evaluated once and the
	// list up to the first match.
	return cexpr{typ: value.KindBool, fn: func(v *env) (value.Value, error) {
		a, err := x.fn(v)
		if err != nil {
			return a, err
		}
		null := a.K == value.KindNull
		for _, c := range list {
			b, err := c.fn(v)
			if err != nil {
				return b, err
			}
			if b.K == value.KindNull || a.K == value.KindNull {
				null = true
				continue
			}
			if compareValues(a, b) == 0 {
				return value.BoolValue(!not), nil
			}
		}
		if null {
			return value.Value{}, nil
		}
		return value.BoolValue(not), nil
	}}, nil
}
