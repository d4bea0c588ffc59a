package kda

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lakekit/lakekit/kda/internal/syntax"
)

// dtInput adds a DATE (D) and a TIME (TM) column to fnInput's.
var dtInput = Input{Columns: append(append([]Column(nil), fnInput.Columns...), Column{Name: "D", Type: Date}, Column{Name: "TM", Type: TimeOfDay})}

// TestDateTimeIntervalLiterals: DATE, TIME and INTERVAL literals of every
// qualifier, as the reference writes them, and their text (an interval's
// through CAST to VARCHAR, the literal's own text). The clock is
// 2026-12-03 10:00:00 UTC (evalSQL).
func TestDateTimeIntervalLiterals(t *testing.T) {
	v := "VARCHAR(32)"
	runFnCasesOn(t, dtInput, []fnCase{
		{`DATE '2026-01-02'`, "DATE", "", `"2026-01-02"`},
		{`TIME '12:00:00'`, "TIME", "", `"12:00:00.000"`},
		{`TIME '23:59:59.999'`, "TIME", "", `"23:59:59.999"`},
		{`CAST(INTERVAL '5' MINUTE AS VARCHAR(8))`, v, "", `"+5"`},
		{`CAST(INTERVAL -'5' MINUTE AS VARCHAR(8))`, v, "", `"-5"`},
		{`CAST(INTERVAL '-90' SECOND AS VARCHAR(8))`, v, "", `"-90.000"`},
		{`CAST(INTERVAL '1:30' HOUR TO MINUTE AS VARCHAR(8))`, v, "", `"+1:30"`},
		{`CAST(INTERVAL '2 3:4:5.678' DAY TO SECOND AS VARCHAR(32))`, v, "", `"+2 03:04:05.678"`},
		{`CAST(INTERVAL '3 4' DAY TO HOUR AS VARCHAR(8))`, v, "", `"+3 04"`},
		{`CAST(INTERVAL '10:20' MINUTE TO SECOND AS VARCHAR(16))`, v, "", `"+10:20.000"`},
		{`CAST(INTERVAL '100' DAY(3) AS VARCHAR(8))`, v, "", `"+100"`},
		{`CAST(- INTERVAL '1:30' HOUR TO MINUTE AS VARCHAR(8))`, v, "", `"-1:30"`},
		{`EXTRACT(YEAR FROM INTERVAL '3-4' YEAR TO MONTH)`, "BIGINT", "", `3`},
		{`EXTRACT(MONTH FROM INTERVAL '3-4' YEAR TO MONTH)`, "BIGINT", "", `4`},
		{`EXTRACT(MONTH FROM INTERVAL '40' MONTH)`, "BIGINT", "", `4`},
		{`CURRENT_DATE`, "DATE", "", `"2026-12-03"`},
		{`CURRENT_TIME`, "TIME", "", `"10:00:00.000"`},
		{`LOCALTIME`, "TIME", "", `"10:00:00.000"`},
		{`D`, "DATE", `{"D":"2024-02-29"}`, `"2024-02-29"`},
		{`TM`, "TIME", `{"TM":"07:08:09.5"}`, `"07:08:09.500"`},
		{`TM`, "TIME", `{"TM":null}`, `null`},
	})
}

// TestDatetimeArithmetic: the six examples of the reference's "Date,
// Timestamp, and Interval Operators" page (their results as the page
// gives them), datetime ± interval, (datetime - datetime) qualifier,
// comparisons within a type, EXTRACT of DATE, TIME and INTERVAL (the
// reference's EXTRACT examples) and FLOOR/STEP of TIME and DATE. The
// expected values are calendar facts worked out by hand.
func TestDatetimeArithmetic(t *testing.T) {
	v, b := "VARCHAR(32)", "BOOLEAN"
	ts := `{"T":"2009-09-16 03:15:24"}`
	runFnCasesOn(t, dtInput, []fnCase{
		// The reference's examples 1–6 (4 through EXTRACT: a year-month
		// interval has no CAST to VARCHAR in the reference's table).
		{`CAST(INTERVAL '1' DAY + INTERVAL '3' DAY AS VARCHAR(8))`, v, "", `"+4"`},
		{`CAST(INTERVAL '1' DAY + INTERVAL '3 4' DAY TO HOUR AS VARCHAR(8))`, v, "", `"+4 04"`},
		{`CAST(INTERVAL '1' DAY - INTERVAL '3 4' DAY TO HOUR AS VARCHAR(8))`, v, "", `"-2 04"`},
		{`EXTRACT(YEAR FROM INTERVAL '1' YEAR + INTERVAL '3-4' YEAR TO MONTH) * 100 + EXTRACT(MONTH FROM INTERVAL '1' YEAR + INTERVAL '3-4' YEAR TO MONTH)`, "BIGINT", "", `404`},
		{`CAST(2 * INTERVAL '3 4' DAY TO HOUR AS VARCHAR(8))`, v, "", `"+6 08"`},
		{`CAST(INTERVAL '3 4' DAY TO HOUR / 2 AS VARCHAR(8))`, v, "", `"+1 14"`},
		{`CAST(INTERVAL '1' HOUR * 1.5 AS VARCHAR(32))`, v, "", `"+1"`}, // an INTERVAL HOUR
		{`CAST(CAST(INTERVAL '1' HOUR * 1.5 AS INTERVAL MINUTE) AS VARCHAR(8))`, v, "", `"+90"`},
		{`CAST(INTERVAL '7' MINUTE / -2 AS VARCHAR(32))`, v, "", `"-3"`},
		{`CAST(CAST(INTERVAL '7' MINUTE / -2 AS INTERVAL MINUTE TO SECOND) AS VARCHAR(32))`, v, "", `"-3:30.000"`},
		// EXTRACT, the reference's examples and a DATE and a TIME.
		{`EXTRACT(DAY FROM INTERVAL '2 3:4:5.678' DAY TO SECOND)`, "BIGINT", "", `2`},
		{`EXTRACT(HOUR FROM INTERVAL '2 3:4:5.678' DAY TO SECOND)`, "BIGINT", "", `3`},
		{`EXTRACT(MINUTE FROM INTERVAL '2 3:4:5.678' DAY TO SECOND)`, "BIGINT", "", `4`},
		{`EXTRACT(SECOND FROM INTERVAL '2 3:4:5.678' DAY TO SECOND)`, "DOUBLE", "", `5.678`},
		{`EXTRACT(YEAR FROM D) * 10000 + EXTRACT(MONTH FROM D) * 100 + EXTRACT(DAY FROM D)`, "BIGINT", `{"D":"2026-01-02"}`, `20260102`},
		{`EXTRACT(MINUTE FROM TM)`, "BIGINT", `{"TM":"12:34:56.789"}`, `34`},
		{`EXTRACT(SECOND FROM TM)`, "DOUBLE", `{"TM":"12:34:56.789"}`, `56.789`},
		// The reference's FLOOR30MIN: FLOOR to the hour plus a multiple
		// of 30 minutes.
		{`FLOOR(T TO HOUR) + ((EXTRACT(MINUTE FROM T) / 30) * INTERVAL '30' MINUTE)`, "TIMESTAMP", `{"T":"2016-09-23 04:49:26.234"}`, `"2016-09-23 04:30:00.000"`},
		// TIMESTAMP, DATE and TIME ± intervals.
		{`T + INTERVAL '1:30' HOUR TO MINUTE`, "TIMESTAMP", ts, `"2009-09-16 04:45:24.000"`},
		{`T - INTERVAL '1' DAY`, "TIMESTAMP", ts, `"2009-09-15 03:15:24.000"`},
		{`INTERVAL '2' SECOND + T`, "TIMESTAMP", ts, `"2009-09-16 03:15:26.000"`},
		{`T + INTERVAL '1' MONTH`, "TIMESTAMP", `{"T":"2026-01-31 10:00:00"}`, `"2026-02-28 10:00:00.000"`},
		{`T - INTERVAL '1-1' YEAR TO MONTH`, "TIMESTAMP", `{"T":"2024-03-31 10:00:00"}`, `"2023-02-28 10:00:00.000"`},
		{`DATE '2024-02-29' + INTERVAL '1' YEAR`, "DATE", "", `"2025-02-28"`},
		{`DATE '2026-01-02' + INTERVAL '36' HOUR`, "DATE", "", `"2026-01-03"`},
		{`DATE '2026-01-02' - INTERVAL '1' HOUR`, "DATE", "", `"2026-01-01"`},
		{`DATE '2026-12-31' + INTERVAL '1' DAY`, "DATE", "", `"2027-01-01"`},
		{`TIME '23:30:00' + INTERVAL '45' MINUTE`, "TIME", "", `"00:15:00.000"`},
		{`TIME '00:10:00' - INTERVAL '1' DAY`, "TIME", "", `"00:10:00.000"`},
		{`TM - INTERVAL '20' MINUTE`, "TIME", `{"TM":"00:10:00"}`, `"23:50:00.000"`},
		// (datetime - datetime) qualifier.
		{`CAST((T - TIMESTAMP '2009-09-15 00:00:00') DAY TO SECOND AS VARCHAR(32))`, v, ts, `"+1 03:15:24.000"`},
		{`CAST((T - TIMESTAMP '2009-09-15 00:00:00') HOUR AS BIGINT)`, "BIGINT", ts, `27`},
		{`CAST((TIMESTAMP '2009-09-15 00:00:00' - T) MINUTE AS BIGINT)`, "BIGINT", ts, `-1635`},
		{`CAST((T - TIMESTAMP '2009-09-15 00:00:00') SECOND AS DOUBLE)`, "DOUBLE", `{"T":"2009-09-15 00:00:01.5"}`, `1.5`},
		{`CAST((DATE '2026-03-01' - DATE '2026-02-01') DAY AS BIGINT)`, "BIGINT", "", `28`},
		{`CAST((DATE '2024-03-01' - DATE '2024-02-01') DAY AS BIGINT)`, "BIGINT", "", `29`},
		{`CAST((TIME '12:00:00' - TM) MINUTE AS BIGINT)`, "BIGINT", `{"TM":"10:30:00"}`, `90`},
		{`EXTRACT(MONTH FROM (DATE '2026-03-01' - DATE '2025-02-01') YEAR TO MONTH)`, "BIGINT", "", `1`},
		{`EXTRACT(YEAR FROM (DATE '2026-03-01' - DATE '2025-02-01') YEAR TO MONTH)`, "BIGINT", "", `1`},
		{`EXTRACT(MONTH FROM (T - TIMESTAMP '2026-01-31 12:00:00') MONTH)`, "BIGINT", `{"T":"2026-03-30 12:00:00"}`, `1`},
		{`EXTRACT(MONTH FROM (T - TIMESTAMP '2026-01-31 12:00:00') MONTH)`, "BIGINT", `{"T":"2026-03-31 12:00:00"}`, `2`},
		{`(T - TIMESTAMP '2009-09-15 00:00:00') DAY = INTERVAL '1' DAY`, b, ts, `true`},
		// Comparisons within a type.
		{`INTERVAL '90' MINUTE > INTERVAL '1' HOUR`, b, "", `true`},
		{`INTERVAL '1' YEAR = INTERVAL '12' MONTH`, b, "", `true`},
		{`D < DATE '2026-01-10'`, b, `{"D":"2026-01-02"}`, `true`},
		{`TM BETWEEN TIME '08:00:00' AND TIME '17:00:00'`, b, `{"TM":"17:00:01"}`, `false`},
		{`ROWTIME > ROWTIME - INTERVAL '1' MINUTE`, b, "", `true`},
		{`D IN (DATE '2026-01-01', DATE '2026-01-02')`, b, `{"D":"2026-01-02"}`, `true`},
		// FLOOR and STEP of a TIME and a DATE.
		{`FLOOR(TM TO HOUR)`, "TIME", `{"TM":"12:34:56"}`, `"12:00:00.000"`},
		{`STEP(TM BY INTERVAL '15' MINUTE)`, "TIME", `{"TM":"12:34:56"}`, `"12:30:00.000"`},
		{`FLOOR(D TO DAY)`, "DATE", `{"D":"2026-01-02"}`, `"2026-01-02"`},
		// NULL stays NULL.
		{`D + INTERVAL '1' DAY`, "DATE", `{"D":null}`, `null`},
	})
}

// TestDateTimeFunctions: CHAR_TO_DATE, CHAR_TO_TIME, DATE_TO_CHAR and
// TIME_TO_CHAR with the Java patterns CHAR_TO_TIMESTAMP and
// TIMESTAMP_TO_CHAR take (the week-based year Y with US weeks: 2019-12-30
// is in week 1 of 2020); a string that does not match is an error row
// naming the function.
func TestDateTimeFunctions(t *testing.T) {
	v := "VARCHAR(32)"
	runFnCasesOn(t, dtInput, []fnCase{
		{`CHAR_TO_DATE('dd/MM/yyyy', '31/12/1999')`, "DATE", "", `"1999-12-31"`},
		{`CHAR_TO_DATE('yyyy-MM-dd HH:mm', S)`, "DATE", `{"S":"2009-09-16 03:15"}`, `"2009-09-16"`},
		{`CHAR_TO_DATE('yyyy-MM', '2009-09')`, "DATE", "", `"2009-09-01"`},
		{`CHAR_TO_DATE('yyyy-MM-dd', S)`, "DATE", `{"S":"2026-02-30"}`, `error: CHAR_TO_DATE: '2026-02-30' does not match 'yyyy-MM-dd'`},
		{`CHAR_TO_DATE('yyyy-MM-dd', S)`, "DATE", `{"S":null}`, `null`},
		{`CHAR_TO_TIME('HH:mm:ss', '03:15:24')`, "TIME", "", `"03:15:24.000"`},
		{`CHAR_TO_TIME('yyyy-MM-dd HH:mm:ss.SSS', S)`, "TIME", `{"S":"2009-09-16 23:59:59.999"}`, `"23:59:59.999"`},
		{`CHAR_TO_TIME('HH:mm', S)`, "TIME", `{"S":"x"}`, `error: CHAR_TO_TIME: 'x' does not match 'HH:mm'`},
		{`DATE_TO_CHAR('EEE d MMM yyyy', DATE '2009-09-16')`, v, "", `"Wed 16 Sep 2009"`},
		{`DATE_TO_CHAR('YYYY-ww', D)`, v, `{"D":"2019-12-30"}`, `"2020-01"`},
		{`DATE_TO_CHAR('yyyy', D)`, v, `{"D":null}`, `null`},
		{`TIME_TO_CHAR('hh:mm a', TIME '15:04:00')`, v, "", `"03:04 PM"`},
		{`TIME_TO_CHAR('HH:mm:ss.SSS', TM)`, v, `{"TM":"07:08:09.010"}`, `"07:08:09.010"`},
	})
}

// TestDateTimeCastPairs: CAST between the pairs the reference's table
// lists for DATE, TIME, TIMESTAMP and day-time INTERVAL (a TIME's
// TIMESTAMP takes CURRENT_DATE, 2026-12-03 here); a datetime's text too
// long for the VARCHAR is an error row (the reference selects no row for
// CAST(DATE '2008-08-23' AS VARCHAR(9))), as is a string that is no date;
// the pairs the table leaves out fail at compile time.
func TestDateTimeCastPairs(t *testing.T) {
	v := "VARCHAR(32)"
	runFnCasesOn(t, dtInput, []fnCase{
		{`CAST(DATE '2008-08-23' AS VARCHAR(10))`, v, "", `"2008-08-23"`},
		{`CAST(DATE '2008-08-23' AS CHAR(10))`, v, "", `"2008-08-23"`},
		{`CAST(DATE '2008-08-23' AS VARCHAR(9))`, v, "", `error: CAST of DATE '2008-08-23' needs 10 characters, more than VARCHAR(9)`},
		{`CAST(DATE '2008-08-23' AS TIMESTAMP)`, "TIMESTAMP", "", `"2008-08-23 00:00:00.000"`},
		{`CAST(D AS DATE)`, "DATE", `{"D":"2008-08-23"}`, `"2008-08-23"`},
		{`CAST(TIME '12:34:56' AS VARCHAR(12))`, v, "", `"12:34:56.000"`},
		{`CAST(TIME '12:34:56' AS VARCHAR(8))`, v, "", `error: CAST of TIME '12:34:56.000' needs 12 characters, more than VARCHAR(8)`},
		{`CAST(TIME '12:34:56' AS TIMESTAMP)`, "TIMESTAMP", "", `"2026-12-03 12:34:56.000"`},
		{`CAST(TM AS TIME)`, "TIME", `{"TM":"01:02:03"}`, `"01:02:03.000"`},
		{`CAST(T AS DATE)`, "DATE", `{"T":"2009-09-16 03:15:24"}`, `"2009-09-16"`},
		{`CAST(T AS TIME)`, "TIME", `{"T":"2009-09-16 03:15:24.250"}`, `"03:15:24.250"`},
		{`CAST(T AS DATE)`, "DATE", `{"T":"1969-12-31 23:00:00"}`, `"1969-12-31"`},
		{`CAST(S AS DATE)`, "DATE", `{"S":" 2026-01-02 "}`, `"2026-01-02"`},
		{`CAST(S AS DATE)`, "DATE", `{"S":"2026-13-01"}`, `error: cannot cast '2026-13-01' to DATE`},
		{`CAST(S AS TIME)`, "TIME", `{"S":"17:45"}`, `"17:45:00.000"`},
		{`CAST(S AS TIME)`, "TIME", `{"S":"25:00:00"}`, `error: cannot cast '25:00:00' to TIME`},
		{`CAST(CAST(S AS INTERVAL HOUR TO MINUTE) AS VARCHAR(8))`, v, `{"S":"-1:30"}`, `"-1:30"`},
		{`CAST(S AS INTERVAL HOUR TO MINUTE) = INTERVAL '90' MINUTE`, "BOOLEAN", `{"S":"1:30"}`, `true`},
		{`CAST(S AS INTERVAL HOUR TO MINUTE) = INTERVAL '90' MINUTE`, "BOOLEAN", `{"S":"1:75"}`, `error: cannot cast '1:75' to INTERVAL HOUR TO MINUTE`},
		{`CAST(INTERVAL '3 4' DAY TO HOUR AS BIGINT)`, "BIGINT", "", `76`},
		{`CAST(INTERVAL '5' MINUTE AS BIGINT)`, "BIGINT", "", `5`},
		{`CAST(INTERVAL '2 3:4:5.678' DAY TO SECOND AS DECIMAL(12,3))`, "DOUBLE", "", `183845.678`},
		{`CAST(CAST(INTERVAL '1:30' HOUR TO MINUTE AS INTERVAL HOUR) AS BIGINT)`, "BIGINT", "", `1`},
	})
	// The pairs the table leaves out, and INTERVAL as a column type (the
	// reference allows intervals only in expressions), fail at compile
	// time at their line and column.
	const prefix = `CREATE STREAM "o" ("v" VARCHAR(8)); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `
	for _, bad := range []string{`CAST(D AS TIME)`, `CAST(TM AS DATE)`, `CAST(D AS BIGINT)`, `CAST(N AS DATE)`, `CAST(TM AS DOUBLE)`,
		`CAST(INTERVAL '1' YEAR AS VARCHAR(8))`, `CAST(S AS INTERVAL YEAR)`, `CAST(INTERVAL '1' DAY AS TIMESTAMP)`, `CAST(T AS INTERVAL DAY)`, `CAST(S = 'a' AS DATE)`} {
		_, err := NewEngine(prefix+bad+` FROM "SOURCE_SQL_STREAM_001";`, []Input{dtInput})
		var se *SQLError
		if !errors.As(err, &se) || se.Line != 1 || se.Col != len(prefix)+1 || !strings.Contains(err.Error(), "not a conversion the KDA reference allows") {
			t.Errorf("%s: err %v, want a compile error at 1:%d", bad, err, len(prefix)+1)
		}
	}
}

// TestDateTimeInputSchema: DATE and TIME columns in an application's
// input schema (SqlType "DATE", "TIME", "TIME(3)"), read from CSV records
// and from JSON; a value that is no date or time is an error_stream row
// naming the column; INTERVAL is no SqlType (an *ApplicationError at its
// path); rows out write DATE and TIME as their literals' text.
func TestDateTimeInputSchema(t *testing.T) {
	code := `CREATE STREAM "DESTINATION_SQL_STREAM" (d DATE, t TIME, later TIMESTAMP);
CREATE PUMP p1 AS INSERT INTO "DESTINATION_SQL_STREAM" SELECT STREAM d, t, CAST(d AS TIMESTAMP) + (t - TIME '00:00:00') HOUR TO SECOND FROM "SOURCE_SQL_STREAM_001";`
	edit := func(format map[string]any, timeType string) func(ad map[string]any) {
		return func(ad map[string]any) {
			in := at(ad, "InputDescriptions", 0)
			delete(ad, "ReferenceDataSourceDescriptions")
			sch := in["InputSchema"].(map[string]any)
			sch["RecordColumns"] = []any{
				map[string]any{"Name": "D", "SqlType": "DATE", "Mapping": "$.d"},
				map[string]any{"Name": "T", "SqlType": timeType, "Mapping": "$.t"},
			}
			if format != nil {
				sch["RecordFormat"] = format
			}
			ad["ApplicationCode"] = code
		}
	}
	csv := map[string]any{"RecordFormatType": "CSV", "MappingParameters": map[string]any{
		"CSVMappingParameters": map[string]any{"RecordRowDelimiter": "|", "RecordColumnDelimiter": ","}}}
	want := []string{`{"D":"2026-01-02","T":"12:30:00.000","LATER":"2026-01-02 12:30:00.000"}`, `{"D":null,"T":"23:59:59.999","LATER":null}`}
	for _, tc := range []struct {
		name     string
		format   map[string]any
		timeType string
		records  []string
		errCols  []string
	}{
		{"CSV", csv, "TIME", []string{"2026-01-02,12:30|,23:59:59.999|2026-02-30,00:00|2026-01-01,24:00"}, []string{`column \"D\"`, `column \"T\"`}},
		{"JSON", nil, "TIME(3)", []string{`{"d":"2026-01-02","t":"12:30:00"}`, `{"d":null,"t":"23:59:59.999"}`, `{"d":"2026-02-30","t":"00:00"}`, `{"d":"2026-01-01","t":1}`}, []string{`column \"D\"`, `column \"T\"`}},
	} {
		app, err := ParseApplication(editApp(t, edit(tc.format, tc.timeType)))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c := app.Inputs[0].Columns; c[0].Type != Date || c[1].Type != TimeOfDay {
			t.Fatalf("%s: columns %+v", tc.name, c)
		}
		e, err := app.NewEngine()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		out, errs := collect(t, e, "DESTINATION_SQL_STREAM"), collect(t, e, ErrorStream)
		for _, r := range tc.records {
			must(0, e.InsertJSON("SOURCE_SQL_STREAM_001", []byte(r), time.Time{}))
		}
		if !slices.Equal(*out, want) || len(*errs) != len(tc.errCols) {
			t.Fatalf("%s: out %v errors %v; want %v and %d errors", tc.name, *out, *errs, want, len(tc.errCols))
		}
		for i, c := range tc.errCols {
			if !strings.Contains((*errs)[i], c) {
				t.Errorf("%s: error %s does not name %s", tc.name, (*errs)[i], c)
			}
		}
	}
	_, err := ParseApplication(editApp(t, edit(nil, "INTERVAL DAY")))
	var ae *ApplicationError
	if !errors.As(err, &ae) || ae.Path != "ApplicationDetail.InputDescriptions[0].InputSchema.RecordColumns[1].SqlType" || !strings.Contains(err.Error(), "not a column type") {
		t.Fatalf("INTERVAL SqlType: %v", err)
	}
	// Nor is INTERVAL a column of CREATE STREAM.
	for sql, want := range map[string]string{
		`CREATE STREAM "s" ("i" INTERVAL DAY TO SECOND);`: "sql 1:24: INTERVAL DAY TO SECOND is not a column type: the KDA reference allows intervals only in expressions",
		`CREATE STREAM "s" ("i" INTERVAL YEAR TO DAY);`:   "sql 1:33: INTERVAL YEAR TO DAY is not a valid qualifier",
	} {
		if _, err := NewEngine(sql, []Input{seedInput}); err == nil || err.Error() != want {
			t.Errorf("%s: %v, want %s", sql, err, want)
		}
	}
}

// FuzzCharToDateTime: CHAR_TO_DATE and CHAR_TO_TIME of any format and
// string, and CAST of any string to DATE, TIME and an interval, give a
// value in range or an error_stream row, never a panic.
func FuzzCharToDateTime(f *testing.F) {
	for _, c := range [][2]string{{"yyyy-MM-dd", "2026-01-02"}, {"dd/MM/yy HH:mm", "31/12/99 23:59"}, {"HH:mm:ss.SSS", "12:00:00.5"}, {"qq", "x"}, {"yyyy-MM-dd", "2026-02-30"}, {"'T'HH", "T24"}} {
		f.Add(c[0], c[1])
	}
	in := Input{Columns: []Column{{Name: "F", Type: Varchar(64)}, {Name: "S", Type: Varchar(64)}}}
	sql := `CREATE STREAM "o" (d DATE, t TIME, cd DATE, ct TIME, ci VARCHAR(32));
CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM CHAR_TO_DATE(F, S), CHAR_TO_TIME(F, S), CAST(S AS DATE), CAST(S AS TIME),
CAST(CAST(S AS INTERVAL DAY TO SECOND) AS VARCHAR(32)) FROM "SOURCE_SQL_STREAM_001";`
	f.Fuzz(func(t *testing.T, format, s string) {
		if !utf8.ValidString(format) || !utf8.ValidString(s) || len(format) > 64 || len(s) > 64 {
			return
		}
		e := must(NewEngine(sql, []Input{in}))
		var rows, errs int
		must(0, e.Subscribe("o", func(r Row) {
			rows++
			for _, v := range r.Values[:4] {
				if v.K == KindDate && (v.Date().Year() < 1 || v.Date().Year() > 9999) || v.K == KindTimeOfDay && (v.I < 0 || v.I >= 86_400_000) {
					t.Fatalf("%q %q: %v out of range", format, s, v)
				}
			}
		}))
		must(0, e.Subscribe(ErrorStream, func(Row) { errs++ }))
		rec, _ := json.Marshal(map[string]string{"F": format, "S": s})
		must(0, e.InsertJSON(DefaultInputStream, rec, time.Time{}))
		if rows+errs != 1 {
			t.Fatalf("%q %q: %d rows and %d errors", format, s, rows, errs)
		}
	})
}

// TestDatetimeCompileErrors: arithmetic and EXTRACT the reference does not
// define fail at compile time at the operator or call, naming the types.
func TestDatetimeCompileErrors(t *testing.T) {
	for _, tc := range []struct{ expr, at, msg string }{
		{"T - T", "- T", "TIMESTAMP - TIMESTAMP needs an interval qualifier: (a - b) DAY TO SECOND"},
		{"D + D", "+ D", "+ of DATE and DATE is not datetime arithmetic the KDA reference allows"},
		{"TM + INTERVAL '1' MONTH", "+ INTERVAL", "+ of TIME and INTERVAL YEAR TO MONTH is not datetime arithmetic"},
		{"INTERVAL '1' DAY + INTERVAL '1' MONTH", "+ INTERVAL '1' M", "+ of INTERVAL DAY TO SECOND and INTERVAL YEAR TO MONTH"},
		{"INTERVAL '1' DAY - T", "- T", "- of INTERVAL DAY TO SECOND and TIMESTAMP"},
		{"D * 2", "* 2", "* of DATE and BIGINT"},
		{"2 / INTERVAL '1' DAY", "/ INTERVAL", "/ of BIGINT and INTERVAL DAY TO SECOND"},
		{"(T - D) DAY", "- D", "(a - b) DAY needs two TIMESTAMPs, DATEs or TIMEs, got TIMESTAMP and DATE"},
		{"(TM - TM) MONTH", "- TM", "a TIME has no months"},
		{"(N - N) DAY", "- N", "needs two TIMESTAMPs, DATEs or TIMEs"},
		{"EXTRACT(HOUR FROM D)", "EXTRACT", "EXTRACT(HOUR FROM DATE): a DATE has no HOUR"},
		{"EXTRACT(YEAR FROM TM)", "EXTRACT", "a TIME has no YEAR"},
		{"EXTRACT(DAY FROM INTERVAL '1' YEAR)", "EXTRACT", "has no DAY"},
		{"D = T", "= T", "cannot compare DATE with TIMESTAMP"},
		{"STEP(D BY INTERVAL '1' HOUR)", "STEP", "STEP needs a TIMESTAMP (a TIME by a part of a day, a DATE by days), got DATE"},
		{"DATE '2026-02-30'", "'2026", "bad DATE literal '2026-02-30' (want yyyy-MM-dd)"},
		{"TIME '24:00:00'", "'24", "bad TIME literal"},
		{"INTERVAL '1:60' HOUR TO MINUTE", "'1:60'", "bad INTERVAL literal '1:60' for HOUR TO MINUTE"},
		{"INTERVAL '1' SECOND TO MINUTE", "SECOND", "INTERVAL SECOND TO MINUTE is not a valid qualifier"},
		{"CHAR_TO_DATE('yyyy-MM-dd qq', S)", "'yyyy", "CHAR_TO_DATE"},
		{"TIME_TO_CHAR('HH', D)", "D)", "argument 2 of TIME_TO_CHAR must be TIME, got DATE"},
	} {
		const prefix = `CREATE STREAM "o" ("v" VARCHAR(8)); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `
		col := len(prefix) + strings.Index(tc.expr, tc.at) + 1
		_, err := NewEngine(prefix+tc.expr+` FROM "SOURCE_SQL_STREAM_001";`, []Input{dtInput})
		var se *SQLError
		if !errors.As(err, &se) || se.Line != 1 || se.Col != col || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("%s: err %v, want 1:%d %q", tc.expr, err, col, tc.msg)
		}
	}
}

// TestDateTimeWindowState: DATE, TIME and interval values in tumbling
// and sliding window state give the same rows whether the records arrive
// in one engine or across engines restored from each other's state (1,
// 7 and 30 invocations), and match the counts worked out from the input.
func TestDateTimeWindowState(t *testing.T) {
	sql := `CREATE STREAM "w" (d DATE, n BIGINT, first TIME, last TIME, span VARCHAR(16));
CREATE STREAM "s" (d DATE, latest TIME);
CREATE PUMP p1 AS INSERT INTO "w" SELECT STREAM D, COUNT(*), MIN(TM), MAX(TM), CAST(MAX((TM - TIME '00:00:00') MINUTE) AS VARCHAR(16))
FROM "SOURCE_SQL_STREAM_001" GROUP BY D, STEP(ROWTIME BY INTERVAL '1' MINUTE);
CREATE PUMP p2 AS INSERT INTO "s" SELECT STREAM MAX(D) OVER w, MAX(TM) OVER w FROM "SOURCE_SQL_STREAM_001"
WINDOW w AS (RANGE INTERVAL '1' MINUTE PRECEDING);`
	start := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	type rec struct {
		data []byte
		at   time.Time
	}
	var recs []rec
	for i := range 30 {
		// Two dates alternate; the time of day counts up 7 minutes a
		// record; records arrive 10 s apart, so 6 a minute.
		b, _ := json.Marshal(map[string]string{"D": []string{"2026-01-01", "2026-01-02"}[i%2], "TM": time.Date(0, 1, 1, 0, 7*i, 0, 0, time.UTC).Format("15:04:05")})
		recs = append(recs, rec{b, start.Add(time.Duration(i) * 10 * time.Second)})
	}
	run := func(parts int) (w, s []string) {
		var state []byte
		per := (len(recs) + parts - 1) / parts
		for p := 0; p*per < len(recs); p++ {
			e := must(NewEngine(sql, []Input{dtInput}))
			if state != nil {
				must(0, e.RestoreState(state))
			}
			wr, sr := collect(t, e, "w"), collect(t, e, "s")
			for _, r := range recs[p*per : min(len(recs), (p+1)*per)] {
				must(0, e.InsertJSON(DefaultInputStream, r.data, r.at))
			}
			if (p+1)*per >= len(recs) {
				e.Flush()
			}
			state = e.State()
			w, s = append(w, *wr...), append(s, *sr...)
		}
		return w, s
	}
	w1, s1 := run(1)
	// 5 minutes of 6 records, 3 of each date a minute: minute 0 holds
	// records 0–5 (times 00:00 … 00:35), dates 2026-01-01 at 00:00, 00:14,
	// 00:28.
	if len(w1) != 10 || len(s1) != 30 || w1[0] != `{"D":"2026-01-01","N":3,"FIRST":"00:00:00.000","LAST":"00:28:00.000","SPAN":"+28"}` ||
		s1[29] != `{"D":"2026-01-02","LATEST":"03:23:00.000"}` {
		t.Fatalf("one engine: %d window rows %v, %d sliding rows, last %v", len(w1), w1, len(s1), s1[len(s1)-1])
	}
	for _, parts := range []int{7, 30} {
		w, s := run(parts)
		if !slices.Equal(w, w1) || !slices.Equal(s, s1) {
			t.Errorf("%d invocations: %v %v, want %v %v", parts, w, s, w1, s1)
		}
	}
}

// TestBinaryColumns: BINARY and VARBINARY columns hold bytes, base64 in
// JSON records and rows (the reference's JSON type for BINARY); SUBSTRING
// counts bytes; CAST goes between BINARY and VARBINARY only (cutting to
// the length); bad base64 or too many bytes is an error_stream row naming
// the column; || and the other CASTs fail at compile time.
func TestBinaryColumns(t *testing.T) {
	in := Input{Columns: append(append([]Column(nil), fnInput.Columns...), Column{Name: "B", Type: Varbinary(4)})}
	rec := `{"B":"AQID"}` // 01 02 03
	runFnCasesOn(t, in, []fnCase{
		{`B`, "VARBINARY(8)", rec, `"AQID"`},
		{`B`, "BINARY(3)", rec, `"AQID"`},
		{`B`, "BINARY(2)", rec, `error: value of 3 bytes is too long for VARBINARY(2)`},
		{`SUBSTRING(B FROM 2 FOR 1)`, "VARBINARY(8)", rec, `"Ag=="`},
		{`SUBSTRING(B FROM 3)`, "VARBINARY(8)", rec, `"Aw=="`},
		{`SUBSTRING(B FROM 9)`, "VARBINARY(8)", rec, `""`},
		{`CAST(B AS BINARY(2))`, "VARBINARY(8)", rec, `"AQI="`},
		{`B = SUBSTRING(B FROM 1)`, "BOOLEAN", rec, `true`},
		{`B = CAST(B AS BINARY(2))`, "BOOLEAN", rec, `false`},
		{`B > SUBSTRING(B FROM 1 FOR 2)`, "BOOLEAN", rec, `true`},
		{`B`, "VARBINARY(8)", `{"B":"AQ?D"}`, `error: column "B": "AQ?D" is not base64`},
		{`B`, "VARBINARY(8)", `{"B":"AQIDBAU="}`, `error: column "B": value of 5 bytes is too long for VARBINARY(4)`},
		{`B`, "VARBINARY(8)", `{"B":null}`, `null`},
	})
	const prefix = `CREATE STREAM "o" ("v" VARBINARY(8)); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM `
	for bad, want := range map[string]string{
		`CAST(S AS VARBINARY(4))`: "CAST from VARCHAR to VARBINARY(4) is not a conversion the KDA reference allows",
		`CAST(B AS VARCHAR(4))`:   "CAST from VARBINARY to VARCHAR(4) is not a conversion",
		`B || B`:                  "|| needs VARCHAR operands",
		`S`:                       `cannot insert VARCHAR into column "v" VARBINARY(8)`,
	} {
		_, err := NewEngine(prefix+bad+` FROM "SOURCE_SQL_STREAM_001";`, []Input{in})
		var se *SQLError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", bad, err, want)
		}
	}
	if typ, err := syntax.ParseType("BINARY"); err != nil || typ != Varbinary(1) {
		t.Errorf("BINARY: %v %v", typ, err)
	}
}

// TestInsertDateValues: DateValue builds the DATE of a time's calendar
// day in its own location, and Insert takes DATE and TIME values.
func TestInsertDateValues(t *testing.T) {
	e := must(NewEngine(`CREATE STREAM "o" (d DATE, t TIME); CREATE PUMP p AS INSERT INTO "o" SELECT STREAM D + INTERVAL '1' DAY, TM FROM "SOURCE_SQL_STREAM_001";`, []Input{dtInput}))
	out := collect(t, e, "o")
	late := time.Date(2026, 12, 31, 23, 30, 0, 0, time.FixedZone("", -5*3600)) // 2027-01-01 in UTC
	must(0, e.Insert(DefaultInputStream, []Value{{}, {}, {}, DateValue(late), {K: KindTimeOfDay, I: 45_296_789}}, time.Time{}))
	if want := []string{`{"D":"2027-01-01","T":"12:34:56.789"}`}; !slices.Equal(*out, want) {
		t.Fatalf("rows %v, want %v", *out, want)
	}
}
