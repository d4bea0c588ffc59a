package convert

import (
	"bytes"
)

// CSV records are framed as RFC 4180 says: a quote opens a quoted field
// only at the start of a field, and a record ends at the first newline
// outside a quoted field. A line without any quote — most lines — is found
// with one IndexByte; only lines with quotes run the state machine. Inside a
// record, fields are parsed strictly: a quote inside an unquoted field, or
// text after a closing quote, makes that record bad (quarantined), never
// its neighbours.

// recordEnd returns the end of the record starting at data[start:] (the
// index just past its newline, or len(data) at end of input), the number of
// newlines inside it (quoted newlines plus the terminator) and whether the
// record is complete. An incomplete record at the end of data needs more
// input, or, at EOF, has an unterminated quote when quoteOpen is true.
func recordEnd(data []byte, start int, delim byte) (end, lines int, complete, quoteOpen bool) {
	pos := start
	for {
		nl := bytes.IndexByte(data[pos:], '\n')
		seg := data[pos:]
		if nl >= 0 {
			seg = data[pos : pos+nl]
		}
		q := bytes.IndexByte(seg, '"')
		if q < 0 {
			if nl < 0 {
				return len(data), lines, false, false
			}
			return pos + nl + 1, lines + 1, true, false
		}
		q += pos
		if q != start && data[q-1] != delim {
			pos = q + 1 // a bare quote: literal here, an error for splitRecord
			continue
		}
		// A quoted field: jump from quote to quote to its closing one.
		i := q
		for {
			k := bytes.IndexByte(data[i+1:], '"')
			if k < 0 {
				lines += bytes.Count(data[i+1:], []byte{'\n'})
				return len(data), lines, false, true
			}
			lines += bytes.Count(data[i+1:i+1+k], []byte{'\n'})
			i += 1 + k
			if i+1 < len(data) && data[i+1] == '"' {
				i++ // escaped quote
				continue
			}
			break
		}
		pos = i + 1
	}
}

var csvQuote = []byte{'"'}

// Reasons a record is quarantined.
const (
	ReasonFieldCount       = "field count"
	ReasonBareQuote        = "bare quote in unquoted field"
	ReasonQuoteGarbage     = "text after closing quote"
	ReasonUnterminated     = "unterminated quoted field"
	ReasonBadValue         = "bad value"
	ReasonBadPartitionData = "bad partition value"
)

// csvField is one parsed CSV field. data points into the record, or into the
// parser's arena when the field had escaped quotes.
type csvField struct {
	data   []byte
	quoted bool
}

// splitRecord splits one record (without its line terminator) into fields,
// appending unescaped text to arena. It returns a reason when the record is
// malformed.
func splitRecord(rec []byte, delim byte, fields []csvField, arena []byte) ([]csvField, []byte, string) {
	fields = fields[:0]
	i := 0
	for {
		if i < len(rec) && rec[i] == '"' {
			j := i + 1
			escaped := false
			aStart := len(arena)
			for {
				k := bytes.IndexByte(rec[j:], '"')
				if k < 0 {
					return fields, arena, ReasonUnterminated
				}
				if j+k+1 < len(rec) && rec[j+k+1] == '"' {
					if !escaped {
						escaped = true
					}
					arena = append(arena, rec[j:j+k+1]...)
					j += k + 2
					continue
				}
				var data []byte
				if escaped {
					arena = append(arena, rec[j:j+k]...)
					data = arena[aStart:len(arena):len(arena)]
				} else {
					data = rec[i+1 : j+k]
				}
				fields = append(fields, csvField{data: data, quoted: true})
				after := j + k + 1
				if after == len(rec) {
					return fields, arena, ""
				}
				if rec[after] != delim {
					return fields, arena, ReasonQuoteGarbage
				}
				i = after + 1
				break
			}
			continue
		}
		k := bytes.IndexByte(rec[i:], delim)
		end := len(rec)
		if k >= 0 {
			end = i + k
		}
		f := rec[i:end]
		if bytes.IndexByte(f, '"') >= 0 {
			return fields, arena, ReasonBareQuote
		}
		fields = append(fields, csvField{data: f})
		if k < 0 {
			return fields, arena, ""
		}
		i = end + 1
	}
}

// splitPlain splits a record that holds no quote.
func splitPlain(rec []byte, delim byte, fields []csvField) []csvField {
	fields = fields[:0]
	for {
		k := bytes.IndexByte(rec, delim)
		if k < 0 {
			return append(fields, csvField{data: rec})
		}
		fields = append(fields, csvField{data: rec[:k]})
		rec = rec[k+1:]
	}
}

// trimEOL removes a trailing "\n" or "\r\n".
func trimEOL(rec []byte) []byte {
	if n := len(rec); n > 0 && rec[n-1] == '\n' {
		rec = rec[:n-1]
		if n := len(rec); n > 0 && rec[n-1] == '\r' {
			rec = rec[:n-1]
		}
	}
	return rec
}

// blankRecord reports whether a record is an empty line, which is skipped
// (as Glue, Athena and DuckDB skip them).
func blankRecord(rec []byte) bool { return len(rec) == 0 }
