package syntax

import (
	"strconv"
	"strings"
	"time"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// The calls with their own argument syntax (SUBSTRING … FROM … FOR …,
// OVERLAY … PLACING … FROM … FOR …, POSITION … IN …, TRIM … FROM …, EXP_AVG … INTERVAL …), OVER and
// window specifications, and TIMESTAMP literals.

// over parses the ')' closing c's arguments and an optional OVER.
func (ps *parser) over(c *Call) (Expr, error) {
	if err := ps.expectOp(")"); err != nil {
		return nil, err
	}
	var err error
	if c.Over, c.OverName, err = ps.optOver(); err != nil {
		return nil, err
	}
	return c, nil
}

// windowSpec parses ( [PARTITION BY …] RANGE INTERVAL 'n' unit PRECEDING |
// ROWS n PRECEDING ).
func (ps *parser) windowSpec() (*WindowSpec, error) {
	w := &WindowSpec{P: ps.peek().pos}
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	if ps.acceptKw("PARTITION") {
		if err := ps.expectKw("BY"); err != nil {
			return nil, err
		}
		list, err := ps.exprList()
		if err != nil {
			return nil, err
		}
		w.PartitionBy = list
	}
	switch t := ps.peek(); {
	case ps.acceptKw("ROWS"):
		w.Rows = true
		nt := ps.peek()
		n, err := strconv.ParseInt(nt.text, 10, 64)
		if nt.kind != tNumber || err != nil || n < 0 || n > 1_000_000 {
			if nt.kind == tIdent && nt.text == "UNBOUNDED" {
				return nil, nt.pos.Unsupported("ROWS UNBOUNDED PRECEDING")
			}
			return nil, ps.unexpected("a row count between 0 and 1000000")
		}
		ps.p++
		w.Size = n
	case ps.acceptKw("RANGE"):
		if ps.isKw("UNBOUNDED") {
			return nil, ps.peek().pos.Unsupported("RANGE UNBOUNDED PRECEDING")
		}
		if err := ps.expectKw("INTERVAL"); err != nil {
			return nil, err
		}
		ms, err := ps.intervalMillis()
		if err != nil {
			return nil, err
		}
		w.Size = ms
	default:
		return nil, t.pos.Errorf("expected RANGE INTERVAL 'n' unit PRECEDING or ROWS n PRECEDING, found %s", t)
	}
	if err := ps.expectKw("PRECEDING"); err != nil {
		return nil, err
	}
	return w, ps.expectOp(")")
}

// intervalMillis parses what follows INTERVAL: 'n' SECOND|MINUTE|HOUR|DAY.
func (ps *parser) intervalMillis() (int64, error) {
	nt := ps.peek()
	n, err := strconv.ParseInt(strings.TrimSpace(nt.text), 10, 64)
	if nt.kind != tString || err != nil || n < 1 || n > 1_000_000 {
		return 0, ps.unexpected("an interval like '1'")
	}
	ps.p++
	ut := ps.peek()
	unit, ok := intervalUnits[ut.text]
	if ut.kind != tIdent || !ok {
		return 0, ps.unexpected("SECOND, MINUTE, HOUR or DAY")
	}
	ps.p++
	return n * unit, nil
}

// substringArgs parses the arguments of SUBSTRING after its '(': (s FROM
// start [FOR len]), (s, start [, len]) or (s SIMILAR pattern ESCAPE c),
// the last as the call SUBSTRING SIMILAR (s, pattern, c).
func (ps *parser) substringArgs(c *Call) (Expr, error) {
	s, err := ps.expr()
	if err != nil {
		return nil, err
	}
	c.Args = []Expr{s}
	switch {
	case ps.acceptKw("SIMILAR"):
		c.Name = "SUBSTRING SIMILAR"
		pat, err := ps.expr()
		if err != nil {
			return nil, err
		}
		if err := ps.expectKw("ESCAPE"); err != nil {
			return nil, err
		}
		esc, err := ps.expr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, pat, esc)
	case ps.acceptKw("FROM"):
		start, err := ps.expr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, start)
		if ps.acceptKw("FOR") {
			n, err := ps.expr()
			if err != nil {
				return nil, err
			}
			c.Args = append(c.Args, n)
		}
	case ps.isOp(","):
		ps.p++
		rest, err := ps.exprList()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, rest...)
	}
	return c, ps.expectOp(")")
}

// expAvgArgs parses EXP_AVG(x, INTERVAL 'n' unit) after its '(', the
// half-life as a BIGINT literal of milliseconds, then its OVER.
func (ps *parser) expAvgArgs(c *Call) (Expr, error) {
	x, err := ps.expr()
	if err != nil {
		return nil, err
	}
	if err := ps.expectOp(","); err != nil {
		return nil, err
	}
	it := ps.peek()
	if err := ps.expectKw("INTERVAL"); err != nil {
		return nil, err
	}
	ms, err := ps.intervalMillis()
	if err != nil {
		return nil, err
	}
	c.Args = []Expr{x, &Literal{P: it.pos, V: value.IntValue(ms)}}
	return ps.over(c)
}

// overlayArgs parses OVERLAY(s PLACING r FROM start [FOR n]) after its
// '(' as OVERLAY(s, r, start [, n]).
func (ps *parser) overlayArgs(c *Call) (Expr, error) {
	for _, kw := range []string{"", "PLACING", "FROM", "FOR"} {
		if kw == "FOR" && !ps.isKw("FOR") {
			break
		}
		if kw != "" {
			if err := ps.expectKw(kw); err != nil {
				return nil, err
			}
		}
		x, err := ps.expr()
		if err != nil {
			return nil, err
		}
		c.Args = append(c.Args, x)
	}
	return c, ps.expectOp(")")
}

// positionArgs parses POSITION(search IN source) after its '('.
func (ps *parser) positionArgs(c *Call) (Expr, error) {
	// The search string is parsed above IN's precedence: x IN y is not a
	// membership test here.
	search, err := ps.addExpr()
	if err != nil {
		return nil, err
	}
	if err := ps.expectKw("IN"); err != nil {
		return nil, err
	}
	src, err := ps.expr()
	if err != nil {
		return nil, err
	}
	c.Args = []Expr{search, src}
	return c, ps.expectOp(")")
}

// trimArgs parses TRIM([[LEADING|TRAILING|BOTH] [chars] FROM] s) after its
// '(' as TRIM('mode', chars, s).
func (ps *parser) trimArgs(c *Call) (Expr, error) {
	mode := "BOTH"
	var chars Expr = &Literal{P: c.P, V: value.StringValue(" ")}
	explicit := false
	for _, m := range []string{"LEADING", "TRAILING", "BOTH"} {
		if ps.acceptKw(m) {
			mode, explicit = m, true
			break
		}
	}
	var s Expr
	if explicit && ps.acceptKw("FROM") {
		x, err := ps.expr()
		if err != nil {
			return nil, err
		}
		s = x
	} else {
		x, err := ps.expr()
		if err != nil {
			return nil, err
		}
		if ps.acceptKw("FROM") {
			chars = x
			if s, err = ps.expr(); err != nil {
				return nil, err
			}
		} else if explicit {
			return nil, ps.unexpected("FROM")
		} else {
			s = x
		}
	}
	c.Args = []Expr{&Literal{P: c.P, V: value.StringValue(mode)}, chars, s}
	return c, ps.expectOp(")")
}

var timestampLiteralLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05", "2006-01-02"}

// parseTimestampLiteral reads the text of TIMESTAMP '…' as UTC Unix
// milliseconds.
func parseTimestampLiteral(s string) (int64, bool) {
	for _, l := range timestampLiteralLayouts {
		if t, err := time.Parse(l, strings.TrimSpace(s)); err == nil {
			return t.UnixMilli(), true
		}
	}
	return 0, false
}
