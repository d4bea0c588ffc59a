package value

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"
)

// Kind is the runtime kind of a Value.
type Kind uint8

// Value kinds. KindNull is the zero Kind: the zero Value is SQL NULL.
const (
	KindNull Kind = iota
	KindBool
	KindInt
	KindFloat
	KindString
	KindTime
	KindDate      // DATE: days since 1970-01-01 in I
	KindTimeOfDay // TIME: milliseconds since midnight in I
	KindInterval  // a day-time INTERVAL: milliseconds in I
	KindMonths    // a year-month INTERVAL: months in I
	KindBinary    // BINARY/VARBINARY: the bytes in S
)

var kindNames = [...]string{"NULL", "BOOLEAN", "BIGINT", "DOUBLE", "VARCHAR", "TIMESTAMP", "DATE", "TIME", "INTERVAL DAY TO SECOND", "INTERVAL YEAR TO MONTH", "VARBINARY"}

func (k Kind) String() string {
	if int(k) >= len(kindNames) {
		return "KIND(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// Type is a column type: INTEGER (KindInt, Bits 32), BIGINT (KindInt, Bits
// 64), DOUBLE/REAL (KindFloat), VARCHAR(Len), BOOLEAN, TIMESTAMP, DATE,
// TIME, VARBINARY(Len) (BINARY(n) is VARBINARY(n), as CHAR(n) is
// VARCHAR(n)); or, as a CAST target only, an INTERVAL (IntervalType).
type Type struct {
	Kind Kind
	Bits int // 32 or 64 for KindInt; an interval's qualifier (IntervalType)
	Len  int // maximum length in characters for KindString, bytes for KindBinary
}

// IntervalType returns the INTERVAL type of qualifier q. (The qualifier
// is kept in Bits so that a Type stays three words: the JSON decoder
// copies one per value.)
func IntervalType(q Qualifier) Type {
	return Type{Kind: q.Kind(), Bits: int(q.From)<<8 | int(q.To)}
}

// Qualifier returns an interval type's qualifier, the widest of its kind
// when it has none.
func (t Type) Qualifier() Qualifier {
	return Qualifier{Unit(t.Bits >> 8), Unit(t.Bits & 0xff)}.Resolve(t.Kind)
}

// Common column types.
var (
	Integer   = Type{Kind: KindInt, Bits: 32}
	Bigint    = Type{Kind: KindInt, Bits: 64}
	Double    = Type{Kind: KindFloat}
	Boolean   = Type{Kind: KindBool}
	Timestamp = Type{Kind: KindTime}
)

// Varchar returns VARCHAR(n).
func Varchar(n int) Type { return Type{Kind: KindString, Len: n} }

func (t Type) String() string {
	switch t.Kind {
	case KindInt:
		if t.Bits == 32 {
			return "INTEGER"
		}
		return "BIGINT"
	case KindString:
		return "VARCHAR(" + strconv.Itoa(t.Len) + ")"
	case KindBinary:
		return "VARBINARY(" + strconv.Itoa(t.Len) + ")"
	case KindInterval, KindMonths:
		return "INTERVAL " + t.Qualifier().String()
	}
	return t.Kind.String()
}

// Column is a stream column. Mapping is used by input streams only: the
// JSON path of the value in each record ("$.sensor_id", "$.a.b"); empty
// means "$." + Name.
type Column struct {
	Name    string
	Type    Type
	Mapping string
}

// Value is one SQL value. TIMESTAMPs are held as Unix milliseconds in I,
// the other times as datetime.go says.
type Value struct {
	K Kind
	I int64
	F float64
	S string
}

// IntValue, FloatValue, StringValue, BoolValue and TimeValue build Values.
func IntValue(v int64) Value     { return Value{K: KindInt, I: v} }
func FloatValue(v float64) Value { return Value{K: KindFloat, F: v} }
func StringValue(v string) Value { return Value{K: KindString, S: v} }
func BoolValue(v bool) Value {
	if v {
		return Value{K: KindBool, I: 1}
	}
	return Value{K: KindBool}
}
func TimeValue(t time.Time) Value { return Value{K: KindTime, I: t.UnixMilli()} }

// IsNull reports whether v is SQL NULL.
func (v Value) IsNull() bool { return v.K == KindNull }

// Time returns a TIMESTAMP value as a UTC time.
func (v Value) Time() time.Time { return time.UnixMilli(v.I).UTC() }

// Float returns a numeric value as float64.
func (v Value) Float() float64 {
	if v.K == KindInt {
		return float64(v.I)
	}
	return v.F
}

// SQL renders v as a SQL literal.
func (v Value) SQL() string {
	switch v.K {
	case KindString:
		return "'" + strings.ReplaceAll(v.S, "'", "''") + "'"
	case KindTime:
		return "TIMESTAMP '" + v.Time().Format(SQLTimeLayout) + "'"
	case KindDate:
		return "DATE '" + v.Date().Format(DateLayout) + "'"
	case KindTimeOfDay:
		return "TIME '" + string(appendTimeOfDay(nil, v.I)) + "'"
	case KindInterval, KindMonths:
		q := Qualifier{}.Resolve(v.K)
		return "INTERVAL '" + string(AppendInterval(nil, v, q)) + "' " + q.String()
	case KindBinary:
		return "X'" + hex.EncodeToString([]byte(v.S)) + "'"
	}
	return string(v.AppendJSON(nil))
}

// SQLTimeLayout is how a TIMESTAMP is written in SQL literals, JSON and
// CAST to VARCHAR.
const SQLTimeLayout = "2006-01-02 15:04:05.000"

// AppendJSON appends v as a JSON value. TIMESTAMPs are written as
// "yyyy-MM-dd HH:mm:ss.SSS" strings, as KDA's JSON output does, DATEs as
// "yyyy-MM-dd", TIMEs as "HH:mm:ss.SSS", intervals as their literal's
// text with the widest qualifier, BINARY as base64 strings (KDA's JSON
// type for it); non-finite doubles as null.
func (v Value) AppendJSON(dst []byte) []byte {
	switch v.K {
	case KindBool:
		return strconv.AppendBool(dst, v.I != 0)
	case KindInt:
		return strconv.AppendInt(dst, v.I, 10)
	case KindFloat:
		if math.IsNaN(v.F) || math.IsInf(v.F, 0) {
			return append(dst, "null"...)
		}
		if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1e15 {
			return strconv.AppendFloat(dst, v.F, 'f', 1, 64)
		}
		return strconv.AppendFloat(dst, v.F, 'g', -1, 64)
	case KindString:
		return appendJSONString(dst, v.S)
	case KindTime, KindDate, KindTimeOfDay, KindInterval, KindMonths, KindBinary:
		dst = append(dst, '"')
		dst = v.appendText(dst)
		return append(dst, '"')
	}
	return append(dst, "null"...)
}

// appendText appends the text of a TIMESTAMP, DATE, TIME, interval or
// BINARY value, as JSON (between quotes) and CSV write it.
func (v Value) appendText(dst []byte) []byte {
	switch v.K {
	case KindTime:
		return v.Time().AppendFormat(dst, SQLTimeLayout)
	case KindDate:
		return v.Date().AppendFormat(dst, DateLayout)
	case KindTimeOfDay:
		return appendTimeOfDay(dst, v.I)
	case KindInterval, KindMonths:
		return AppendInterval(dst, v, Qualifier{})
	case KindBinary:
		return base64.StdEncoding.AppendEncode(dst, []byte(v.S))
	}
	return dst
}

// jsonEscape marks the bytes appendJSONString escapes: controls, quote,
// backslash and, as encoding/json does, < > &.
var jsonEscape = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for _, c := range `"\<>&` {
		t[c] = true
	}
	return t
}()

// plain8 reports whether none of the 8 bytes of s at i is one
// appendJSONString escapes or above 0x7f (those go one at a time).
func plain8(s string, i int) bool {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	x := binary.LittleEndian.Uint64([]byte(s[i : i+8]))
	// '"' 0x22 and '&' 0x26 differ in bit 2 only, '<' 0x3c and '>' 0x3e in bit 1.
	qa, lg, bs := x|lo*0x04^lo*0x26, x|lo*0x02^lo*0x3e, x^lo*'\\'
	return ((x-lo*0x20)|(qa-lo)&^qa|(lg-lo)&^lg|(bs-lo)&^bs|x)&hi == 0
}

func appendJSONString(dst []byte, s string) []byte {
	const hexd = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		for i+8 <= len(s) && plain8(s, i) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if !jsonEscape[c] {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexd[c>>4], hexd[c&15])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendRowJSON appends a row as a JSON object keyed by column name, the
// format of a KDA JSON destination.
func AppendRowJSON(dst []byte, cols []Column, vals []Value) []byte {
	dst = append(dst, '{')
	for i, c := range cols {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, c.Name)
		dst = append(dst, ':')
		dst = vals[i].AppendJSON(dst)
	}
	return append(dst, '}')
}
