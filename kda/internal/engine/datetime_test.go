package engine

import (
	"errors"
	"testing"

	"github.com/lakekit/lakekit/kda/internal/value"
)

// TestTemporalValueState: DATE, TIME and interval values survive the
// window state's encoding (kinds 6–10, added without a version change: an
// older state never holds them), and a DATE or TIME out of its range is a
// *StateError, not a value.
func TestTemporalValueState(t *testing.T) {
	for _, v := range []value.Value{
		{K: value.KindDate, I: 20455}, {K: value.KindDate, I: value.MinDate}, {K: value.KindDate, I: value.MaxDate},
		{K: value.KindTimeOfDay, I: 0}, {K: value.KindTimeOfDay, I: value.DayMillis - 1},
		{K: value.KindInterval, I: -90_000}, {K: value.KindMonths, I: 40}, {K: value.KindBinary, S: "\x00\xff"},
	} {
		d := &stateDecoder{b: appendValue(nil, v)}
		if got := d.value(); got != v || d.err != nil || d.off != len(d.b) {
			t.Errorf("%v: read back %v (%v)", v, got, d.err)
		}
	}
	for _, v := range []value.Value{{K: value.KindDate, I: value.MaxDate + 1}, {K: value.KindTimeOfDay, I: value.DayMillis}, {K: value.KindTimeOfDay, I: -1}} {
		d := &stateDecoder{b: appendValue(nil, v)}
		d.value()
		var se *StateError
		if !errors.As(error(d.err), &se) {
			t.Errorf("%v: err %v, want a *StateError", v, d.err)
		}
	}
	d := &stateDecoder{b: []byte{byte(value.KindBinary) + 1, 0}}
	if d.value(); d.err == nil {
		t.Error("an unknown kind restored")
	}
}

var dateTimeColumns = []value.Column{
	{Name: "d", Type: value.Date, Mapping: "$.d"},
	{Name: "t", Type: value.TimeOfDay, Mapping: "$.t"},
	{Name: "b", Type: value.Type{Kind: value.KindBinary, Len: 4}, Mapping: "$.b"},
}

// FuzzDecodeDateTime: the JSON and CSV decoders read DATE, TIME and
// VARBINARY(4) columns without panicking; what they accept is of the
// column's kind and in its range, and anything else is an *InputError.
func FuzzDecodeDateTime(f *testing.F) {
	f.Add([]byte(`{"d":"2026-01-02","t":"12:00:00.5","b":"AQID"}`), []byte("2026-01-02,12:00,AQID\n,23:59:59.999,"))
	f.Add([]byte(`{"d":"2026-02-30","t":"24:00","b":"AQIDBAU="}`), []byte("0000-01-01,00:00:00.0000001,x\n9999-12-31,x,AA=="))
	f.Add([]byte(`{"d":20000,"t":true,"b":1}`), []byte("2026-1-2, 1:2,"))
	js, err := newDecoder(append([]value.Column(nil), dateTimeColumns...))
	if err != nil {
		f.Fatal(err)
	}
	cs, err := newCSVDecoder(Format{Type: FormatCSV}, append([]value.Column(nil), dateTimeColumns...))
	if err != nil {
		f.Fatal(err)
	}
	check := func(t *testing.T, row []value.Value, err error) {
		var ie *InputError
		if err != nil {
			if !errors.As(err, &ie) && !errors.Is(err, errBadJSON) {
				t.Fatalf("error type %T: %v", err, err)
			}
			return
		}
		for i, v := range row {
			switch {
			case v.K == value.KindNull:
			case v.K != dateTimeColumns[i].Type.Kind:
				t.Fatalf("column %d: %v", i, v)
			case v.K == value.KindDate && (v.I < value.MinDate || v.I > value.MaxDate):
				t.Fatalf("DATE %d out of range", v.I)
			case v.K == value.KindTimeOfDay && (v.I < 0 || v.I >= value.DayMillis):
				t.Fatalf("TIME %d out of range", v.I)
			case v.K == value.KindBinary && len(v.S) > 4:
				t.Fatalf("%d bytes in a VARBINARY(4)", len(v.S))
			}
		}
	}
	out := make([]value.Value, len(dateTimeColumns))
	f.Fuzz(func(t *testing.T, rec, csv []byte) {
		check(t, out, js.decode(rec, out))
		cs.rows(csv, out, func(row []value.Value, _ string, err error) { check(t, row, err) })
	})
}
