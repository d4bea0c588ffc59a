package kda

import "github.com/lakekit/lakekit/internal/javatime"

// WeekFields defines weeks for the week-based pattern letters Y, w and e of
// !{timestamp:…} prefixes, as java.time.temporal.WeekFields does: the first
// day of the week and how many days of the new year week 1 needs.
type WeekFields = javatime.WeekFields

var (
	// WeekFieldsUS is WeekFields.of(Locale.US): weeks start on Sunday and
	// week 1 is the week of January 1. It is what a JVM with the default
	// en-US locale (Firehose's, as far as its output shows) uses for Y.
	WeekFieldsUS = javatime.WeekFieldsUS
	// WeekFieldsISO is ISO-8601: Monday start, week 1 has January 4.
	WeekFieldsISO = javatime.WeekFieldsISO
)
