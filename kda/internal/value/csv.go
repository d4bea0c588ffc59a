package value

import "math"

// csvQuote marks the bytes that make a CSV field need quotes: the
// delimiter, the quote and the line breaks (RFC 4180).
var csvQuote = func() (t [256]bool) {
	for _, c := range ",\"\n\r" {
		t[c] = true
	}
	return t
}()

// AppendCSV appends v as one field of a KDA CSV destination record: the
// text of its JSON value without JSON's quotes (TIMESTAMP
// "yyyy-MM-dd HH:mm:ss.SSS", DATE "yyyy-MM-dd", TIME "HH:mm:ss.SSS",
// intervals as their literal's text, BINARY as base64, doubles as
// AppendJSON writes them), NULL and non-finite doubles (JSON null) as an
// empty field. A VARCHAR is written as is unless it holds a comma, a
// double quote, CR or LF, or is empty: then it is quoted, its quotes
// doubled (RFC 4180), so that an empty string ("") stays apart from NULL.
func (v Value) AppendCSV(dst []byte) []byte {
	switch v.K {
	case KindNull:
		return dst
	case KindBool, KindInt, KindFloat:
		if v.K == KindFloat && (math.IsNaN(v.F) || math.IsInf(v.F, 0)) {
			return dst
		}
		return v.AppendJSON(dst)
	case KindString:
		return appendCSVString(dst, v.S)
	}
	return v.appendText(dst)
}

func appendCSVString(dst []byte, s string) []byte {
	i := 0
	for i < len(s) && !csvQuote[s[i]] {
		i++
	}
	if i == len(s) && s != "" {
		return append(dst, s...)
	}
	dst = append(dst, '"')
	start := 0
	for ; i < len(s); i++ {
		if s[i] == '"' {
			dst = append(dst, s[start:i+1]...)
			start = i // the quote again
		}
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendRowCSV appends a row as one record of a KDA CSV destination: the
// values in column order (AppendCSV), separated by commas, ended by "\n".
func AppendRowCSV(dst []byte, vals []Value) []byte {
	for i := range vals {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = vals[i].AppendCSV(dst)
	}
	return append(dst, '\n')
}
