package statebin

import (
	"math"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	var b []byte
	b = AppendUvarint(b, 300)
	b = AppendVarint(b, -7)
	b = AppendUint64(b, 1<<60)
	b = AppendFloat(b, -2.5)
	b = AppendFloat(b, math.NaN())
	b = AppendString(b, "héllo")
	b = AppendFlag(AppendFlag(b, true), false)
	b = AppendUvarint(b, 2)
	b = append(b, 9, 8)
	d := NewDecoder(b)
	if v := d.Uvarint(300); v != 300 {
		t.Errorf("Uvarint %d", v)
	}
	if v := d.Varint(); v != -7 {
		t.Errorf("Varint %d", v)
	}
	if v := d.Uint64(); v != 1<<60 {
		t.Errorf("Uint64 %d", v)
	}
	if v := d.Finite(); v != -2.5 {
		t.Errorf("Finite %v", v)
	}
	if v := d.Float(); !math.IsNaN(v) {
		t.Errorf("Float %v", v)
	}
	if v := d.String(6); v != "héllo" {
		t.Errorf("String %q", v)
	}
	if a, c := d.Flag(), d.Flag(); !a || c {
		t.Errorf("Flags %v %v", a, c)
	}
	if n := d.Count(1); n != 2 || string(d.Bytes(n)) != "\x09\x08" {
		t.Errorf("Count %d", n)
	}
	d.End()
	if d.Err() != nil || d.Left() != 0 || d.Offset() != len(b) {
		t.Fatalf("%v, %d left at %d of %d", d.Err(), d.Left(), d.Offset(), len(b))
	}
}

// TestErrors: each bad input is an *Error naming what was being read and
// where, and the first error sticks.
func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		b    []byte
		read func(*Decoder)
		off  int
		want string
	}{
		{"truncated varint", []byte{0x80}, func(d *Decoder) { d.Varint() }, 0, "bad or truncated integer"},
		{"over max", AppendUvarint(nil, 10), func(d *Decoder) { d.Uvarint(9) }, 0, "10 is over 9"},
		{"huge count", AppendUvarint([]byte{1}, 1<<40), func(d *Decoder) { d.Byte(); d.Count(1) }, 7, "count 1099511627776 is more than the 0 bytes left hold"},
		{"count of wide items", append(AppendUvarint(nil, 2), make([]byte, 15)...), func(d *Decoder) { d.Count(8) }, 1, "count 2 is more than the 15 bytes left hold"},
		{"long string", AppendString(nil, "abcdef"), func(d *Decoder) { d.String(5) }, 0, "a string of 6 bytes, over 5"},
		{"truncated float", []byte{1, 2, 3}, func(d *Decoder) { d.Float() }, 0, "truncated: 8 bytes to read, 3 left"},
		{"infinity", AppendFloat(nil, math.Inf(-1)), func(d *Decoder) { d.Finite() }, 0, "-Inf is not a finite number"},
		{"flag", []byte{2}, func(d *Decoder) { d.Flag() }, 1, "flag is not 0 or 1"},
		{"trailing", []byte{0, 0}, func(d *Decoder) { d.Byte(); d.End() }, 1, "1 bytes after the end"},
		{"sticky", []byte{0x80, 0x80}, func(d *Decoder) { d.Varint(); d.Failf("later") }, 0, "bad or truncated integer"},
	} {
		d := NewDecoder(c.b)
		d.In("the " + c.name)
		c.read(d)
		e := d.Err()
		if e == nil || e.Offset != c.off || e.Reason != "the "+c.name+": "+c.want || !strings.HasPrefix(e.Error(), "at byte ") {
			t.Errorf("%s: %#v, want offset %d and %q", c.name, e, c.off, c.want)
		}
		if d.Varint() != 0 || d.Bytes(0) != nil || d.String(9) != "" || d.Err() != e {
			t.Errorf("%s: reads after the error", c.name)
		}
	}
	if d := At([]byte{1, 2}, 5, ""); d.Left() != 0 {
		t.Errorf("At past the end: %d left", d.Left())
	}
}

// FuzzDecoder runs a script of reads (from the first bytes) over the
// rest: never a panic, reads stay in bounds, a count never claims more
// items than the bytes left hold, and after an error every read is zero.
func FuzzDecoder(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8}, AppendString(AppendFloat(AppendVarint(AppendUvarint(nil, 5), -3), 1.5), "ab"))
	f.Add([]byte{4, 4, 4}, AppendUvarint(nil, 1<<62))
	f.Fuzz(func(t *testing.T, script, b []byte) {
		d := NewDecoder(b)
		for _, op := range script {
			before, failed := d.Offset(), d.Err() != nil
			var zero bool
			switch op % 9 {
			case 0:
				zero = d.Uvarint(uint64(op)) == 0
			case 1:
				zero = d.Varint() == 0
			case 2:
				zero = d.Uint64() == 0
			case 3:
				zero = d.Finite() == 0
			case 4:
				n := d.Count(int(op / 9))
				if n > d.Left()/max(int(op/9), 1) {
					t.Fatalf("count %d with %d bytes left", n, d.Left())
				}
				zero = n == 0
			case 5:
				zero = d.String(int(op)) == ""
			case 6:
				zero = d.Bytes(int(op)-100) == nil
			case 7:
				zero = !d.Flag()
			case 8:
				d.End()
				zero = true
			}
			if d.Offset() < before || d.Offset() > len(b) {
				t.Fatalf("offset %d after %d, of %d", d.Offset(), before, len(b))
			}
			if failed && (!zero || d.Offset() != before) {
				t.Fatal("a read after an error")
			}
		}
	})
}
