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

// windowSpec parses ( [PARTITION BY …] frame ), the frame RANGE INTERVAL
// 'n' unit PRECEDING, ROWS n PRECEDING, RANGE|ROWS UNBOUNDED PRECEDING or
// RANGE|ROWS CURRENT ROW, optionally as BETWEEN that AND CURRENT ROW. A
// window on a stream ends with the current row: KDA allows no FOLLOWING
// (the rows after the current one have not arrived), and neither does
// this parser.
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
	case ps.acceptKw("RANGE"):
	default:
		return nil, t.pos.Errorf("expected RANGE INTERVAL 'n' unit PRECEDING or ROWS n PRECEDING, found %s", t)
	}
	between := ps.acceptKw("BETWEEN")
	if err := ps.frameStart(w); err != nil {
		return nil, err
	}
	if between {
		if err := ps.expectKw("AND"); err != nil {
			return nil, err
		}
		if err := ps.frameEnd(); err != nil {
			return nil, err
		}
	}
	return w, ps.expectOp(")")
}

// frameStart parses a frame's start after RANGE or ROWS [BETWEEN].
func (ps *parser) frameStart(w *WindowSpec) error {
	t := ps.peek()
	switch {
	case ps.isKw("CURRENT"):
		return ps.currentRow()
	case ps.acceptKw("UNBOUNDED"):
		w.Unbounded = true
	case w.Rows:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if t.kind != tNumber || err != nil || n < 0 || n > 1_000_000 {
			return ps.unexpected("a row count between 0 and 1000000")
		}
		ps.p++
		w.Size = n
	default:
		if err := ps.expectKw("INTERVAL"); err != nil {
			return err
		}
		ms, err := ps.intervalMillis()
		if err != nil {
			return err
		}
		w.Size = ms
	}
	if ps.isKw("FOLLOWING") {
		return errFollowing(ps.peek().pos)
	}
	return ps.expectKw("PRECEDING")
}

// errFollowing is the error for a FOLLOWING bound.
func errFollowing(pos Pos) error {
	return pos.Errorf("FOLLOWING cannot be used on a stream: a window ends with the current row, as in KDA (the rows after it have not arrived)")
}

// frameEnd parses the CURRENT ROW after BETWEEN … AND.
func (ps *parser) frameEnd() error {
	if !ps.isKw("CURRENT") {
		// n FOLLOWING, UNBOUNDED FOLLOWING, INTERVAL 'n' unit FOLLOWING.
		for i := 0; i < 4; i++ {
			if t := ps.tok(i); t.kind == tIdent && t.text == "FOLLOWING" {
				return errFollowing(t.pos)
			}
		}
		return ps.unexpected("CURRENT ROW (a window ends with the current row)")
	}
	return ps.currentRow()
}

// currentRow parses CURRENT ROW.
func (ps *parser) currentRow() error {
	if err := ps.expectKw("CURRENT"); err != nil {
		return err
	}
	return ps.expectKw("ROW")
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
