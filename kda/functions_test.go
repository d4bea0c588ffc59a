package kda

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestInsertBoolAndTime: BOOLEAN and TIMESTAMP values inserted with
// BoolValue and TimeValue reach a pump's output unchanged (milliseconds).
func TestInsertBoolAndTime(t *testing.T) {
	sql := `
CREATE STREAM "out" ("ok" BOOLEAN, "at" TIMESTAMP);
CREATE PUMP "P" AS INSERT INTO "out" SELECT STREAM "ok", "at" FROM "SOURCE_SQL_STREAM_001" WHERE "ok";`
	e, err := NewEngine(sql, []Input{{Columns: []Column{{Name: "ok", Type: Boolean}, {Name: "at", Type: Timestamp}}}})
	if err != nil {
		t.Fatal(err)
	}
	var got []Row
	if err := e.Subscribe("out", func(r Row) { got = append(got, r.Clone()) }); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 10, 0, 0, 123456789, time.UTC)
	for _, ok := range []bool{true, false} {
		if err := e.Insert(DefaultInputStream, []Value{BoolValue(ok), TimeValue(at)}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Get("ok") != BoolValue(true) || !got[0].Get("at").Time().Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("rows %+v, want one with ok TRUE and at %v", got, at.Truncate(time.Millisecond))
	}
}

// TestAbsFloorCeil: ABS negates negative integers and floats, FLOOR and
// CEIL round floats and leave integers alone, and ABS of the smallest
// BIGINT overflows to the error_stream.
func TestAbsFloorCeil(t *testing.T) {
	sql := `
CREATE STREAM "out" ("ai" BIGINT, "af" DOUBLE, "fl" DOUBLE, "ce" DOUBLE, "fi" BIGINT);
CREATE PUMP "P" AS INSERT INTO "out" SELECT STREAM ABS("i"), ABS("f"), FLOOR("f"), CEIL("f"), FLOOR("i") FROM "SOURCE_SQL_STREAM_001";`
	e, err := NewEngine(sql, []Input{{Columns: []Column{{Name: "i", Type: Bigint}, {Name: "f", Type: Double}}}})
	if err != nil {
		t.Fatal(err)
	}
	out, errs := collect(t, e, "out"), collect(t, e, ErrorStream)
	for _, rec := range []string{`{"i": -5, "f": -2.5}`, `{"i": 7, "f": 2.25}`, `{"i": -9223372036854775808, "f": 0}`} {
		if err := e.InsertJSON(DefaultInputStream, []byte(rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`{"ai":5,"af":2.5,"fl":-3.0,"ce":-2.0,"fi":-5}`, `{"ai":7,"af":2.25,"fl":2.0,"ce":3.0,"fi":7}`}
	if !slices.Equal(*out, want) || len(*errs) != 1 || !strings.Contains((*errs)[0], "BIGINT overflow") {
		t.Fatalf("out %v, errors %v; want %v and one overflow", *out, *errs, want)
	}
}

// TestStrictOperatorsNull: ||, arithmetic and comparisons yield NULL when
// an operand is NULL.
func TestStrictOperatorsNull(t *testing.T) {
	sql := `
CREATE STREAM "out" ("s" VARCHAR(8), "x" BIGINT, "c" BOOLEAN);
CREATE PUMP "P" AS INSERT INTO "out" SELECT STREAM "a" || 'x', "n" + 1, "n" > "m" FROM "SOURCE_SQL_STREAM_001";`
	e, err := NewEngine(sql, []Input{{Columns: []Column{{Name: "a", Type: Varchar(4)}, {Name: "n", Type: Bigint}, {Name: "m", Type: Bigint}}}})
	if err != nil {
		t.Fatal(err)
	}
	out := collect(t, e, "out")
	for _, rec := range []string{`{"a": null, "n": null, "m": 1}`, `{"a": "ab", "n": 2, "m": 1}`} {
		if err := e.InsertJSON(DefaultInputStream, []byte(rec), time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{`{"s":null,"x":null,"c":null}`, `{"s":"abx","x":3,"c":true}`}
	if !slices.Equal(*out, want) {
		t.Fatalf("got %v, want %v", *out, want)
	}
}
