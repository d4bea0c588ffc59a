package engine

import (
	"encoding/binary"
	"math/bits"
	"strconv"
)

// The JSON scanning primitives of the decoder: whitespace, strings (eight
// bytes at a time), skipped values, and numbers without allocation.

func skipWS(b []byte, p int) int {
	for p < len(b) && jsonSpace[b[p]] {
		p++
	}
	return p
}

// jsonSpace marks JSON's whitespace: one lookup a byte where comparing
// with each of the four cost a seventh of an indented record's decoding.
var jsonSpace = [256]bool{' ': true, '\n': true, '\t': true, '\r': true}

// scanString scans the string at b[p] ('"'): content bounds, whether it has
// escapes or bytes above 0x7f (to check as UTF-8), and the offset after
// the closing quote (-1 if unterminated or holding a control character).
func scanString(b []byte, p int) (start, end int, esc, high bool, next int) {
	start = p + 1
	k := start
	for {
		// Eight bytes at a time: the lowest byte stopMask flags is the
		// first that is not plain ASCII text.
		if k+8 <= len(b) {
			m := stopMask(binary.LittleEndian.Uint64(b[k:]))
			if m == 0 {
				k += 8
				continue
			}
			k += bits.TrailingZeros64(m) >> 3
		} else {
			for k < len(b) && !strStop[b[k]] {
				k++
			}
			if k >= len(b) {
				return 0, 0, false, false, -1
			}
		}
		switch c := b[k]; {
		case c == '"':
			return start, k, esc, high, k + 1
		case c == '\\':
			esc = true
			k += 2
		case c < 0x20:
			return 0, 0, false, false, -1
		default:
			high = true
			k++
		}
	}
}

const (
	loBits = 0x0101010101010101
	hiBits = 0x8080808080808080
)

// stopMask flags (bit 7 of each byte) x's bytes that are a quote, a
// backslash, a control character or above 0x7f. Above the lowest flagged
// byte a flag may be spurious (a borrow); the lowest is exact.
func stopMask(x uint64) uint64 {
	q, bs := x^(loBits*'"'), x^(loBits*'\\')
	return ((x - loBits*0x20) | (q-loBits)&^q | (bs-loBits)&^bs | x) & hiBits
}

// strStop marks the bytes stopMask flags, for the last bytes of a record.
var strStop = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80
	}
	return t
}()

func skipValue(b []byte, p, depth int) (int, error) {
	if p >= len(b) || depth > 1000 {
		return 0, errBadJSON
	}
	switch c := b[p]; {
	case c == '"':
		_, _, _, _, np := scanString(b, p)
		if np < 0 {
			return 0, errBadJSON
		}
		return np, nil
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p = skipWS(b, p+1)
		if p < len(b) && b[p] == closer {
			return p + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if p >= len(b) || b[p] != '"' {
					return 0, errBadJSON
				}
				if p, err = skipValue(b, p, depth+1); err != nil {
					return 0, err
				}
				p = skipWS(b, p)
				if p >= len(b) || b[p] != ':' {
					return 0, errBadJSON
				}
				p = skipWS(b, p+1)
			}
			if p, err = skipValue(b, p, depth+1); err != nil {
				return 0, err
			}
			p = skipWS(b, p)
			if p >= len(b) {
				return 0, errBadJSON
			}
			if b[p] == closer {
				return p + 1, nil
			}
			if b[p] != ',' {
				return 0, errBadJSON
			}
			p = skipWS(b, p+1)
		}
	case c == 't':
		return lit(b, p, "true")
	case c == 'f':
		return lit(b, p, "false")
	case c == 'n':
		return lit(b, p, "null")
	default:
		e := numberEnd(b, p)
		if e == p || !validNumber(b[p:e]) {
			return 0, errBadJSON
		}
		return e, nil
	}
}

func lit(b []byte, p int, s string) (int, error) {
	if len(b)-p < len(s) || string(b[p:p+len(s)]) != s {
		return 0, errBadJSON
	}
	return p + len(s), nil
}

func numberEnd(b []byte, p int) int {
	for p < len(b) {
		switch c := b[p]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			p++
		default:
			return p
		}
	}
	return p
}

// validNumber reports whether b is a JSON number:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. It replaces json.Valid
// on the hot path, where it cost an eighth of a record's decoding.
func validNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

// pow10 holds the powers of ten a float64 represents exactly.
var pow10 = [...]float64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15}

// parseDecimal parses a JSON number without exponent and with at most 15
// digits, -?(0|[1-9][0-9]*)(\.[0-9]+)?, as ParseFloat would: the digits
// and the power of ten are exact float64s and the division rounds
// correctly (Clinger's fast path). Other numbers report false, for
// strconv; it is a fifth of the cost of a record with two prices.
func parseDecimal(b []byte) (float64, bool) {
	i, neg := 0, false
	if len(b) > 0 && b[0] == '-' {
		i, neg = 1, true
	}
	if i >= len(b) || b[i] < '0' || b[i] > '9' || b[i] == '0' && i+1 < len(b) && b[i+1] != '.' {
		return 0, false
	}
	var m uint64
	digits, frac := 0, -1
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			m = m*10 + uint64(c-'0')
			digits++
			if frac >= 0 {
				frac++
			}
		case c == '.' && frac < 0 && i+1 < len(b):
			frac = 0
		default:
			return 0, false
		}
	}
	if digits > 15 || frac == 0 {
		return 0, false
	}
	f := float64(m)
	if frac > 0 {
		f /= pow10[frac]
	}
	if neg {
		f = -f
	}
	return f, true
}

// parseInt parses a JSON integer without allocating.
func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 || len(b) > 1 && b[0] == '0' {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func parseIntSlow(b []byte) (int64, bool) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	return n, err == nil
}
