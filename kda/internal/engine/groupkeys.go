package engine

import (
	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// groupKeys are a window's GROUP BY expressions. In the window's output an
// expression equal to one of them reads the group's key. Equality is
// structural; each node's hash is computed once, bottom-up, so matching
// every node of a SELECT list against the keys stays linear (printing each
// node to compare strings was cubic in the expression's size).
type groupKeys struct {
	exprs  []syntax.Expr
	hashes []uint64
	kinds  []value.Kind
	shapes map[shape]bool // of exprs: most nodes match none, and need no hash
	memo   map[syntax.Expr]uint64
}

// shape is a node's type and operator or name: equal expressions have
// equal shapes.
type shape struct {
	tag  byte
	name string
}

func shapeOf(e syntax.Expr) shape {
	switch e := e.(type) {
	case *syntax.Literal:
		return shape{1, ""}
	case *syntax.ColRef:
		return shape{2, e.Name}
	case *syntax.Binary:
		return shape{3, e.Op}
	case *syntax.Unary:
		return shape{4, e.Op}
	case *syntax.Call:
		return shape{5, e.Name}
	case *syntax.Step:
		return shape{6, ""}
	case *syntax.Cast:
		return shape{7, ""}
	case *syntax.IsNull:
		return shape{8, ""}
	case *syntax.Like:
		return shape{9, ""}
	case *syntax.Case:
		return shape{10, ""}
	case *syntax.Between:
		return shape{11, ""}
	case *syntax.In:
		return shape{12, ""}
	}
	return shape{}
}

// find returns the index of the key equal to e.
func (g *groupKeys) find(e syntax.Expr) (int, bool) {
	if !g.shapes[shapeOf(e)] {
		return 0, false
	}
	h := exprHash(e, g.memo)
	for i, kh := range g.hashes {
		if kh == h && equalExpr(e, g.exprs[i]) {
			return i, true
		}
	}
	return 0, false
}

// add records e as a key unless an equal one exists; it returns e's index.
func (g *groupKeys) add(e syntax.Expr, kind value.Kind) (int, bool) {
	if i, ok := g.find(e); ok {
		return i, false
	}
	g.exprs = append(g.exprs, e)
	g.hashes = append(g.hashes, exprHash(e, g.memo))
	g.shapes[shapeOf(e)] = true
	g.kinds = append(g.kinds, kind)
	return len(g.exprs) - 1, true
}

// exprHash hashes e's structure (the equality of equalExpr), memoised per
// node in memo.
func exprHash(e syntax.Expr, memo map[syntax.Expr]uint64) uint64 {
	if h, ok := memo[e]; ok {
		return h
	}
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	mix := func(s string) {
		for i := 0; i < len(s); i++ {
			h = (h ^ uint64(s[i])) * prime
		}
		h = (h ^ 0xff) * prime
	}
	mixU := func(x uint64) {
		for i := 0; i < 8; i++ {
			h = (h ^ (x & 0xff)) * prime
			x >>= 8
		}
	}
	switch e := e.(type) {
	case *syntax.Literal:
		mix("lit")
		mix(e.V.SQL())
	case *syntax.ColRef:
		mix("col")
		mix(e.Name)
	case *syntax.Binary:
		mix("bin")
		mix(e.Op)
	case *syntax.Unary:
		mix("un")
		mix(e.Op)
	case *syntax.Call:
		mix("call")
		mix(e.Name)
		if e.Star {
			mix("*")
		}
		if e.Distinct {
			mix("distinct")
		}
	case *syntax.Step:
		mix("step")
		mixU(uint64(e.Millis))
	case *syntax.Cast:
		mix("cast")
		mix(e.Type.String())
	case *syntax.IsNull:
		mix("isnull")
		mixU(uint64(b2i(e.Not)))
	case *syntax.Like:
		mix("like")
		mix(e.Pattern)
		mixU(uint64(b2i(e.Not)))
	case *syntax.Case:
		mix("case")
		mixU(uint64(len(e.Whens)))
		mixU(uint64(b2i(e.Operand != nil)))
		mixU(uint64(b2i(e.Else != nil)))
	case *syntax.Between:
		mix("between")
		mixU(uint64(b2i(e.Not)))
	case *syntax.In:
		mix("in")
		mixU(uint64(b2i(e.Not)))
	}
	for _, c := range syntax.Children(e) {
		mixU(exprHash(c, memo))
	}
	memo[e] = h
	return h
}

// equalExpr reports whether a and b are the same expression: what String
// prints alike (a column's qualifier does not count; != is <>).
func equalExpr(a, b syntax.Expr) bool {
	switch a := a.(type) {
	case *syntax.Literal:
		b, ok := b.(*syntax.Literal)
		return ok && a.V.K == b.V.K && a.V.SQL() == b.V.SQL()
	case *syntax.ColRef:
		b, ok := b.(*syntax.ColRef)
		return ok && a.Name == b.Name
	case *syntax.Binary:
		b, ok := b.(*syntax.Binary)
		return ok && a.Op == b.Op && equalExpr(a.L, b.L) && equalExpr(a.R, b.R)
	case *syntax.Unary:
		b, ok := b.(*syntax.Unary)
		return ok && a.Op == b.Op && equalExpr(a.X, b.X)
	case *syntax.Call:
		b, ok := b.(*syntax.Call)
		return ok && a.Name == b.Name && a.Star == b.Star && a.Distinct == b.Distinct && equalExprs(a.Args, b.Args)
	case *syntax.Step:
		b, ok := b.(*syntax.Step)
		return ok && a.Millis == b.Millis && equalExpr(a.X, b.X)
	case *syntax.Cast:
		b, ok := b.(*syntax.Cast)
		return ok && a.Type == b.Type && equalExpr(a.X, b.X)
	case *syntax.IsNull:
		b, ok := b.(*syntax.IsNull)
		return ok && a.Not == b.Not && equalExpr(a.X, b.X)
	case *syntax.Like:
		b, ok := b.(*syntax.Like)
		return ok && a.Not == b.Not && a.Pattern == b.Pattern && equalExpr(a.X, b.X)
	case *syntax.Between:
		b, ok := b.(*syntax.Between)
		return ok && a.Not == b.Not && equalExpr(a.X, b.X) && equalExpr(a.Lo, b.Lo) && equalExpr(a.Hi, b.Hi)
	case *syntax.In:
		b, ok := b.(*syntax.In)
		return ok && a.Not == b.Not && equalExpr(a.X, b.X) && equalExprs(a.List, b.List)
	case *syntax.Case:
		b, ok := b.(*syntax.Case)
		if !ok || len(a.Whens) != len(b.Whens) || (a.Operand == nil) != (b.Operand == nil) || (a.Else == nil) != (b.Else == nil) {
			return false
		}
		if a.Operand != nil && !equalExpr(a.Operand, b.Operand) || a.Else != nil && !equalExpr(a.Else, b.Else) {
			return false
		}
		for i, w := range a.Whens {
			if !equalExpr(w.Cond, b.Whens[i].Cond) || !equalExpr(w.Result, b.Whens[i].Result) {
				return false
			}
		}
		return true
	}
	return false
}

func equalExprs(a, b []syntax.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !equalExpr(a[i], b[i]) {
			return false
		}
	}
	return true
}
