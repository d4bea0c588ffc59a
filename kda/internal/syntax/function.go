package syntax

import "github.com/lakekit/lakekit/kda/internal/value"

// CreateFunction is CREATE [OR REPLACE] FUNCTION name (params) RETURNS
// type … RETURN expr, a user-defined function written in SQL, or the
// declaration of a table function (RETURNS TABLE(…) … EXTERNAL NAME '…'),
// as the reference declares its UDXs.
type CreateFunction struct {
	Pos       Pos
	OrReplace bool
	Name      string
	NamePos   Pos
	Params    []Param
	// Returns is the result type of a scalar function; ReturnsTable the
	// columns of RETURNS TABLE(c.*, "col" type, …) (c.* as a Column
	// named "c.*"), ReturnsPos where RETURNS is.
	Returns      value.Type
	ReturnsTable []value.Column
	ReturnsPos   Pos
	// Language is SQL unless LANGUAGE says otherwise (at LanguagePos).
	Language    string
	LanguagePos Pos
	// External is the EXTERNAL NAME string, at ExternalPos.
	External    string
	ExternalPos Pos
	// ReadsSQLData is READS SQL DATA: the body may read a reference
	// table (IN or EXISTS (SELECT …)).
	ReadsSQLData bool
	// NullOnNull is RETURNS NULL ON NULL INPUT: the function is NULL when
	// an argument is, without evaluating its body.
	NullOnNull bool
	// Body is the expression of RETURN, nil for an external function.
	Body Expr
}

// Param is one parameter of a CREATE FUNCTION: name type, or name CURSOR.
type Param struct {
	Name   string
	Pos    Pos
	Type   value.Type
	Cursor bool
}

func (s *CreateFunction) StmtPos() Pos { return s.Pos }

// createFunction parses what follows CREATE [OR REPLACE] FUNCTION.
func (ps *parser) createFunction(start Pos, orReplace bool) (Stmt, error) {
	cf := &CreateFunction{Pos: start, OrReplace: orReplace, Language: "SQL"}
	var err error
	if cf.Name, cf.NamePos, err = ps.ident("function name"); err != nil {
		return nil, err
	}
	if err := ps.expectOp("("); err != nil {
		return nil, err
	}
	if !ps.isOp(")") {
		if err := ps.funcParams(cf); err != nil {
			return nil, err
		}
	}
	if err := ps.expectOp(")"); err != nil {
		return nil, err
	}
	cf.ReturnsPos = ps.peek().pos
	if err := ps.expectKw("RETURNS"); err != nil {
		return nil, err
	}
	if ps.isTableSource() {
		if err := ps.returnsTable(cf); err != nil {
			return nil, err
		}
	} else if cf.Returns, err = ps.typ(); err != nil {
		return nil, err
	}
	if err := ps.funcCharacteristics(cf); err != nil {
		return nil, err
	}
	if cf.Body == nil && cf.External == "" {
		return nil, ps.unexpected("RETURN expression (or EXTERNAL NAME)")
	}
	return cf, nil
}

// funcParams parses [IN] name type {, [IN] name type}; a type may be
// CURSOR (a table function's input).
func (ps *parser) funcParams(cf *CreateFunction) error {
	seen := map[string]bool{}
	for {
		if ps.isKw("IN") && ps.tok(1).kind != tOp {
			ps.p++ // the parameter mode; IN is the only one
		}
		name, pos, err := ps.ident("parameter name")
		if err != nil {
			return err
		}
		if seen[name] {
			return pos.Errorf("duplicate parameter %q", name)
		}
		seen[name] = true
		p := Param{Name: name, Pos: pos}
		if ps.acceptKw("CURSOR") {
			p.Cursor = true
		} else if p.Type, err = ps.typ(); err != nil {
			return err
		}
		cf.Params = append(cf.Params, p)
		if !ps.isOp(",") {
			return nil
		}
		ps.p++
	}
}

// returnsTable parses TABLE(c.*, name type, …) after RETURNS.
func (ps *parser) returnsTable(cf *CreateFunction) error {
	ps.p += 2 // TABLE (
	for {
		name, _, err := ps.ident("column name or cursor.*")
		if err != nil {
			return err
		}
		if ps.isOp(".") {
			ps.p++
			if err := ps.expectOp("*"); err != nil {
				return err
			}
			cf.ReturnsTable = append(cf.ReturnsTable, value.Column{Name: name + ".*"})
		} else {
			typ, err := ps.typ()
			if err != nil {
				return err
			}
			cf.ReturnsTable = append(cf.ReturnsTable, value.Column{Name: name, Type: typ})
		}
		if !ps.isOp(",") {
			return ps.expectOp(")")
		}
		ps.p++
	}
}

// funcCharacteristics parses the clauses between RETURNS type and the end
// of the statement, in any order: LANGUAGE, SPECIFIC, [NOT]
// DETERMINISTIC, CONTAINS SQL, NO SQL, READS/MODIFIES SQL DATA, RETURNS
// NULL ON NULL INPUT, CALLED ON NULL INPUT, PARAMETER STYLE, EXTERNAL
// NAME and, last, RETURN expr.
func (ps *parser) funcCharacteristics(cf *CreateFunction) error {
	for {
		t := ps.peek()
		if t.kind != tIdent {
			return nil
		}
		var err error
		switch t.text {
		case "RETURN":
			ps.p++
			cf.Body, err = ps.expr()
			return err
		case "LANGUAGE":
			ps.p++
			cf.LanguagePos = ps.peek().pos
			cf.Language, _, err = ps.ident("a language (SQL)")
		case "SPECIFIC":
			ps.p++
			_, _, err = ps.ident("specific function name")
		case "DETERMINISTIC":
			ps.p++
		case "NOT":
			ps.p++
			err = ps.expectKw("DETERMINISTIC")
		case "CONTAINS", "NO":
			ps.p++
			err = ps.expectKw("SQL")
		case "READS", "MODIFIES":
			ps.p++
			cf.ReadsSQLData = cf.ReadsSQLData || t.text == "READS"
			if err = ps.expectKw("SQL"); err == nil {
				err = ps.expectKw("DATA")
			}
		case "RETURNS", "CALLED":
			ps.p++
			cf.NullOnNull = t.text == "RETURNS"
			if cf.NullOnNull {
				err = ps.expectKw("NULL")
			}
			for _, kw := range []string{"ON", "NULL", "INPUT"} {
				if err == nil {
					err = ps.expectKw(kw)
				}
			}
		case "PARAMETER":
			ps.p++
			if err = ps.expectKw("STYLE"); err == nil {
				if ps.acceptKw("SYSTEM") {
					err = ps.expectKw("DEFINED")
				}
				if err == nil {
					_, _, err = ps.ident("a parameter style")
				}
			}
		case "EXTERNAL":
			ps.p++
			if err = ps.expectKw("NAME"); err == nil {
				cf.ExternalPos = ps.peek().pos
				if st := ps.peek(); st.kind == tString {
					ps.p++
					cf.External = st.text
				} else {
					err = ps.unexpected("the external name in single quotes")
				}
			}
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
}
