// Package syntax is the KDA SQL parser behind package kda: a lexer and a
// hand-written recursive-descent parser producing the statements and
// expression trees that package engine compiles. A parser library was not
// worth its weight: the subset is small, the parser gives exact
// line:column errors (*SQLError), and it names each construct of the KDA
// reference it does not support (*UnsupportedError).
package syntax
