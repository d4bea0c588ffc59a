package lakepipe

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// Landing-zone defaults, as in the seed.
const (
	// DefaultLandingPrefix is where files land.
	DefaultLandingPrefix = "data/landing/"
	// DefaultLandingPattern names a landed file: a dataset name, an
	// underscore, the processing date and ".csv" (customers_20190821.csv).
	DefaultLandingPattern = "{name}_{yyyyMMdd}.csv"
	// MaxExecutionNameLen is the Step Functions limit on execution names.
	MaxExecutionNameLen = 80
	// DefaultExecutionSuffixLen is how many hex digits follow the date in an
	// execution name (the seed used 2, which collides within a few hundred
	// runs of the same day and then fails with ExecutionAlreadyExists).
	DefaultExecutionSuffixLen = 8
)

// LandingOptions configures a LandingParser.
type LandingOptions struct {
	// Prefix is the landing zone; keys outside it do not match.
	// Default DefaultLandingPrefix. A file must sit directly in it.
	Prefix string
	// Pattern is the file name pattern: literal text with a {name} field (the
	// dataset, [A-Za-z0-9][A-Za-z0-9._-]*) and one date field written with
	// yyyy, MM and dd and optional separators ({yyyyMMdd}, {yyyy-MM-dd}).
	// Default DefaultLandingPattern.
	Pattern string
	// SuffixLen is the number of hex digits in the execution name's suffix,
	// 2 to 16. Default DefaultExecutionSuffixLen.
	SuffixLen int
}

// LandingParser turns landed object keys into pipeline executions. It is
// safe for concurrent use.
type LandingParser struct {
	prefix, pattern string
	re              *regexp.Regexp
	layout          string
	suffixLen       int
}

// Landing is one landed file, parsed.
type Landing struct {
	Bucket  string
	Key     string // URL-decoded
	Dataset string // the {name} field: customers
	Date    time.Time
	// ExecutionName is "{yyyymmdd}-{hex}". The hex digits are a hash of the
	// bucket, key and the event's sequencer (or version id), so a duplicated
	// S3 notification yields the same name and Step Functions refuses to
	// start the same work twice, while a re-upload gets a new name.
	ExecutionName string
}

// ExecutionInput is the state machine input: the seed's year, month and day
// (zero-padded strings, as the Glue job arguments want them), plus the
// dataset and the landed key so that steps touch only this file.
type ExecutionInput struct {
	Year    string `json:"year"`
	Month   string `json:"month"`
	Day     string `json:"day"`
	Dataset string `json:"dataset"`
	Bucket  string `json:"bucket"`
	Key     string `json:"key"`
}

// Input returns the execution input of the landing.
func (l Landing) Input() ExecutionInput {
	return ExecutionInput{
		Year: l.Date.Format("2006"), Month: l.Date.Format("01"), Day: l.Date.Format("02"),
		Dataset: l.Dataset, Bucket: l.Bucket, Key: l.Key,
	}
}

var dateLetters = strings.NewReplacer("yyyy", "2006", "MM", "01", "dd", "02")

// NewLandingParser compiles the pattern.
func NewLandingParser(optFns ...func(*LandingOptions)) (*LandingParser, error) {
	o := LandingOptions{Prefix: DefaultLandingPrefix, Pattern: DefaultLandingPattern, SuffixLen: DefaultExecutionSuffixLen}
	for _, fn := range optFns {
		fn(&o)
	}
	if o.SuffixLen < 2 || o.SuffixLen > 16 {
		return nil, fmt.Errorf("lakepipe: execution suffix length %d not in [2, 16]", o.SuffixLen)
	}
	if o.Prefix != "" && !strings.HasSuffix(o.Prefix, "/") {
		o.Prefix += "/"
	}
	var re strings.Builder
	re.WriteString("^")
	rest := o.Pattern
	var layout string
	names := 0
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			re.WriteString(regexp.QuoteMeta(rest))
			break
		}
		re.WriteString(regexp.QuoteMeta(rest[:open]))
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return nil, fmt.Errorf("lakepipe: landing pattern %q: unclosed {", o.Pattern)
		}
		field := rest[open+1 : open+end]
		rest = rest[open+end+1:]
		switch {
		case field == "name":
			names++
			re.WriteString(`(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*?)`)
		case strings.Contains(field, "yyyy") && strings.Contains(field, "MM") && strings.Contains(field, "dd"):
			if layout != "" {
				return nil, fmt.Errorf("lakepipe: landing pattern %q: more than one date field", o.Pattern)
			}
			layout = dateLetters.Replace(field)
			var dre strings.Builder
			for _, r := range layout {
				if r >= '0' && r <= '9' {
					dre.WriteString(`\d`)
				} else {
					dre.WriteString(regexp.QuoteMeta(string(r)))
				}
			}
			re.WriteString("(?P<date>" + dre.String() + ")")
		default:
			return nil, fmt.Errorf("lakepipe: landing pattern %q: unknown field {%s}", o.Pattern, field)
		}
	}
	re.WriteString("$")
	if names != 1 || layout == "" {
		return nil, fmt.Errorf("lakepipe: landing pattern %q needs one {name} and one date field", o.Pattern)
	}
	if strings.Contains(o.Pattern, "/") {
		return nil, fmt.Errorf("lakepipe: landing pattern %q names a file and may not hold '/'", o.Pattern)
	}
	rx, err := regexp.Compile(re.String())
	if err != nil {
		return nil, fmt.Errorf("lakepipe: landing pattern %q: %w", o.Pattern, err)
	}
	return &LandingParser{prefix: o.Prefix, pattern: o.Pattern, re: rx, layout: layout, suffixLen: o.SuffixLen}, nil
}

// ParseKey parses one URL-decoded key. version is the event's sequencer or
// version id (it only feeds the execution name). A key that does not match
// yields a *KeyMismatchError.
func (p *LandingParser) ParseKey(bucket, key, version string) (Landing, error) {
	mismatch := func(reason string) (Landing, error) {
		return Landing{}, &KeyMismatchError{Key: key, Pattern: p.prefix + p.pattern, Reason: reason}
	}
	rel, ok := strings.CutPrefix(key, p.prefix)
	if !ok {
		return mismatch("not under " + p.prefix)
	}
	if strings.Contains(rel, "/") {
		return mismatch("not directly in " + p.prefix)
	}
	if rel == "" || rel == "." || rel == ".." || path.Clean(key) != key {
		return mismatch("not a clean file name")
	}
	m := p.re.FindStringSubmatch(rel)
	if m == nil {
		return mismatch("file name does not match")
	}
	name := m[p.re.SubexpIndex("name")]
	date, err := time.Parse(p.layout, m[p.re.SubexpIndex("date")])
	if err != nil {
		return mismatch("bad date: " + err.Error())
	}
	sum := sha256.Sum256([]byte(bucket + "\x00" + key + "\x00" + version))
	exec := date.Format("20060102") + "-" + hex.EncodeToString(sum[:])[:p.suffixLen]
	return Landing{Bucket: bucket, Key: key, Dataset: name, Date: date, ExecutionName: exec}, nil
}

// ParseEvent parses every record of an S3 event notification. It returns
// the landings of the records that match, and, joined, a *KeyMismatchError
// per record that does not (or a decoding error for a key that is not
// valid URL encoding). Records that are not object creations are skipped.
func (p *LandingParser) ParseEvent(ev events.S3Event) ([]Landing, error) {
	var out []Landing
	var errs []error
	for _, r := range ev.Records {
		if r.EventName != "" && !strings.HasPrefix(r.EventName, "ObjectCreated:") {
			continue
		}
		key, err := url.QueryUnescape(r.S3.Object.Key)
		if err != nil {
			errs = append(errs, &KeyMismatchError{Key: r.S3.Object.Key, Pattern: p.prefix + p.pattern, Reason: "key is not URL-encoded: " + err.Error()})
			continue
		}
		version := r.S3.Object.Sequencer
		if version == "" {
			version = r.S3.Object.VersionID
		}
		l, err := p.ParseKey(r.S3.Bucket.Name, key, version)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, l)
	}
	return out, errors.Join(errs...)
}
