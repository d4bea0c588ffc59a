package syntax

import (
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tEOF tokKind = iota
	tIdent
	tQIdent
	tString
	tNumber
	tOp
)

type token struct {
	kind tokKind
	text string // identifiers: unquoted ones upper-cased; strings unescaped
	pos  Pos
}

func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of input"
	case tQIdent:
		return strconv.Quote(t.text)
	case tString:
		return "'" + t.text + "'"
	}
	return t.text
}

// lexer splits SQL text into tokens as the parser asks for them, so a
// parse that fails early (too deep, say) has not built tokens for the rest.
// Unquoted identifiers and keywords are upper-cased (SQL folds them);
// "quoted" identifiers keep their case.
type lexer struct {
	src          string
	i, line, col int
	parens       int // open parentheses: deeper than MaxExprDepth fails here
}

func (lx *lexer) adv(n int) {
	for k := 0; k < n; k++ {
		if lx.src[lx.i] == '\n' {
			lx.line++
			lx.col = 1
		} else {
			lx.col++
		}
		lx.i++
	}
}

// next returns the next token, tEOF at the end.
func (lx *lexer) next() (token, error) {
	src := lx.src
	adv := lx.adv
	for lx.i < len(src) {
		i := lx.i
		c := src[i]
		pos := Pos{lx.line, lx.col}
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			adv(1)
		case c == '-' && i+1 < len(src) && src[i+1] == '-':
			for lx.i < len(src) && src[lx.i] != '\n' {
				adv(1)
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := strings.Index(src[i+2:], "*/")
			if end < 0 {
				return token{}, pos.Errorf("unterminated comment")
			}
			adv(end + 4)
		case c == '"' || c == '\'':
			return lx.quoted(c, pos)
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			j := numberEnd(src, i)
			adv(j - i)
			return token{kind: tNumber, text: src[i:j], pos: pos}, nil
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i
			for j < len(src) && (isIdentByte(src[j]) || src[j] == '$') {
				j++
			}
			adv(j - i)
			return token{kind: tIdent, text: strings.ToUpper(src[i:j]), pos: pos}, nil
		default:
			return lx.operator(pos)
		}
	}
	return token{kind: tEOF, pos: Pos{lx.line, lx.col}}, nil
}

// quoted lexes a string literal (quote ') or a quoted identifier (quote
// "), at pos; a doubled quote stands for itself.
func (lx *lexer) quoted(quote byte, pos Pos) (token, error) {
	src := lx.src
	lx.adv(1)
	start, seg := lx.i, lx.i
	var doubled []byte // only for a literal with a doubled quote; else text is a substring of src
	for {
		if lx.i >= len(src) {
			if quote == '"' {
				return token{}, pos.Errorf("unterminated quoted identifier")
			}
			return token{}, pos.Errorf("unterminated string literal")
		}
		if src[lx.i] == quote {
			if lx.i+1 < len(src) && src[lx.i+1] == quote {
				doubled = append(doubled, src[seg:lx.i+1]...)
				lx.adv(2)
				seg = lx.i
				continue
			}
			break
		}
		lx.adv(1)
	}
	text := src[start:lx.i]
	if doubled != nil {
		text = string(append(doubled, src[seg:lx.i]...))
	}
	lx.adv(1)
	if quote == '"' {
		if text == "" {
			return token{}, pos.Errorf("empty quoted identifier")
		}
		return token{kind: tQIdent, text: text, pos: pos}, nil
	}
	return token{kind: tString, text: text, pos: pos}, nil
}

// numberEnd returns the end of the number starting at src[i]: digits and
// dots, then an optional exponent.
func numberEnd(src string, i int) int {
	j := i
	for j < len(src) && (src[j] >= '0' && src[j] <= '9' || src[j] == '.') {
		j++
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		k := j + 1
		if k < len(src) && (src[k] == '+' || src[k] == '-') {
			k++
		}
		if k < len(src) && src[k] >= '0' && src[k] <= '9' {
			for k < len(src) && src[k] >= '0' && src[k] <= '9' {
				k++
			}
			j = k
		}
	}
	return j
}

// operator lexes a one- or two-character operator at pos, counting
// parentheses against MaxExprDepth.
func (lx *lexer) operator(pos Pos) (token, error) {
	src, i := lx.src, lx.i
	c := src[i]
	op := string(c)
	if i+1 < len(src) {
		switch two := src[i : i+2]; two {
		case "<=", ">=", "<>", "!=", "||":
			op = two
		}
	}
	if !strings.Contains("=<>!|+-*/%(),;.", op[:1]) || op == "!" || op == "|" {
		return token{}, pos.Errorf("unexpected character %q", c)
	}
	switch op {
	case "(":
		if lx.parens++; lx.parens > MaxExprDepth {
			return token{}, pos.TooDeep()
		}
	case ")":
		lx.parens--
	}
	lx.adv(len(op))
	return token{kind: tOp, text: op, pos: pos}, nil
}
