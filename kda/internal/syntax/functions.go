package syntax

// unsupportedFunctions are the functions of the KDA SQL reference that the
// engine does not run yet; calling one is an *UnsupportedError, not an
// unknown function. The engine runs COUNT, SUM, AVG, MIN, MAX, COALESCE,
// UPPER, LOWER, CHAR_LENGTH/CHARACTER_LENGTH, ABS, FLOOR, CEIL/CEILING,
// STEP, CAST, SUBSTRING, POSITION, TRIM, INITCAP, REGEX_REPLACE, OVERLAY,
// REGEX_LOG_PARSE, W3C_LOG_PARSE, VARIABLE_COLUMN_LOG_PARSE,
// FAST_REGEX_LOG_PARSE(R), FIXED_COLUMN_LOG_PARSE, SYS_LOG_PARSE, TO_TIMESTAMP,
// UNIX_TIMESTAMP, TSDIFF, CURRENT_ROW_TIMESTAMP, CHAR_TO_TIMESTAMP,
// TIMESTAMP_TO_CHAR, CHAR_TO_DATE, CHAR_TO_TIME, DATE_TO_CHAR and
// TIME_TO_CHAR; and (morefuncs.go) NULLIF, MOD, POWER, EXP, LN, LOG10,
// EXTRACT, CURRENT_TIMESTAMP, LOCALTIMESTAMP, CURRENT_DATE, CURRENT_TIME,
// LOCALTIME and STDDEV_POP/SAMP, VAR_POP/SAMP; ANY, EVERY and MONOTONIC
// (engine/boolagg.go).
var unsupportedFunctions = map[string]bool{
	// (The table functions are in TableFunctions.)
	// Conversion and datetime conversion functions.
	"NUMBER_TO_CHAR": true,
}

// IsUnsupportedFunction reports whether name is a function of the KDA SQL
// reference that the engine does not run yet.
func IsUnsupportedFunction(name string) bool { return unsupportedFunctions[name] }

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// RowFunctions return a row, whose columns are selected with
// f(…).COLUMN1 (a *Field).
var RowFunctions = map[string]bool{"REGEX_LOG_PARSE": true, "W3C_LOG_PARSE": true, "VARIABLE_COLUMN_LOG_PARSE": true,
	"FAST_REGEX_LOG_PARSE": true, "FAST_REGEX_LOG_PARSER": true, "FIXED_COLUMN_LOG_PARSE": true, "SYS_LOG_PARSE": true}
