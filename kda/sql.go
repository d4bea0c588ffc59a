package kda

import (
	"time"

	"github.com/lakekit/lakekit/kda/internal/syntax"
	"github.com/lakekit/lakekit/kda/internal/value"
)

// SQLError is a KDA SQL application that does not parse or compile: the
// line and column of the fault and what is wrong. It may wrap an
// *UnsupportedError or an *ExprDepthError; use errors.As.
type SQLError = syntax.SQLError

// UnsupportedError is a construct of the KDA SQL reference that the engine
// does not run yet (CROSS JOIN, OVERLAY, …), wrapped in a *SQLError
// at its position.
type UnsupportedError = syntax.UnsupportedError

// ExprDepthError is an expression nested more than MaxExprDepth levels
// deep, wrapped in a *SQLError.
type ExprDepthError = syntax.ExprDepthError

// MaxExprDepth is how deeply SQL expressions may nest.
const MaxExprDepth = syntax.MaxExprDepth

// Value is one SQL value: its Kind K and, by kind, I (BOOLEAN as 0/1,
// integers, TIMESTAMP as Unix milliseconds), F or S. The zero Value is SQL
// NULL. Its methods: IsNull, Time, Float, SQL (a SQL literal) and
// AppendJSON.
type Value = value.Value

// Kind is the runtime kind of a Value: KindNull, KindBool, KindInt,
// KindFloat, KindString, KindTime (TIMESTAMP), KindDate or KindTimeOfDay
// (TIME) or KindBinary. (Intervals exist only inside expressions, as in
// KDA.)
type Kind = value.Kind

// Value kinds. KindNull is the zero Kind.
const (
	KindNull   = value.KindNull
	KindBool   = value.KindBool
	KindInt    = value.KindInt
	KindFloat  = value.KindFloat
	KindString = value.KindString
	KindTime   = value.KindTime
	// KindDate is a DATE: days since 1970-01-01 in I.
	KindDate = value.KindDate
	// KindTimeOfDay is a TIME: milliseconds since midnight in I.
	KindTimeOfDay = value.KindTimeOfDay
	// KindBinary is a BINARY or VARBINARY: the bytes in S.
	KindBinary = value.KindBinary
)

// Type is a column type: INTEGER (KindInt, Bits 32), BIGINT (KindInt, Bits
// 64), DOUBLE/REAL (KindFloat), VARCHAR(Len), BOOLEAN, TIMESTAMP, DATE,
// TIME, VARBINARY(Len).
type Type = value.Type

// Column is a stream column. Mapping is used by input streams only: the
// JSON path of the value in each record ("$.sensor_id", "$.a.b"); empty
// means "$." + Name.
type Column = value.Column

// Common column types.
var (
	Integer   = value.Integer
	Bigint    = value.Bigint
	Double    = value.Double
	Boolean   = value.Boolean
	Timestamp = value.Timestamp
	Date      = value.Date
	TimeOfDay = value.TimeOfDay // TIME
)

// Varchar returns VARCHAR(n).
func Varchar(n int) Type { return value.Varchar(n) }

// Varbinary returns VARBINARY(n), n bytes at most (BINARY(n) is the same
// type here). JSON and CSV records hold its values in base64.
func Varbinary(n int) Type { return Type{Kind: value.KindBinary, Len: n} }

// IntValue returns a BIGINT or INTEGER value.
func IntValue(v int64) Value { return value.IntValue(v) }

// FloatValue returns a DOUBLE value.
func FloatValue(v float64) Value { return value.FloatValue(v) }

// StringValue returns a VARCHAR value.
func StringValue(v string) Value { return value.StringValue(v) }

// BoolValue returns a BOOLEAN value.
func BoolValue(v bool) Value { return value.BoolValue(v) }

// TimeValue returns a TIMESTAMP value, held to the millisecond.
func TimeValue(t time.Time) Value { return value.TimeValue(t) }

// DateValue returns the DATE of t's year, month and day.
func DateValue(t time.Time) Value { return value.DateValue(t) }
