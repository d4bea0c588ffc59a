package engine

// The state of SELECT STREAM DISTINCT, of a stream-to-stream join and of
// ORDER BY, written after a pump's window and sliding state (nothing for
// a pump without them, so states of other applications are unchanged).

// pumpExtra is the decoded extra state of one pump.
type pumpExtra struct {
	distCur  []byte
	distSeen map[string]struct{}
	distMono monoKeys
	join     [2]joinSide
	order    orderState
}

func (p *pump) appendExtraState(b []byte) []byte {
	if p.distinct != nil {
		b = p.distinct.appendState(b)
	}
	if p.sjoin != nil {
		b = p.sjoin.appendState(b)
	}
	if p.order != nil && p.order.owner {
		b = p.order.s.appendState(b)
	}
	return b
}

func (d *stateDecoder) pumpExtra(p *pump) pumpExtra {
	var x pumpExtra
	if p.distinct != nil {
		x.distCur, x.distSeen, x.distMono = d.distinct(p.distinct)
	}
	if p.sjoin != nil {
		x.join = d.joinState(p.sjoin, p.src)
	}
	if p.order != nil && p.order.owner {
		x.order = d.order(p.order.s)
	}
	return x
}

func (p *pump) restoreExtra(x pumpExtra) {
	if p.distinct != nil {
		p.distinct.cur, p.distinct.seen = x.distCur, x.distSeen
		if p.distinct.declared != nil {
			*p.distinct.declared = x.distMono
		}
	}
	if p.sjoin != nil {
		p.sjoin.sides = x.join
	}
	if p.order != nil && p.order.owner {
		p.order.s.restore(x.order)
	}
}
