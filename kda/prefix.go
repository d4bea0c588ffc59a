package kda

import (
	"fmt"
	"strings"
	"time"

	"github.com/lakekit/lakekit/internal/javatime"
)

// MaxPrefixLength is Firehose's limit on Prefix and ErrorOutputPrefix.
const MaxPrefixLength = 1024

// DefaultTimePrefix is what Firehose adds to a prefix with no
// !{timestamp:…} expression (and uses when the prefix is empty).
const DefaultTimePrefix = "!{timestamp:yyyy/MM/dd/HH/}"

// Error output types Firehose substitutes for !{firehose:error-output-type}.
const (
	ErrorOutputProcessingFailed       = "processing-failed"
	ErrorOutputFormatConversionFailed = "format-conversion-failed"
)

// PrefixError is a Firehose S3 prefix that cannot be used. Offset is the
// byte offset of the offending expression.
type PrefixError struct {
	Prefix string
	Offset int
	Msg    string
}

func (e *PrefixError) Error() string {
	return fmt.Sprintf("prefix %q at %d: %s", e.Prefix, e.Offset, e.Msg)
}

// Prefix is a parsed Firehose S3 prefix: literal text and !{namespace:value}
// expressions, evaluated per delivered object.
type Prefix struct {
	src   string
	parts []prefixPart
	// Warnings name likely mistakes that Firehose accepts silently, such as
	// YYYY (the week-based year: 2019-12-30 renders as 2020).
	Warnings []string
}

type prefixPart struct {
	lit     string
	ts      *javatime.Pattern
	random  bool
	errType bool
}

// ParsePrefix parses a Firehose Prefix (isError false) or
// ErrorOutputPrefix (isError true) the way Firehose validates them:
// expressions are !{timestamp:<java pattern>}, !{firehose:random-string}
// and, in an error prefix only, !{firehose:error-output-type}; nesting and
// unknown namespaces are errors; a prefix with no timestamp expression gets
// DefaultTimePrefix appended. It also rejects what could address objects
// outside the prefix: a leading "/", "." or ".." path segments.
func ParsePrefix(s string, isError bool) (*Prefix, error) {
	fail := func(off int, format string, args ...any) (*Prefix, error) {
		return nil, &PrefixError{Prefix: s, Offset: off, Msg: fmt.Sprintf(format, args...)}
	}
	if len(s) > MaxPrefixLength {
		return fail(MaxPrefixLength, "longer than %d bytes", MaxPrefixLength)
	}
	if strings.HasPrefix(s, "/") {
		return fail(0, "must not start with /")
	}
	p := &Prefix{src: s}
	hasTS := false
	var lit strings.Builder
	flushLit := func(off int) error {
		l := lit.String()
		lit.Reset()
		if l == "" {
			return nil
		}
		for _, seg := range strings.Split(l, "/") {
			if seg == ".." || seg == "." {
				return &PrefixError{Prefix: s, Offset: off, Msg: "path segment " + seg + " is not allowed"}
			}
		}
		for _, r := range l {
			if r < 0x20 || r == 0x7f {
				return &PrefixError{Prefix: s, Offset: off, Msg: "control character in prefix"}
			}
		}
		p.parts = append(p.parts, prefixPart{lit: l})
		return nil
	}
	litStart := 0
	for i := 0; i < len(s); {
		if !strings.HasPrefix(s[i:], "!{") {
			lit.WriteByte(s[i])
			i++
			continue
		}
		if err := flushLit(litStart); err != nil {
			return nil, err
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return fail(i, "unterminated expression")
		}
		body := s[i+2 : i+end]
		if strings.Contains(body, "!{") {
			return fail(i, "expressions cannot be nested")
		}
		ns, val, ok := strings.Cut(body, ":")
		if !ok {
			return fail(i, "expression %q needs namespace:value", body)
		}
		switch ns {
		case "timestamp":
			jp, err := javatime.Compile(val)
			if err != nil {
				return fail(i, "timestamp: %v", err)
			}
			if val == "" {
				return fail(i, "timestamp pattern is empty")
			}
			if jp.WeekBased {
				p.Warnings = append(p.Warnings, fmt.Sprintf("!{timestamp:%s} uses a week-based field (Y, w or e): around New Year YYYY differs from the calendar year yyyy (2019-12-30 is in week-based year 2020)", val))
			}
			p.parts = append(p.parts, prefixPart{ts: jp})
			hasTS = true
		case "firehose":
			switch val {
			case "random-string":
				p.parts = append(p.parts, prefixPart{random: true})
			case "error-output-type":
				if !isError {
					return fail(i, "!{firehose:error-output-type} is only allowed in the error output prefix")
				}
				p.parts = append(p.parts, prefixPart{errType: true})
			default:
				return fail(i, "unknown firehose expression %q", val)
			}
		case "partitionKeyFromQuery", "partitionKeyFromLambda":
			return fail(i, "%s needs dynamic partitioning, which this delivery does not implement", ns)
		default:
			return fail(i, "unknown namespace %q", ns)
		}
		i += end + 1
		litStart = i
	}
	if err := flushLit(litStart); err != nil {
		return nil, err
	}
	if !hasTS {
		jp, _ := javatime.Compile("yyyy/MM/dd/HH/")
		p.parts = append(p.parts, prefixPart{ts: jp})
	}
	// Only literal text (also quoted inside patterns) can form "/", "." or
	// "..": one sample rendering checks every rendering.
	sample := p.Render(PrefixValues{Time: time.Date(2019, 12, 30, 0, 0, 0, 0, time.UTC), RandomString: "x", ErrorOutputType: "x"})
	if strings.HasPrefix(sample, "/") {
		return fail(0, "renders with a leading /")
	}
	for _, seg := range strings.Split(sample, "/") {
		if seg == "." || seg == ".." {
			return fail(0, "renders a %s path segment", seg)
		}
	}
	return p, nil
}

// String returns the prefix as written.
func (p *Prefix) String() string { return p.src }

// PrefixValues are the per-object inputs of Render.
type PrefixValues struct {
	Time            time.Time // the oldest record's arrival time
	Location        *time.Location
	WeekFields      WeekFields
	RandomString    string // 11 characters, as Firehose generates
	ErrorOutputType string
}

// Render evaluates the prefix.
func (p *Prefix) Render(v PrefixValues) string {
	loc := v.Location
	if loc == nil {
		loc = time.UTC
	}
	t := v.Time.In(loc)
	var b []byte
	for _, part := range p.parts {
		switch {
		case part.ts != nil:
			b = part.ts.Append(b, t, v.WeekFields)
		case part.random:
			b = append(b, v.RandomString...)
		case part.errType:
			b = append(b, v.ErrorOutputType...)
		default:
			b = append(b, part.lit...)
		}
	}
	return string(b)
}
