package kda

import (
	"errors"
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

// ParsePrefix parses a Firehose S3 Prefix the way Firehose validates it:
// expressions are !{timestamp:<java pattern>} and
// !{firehose:random-string}; nesting and unknown namespaces are errors; a
// prefix with no timestamp expression gets DefaultTimePrefix appended. It
// also rejects what could address objects outside the prefix: a leading
// "/", "." or ".." path segments. (An ErrorOutputPrefix, which may also
// hold !{firehose:error-output-type}, is checked by NewDelivery.)
func ParsePrefix(s string) (*Prefix, error) { return parsePrefix(s, dataPrefix) }

// prefixKind tells the data prefix from the error output prefix, the only
// one that may name the error output type.
type prefixKind int

const (
	dataPrefix prefixKind = iota
	errorPrefix
)

func parsePrefix(s string, kind prefixKind) (*Prefix, error) {
	if len(s) > MaxPrefixLength {
		return nil, &PrefixError{Prefix: s, Offset: MaxPrefixLength, Msg: fmt.Sprintf("longer than %d bytes", MaxPrefixLength)}
	}
	if strings.HasPrefix(s, "/") {
		return nil, &PrefixError{Prefix: s, Offset: 0, Msg: "must not start with /"}
	}
	p := &Prefix{src: s}
	hasTS := false
	litStart := 0
	for i := 0; i < len(s); {
		if !strings.HasPrefix(s[i:], "!{") {
			i++
			continue
		}
		if err := p.addLiteral(s[litStart:i], litStart); err != nil {
			return nil, err
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return nil, &PrefixError{Prefix: s, Offset: i, Msg: "unterminated expression"}
		}
		ts, err := p.addExpr(s[i+2:i+end], kind)
		if err != nil {
			return nil, &PrefixError{Prefix: s, Offset: i, Msg: err.Error()}
		}
		hasTS = hasTS || ts
		i += end + 1
		litStart = i
	}
	if err := p.addLiteral(s[litStart:], litStart); err != nil {
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
		return nil, &PrefixError{Prefix: s, Offset: 0, Msg: "renders with a leading /"}
	}
	for _, seg := range strings.Split(sample, "/") {
		if seg == "." || seg == ".." {
			return nil, &PrefixError{Prefix: s, Offset: 0, Msg: fmt.Sprintf("renders a %s path segment", seg)}
		}
	}
	return p, nil
}

// addLiteral appends the literal text l, which starts at byte off of the
// prefix.
func (p *Prefix) addLiteral(l string, off int) error {
	if l == "" {
		return nil
	}
	for _, seg := range strings.Split(l, "/") {
		if seg == ".." || seg == "." {
			return &PrefixError{Prefix: p.src, Offset: off, Msg: "path segment " + seg + " is not allowed"}
		}
	}
	for _, r := range l {
		if r < 0x20 || r == 0x7f {
			return &PrefixError{Prefix: p.src, Offset: off, Msg: "control character in prefix"}
		}
	}
	p.parts = append(p.parts, prefixPart{lit: l})
	return nil
}

// addExpr appends the expression whose body (between "!{" and "}") is
// body, and reports whether it is a timestamp.
func (p *Prefix) addExpr(body string, kind prefixKind) (timestamp bool, err error) {
	if strings.Contains(body, "!{") {
		return false, errors.New("expressions cannot be nested")
	}
	ns, val, ok := strings.Cut(body, ":")
	if !ok {
		return false, fmt.Errorf("expression %q needs namespace:value", body)
	}
	switch ns {
	case "timestamp":
		jp, err := javatime.Compile(val)
		if err != nil {
			return false, fmt.Errorf("timestamp: %v", err)
		}
		if val == "" {
			return false, errors.New("timestamp pattern is empty")
		}
		if jp.WeekBased {
			p.Warnings = append(p.Warnings, fmt.Sprintf("!{timestamp:%s} uses a week-based field (Y, w or e): around New Year YYYY differs from the calendar year yyyy (2019-12-30 is in week-based year 2020)", val))
		}
		p.parts = append(p.parts, prefixPart{ts: jp})
		return true, nil
	case "firehose":
		switch {
		case val == "random-string":
			p.parts = append(p.parts, prefixPart{random: true})
		case val == "error-output-type" && kind == errorPrefix:
			p.parts = append(p.parts, prefixPart{errType: true})
		case val == "error-output-type":
			return false, errors.New("!{firehose:error-output-type} is only allowed in the error output prefix")
		default:
			return false, fmt.Errorf("unknown firehose expression %q", val)
		}
		return false, nil
	case "partitionKeyFromQuery", "partitionKeyFromLambda":
		return false, fmt.Errorf("%s needs dynamic partitioning, which this delivery does not implement", ns)
	}
	return false, fmt.Errorf("unknown namespace %q", ns)
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
