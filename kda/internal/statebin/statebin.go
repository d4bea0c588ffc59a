package statebin

import (
	"encoding/binary"
	"fmt"
	"math"
)

// AppendUvarint appends v as a uvarint.
func AppendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

// AppendVarint appends v as a varint.
func AppendVarint(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendUint64 appends v as 8 little-endian bytes.
func AppendUint64(b []byte, v uint64) []byte { return binary.LittleEndian.AppendUint64(b, v) }

// AppendFloat appends f's IEEE 754 bits as 8 little-endian bytes.
func AppendFloat(b []byte, f float64) []byte { return AppendUint64(b, math.Float64bits(f)) }

// AppendString appends s with its length as a uvarint before it.
func AppendString(b []byte, s string) []byte {
	return append(AppendUvarint(b, uint64(len(s))), s...)
}

// AppendFlag appends one byte, 1 for true and 0 for false.
func AppendFlag(b []byte, f bool) []byte {
	if f {
		return append(b, 1)
	}
	return append(b, 0)
}

// Error reports state that cannot be decoded.
type Error struct {
	Offset int    // byte offset where decoding stopped
	Reason string // what was being decoded, then what is wrong with it
}

func (e *Error) Error() string { return fmt.Sprintf("at byte %d, %s", e.Offset, e.Reason) }

// Decoder reads state that the Append functions wrote; the first error
// sticks. The zero Decoder reads nothing.
type Decoder struct {
	b    []byte
	off  int
	err  *Error
	what string
}

// NewDecoder returns a decoder reading b from its start.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// At returns a decoder reading b from off (at most len(b)) and naming
// what in its errors, for a caller that keeps its own position.
func At(b []byte, off int, what string) Decoder {
	return Decoder{b: b, off: min(max(off, 0), len(b)), what: what}
}

// In names what the following reads decode, for errors.
func (d *Decoder) In(what string) { d.what = what }

// Err returns the first error, or nil.
func (d *Decoder) Err() *Error { return d.err }

// Offset is the position of the next read.
func (d *Decoder) Offset() int { return d.off }

// Left is the number of bytes not yet read.
func (d *Decoder) Left() int { return len(d.b) - d.off }

// Failf records an error at the current offset unless there is one.
func (d *Decoder) Failf(format string, args ...any) {
	if d.err != nil {
		return
	}
	r := fmt.Sprintf(format, args...)
	if d.what != "" {
		r = d.what + ": " + r
	}
	d.err = &Error{Offset: d.off, Reason: r}
}

// Uvarint reads a uvarint of at most max.
func (d *Decoder) Uvarint(max uint64) uint64 {
	off := d.off
	v := varint(d, binary.Uvarint, "integer")
	if v > max {
		d.off = off
		d.Failf("%d is over %d", v, max)
		return 0
	}
	return v
}

// Varint reads a varint.
func (d *Decoder) Varint() int64 { return varint(d, binary.Varint, "integer") }

// Count reads a uvarint count of items that take at least minBytes (≥ 1)
// each, and fails if the bytes left cannot hold them: a corrupt count
// cannot make a large allocation.
func (d *Decoder) Count(minBytes int) int {
	v := varint(d, binary.Uvarint, "count")
	if v > uint64(d.Left())/uint64(max(minBytes, 1)) {
		d.Failf("count %d is more than the %d bytes left hold", v, d.Left())
		return 0
	}
	return int(v)
}

// varint reads one integer with read (binary.Uvarint or binary.Varint).
func varint[T int64 | uint64](d *Decoder, read func([]byte) (T, int), what string) T {
	if d.err != nil {
		return 0
	}
	v, n := read(d.b[d.off:])
	if n <= 0 {
		d.Failf("bad or truncated %s", what)
		return 0
	}
	d.off += n
	return v
}

// Bytes reads n bytes; the result aliases the decoded buffer.
func (d *Decoder) Bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > d.Left() {
		d.Failf("truncated: %d bytes to read, %d left", n, d.Left())
		return nil
	}
	b := d.b[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if b := d.Bytes(1); b != nil {
		return b[0]
	}
	return 0
}

// Flag reads a byte AppendFlag wrote, failing on anything but 0 or 1.
func (d *Decoder) Flag() bool {
	b := d.Bytes(1)
	if b != nil && b[0] > 1 {
		d.Failf("flag is not 0 or 1")
	}
	return b != nil && b[0] == 1
}

// String reads a string AppendString wrote, of at most max bytes.
func (d *Decoder) String(max int) string {
	if d.err != nil {
		return ""
	}
	off := d.off
	n := d.Count(1)
	if d.err == nil && n > max {
		d.off = off
		d.Failf("a string of %d bytes, over %d", n, max)
		return ""
	}
	return string(d.Bytes(n))
}

// Uint64 reads 8 little-endian bytes.
func (d *Decoder) Uint64() uint64 {
	if b := d.Bytes(8); b != nil {
		return binary.LittleEndian.Uint64(b)
	}
	return 0
}

// Float reads a float64 AppendFloat wrote, whatever its value.
func (d *Decoder) Float() float64 { return math.Float64frombits(d.Uint64()) }

// Finite reads a float64 and fails on NaN or an infinity.
func (d *Decoder) Finite() float64 {
	off := d.off
	f := d.Float()
	if d.err == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
		d.off = off
		d.Failf("%v is not a finite number", f)
		return 0
	}
	return f
}

// End fails if bytes are left.
func (d *Decoder) End() {
	if d.err == nil && d.Left() > 0 {
		d.Failf("%d bytes after the end", d.Left())
	}
}
