// Package opt is how every lakekit constructor refuses an invalid option:
// one error type, so that a caller's errors.As works the same on every
// package's constructor (each package re-exports it as OptionError).
package opt

import (
	"cmp"
	"fmt"
	"log/slog"
)

// Error reports an options field whose value a constructor refuses. Zero
// values mean "the documented default" and never produce an Error.
type Error struct {
	// Type is the options type, qualified by its package:
	// "sqsbatch.WriterOptions".
	Type string
	// Field is the field's name ("MaxInFlight").
	Field string
	// Value is the refused value.
	Value any
	// Want says what the field accepts ("between 1 and 10").
	Want string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s.%s = %v: want %s", e.Type, e.Field, e.Value, e.Want)
}

// Range returns an *Error unless lo <= v <= hi.
func Range[T cmp.Ordered](typ, field string, v, lo, hi T) error {
	if v < lo || v > hi {
		return &Error{Type: typ, Field: field, Value: v, Want: fmt.Sprintf("between %v and %v", lo, hi)}
	}
	return nil
}

// Min returns an *Error unless v >= lo.
func Min[T cmp.Ordered](typ, field string, v, lo T) error {
	if v < lo {
		return &Error{Type: typ, Field: field, Value: v, Want: fmt.Sprintf("at least %v", lo)}
	}
	return nil
}

// Default returns def when v is the zero value, else v.
func Default[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Logger is how a constructor replaces a nil Logger, once: with one that
// discards, so that no call site checks for nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}
