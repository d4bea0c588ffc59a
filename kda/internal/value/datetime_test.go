package value

import (
	"testing"
	"unsafe"
)

// TestParseInterval: interval literal texts of each qualifier, and the
// ones SQL refuses (a field after the leading one out of range, a missing
// or extra field, more than 9 leading digits).
func TestParseInterval(t *testing.T) {
	q := func(from, to Unit) Qualifier { return Qualifier{from, to} }
	for _, c := range []struct {
		s    string
		q    Qualifier
		want int64
		ok   bool
	}{
		{"5", q(UnitMinute, UnitMinute), 300_000, true},
		{" -5 ", q(UnitMinute, UnitMinute), -300_000, true},
		{"+1:30", q(UnitHour, UnitMinute), 5_400_000, true},
		{"2 3:4:5.678", q(UnitDay, UnitSecond), 183_845_678, true},
		{"1.5", q(UnitSecond, UnitSecond), 1500, true},
		{"1.23456", q(UnitSecond, UnitSecond), 1234, true},
		{"3-4", q(UnitYear, UnitMonth), 40, true},
		{"40", q(UnitMonth, UnitMonth), 40, true},
		{"999999999", q(UnitDay, UnitDay), 999_999_999 * 86_400_000, true},
		{"1:60", q(UnitHour, UnitMinute), 0, false},
		{"1 24", q(UnitDay, UnitHour), 0, false},
		{"3-12", q(UnitYear, UnitMonth), 0, false},
		{"1", q(UnitHour, UnitMinute), 0, false},
		{"1:2:3", q(UnitHour, UnitMinute), 0, false},
		{"1.5", q(UnitMinute, UnitMinute), 0, false},
		{"1000000000", q(UnitSecond, UnitSecond), 0, false},
		{"", q(UnitDay, UnitDay), 0, false},
		{"1", q(UnitYear, UnitDay), 0, false},
		{"1.", q(UnitSecond, UnitSecond), 0, false},
	} {
		got, ok := ParseInterval(c.s, c.q)
		if ok != c.ok || ok && got != c.want {
			t.Errorf("ParseInterval(%q, %s) = %d, %v; want %d, %v", c.s, c.q, got, ok, c.want, c.ok)
		}
	}
}

var qualifiers = func() (qs []Qualifier) {
	for f := UnitYear; f <= UnitSecond; f++ {
		for t := f; t <= UnitSecond; t++ {
			if q := (Qualifier{f, t}); q.Valid() {
				qs = append(qs, q)
			}
		}
	}
	return qs
}()

// FuzzParseInterval: ParseInterval never panics, and what it accepts
// AppendInterval writes back as text it reads as the same value.
func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{"5", "-1:30", "2 3:4:5.678", "3-4", "+999999999 23:59:59.999", "1:60", " 1 "} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, qi uint8) {
		q := qualifiers[int(qi)%len(qualifiers)]
		n, ok := ParseInterval(s, q)
		if !ok {
			return
		}
		text := string(AppendInterval(nil, Value{K: q.Kind(), I: n}, q))
		if back, ok := ParseInterval(text, q); !ok || back != n {
			t.Fatalf("%q %s = %d, written %q, read back %d %v", s, q, n, text, back, ok)
		}
	})
}

// FuzzParseDateTime: ParseDate and ParseTimeOfDay never panic, accept
// only values in range, and read back what their layouts write.
func FuzzParseDateTime(f *testing.F) {
	for _, s := range []string{"2026-01-02", "0001-01-01", "9999-12-31", "0000-12-31", "12:00", "23:59:59.999", "24:00:00", " 01:02:03.0000001 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, ok := ParseDate(s); ok {
			v := Value{K: KindDate, I: d}
			if d < MinDate || d > MaxDate {
				t.Fatalf("%q: DATE %d out of range", s, d)
			}
			if back, ok := ParseDate(v.Date().Format(DateLayout)); !ok || back != d {
				t.Fatalf("%q: %d read back as %d", s, d, back)
			}
		}
		if ms, ok := ParseTimeOfDay(s); ok {
			if ms < 0 || ms >= DayMillis {
				t.Fatalf("%q: TIME %d out of range", s, ms)
			}
			if back, ok := ParseTimeOfDay(string(appendTimeOfDay(nil, ms))); !ok || back != ms {
				t.Fatalf("%q: %d read back as %d", s, ms, back)
			}
		}
	})
}

// TestTypeSize: a Type is copied per value on the JSON decoder's hot
// path; the interval qualifier lives in the padding after Kind.
func TestTypeSize(t *testing.T) {
	if n := unsafe.Sizeof(Type{}); n != 24 {
		t.Fatalf("Type is %d bytes, want 24", n)
	}
	if n := unsafe.Sizeof(Value{}); n != 40 {
		t.Fatalf("Value is %d bytes, want 40", n)
	}
}
