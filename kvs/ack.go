package kvs

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// AckEventType is the EventType of a PutMedia acknowledgement.
type AckEventType string

// The acknowledgement event types KVS documents for PutMedia.
const (
	// AckBuffering: KVS has started receiving the fragment.
	AckBuffering AckEventType = "BUFFERING"
	// AckReceived: KVS has received the whole fragment (not yet durable).
	AckReceived AckEventType = "RECEIVED"
	// AckPersisted: the fragment is durably stored; the producer may
	// forget it.
	AckPersisted AckEventType = "PERSISTED"
	// AckError: KVS failed to process the fragment; ErrorID says why.
	AckError AckEventType = "ERROR"
	// AckIdle: a keep-alive sent while the connection carries no data.
	AckIdle AckEventType = "IDLE"
)

// ErrorID is the ErrorId of an ERROR acknowledgement. It is an error
// itself, and a *FragmentError unwraps to its ErrorID, so that callers can
// write errors.Is(err, kvs.ErrStreamNotActive).
type ErrorID int

// Error implements error.
func (id ErrorID) Error() string {
	return "kvs: PutMedia ERROR " + strconv.Itoa(int(id)) + " " + id.String()
}

// The ErrorIds documented for PutMedia acknowledgements.
const (
	ErrStreamReadError                ErrorID = 4000 // error reading the data stream
	ErrMaxFragmentSizeReached         ErrorID = 4001 // fragment over 50 MB
	ErrMaxFragmentDurationReached     ErrorID = 4002 // fragment longer than the limit
	ErrMaxConnectionDurationReached   ErrorID = 4003 // connection open longer than the limit
	ErrFragmentTimecodeLesserThanPrev ErrorID = 4004 // fragment timecode not after the previous one
	ErrMoreThanAllowedTracksFound     ErrorID = 4005 // more tracks than allowed
	ErrInvalidMKVData                 ErrorID = 4006 // not parseable as Matroska
	ErrInvalidProducerTimestamp       ErrorID = 4007
	ErrStreamNotActive                ErrorID = 4008 // stream deleted
	ErrFragmentMetadataLimitReached   ErrorID = 4009
	ErrTrackNumberMismatch            ErrorID = 4010 // block track number not in Tracks
	ErrFramesMissingForTrack          ErrorID = 4011 // a track has no frames in the fragment
	ErrKMSKeyAccessDenied             ErrorID = 4500
	ErrKMSKeyDisabled                 ErrorID = 4501
	ErrKMSKeyValidationError          ErrorID = 4502
	ErrKMSKeyUnavailable              ErrorID = 4503
	ErrKMSKeyInvalidUsage             ErrorID = 4504
	ErrKMSKeyInvalidState             ErrorID = 4505
	ErrKMSKeyNotFound                 ErrorID = 4506
	ErrInternalError                  ErrorID = 5000
	ErrArchivalError                  ErrorID = 5001
)

var errorIDNames = map[ErrorID]string{
	ErrStreamReadError:                "STREAM_READ_ERROR",
	ErrMaxFragmentSizeReached:         "MAX_FRAGMENT_SIZE_REACHED",
	ErrMaxFragmentDurationReached:     "MAX_FRAGMENT_DURATION_REACHED",
	ErrMaxConnectionDurationReached:   "MAX_CONNECTION_DURATION_REACHED",
	ErrFragmentTimecodeLesserThanPrev: "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS",
	ErrMoreThanAllowedTracksFound:     "MORE_THAN_ALLOWED_TRACKS_FOUND",
	ErrInvalidMKVData:                 "INVALID_MKV_DATA",
	ErrInvalidProducerTimestamp:       "INVALID_PRODUCER_TIMESTAMP",
	ErrStreamNotActive:                "STREAM_NOT_ACTIVE",
	ErrFragmentMetadataLimitReached:   "FRAGMENT_METADATA_LIMIT_REACHED",
	ErrTrackNumberMismatch:            "TRACK_NUMBER_MISMATCH",
	ErrFramesMissingForTrack:          "FRAMES_MISSING_FOR_TRACK",
	ErrKMSKeyAccessDenied:             "KMS_KEY_ACCESS_DENIED",
	ErrKMSKeyDisabled:                 "KMS_KEY_DISABLED",
	ErrKMSKeyValidationError:          "KMS_KEY_VALIDATION_ERROR",
	ErrKMSKeyUnavailable:              "KMS_KEY_UNAVAILABLE",
	ErrKMSKeyInvalidUsage:             "KMS_KEY_INVALID_USAGE",
	ErrKMSKeyInvalidState:             "KMS_KEY_INVALID_STATE",
	ErrKMSKeyNotFound:                 "KMS_KEY_NOT_FOUND",
	ErrInternalError:                  "INTERNAL_ERROR",
	ErrArchivalError:                  "ARCHIVAL_ERROR",
}

// ErrorIDs lists every documented ErrorId, in order.
func ErrorIDs() []ErrorID {
	return []ErrorID{4000, 4001, 4002, 4003, 4004, 4005, 4006, 4007, 4008, 4009, 4010, 4011,
		4500, 4501, 4502, 4503, 4504, 4505, 4506, 5000, 5001}
}

// String returns the documented name ("STREAM_READ_ERROR"), or the number.
func (id ErrorID) String() string {
	if s, ok := errorIDNames[id]; ok {
		return s
	}
	return strconv.Itoa(int(id))
}

// ErrorClass says what the producer does about an ERROR acknowledgement.
type ErrorClass int

const (
	// ClassRetry: a transient failure; the producer reconnects and sends
	// the fragment again.
	ClassRetry ErrorClass = iota
	// ClassDropFragment: the fragment itself is bad and will fail again;
	// the producer drops it, reports it and goes on.
	ClassDropFragment
	// ClassFatal: the stream cannot take data (deleted, KMS key unusable);
	// the producer stops.
	ClassFatal
)

// Class classifies the error. Unknown ids are retried, as the AWS producer
// SDKs do.
func (id ErrorID) Class() ErrorClass {
	switch id {
	case ErrMaxFragmentSizeReached, ErrMaxFragmentDurationReached, ErrFragmentTimecodeLesserThanPrev,
		ErrMoreThanAllowedTracksFound, ErrInvalidMKVData, ErrInvalidProducerTimestamp,
		ErrFragmentMetadataLimitReached, ErrTrackNumberMismatch, ErrFramesMissingForTrack:
		return ClassDropFragment
	case ErrStreamNotActive, ErrKMSKeyAccessDenied, ErrKMSKeyDisabled, ErrKMSKeyValidationError,
		ErrKMSKeyInvalidUsage, ErrKMSKeyInvalidState, ErrKMSKeyNotFound:
		return ClassFatal
	}
	return ClassRetry
}

// Ack is one PutMedia acknowledgement.
type Ack struct {
	EventType AckEventType
	// FragmentTimecode is the Cluster timecode of the fragment the event is
	// about; HasTimecode is false when the event carries none (IDLE).
	FragmentTimecode int64
	HasTimecode      bool
	// FragmentNumber is KVS's number for the fragment (a decimal string of
	// up to 128 digits), when given.
	FragmentNumber string
	// ErrorID and ErrorCode are set on ERROR events.
	ErrorID   ErrorID
	ErrorCode string
}

// MarshalJSON encodes the acknowledgement as KVS sends it.
func (a Ack) MarshalJSON() ([]byte, error) {
	w := struct {
		EventType        AckEventType `json:"EventType"`
		FragmentTimecode *int64       `json:"FragmentTimecode,omitempty"`
		FragmentNumber   string       `json:"FragmentNumber,omitempty"`
		ErrorID          *int         `json:"ErrorId,omitempty"`
		ErrorCode        string       `json:"ErrorCode,omitempty"`
	}{EventType: a.EventType, FragmentNumber: a.FragmentNumber, ErrorCode: a.ErrorCode}
	if a.EventType == AckError || a.ErrorID != 0 {
		id := int(a.ErrorID)
		w.ErrorID = &id
	}
	if a.HasTimecode {
		tc := a.FragmentTimecode
		w.FragmentTimecode = &tc
	}
	return json.Marshal(w)
}

// MaxAckSize bounds one acknowledgement object. Real ones are under 200
// bytes; the bound keeps a broken or hostile stream from growing a buffer.
const MaxAckSize = 16 << 10

// ErrBadAck is wrapped by AckDecoder errors for malformed acknowledgements.
// The stream cannot be resynchronised after one: the connection must be
// dropped.
var ErrBadAck = errors.New("kvs: malformed PutMedia acknowledgement")

// AckDecoder reads the acknowledgement stream of a PutMedia response: JSON
// objects separated by newlines (or any whitespace).
type AckDecoder struct {
	r   *bufio.Reader
	buf []byte
}

// NewAckDecoder returns a decoder reading from r.
func NewAckDecoder(r io.Reader) *AckDecoder {
	return &AckDecoder{r: bufio.NewReaderSize(r, 4096)}
}

// Next returns the next acknowledgement. It returns io.EOF at a clean end of
// stream, io.ErrUnexpectedEOF inside an object, and an error wrapping
// ErrBadAck for malformed data.
func (d *AckDecoder) Next() (Ack, error) {
	obj, err := d.object()
	if err != nil {
		return Ack{}, err
	}
	return ParseAck(obj)
}

// object returns the bytes of the next top-level JSON object, found by
// tracking nesting and strings.
func (d *AckDecoder) object() ([]byte, error) {
	d.buf = d.buf[:0]
skip:
	for {
		c, err := d.r.ReadByte()
		if err != nil {
			return nil, err
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			break skip
		default:
			return nil, fmt.Errorf("%w: unexpected byte %q between objects", ErrBadAck, c)
		}
	}
	d.buf = append(d.buf, '{')
	depth, inString, escaped := 1, false, false
	for depth > 0 {
		c, err := d.r.ReadByte()
		if err != nil {
			if err == io.EOF {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(d.buf) >= MaxAckSize {
			return nil, fmt.Errorf("%w: object larger than %d bytes", ErrBadAck, MaxAckSize)
		}
		d.buf = append(d.buf, c)
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return d.buf, nil
}

// ParseAck decodes one acknowledgement object.
func ParseAck(obj []byte) (Ack, error) {
	var w struct {
		EventType        *string      `json:"EventType"`
		FragmentTimecode *json.Number `json:"FragmentTimecode"`
		FragmentNumber   *string      `json:"FragmentNumber"`
		ErrorID          *json.Number `json:"ErrorId"`
		ErrorCode        *string      `json:"ErrorCode"`
	}
	if err := json.Unmarshal(obj, &w); err != nil {
		return Ack{}, fmt.Errorf("%w: %v", ErrBadAck, err)
	}
	if w.EventType == nil || *w.EventType == "" {
		return Ack{}, fmt.Errorf("%w: no EventType", ErrBadAck)
	}
	a := Ack{EventType: AckEventType(*w.EventType)}
	if w.FragmentTimecode != nil {
		tc, err := strconv.ParseInt(string(*w.FragmentTimecode), 10, 64)
		if err != nil || tc < 0 {
			return Ack{}, fmt.Errorf("%w: FragmentTimecode %q", ErrBadAck, *w.FragmentTimecode)
		}
		a.FragmentTimecode, a.HasTimecode = tc, true
	}
	if w.FragmentNumber != nil {
		a.FragmentNumber = *w.FragmentNumber
		for _, c := range a.FragmentNumber {
			if c < '0' || c > '9' {
				return Ack{}, fmt.Errorf("%w: FragmentNumber %q", ErrBadAck, a.FragmentNumber)
			}
		}
	}
	if w.ErrorCode != nil {
		a.ErrorCode = *w.ErrorCode
	}
	if w.ErrorID != nil {
		id, err := strconv.ParseInt(string(*w.ErrorID), 10, 32)
		if err != nil {
			return Ack{}, fmt.Errorf("%w: ErrorId %q", ErrBadAck, *w.ErrorID)
		}
		a.ErrorID = ErrorID(id)
	}
	switch a.EventType {
	case AckError:
		if w.ErrorID == nil {
			return Ack{}, fmt.Errorf("%w: ERROR without ErrorId", ErrBadAck)
		}
	case AckBuffering, AckReceived, AckPersisted:
		if !a.HasTimecode {
			return Ack{}, fmt.Errorf("%w: %s without FragmentTimecode", ErrBadAck, a.EventType)
		}
	}
	return a, nil
}

// FragmentError is the error of an ERROR acknowledgement, for errors.As.
type FragmentError struct {
	Ack Ack
}

// Unwrap returns the acknowledgement's ErrorID, for errors.Is.
func (e *FragmentError) Unwrap() error { return e.Ack.ErrorID }

func (e *FragmentError) Error() string {
	s := fmt.Sprintf("kvs: PutMedia ERROR %d %s for fragment %d", int(e.Ack.ErrorID), e.Ack.ErrorID.String(), e.Ack.FragmentTimecode)
	if e.Ack.FragmentNumber != "" {
		s += " (" + e.Ack.FragmentNumber + ")"
	}
	return s
}
