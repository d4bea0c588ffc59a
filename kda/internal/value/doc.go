// Package value holds the SQL values, kinds and column types that the
// parser, the compiler and package kda's API share.
package value
