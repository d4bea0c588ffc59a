package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// User-defined functions
//
// KDA runs functions written in SQL (CREATE FUNCTION … RETURN expr). The
// body is compiled once, when the statement runs, in a scope whose columns
// are the parameters; a call evaluates its arguments into the call's own
// parameter row and runs the body on it. As the reference says, arguments
// are never cast: each must be of its parameter's type (the kinds BIGINT,
// DOUBLE, VARCHAR, BOOLEAN, TIMESTAMP must match; a value too long for a
// VARCHAR(n) parameter or out of INTEGER range fails the row) and so must
// the body's result. Functions may be overloaded by their parameters'
// types; CREATE OR REPLACE replaces the one with the same parameter types,
// in place, so that its callers call the new body. A function may call
// the functions created before it but not, even through others, itself.

// udf is one user-defined function: an overload of its name.
type udf struct {
	name       string
	pos        syntax.Pos
	params     []syntax.Param
	ret        value.Type
	nullOnNull bool
	readsData  bool // READS SQL DATA: the body may read reference tables
	body       evalFn
	calls      []*udf // the functions its body calls
	used       bool   // a compiled expression calls it
}

// udfs are an engine's user-defined functions by name, each name's
// overloads in the order they were created.
type udfs map[string][]*udf

// functions are what an engine's CREATE FUNCTION statements made: SQL
// functions, and the table functions they declared.
type functions struct {
	udfs     udfs
	declared map[string]*syntax.CreateFunction
}

// signature prints f(TYPE, …).
func (u *udf) signature() string {
	var b strings.Builder
	b.WriteString(u.name + "(")
	for i, p := range u.params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(p.Type.String())
	}
	return b.String() + ")"
}

// sameParams reports whether u takes parameters of the kinds of params.
func (u *udf) sameParams(params []syntax.Param) bool {
	if len(u.params) != len(params) {
		return false
	}
	for i, p := range params {
		if u.params[i].Type.Kind != p.Type.Kind {
			return false
		}
	}
	return true
}

// reaches reports whether u's body calls target, directly or through
// other functions, and returns the path of calls.
func (u *udf) reaches(target string, seen map[*udf]bool) ([]string, bool) {
	for _, c := range u.calls {
		if c.name == target {
			return []string{c.name}, true
		}
		if seen[c] {
			continue
		}
		seen[c] = true
		if path, ok := c.reaches(target, seen); ok {
			return append([]string{c.name}, path...), true
		}
	}
	return nil, false
}

// addFunction runs a CREATE FUNCTION: a SQL function is compiled and
// becomes callable; a table function's declaration (RETURNS TABLE … or
// EXTERNAL NAME) is accepted for the table functions the engine runs.
func (e *Engine) addFunction(cf *syntax.CreateFunction) error {
	if cf.ReturnsTable != nil || cf.External != "" {
		return e.declareTableFunction(cf)
	}
	if cf.Language != "SQL" {
		return cf.LanguagePos.Unsupported("CREATE FUNCTION … LANGUAGE " + cf.Language + " (KDA runs user-defined functions written in SQL only)")
	}
	for _, p := range cf.Params {
		if p.Cursor {
			return p.Pos.Errorf("function %s: a CURSOR parameter needs RETURNS TABLE(…): only table functions take a cursor", cf.Name)
		}
	}
	if builtinFunction(cf.Name) {
		return cf.NamePos.Errorf("function %s is a function of the KDA reference; give yours another name", cf.Name)
	}
	if e.funcs.udfs == nil {
		e.funcs.udfs = udfs{}
	}
	var old *udf
	for _, u := range e.funcs.udfs[cf.Name] {
		if u.sameParams(cf.Params) {
			old = u
		}
	}
	if old != nil && !cf.OrReplace {
		return cf.NamePos.Errorf("function %s already exists (use CREATE OR REPLACE FUNCTION)", old.signature())
	}
	u := &udf{name: cf.Name, pos: cf.NamePos, params: cf.Params, ret: cf.Returns, nullOnNull: cf.NullOnNull, readsData: cf.ReadsSQLData}
	cols := make([]value.Column, len(cf.Params))
	for i, p := range cf.Params {
		cols[i] = value.Column{Name: p.Name, Type: p.Type}
	}
	if err := checkBodyNames(cf, cols); err != nil {
		return err
	}
	sc := &scope{stream: "function " + cf.Name, cols: cols, idx: map[string]int{}, now: e.opts.Now, udfs: e.funcs.udfs, defining: u, eng: e}
	for i, c := range cols {
		sc.idx[c.Name] = i
	}
	body, err := sc.compile(cf.Body)
	if err != nil {
		return err
	}
	if body.typ != cf.Returns.Kind && body.typ != value.KindNull {
		return cf.Body.ExprPos().Errorf("function %s returns %s but its body is %s: cast it (no implicit casts)", cf.Name, cf.Returns, body.typ)
	}
	if old != nil && old.used && old.ret.Kind != cf.Returns.Kind {
		return cf.ReturnsPos.Errorf("function %s is called as returning %s: its replacement must return it too", old.signature(), old.ret.Kind)
	}
	u.body, u.calls = body.fn, sc.calls
	if old != nil {
		// In place: the compiled callers of the old body call the new one.
		old.params, old.ret, old.nullOnNull, old.readsData, old.body, old.calls, old.pos = u.params, u.ret, u.nullOnNull, u.readsData, u.body, u.calls, u.pos
		return nil
	}
	e.funcs.udfs[cf.Name] = append(e.funcs.udfs[cf.Name], u)
	return nil
}

// checkBodyNames refuses a body that reads something other than the
// function's parameters, naming it.
func checkBodyNames(cf *syntax.CreateFunction, params []value.Column) error {
	var bad error
	var walk func(x syntax.Expr)
	walk = func(x syntax.Expr) {
		if bad != nil {
			return
		}
		if c, ok := x.(*syntax.ColRef); ok {
			found := false
			for _, p := range params {
				found = found || p.Name == c.Name && c.Qual == ""
			}
			if !found {
				bad = c.P.Errorf("function %s: %s is not one of its parameters (a function body reads only its parameters)", cf.Name, c)
			}
			return
		}
		for _, ch := range syntax.Children(x) {
			walk(ch)
		}
	}
	walk(cf.Body)
	return bad
}

// scalarBuiltins are the scalar functions compileCall runs (and STEP,
// CAST and the other forms with syntax of their own, which the parser
// never reads as a call): a user-defined function may not take one's name.
var scalarBuiltins = map[string]bool{
	"COALESCE": true, "UPPER": true, "LOWER": true, "CHAR_LENGTH": true, "CHARACTER_LENGTH": true, "ABS": true,
	"FLOOR": true, "CEIL": true, "CEILING": true, "SUBSTRING": true, "POSITION": true, "TRIM": true, "INITCAP": true,
	"REGEX_REPLACE": true, "NULLIF": true, "MOD": true, "POWER": true, "EXP": true, "LN": true, "LOG10": true,
	"EXTRACT": true, "CURRENT_TIMESTAMP": true, "LOCALTIMESTAMP": true, "CURRENT_ROW_TIMESTAMP": true,
	"TO_TIMESTAMP": true, "UNIX_TIMESTAMP": true, "TSDIFF": true, "CHAR_TO_TIMESTAMP": true, "TIMESTAMP_TO_CHAR": true,
	"OVERLAY": true, "CHAR_TO_DATE": true, "CHAR_TO_TIME": true, "DATE_TO_CHAR": true, "TIME_TO_CHAR": true,
	"CURRENT_DATE": true, "CURRENT_TIME": true, "LOCALTIME": true, "ANY": true, "EVERY": true, "MONOTONIC": true,
	"FAST_REGEX_LOG_PARSE": true, "FAST_REGEX_LOG_PARSER": true, "FIXED_COLUMN_LOG_PARSE": true, "SYS_LOG_PARSE": true,
	"STEP": true, "CAST": true, "EXP_AVG": true, "CURSOR": true, "TABLE": true, "EXISTS": true, "PERIOD": true,
}

// builtinFunction reports whether name is a function of the KDA
// reference (the engine's or one it names as unsupported).
func builtinFunction(name string) bool {
	return scalarBuiltins[name] || aggNames[name] || slideFunctions[name] || syntax.TableFunctions[name] ||
		syntax.RowFunctions[name] || syntax.IsUnsupportedFunction(name) || tableFuncs[name] != nil
}

// declareTableFunction accepts CREATE FUNCTION name(c CURSOR, …) RETURNS
// TABLE(…) [LANGUAGE JAVA … EXTERNAL NAME '…'], the reference's
// declaration of a table function, for one the engine runs.
func (e *Engine) declareTableFunction(cf *syntax.CreateFunction) error {
	if cf.Body != nil {
		return cf.Body.ExprPos().Errorf("function %s: a function with EXTERNAL NAME or RETURNS TABLE has no RETURN body", cf.Name)
	}
	if tableFuncs[cf.Name] == nil {
		if syntax.TableFunctions[cf.Name] {
			return cf.NamePos.Unsupported(cf.Name)
		}
		p := cf.ExternalPos
		if cf.External == "" {
			p = cf.ReturnsPos
		}
		return p.Unsupported("CREATE FUNCTION " + cf.Name + " … EXTERNAL NAME (a Java UDF or UDX: KDA runs user-defined functions written in SQL only; the table functions it declares this way are built in)")
	}
	if len(cf.Params) == 0 || !cf.Params[0].Cursor || cf.ReturnsTable == nil {
		return cf.NamePos.Errorf("function %s is a table function: declare it as %s(c CURSOR, …) RETURNS TABLE(c.*, …)", cf.Name, cf.Name)
	}
	if e.funcs.declared == nil {
		e.funcs.declared = map[string]*syntax.CreateFunction{}
	}
	e.funcs.declared[cf.Name] = cf
	return nil
}

// checkDeclaredCalls checks the calls of pump st to the table functions
// a CREATE FUNCTION declared against their declaration: as many
// arguments as parameters, and for GROUP_RANK a rankOutColumnName that
// is the declared rank column, as the reference requires.
func (e *Engine) checkDeclaredCalls(st *syntax.CreatePump) error {
	var check func(sel *syntax.Select) error
	check = func(sel *syntax.Select) error {
		for ; sel != nil; sel = sel.UnionAll {
			if sel.Sub != nil {
				if err := check(sel.Sub); err != nil {
					return err
				}
			}
			tc := sel.Table
			if tc == nil {
				continue
			}
			if err := check(tc.Cursor); err != nil {
				return err
			}
			cf := e.funcs.declared[tc.Name]
			if cf == nil {
				continue
			}
			if n := 1 + len(tc.Args); n != len(cf.Params) {
				return tc.NamePos.Errorf("%s is declared with %d parameters (line %d) and called with %d arguments", tc.Name, len(cf.Params), cf.Pos.Line, n)
			}
			if tc.Name != "GROUP_RANK" || len(tc.Args) < 2 {
				continue
			}
			lit, _ := tc.Args[1].(*syntax.Literal)
			var declared []string
			for _, c := range cf.ReturnsTable {
				if !strings.HasSuffix(c.Name, ".*") {
					declared = append(declared, c.Name)
				}
			}
			if lit != nil && lit.V.K == value.KindString && !slices.Contains(declared, lit.V.S) {
				return lit.P.Errorf("GROUP_RANK's rankOutColumnName '%s' must be the rank column its CREATE FUNCTION (line %d) returns: %s", lit.V.S, cf.Pos.Line, strings.Join(declared, ", "))
			}
		}
		return nil
	}
	return check(st.Select)
}

// compileUDF compiles a call of a user-defined function, the last kind of
// function compileCall tries: no function of the name is an unknown
// function.
func (s *scope) compileUDF(e *syntax.Call, args []cexpr) (cexpr, error) {
	if s.defining != nil && e.Name == s.defining.name {
		return cexpr{}, e.P.Errorf("function %s calls itself: recursion is a cycle (KDA functions cannot recurse)", e.Name)
	}
	overloads := s.udfs[e.Name]
	switch {
	case len(overloads) == 0 && e.Name == "PERIOD":
		return cexpr{}, e.P.Errorf("PERIOD (start, end) is only allowed in a temporal predicate (CONTAINS, OVERLAPS, …)")
	case len(overloads) == 0:
		return cexpr{}, e.P.Errorf("unknown function %s", e.Name)
	}
	var match []*udf
	for _, u := range overloads {
		if len(u.params) != len(args) {
			continue
		}
		fits := true
		for i, a := range args {
			fits = fits && (a.typ == u.params[i].Type.Kind || a.typ == value.KindNull)
		}
		if fits {
			match = append(match, u)
		}
	}
	if len(match) != 1 {
		kinds := make([]string, len(args))
		for i, a := range args {
			kinds[i] = a.typ.String()
		}
		var sigs []string
		for _, u := range overloads {
			sigs = append(sigs, u.signature())
		}
		call := e.Name + "(" + strings.Join(kinds, ", ") + ")"
		if len(match) > 1 {
			return cexpr{}, e.P.Errorf("call %s is ambiguous: it fits %s (cast the NULL)", call, strings.Join(sigs, " and "))
		}
		return cexpr{}, e.P.Errorf("call %s matches no function %s: arguments must be of the parameters' types, with no implicit casts (use CAST)", call, strings.Join(sigs, ", "))
	}
	u := match[0]
	if s.defining != nil {
		if path, cycle := u.reaches(s.defining.name, map[*udf]bool{}); cycle {
			return cexpr{}, e.P.Errorf("function %s would call itself through %s: recursion is a cycle (KDA functions cannot recurse)",
				s.defining.name, strings.Join(append([]string{e.Name}, path...), " → "))
		}
		s.calls = append(s.calls, u)
	}
	u.used = true
	return u.call(args), nil
}

// call is a call of u with args: its own parameter row, reused by every
// evaluation (a call cannot be inside its own arguments or body).
func (u *udf) call(args []cexpr) cexpr {
	row := make([]value.Value, len(args))
	benv := &env{row: row}
	return cexpr{typ: u.ret.Kind, fn: func(v *env) (value.Value, error) {
		for i, a := range args {
			x, err := a.fn(v)
			if err != nil {
				return x, err
			}
			if x.K == value.KindNull {
				if u.nullOnNull {
					return value.Value{}, nil
				}
			} else if x, err = assign(x, u.params[i].Type); err != nil {
				return x, &EvalError{fmt.Sprintf("%s argument %d (%s): %v", u.name, i+1, u.params[i].Name, err)}
			}
			row[i] = x
		}
		benv.rowtime = v.rowtime
		r, err := u.body(benv)
		if err != nil || r.K == value.KindNull {
			return r, err
		}
		if r, err = assign(r, u.ret); err != nil {
			return r, &EvalError{fmt.Sprintf("%s result: %v", u.name, err)}
		}
		return r, nil
	}}
}
