package kda

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// allocBytes runs f and returns the bytes it allocated on the heap.
func allocBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// pumpSQL wraps a SELECT list and the rest of a query into a pump writing
// one BIGINT column.
func pumpSQL(selectList, rest string) string {
	return `CREATE STREAM "o" ("n" BIGINT);
CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM ` + selectList + ` FROM "SOURCE_SQL_STREAM_001" ` + rest + `;`
}

// TestDeepNestingIsAnError: nesting that used to overflow the goroutine
// stack (a fatal error recover cannot catch) is a typed error naming
// where the limit was passed, in memory linear in the input.
func TestDeepNestingIsAnError(t *testing.T) {
	const n = 500_000
	tests := []struct{ name, sql string }{
		{"parentheses", pumpSQL(strings.Repeat("(", 2*n)+"1"+strings.Repeat(")", 2*n), "")},
		{"unclosed parentheses", pumpSQL(strings.Repeat("(", 2*n), "")},
		{"NOT chain", pumpSQL("1", "WHERE "+strings.Repeat("NOT ", n)+"TRUE")},
		{"unary minus chain", pumpSQL(strings.Repeat("- ", n)+"1", "")},
		{"operator chain", pumpSQL("1"+strings.Repeat(" + 1", n), "")},
		{"function calls", pumpSQL(strings.Repeat("ABS(", n/4)+"1"+strings.Repeat(")", n/4), "")},
		{"CASE", pumpSQL(strings.Repeat("CASE WHEN TRUE THEN ", n/4)+"1"+strings.Repeat(" END", n/4), "")},
		{"CAST", pumpSQL(strings.Repeat("CAST(", n/4)+"1"+strings.Repeat(" AS BIGINT)", n/4), "")},
		{"concatenation", pumpSQL("CHAR_LENGTH('a'"+strings.Repeat(" || 'a'", n)+")", "")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocBytes(func() { _, err = NewEngine(tc.sql, []Input{seedInput}) })
			var de *ExprDepthError
			var se *SQLError
			if !errors.As(err, &de) || !errors.As(err, &se) || de.Max != MaxExprDepth || se.Line != de.Line || se.Col != de.Col {
				t.Fatalf("err %v (%T), want *SQLError wrapping *ExprDepthError", err, err)
			}
			t.Logf("%d bytes of SQL: %v; %.1f MB allocated (%.1f bytes per input byte)",
				len(tc.sql), err, float64(alloc)/1e6, float64(alloc)/float64(len(tc.sql)))
			if limit := 64*uint64(len(tc.sql)) + 1<<20; alloc > limit {
				t.Fatalf("allocated %d bytes for %d bytes of SQL (limit %d)", alloc, len(tc.sql), limit)
			}
		})
	}
	// At the limit, nesting still works.
	sql := pumpSQL(strings.Repeat("(", MaxExprDepth-1)+"1"+strings.Repeat(")", MaxExprDepth-1), "")
	if _, err := NewEngine(sql, []Input{seedInput}); err != nil {
		t.Fatalf("%d levels: %v", MaxExprDepth-1, err)
	}
	// Long flat lists are not nesting: OR/AND chains and IN lists nest
	// logarithmically.
	terms := make([]string, 5000)
	for i := range terms {
		terms[i] = fmt.Sprintf(`"sensor_id" = %d`, i)
	}
	list := strings.Repeat("1, ", 5000) + "2"
	for _, where := range []string{strings.Join(terms, " OR "), strings.Join(terms, " AND "), `"sensor_id" IN (` + list + `)`} {
		e, err := NewEngine(pumpSQL(`"sensor_id"`, "WHERE "+where), []Input{seedInput})
		if err != nil {
			t.Fatalf("%.40s…: %v", where, err)
		}
		rows := collect(t, e, "o")
		_ = e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":2}`), time.Time{})
		want := 1
		if strings.Contains(where, " AND ") {
			want = 0
		}
		if len(*rows) != want {
			t.Fatalf("%.40s…: %d rows, want %d", where, len(*rows), want)
		}
	}
}

// largeExpr returns an expression of at least size bytes: one chain of
// additions, some of whose terms are group keys (the shape that took 20 s
// to compile at 4 KB).
func largeExpr(size int) string {
	var b strings.Builder
	b.WriteString("COUNT(*)")
	for i := 0; b.Len() < size; i++ {
		if i%10 == 0 {
			b.WriteString(` + CHAR_LENGTH("location")`)
		} else {
			b.WriteString(" + 1")
		}
	}
	return b.String()
}

func largeExprSQL(size int) string {
	return pumpSQL(largeExpr(size), `GROUP BY "location", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE)`)
}

// TestCompileLargeExprIsLinear: compiling a GROUP BY query allocates in
// proportion to its size (it grew with the cube: each node printed its
// subtree to look itself up among the group keys).
func TestCompileLargeExprIsLinear(t *testing.T) {
	var sizes [2]uint64
	for i, kb := range []int{1, 4} {
		sql := largeExprSQL(kb << 10)
		var err error
		sizes[i] = allocBytes(func() {
			_, err = NewEngine(sql, []Input{seedInput})
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d KB expression: %.2f MB allocated", kb, float64(sizes[i])/1e6)
	}
	// Linear is 4×; quadratic 16×, cubic 64×.
	if r := float64(sizes[1]) / float64(sizes[0]); r > 6 {
		t.Fatalf("4 KB allocates %.1f× what 1 KB does; want linear (~4×)", r)
	}
	// And the compiled expression still computes: 1 row, 1 location "UK".
	e, err := NewEngine(pumpSQL("COUNT(*) + 1 + CHAR_LENGTH(\"location\")", `GROUP BY "location", STEP("SOURCE_SQL_STREAM_001".ROWTIME BY INTERVAL '1' MINUTE)`), []Input{seedInput})
	if err != nil {
		t.Fatal(err)
	}
	rows := collect(t, e, "o")
	_ = e.InsertJSON(DefaultInputStream, []byte(`{"location":"UK"}`), time.Unix(60, 0))
	e.Flush()
	if len(*rows) != 1 || (*rows)[0] != `{"n":4}` {
		t.Fatalf("rows %v", *rows)
	}
}

// BenchmarkCompileLargeExpr compiles a GROUP BY query with a 4 KB and a
// 15 KB expression; ns/KB stays flat when compiling is linear.
func BenchmarkCompileLargeExpr(b *testing.B) {
	for _, kb := range []int{4, 15} {
		sql := largeExprSQL(kb << 10)
		b.Run(fmt.Sprintf("%dKB", kb), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := NewEngine(sql, []Input{seedInput}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(float64(len(sql))/1024), "ns/KB")
			// On a shared machine wall time depends on other load; CPU time less so.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/(float64(len(sql))/1024), "cpu-ns/KB")
		})
	}
}

// TestUnsupportedConstructsAreNamed: constructs of the KDA SQL reference
// the engine does not run yet are named as such, with their position, not
// reported as syntax errors.
func TestUnsupportedConstructsAreNamed(t *testing.T) {
	const from = `FROM "SOURCE_SQL_STREAM_001"`
	stream := `CREATE STREAM "o" ("n" BIGINT); CREATE PUMP "p" AS INSERT INTO "o" `
	tests := []struct {
		sql, construct string
		col            int // column of the construct on line 1, 0 to skip
	}{
		{stream + `SELECT STREAM 1 ` + from + ` s NATURAL JOIN "r"`, "NATURAL JOIN", 0},
		{stream + `SELECT STREAM 1 ` + from + ` OVER (ROWS 1 PRECEDING) s CROSS JOIN "SOURCE_SQL_STREAM_001" OVER (ROWS 1 PRECEDING) b CROSS JOIN "SOURCE_SQL_STREAM_001" OVER (ROWS 1 PRECEDING) c`, "a JOIN of a third stream (the pairs of the first two have no window of their own to join over)", 0},
		{stream + `SELECT STREAM 1 ` + from + ` WHERE "sensor_id" IN (SELECT STREAM 1 ` + from + `)`, `IN (SELECT STREAM …) (a subquery over a stream: a stream never ends, so IN cannot be decided; the subquery may read a reference table, SELECT … FROM "table")`, 0},
		{stream + `SELECT STREAM CURSOR(SELECT STREAM * ` + from + `) ` + from, "CURSOR", 82},
		{stream + `SELECT STREAM 1 ` + from + ` WHERE EXISTS (SELECT STREAM 1 ` + from + `)`, `EXISTS (SELECT STREAM …) (a subquery over a stream: a stream never ends, so EXISTS cannot be decided; the subquery may read a reference table, SELECT … FROM "table")`, 0},
	}
	for _, tc := range tests {
		_, err := NewEngine(tc.sql, []Input{seedInput})
		var ue *UnsupportedError
		var se *SQLError
		if !errors.As(err, &ue) || !errors.As(err, &se) {
			t.Errorf("%s:\n  err %v, want *UnsupportedError", tc.sql, err)
			continue
		}
		want := tc.construct + " is not supported yet"
		if ue.Construct != tc.construct || !strings.Contains(err.Error(), want) || se.Line != ue.Line || se.Col != ue.Col {
			t.Errorf("%s:\n  got %v (construct %q)\n want %q", tc.sql, err, ue.Construct, want)
		}
		if tc.col != 0 && (ue.Line != 1 || ue.Col != tc.col) {
			t.Errorf("%s:\n  at %d:%d, want 1:%d", tc.sql, ue.Line, ue.Col, tc.col)
		}
	}
	// A function outside the reference is still unknown, a real syntax
	// error is still one, and the set operators KDA itself refuses on
	// streams are errors that say so.
	for sql, want := range map[string]string{
		stream + `SELECT STREAM 1 ` + from + ` UNION SELECT STREAM 2 ` + from:     "1:113: UNION without ALL cannot combine streams: the KDA reference allows only UNION ALL",
		stream + `SELECT STREAM 1 ` + from + ` EXCEPT SELECT STREAM 2 ` + from:    "EXCEPT cannot combine streams",
		stream + `SELECT STREAM 1 ` + from + ` INTERSECT SELECT STREAM 2 ` + from: "INTERSECT cannot combine streams",
		stream + `SELECT STREAM FROBNICATE(1) ` + from:                            "unknown function FROBNICATE",
		stream + `SELECT STREAM 1 ` + from + ` WHERE`:                             "expected an expression",
	} {
		_, err := NewEngine(sql, []Input{seedInput})
		var ue *UnsupportedError
		if errors.As(err, &ue) || err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", sql, err, want)
		}
	}
}

// TestStreamNameCaseHint: a stream asked for in the wrong case names the
// stream that exists, as SQL errors do for columns.
func TestStreamNameCaseHint(t *testing.T) {
	e, err := NewEngine(`CREATE STREAM dest ("a" INTEGER); CREATE STREAM "Mixed" ("a" INTEGER);`, []Input{seedInput})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"dest":  `kda: unknown stream "dest" (unquoted names are upper-cased: the stream is "DEST")`,
		"mixed": `kda: unknown stream "mixed" (names are case-sensitive: the stream is "Mixed")`,
		"nope":  `kda: unknown stream "nope"`,
	} {
		err := e.Subscribe(name, func(Row) {})
		if !errors.Is(err, ErrUnknownStream) || err.Error() != want {
			t.Errorf("Subscribe(%q): %v\n want %s", name, err, want)
		}
		if _, err := e.Schema(name); err == nil || err.Error() != want {
			t.Errorf("Schema(%q): %v", name, err)
		}
	}
	// In SQL: FROM "dest" when the stream is DEST.
	_, err = NewEngine(`CREATE STREAM dest ("a" INTEGER); CREATE STREAM "o" ("a" INTEGER);
CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM "a" FROM "dest";`, []Input{seedInput})
	if want := `unknown stream "dest" (unquoted names are upper-cased: write dest or "DEST")`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v\n want %s", err, want)
	}
	_, err = NewEngine(`CREATE STREAM "dest" ("a" INTEGER); CREATE STREAM "o" ("a" INTEGER);
CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM "a" FROM dest;`, []Input{seedInput})
	if want := `unknown stream "DEST" (unquoted names are upper-cased: write "dest")`; err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("%v\n want %s", err, want)
	}
}

// TestCycleCheckIsLinear: pumps that fork and join streams, declared from
// the last stage back, made the cycle check follow every path (2^60 here)
// and NewEngine never returned.
func TestCycleCheckIsLinear(t *testing.T) {
	const stages = 60
	var b strings.Builder
	for i := 0; i <= stages; i++ {
		fmt.Fprintf(&b, `CREATE STREAM "s%d" ("a" INTEGER);`+"\n", i)
	}
	for i := stages - 1; i >= 0; i-- {
		for k := range 2 {
			fmt.Fprintf(&b, `CREATE PUMP "p%d_%d" AS INSERT INTO "s%d" SELECT STREAM "a" FROM "s%d";`+"\n", i, k, i+1, i)
		}
	}
	fmt.Fprintf(&b, `CREATE PUMP "back" AS INSERT INTO "s0" SELECT STREAM "a" FROM "s%d";`, stages)
	_, err := NewEngine(b.String(), []Input{seedInput})
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Fatalf("%v, want a cycle error", err)
	}
	// INSERT naming a column twice is an error, not a silent overwrite.
	_, err = NewEngine(`CREATE STREAM "o" ("a" INTEGER, "b" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" ("a", "a") SELECT STREAM 1, 2 FROM "SOURCE_SQL_STREAM_001";`, []Input{seedInput})
	if err == nil || !strings.Contains(err.Error(), `column "a" twice`) {
		t.Fatalf("%v", err)
	}
}

// TestNestingAtTheLimitRuns: a tree MaxExprDepth deep (not just nested
// parentheses) compiles and evaluates.
func TestNestingAtTheLimitRuns(t *testing.T) {
	sql := pumpSQL(`"sensor_id"`, "WHERE "+strings.Repeat("NOT ", MaxExprDepth-1)+"FALSE")
	e, err := NewEngine(sql, []Input{seedInput})
	if err != nil {
		t.Fatal(err)
	}
	rows := collect(t, e, "o")
	_ = e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":2}`), time.Time{})
	if len(*rows) != 1 { // an odd number of NOTs
		t.Fatalf("rows %v", *rows)
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	t.Logf("stack in use after a %d-deep expression: %.1f MB", MaxExprDepth, float64(ms.StackInuse)/1e6)
}

// TestLikeHugePattern: a megabyte LIKE pattern compiles at once and a
// row is matched in time linear in the row for a pattern of %s.
func TestLikeHugePattern(t *testing.T) {
	pattern := strings.Repeat("%", 4<<20) + "x"
	sql := `CREATE STREAM "o" ("a" INTEGER); CREATE PUMP "p" AS INSERT INTO "o" SELECT STREAM "sensor_id" FROM "SOURCE_SQL_STREAM_001" WHERE "location" LIKE '` + pattern + `';`
	var e *Engine
	var err error
	alloc := allocBytes(func() { e, err = NewEngine(sql, []Input{seedInput}) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d-byte pattern: %.1f MB allocated to compile", len(pattern), float64(alloc)/1e6)
	if alloc > 4*uint64(len(sql)) {
		t.Fatalf("allocated %d bytes", alloc)
	}
	rows := collect(t, e, "o")
	_ = e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":1,"location":"abx"}`), time.Time{})
	_ = e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":2,"location":"aby"}`), time.Time{})
	if len(*rows) != 1 || (*rows)[0] != `{"a":1}` {
		t.Fatalf("rows %v", *rows)
	}
}

// TestNestedBetweenAndInAreLinear: BETWEEN and IN were rewritten into
// comparisons that each held x, so nesting them doubled (or, for IN,
// multiplied) the tree at every level; 60 levels never finished.
func TestNestedBetweenAndInAreLinear(t *testing.T) {
	between := `"sensor_id" BETWEEN 1 AND 3`
	in := `"sensor_id" IN (1, 2, 3)`
	for range 60 {
		between = "(" + between + ") BETWEEN FALSE AND TRUE"
		in = "(" + in + ") IN (TRUE, TRUE, TRUE, TRUE)"
	}
	for _, where := range []string{between, in, "NOT (" + between + ")"} {
		var e *Engine
		var err error
		alloc := allocBytes(func() {
			e, err = NewEngine(pumpSQL(`"sensor_id"`, "WHERE "+where), []Input{seedInput})
		})
		if err != nil {
			t.Fatal(err)
		}
		if alloc > 1<<20 {
			t.Fatalf("%d bytes allocated", alloc)
		}
		rows := collect(t, e, "o")
		_ = e.InsertJSON(DefaultInputStream, []byte(`{"sensor_id":2}`), time.Time{})
		want := 1
		if strings.HasPrefix(where, "NOT") {
			want = 0
		}
		if len(*rows) != want {
			t.Fatalf("%.30s…: %d rows, want %d", where, len(*rows), want)
		}
	}
}
