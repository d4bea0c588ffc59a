// Package engine compiles the statements of package syntax into pumps
// (closures over rows) and runs them: input decoding, in-application
// streams, windows, joins, table functions (tablefn.go; its compileArms
// also compiles FROM subqueries), streaming ORDER BY (order.go), IN,
// EXISTS and scalar subqueries (insubquery.go, scalarsub.go) and the
// error_stream. Package kda wraps it in
// the Engine its users call.
package engine
