package rekog

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	"github.com/lakekit/lakekit/internal/opt"
)

// Alerter defaults and SNS limits.
const (
	// DefaultKnownWindow is how long a known person is not announced again.
	DefaultKnownWindow = 5 * time.Minute
	// DefaultUnknownLimit unknown-face alerts are sent per
	// DefaultUnknownInterval at most.
	DefaultUnknownLimit    = 3
	DefaultUnknownInterval = 5 * time.Minute
	// MaxSubjectLen is SNS's limit on an email subject.
	MaxSubjectLen = 100
)

// PublishAPI is the SNS call the Alerter makes.
type PublishAPI interface {
	Publish(ctx context.Context, in *sns.PublishInput, optFns ...func(*sns.Options)) (*sns.PublishOutput, error)
}

// AlertMode chooses which faces are announced (the seed's note: "Lambda can
// be configured to send email notification only if unknown faces are
// detected or vice versa").
type AlertMode int

// Alert modes.
const (
	AlertBoth AlertMode = iota // default
	AlertKnown
	AlertUnknown
)

// AlertOptions configure an Alerter.
type AlertOptions struct {
	// Mode selects known faces, unknown faces or both. Default AlertBoth.
	Mode AlertMode
	// Classifier sorts faces. Default: Classifier{} (trust the processor).
	Classifier Classifier
	// KnownWindow suppresses repeat alerts for the same person: one alert
	// per person per window. Default DefaultKnownWindow.
	KnownWindow time.Duration
	// UnknownLimit and UnknownInterval rate-limit unknown-face alerts to
	// UnknownLimit per UnknownInterval (a sliding window). Defaults
	// DefaultUnknownLimit and DefaultUnknownInterval.
	UnknownLimit    int
	UnknownInterval time.Duration
	// Now is the clock used for sightings whose record carries no
	// timestamp. Windows otherwise run on the video's own timestamps, so a
	// replayed or delayed batch is judged by when faces were seen, not when
	// the Lambda ran. Default time.Now.
	Now func() time.Time
	// Logger receives debug records (names and decisions, never message
	// bodies at info). Default: a discarding logger.
	Logger *slog.Logger
}

// Decision says what the Alerter did with a sighting.
type Decision string

// Decisions.
const (
	Published        Decision = "published"
	SuppressedWindow Decision = "suppressed_window" // known person already announced in the window
	SuppressedRate   Decision = "suppressed_rate"   // unknown-face rate limit reached
	IgnoredMode      Decision = "ignored_mode"      // kind not selected by Mode
	Failed           Decision = "failed"            // Publish failed; see Err
)

// AlertResult is the outcome for one sighting.
type AlertResult struct {
	Sighting  Sighting
	Decision  Decision
	MessageID string
	Err       error
}

// AlertStats counts decisions since the Alerter was built.
type AlertStats struct {
	Sightings, Published, SuppressedWindow, SuppressedRate, Ignored, Failed int64
}

// Alerter publishes face sightings to an SNS topic with suppression. Each
// message carries the attribute face=known|unknown (and externalImageId for
// known faces), so subscriptions can filter: an email list for strangers
// only, another for everyone.
type Alerter struct {
	sns   PublishAPI
	topic string
	opts  AlertOptions

	mu       sync.Mutex
	lastSeen map[string]time.Time // person key → last announcement
	unknown  []time.Time          // recent unknown announcements
	newest   time.Time            // latest unknown sighting time
	stats    AlertStats
}

// NewAlerter returns an Alerter publishing to topicARN. Negative windows
// and limits, and an unknown Mode, are an *OptionError.
func NewAlerter(client PublishAPI, topicARN string, optFns ...func(*AlertOptions)) (*Alerter, error) {
	a := &Alerter{sns: client, topic: topicARN, lastSeen: map[string]time.Time{}}
	for _, fn := range optFns {
		fn(&a.opts)
	}
	o := &a.opts
	const typ = "rekog.AlertOptions"
	for _, err := range []error{
		opt.Min(typ, "KnownWindow", o.KnownWindow, 0),
		opt.Min(typ, "UnknownLimit", o.UnknownLimit, 0),
		opt.Min(typ, "UnknownInterval", o.UnknownInterval, 0),
		opt.Range(typ, "Mode", o.Mode, AlertBoth, AlertUnknown),
	} {
		if err != nil {
			return nil, err
		}
	}
	o.KnownWindow = opt.Default(o.KnownWindow, DefaultKnownWindow)
	o.UnknownLimit = opt.Default(o.UnknownLimit, DefaultUnknownLimit)
	o.UnknownInterval = opt.Default(o.UnknownInterval, DefaultUnknownInterval)
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Logger = opt.Logger(o.Logger)
	return a, nil
}

// Stats returns a snapshot of the counters.
func (a *Alerter) Stats() AlertStats {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.stats
}

// HandleRecord classifies one decoded record and alerts on its faces.
func (a *Alerter) HandleRecord(ctx context.Context, r *FaceRecord) []AlertResult {
	return a.Alert(ctx, a.opts.Classifier.Classify(nil, r))
}

// Alert decides and publishes each sighting in order, one result per
// sighting. A failed Publish does not count as an announcement, so the
// person is announced by the next sighting (or the retried record).
func (a *Alerter) Alert(ctx context.Context, sightings []Sighting) []AlertResult {
	out := make([]AlertResult, len(sightings))
	for i, s := range sightings {
		out[i] = a.alertOne(ctx, s)
	}
	return out
}

func personKey(s Sighting) string {
	if s.FaceID != "" && s.ExternalImageID == "" {
		return "face:" + s.FaceID
	}
	return "id:" + s.ExternalImageID
}

func (a *Alerter) alertOne(ctx context.Context, s Sighting) AlertResult {
	res := AlertResult{Sighting: s}
	at := s.Time
	if at.IsZero() {
		at = a.opts.Now()
	}
	a.mu.Lock()
	a.stats.Sightings++
	if (s.Known && a.opts.Mode == AlertUnknown) || (!s.Known && a.opts.Mode == AlertKnown) {
		a.stats.Ignored++
		a.mu.Unlock()
		res.Decision = IgnoredMode
		return res
	}
	// Reserve the slot before publishing so concurrent callers cannot both
	// announce; undo it if Publish fails.
	var undo func()
	if s.Known {
		undo, res.Decision = a.reserveKnownLocked(personKey(s), at)
	} else {
		undo, res.Decision = a.reserveUnknownLocked(at)
	}
	a.mu.Unlock()
	if undo == nil {
		return res
	}
	return a.publish(ctx, res, undo)
}

// reserveKnownLocked claims the alert for a known person seen at at, unless
// one was sent within KnownWindow; it returns how to give the claim back,
// or nil and the suppression.
func (a *Alerter) reserveKnownLocked(key string, at time.Time) (func(), Decision) {
	if last, ok := a.lastSeen[key]; ok && at.Sub(last) < a.opts.KnownWindow && !at.Before(last.Add(-a.opts.KnownWindow)) {
		a.stats.SuppressedWindow++
		return nil, SuppressedWindow
	}
	prev, had := a.lastSeen[key]
	a.lastSeen[key] = at
	a.pruneLocked(at)
	return func() {
		if had {
			a.lastSeen[key] = prev
		} else {
			delete(a.lastSeen, key)
		}
	}, Published
}

// reserveUnknownLocked claims an unknown-face alert at at, unless
// UnknownLimit were sent within UnknownInterval of it; it returns how to
// give the claim back, or nil and the suppression.
func (a *Alerter) reserveUnknownLocked(at time.Time) (func(), Decision) {
	// Records normally arrive in video order, but a retried batch may
	// not: count announcements on either side of this sighting.
	if at.After(a.newest) {
		a.newest = at
	}
	kept := a.unknown[:0]
	inWindow := 0
	for _, u := range a.unknown {
		if a.newest.Sub(u) < 2*a.opts.UnknownInterval {
			kept = append(kept, u)
		}
		if d := at.Sub(u); d < a.opts.UnknownInterval && d > -a.opts.UnknownInterval {
			inWindow++
		}
	}
	a.unknown = kept
	if inWindow >= a.opts.UnknownLimit {
		a.stats.SuppressedRate++
		return nil, SuppressedRate
	}
	a.unknown = append(a.unknown, at)
	return func() {
		for i := len(a.unknown) - 1; i >= 0; i-- {
			if a.unknown[i].Equal(at) {
				a.unknown = append(a.unknown[:i], a.unknown[i+1:]...)
				return
			}
		}
	}, Published
}

// publish sends the reserved alert to the topic; on failure it gives the
// reservation back with undo.
func (a *Alerter) publish(ctx context.Context, res AlertResult, undo func()) AlertResult {
	s := res.Sighting
	subject, body := AlertMessage(s)
	kind := "unknown"
	if s.Known {
		kind = "known"
	}
	attrs := map[string]snstypes.MessageAttributeValue{
		"face": {DataType: aws.String("String"), StringValue: aws.String(kind)},
	}
	if s.Known && s.ExternalImageID != "" {
		attrs["externalImageId"] = snstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(s.ExternalImageID)}
	}
	out, err := a.sns.Publish(ctx, &sns.PublishInput{TopicArn: aws.String(a.topic), Subject: aws.String(subject), Message: aws.String(body), MessageAttributes: attrs})
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		undo()
		a.stats.Failed++
		res.Decision, res.Err = Failed, fmt.Errorf("rekog: publishing %s face alert: %w", kind, err)
		a.opts.Logger.Warn("face alert not published", "kind", kind, "err", err)
		return res
	}
	a.stats.Published++
	res.Decision, res.MessageID = Published, aws.ToString(out.MessageId)
	a.opts.Logger.Debug("face alert published", "kind", kind, "externalImageId", s.ExternalImageID, "messageId", res.MessageID)
	return res
}

// pruneLocked drops people not seen within a window of now, bounding the
// map by the number of people seen per window.
func (a *Alerter) pruneLocked(now time.Time) {
	if len(a.lastSeen) < 256 {
		return
	}
	for k, t := range a.lastSeen {
		if now.Sub(t) >= a.opts.KnownWindow {
			delete(a.lastSeen, k)
		}
	}
}

// AlertMessage returns the email subject and body for a sighting. The
// subject holds only printable characters and at most MaxSubjectLen bytes,
// as SNS requires.
func AlertMessage(s Sighting) (subject, body string) {
	var b strings.Builder
	when := "unknown time"
	if !s.Time.IsZero() {
		when = s.Time.UTC().Format(time.RFC3339Nano)
	}
	if s.Known {
		subject = "Known face: " + s.Name
		fmt.Fprintf(&b, "%s was seen at %s (similarity %.1f%%).\n", s.Name, when, s.Similarity)
	} else {
		subject = "Unknown face detected"
		fmt.Fprintf(&b, "An unknown face was seen at %s (face confidence %.1f%%).\n", when, s.Confidence)
	}
	if s.Stream != "" {
		fmt.Fprintf(&b, "Stream: %s\nFragment: %s\n", s.Stream, s.Fragment)
	}
	fmt.Fprintf(&b, "Box: left %.3f top %.3f width %.3f height %.3f\n", s.Box.Left, s.Box.Top, s.Box.Width, s.Box.Height)
	return cleanSubject(subject), b.String()
}

func cleanSubject(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return '?'
		}
		return r
	}, s)
	if len(s) > MaxSubjectLen {
		s = s[:MaxSubjectLen]
	}
	return s
}

// KinesisResult is the outcome for one Kinesis record.
type KinesisResult struct {
	SequenceNumber string
	Alerts         []AlertResult
	Err            error // *RecordError for a record that cannot be decoded
}

// HandleKinesisEvent is the seed's Lambda: it decodes each record the
// stream processor wrote, classifies its faces and alerts. Records whose
// alerts failed to publish are returned as batch item failures, so with
// ReportBatchItemFailures Lambda retries from the first of them;
// undecodable records are logged and skipped (retrying cannot help).
func (a *Alerter) HandleKinesisEvent(ctx context.Context, ev events.KinesisEvent) (events.KinesisEventResponse, error) {
	var resp events.KinesisEventResponse
	for _, r := range a.HandleKinesisRecords(ctx, ev.Records) {
		if r.Err != nil {
			continue
		}
		for _, al := range r.Alerts {
			if al.Decision == Failed {
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.KinesisBatchItemFailure{ItemIdentifier: r.SequenceNumber})
				break
			}
		}
	}
	return resp, nil
}

// HandleKinesisRecords is HandleKinesisEvent with one result per record.
func (a *Alerter) HandleKinesisRecords(ctx context.Context, records []events.KinesisEventRecord) []KinesisResult {
	out := make([]KinesisResult, len(records))
	for i, rec := range records {
		out[i].SequenceNumber = rec.Kinesis.SequenceNumber
		fr, err := DecodeFaceRecord(rec.Kinesis.Data)
		if err != nil {
			out[i].Err = err
			a.opts.Logger.Warn("skipping stream processor record", "sequenceNumber", rec.Kinesis.SequenceNumber, "err", err)
			continue
		}
		out[i].Alerts = a.HandleRecord(ctx, fr)
	}
	return out
}
