package kvs

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// The acknowledgement shapes of the PutMedia documentation: one JSON object
// per line.
const docAcks = `{"EventType":"BUFFERING","FragmentTimecode":12345,"FragmentNumber":"91343852333754009371412493862204112772176002064"}
{"EventType":"RECEIVED","FragmentTimecode":12345,"FragmentNumber":"91343852333754009371412493862204112772176002064"}
{"EventType":"PERSISTED","FragmentTimecode":12345,"FragmentNumber":"91343852333754009371412493862204112772176002064"}
{"EventType":"IDLE"}
{"EventType":"ERROR","FragmentTimecode":12345,"FragmentNumber":"91343852333754009371412493862204112772176002064","ErrorId":4004,"ErrorCode":"FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS"}
`

func TestAckDecoderDocumentedEvents(t *testing.T) {
	const num = "91343852333754009371412493862204112772176002064"
	want := []Ack{
		{EventType: AckBuffering, FragmentTimecode: 12345, HasTimecode: true, FragmentNumber: num},
		{EventType: AckReceived, FragmentTimecode: 12345, HasTimecode: true, FragmentNumber: num},
		{EventType: AckPersisted, FragmentTimecode: 12345, HasTimecode: true, FragmentNumber: num},
		{EventType: AckIdle},
		{EventType: AckError, FragmentTimecode: 12345, HasTimecode: true, FragmentNumber: num, ErrorID: ErrFragmentTimecodeLesserThanPrev, ErrorCode: "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS"},
	}
	for name, r := range map[string]io.Reader{
		"newlines":                       strings.NewReader(docAcks),
		"byte by byte":                   iotest.OneByteReader(strings.NewReader(docAcks)),
		"no separators, CRLF and spaces": strings.NewReader(strings.ReplaceAll(strings.ReplaceAll(docAcks, "}\n{", "}{"), "\n", " \r\n")),
	} {
		t.Run(name, func(t *testing.T) {
			d := NewAckDecoder(r)
			for i, w := range want {
				got, err := d.Next()
				if err != nil {
					t.Fatalf("ack %d: %v", i, err)
				}
				if got != w {
					t.Fatalf("ack %d = %+v, want %+v", i, got, w)
				}
			}
			if _, err := d.Next(); err != io.EOF {
				t.Fatalf("after the last ack: %v, want io.EOF", err)
			}
		})
	}
}

func TestAckErrorIDs(t *testing.T) {
	tests := []struct {
		id    ErrorID
		name  string
		class ErrorClass
	}{
		{4000, "STREAM_READ_ERROR", ClassRetry},
		{4001, "MAX_FRAGMENT_SIZE_REACHED", ClassDropFragment},
		{4002, "MAX_FRAGMENT_DURATION_REACHED", ClassDropFragment},
		{4003, "MAX_CONNECTION_DURATION_REACHED", ClassRetry},
		{4004, "FRAGMENT_TIMECODE_LESSER_THAN_PREVIOUS", ClassDropFragment},
		{4005, "MORE_THAN_ALLOWED_TRACKS_FOUND", ClassDropFragment},
		{4006, "INVALID_MKV_DATA", ClassDropFragment},
		{4007, "INVALID_PRODUCER_TIMESTAMP", ClassDropFragment},
		{4008, "STREAM_NOT_ACTIVE", ClassFatal},
		{4009, "FRAGMENT_METADATA_LIMIT_REACHED", ClassDropFragment},
		{4010, "TRACK_NUMBER_MISMATCH", ClassDropFragment},
		{4011, "FRAMES_MISSING_FOR_TRACK", ClassDropFragment},
		{4500, "KMS_KEY_ACCESS_DENIED", ClassFatal},
		{4501, "KMS_KEY_DISABLED", ClassFatal},
		{4502, "KMS_KEY_VALIDATION_ERROR", ClassFatal},
		{4503, "KMS_KEY_UNAVAILABLE", ClassRetry},
		{4504, "KMS_KEY_INVALID_USAGE", ClassFatal},
		{4505, "KMS_KEY_INVALID_STATE", ClassFatal},
		{4506, "KMS_KEY_NOT_FOUND", ClassFatal},
		{5000, "INTERNAL_ERROR", ClassRetry},
		{5001, "ARCHIVAL_ERROR", ClassRetry},
		{4999, "4999", ClassRetry},
	}
	if len(ErrorIDs()) != len(tests)-1 {
		t.Fatalf("ErrorIDs has %d ids, the table %d", len(ErrorIDs()), len(tests)-1)
	}
	for _, tt := range tests {
		if tt.id.String() != tt.name {
			t.Errorf("%d.String() = %q, want %q", int(tt.id), tt.id.String(), tt.name)
		}
		ack := `{"EventType":"ERROR","FragmentTimecode":7,"ErrorId":` + itoa(int(tt.id)) + `,"ErrorCode":"` + tt.name + `"}`
		a, err := NewAckDecoder(strings.NewReader(ack)).Next()
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if a.ErrorID != tt.id || a.ErrorCode != tt.name || a.ErrorID.Class() != tt.class {
			t.Errorf("%s: decoded %+v class %v, want id %d class %v", tt.name, a, a.ErrorID.Class(), tt.id, tt.class)
		}
		var fe *FragmentError
		err = fmt.Errorf("wrapped: %w", &FragmentError{Ack: a})
		if !errors.As(err, &fe) || !errors.Is(err, tt.id) || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("FragmentError %v", err)
		}
		if errors.Is(err, ErrorID(1)) {
			t.Errorf("%v matches another ErrorID", err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestAckDecoderErrors(t *testing.T) {
	tests := map[string]struct {
		in   string
		want error
	}{
		"garbage between":      {`{"EventType":"IDLE"} x`, ErrBadAck},
		"no event type":        {`{"FragmentTimecode":1}`, ErrBadAck},
		"error without id":     {`{"EventType":"ERROR","FragmentTimecode":1}`, ErrBadAck},
		"persisted without tc": {`{"EventType":"PERSISTED"}`, ErrBadAck},
		"negative timecode":    {`{"EventType":"RECEIVED","FragmentTimecode":-5}`, ErrBadAck},
		"fractional timecode":  {`{"EventType":"RECEIVED","FragmentTimecode":1.5}`, ErrBadAck},
		"non-digit number":     {`{"EventType":"RECEIVED","FragmentTimecode":1,"FragmentNumber":"12a"}`, ErrBadAck},
		"truncated":            {`{"EventType":"REC`, io.ErrUnexpectedEOF},
		"too large":            {`{"EventType":"IDLE","X":"` + strings.Repeat("a", MaxAckSize) + `"}`, ErrBadAck},
		"not an object":        {`[1,2]`, ErrBadAck},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			d := NewAckDecoder(strings.NewReader(tt.in))
			var err error
			for err == nil {
				_, err = d.Next()
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestAckMarshalRoundTrip(t *testing.T) {
	for _, a := range []Ack{
		{EventType: AckIdle},
		{EventType: AckPersisted, FragmentTimecode: 0, HasTimecode: true, FragmentNumber: "1"},
		{EventType: AckError, FragmentTimecode: 99, HasTimecode: true, ErrorID: ErrInternalError, ErrorCode: "INTERNAL_ERROR"},
	} {
		b, err := a.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseAck(b)
		if err != nil || got != a {
			t.Fatalf("%s parsed to %+v, %v; want %+v", b, got, err, a)
		}
	}
}

// FuzzAckDecoder: any byte stream decodes to valid acks and then io.EOF or
// an error; nothing panics, and every decoded ack re-encodes to an equal
// one.
func FuzzAckDecoder(f *testing.F) {
	f.Add([]byte(docAcks))
	f.Add([]byte(`{"EventType":"IDLE"}{"EventType":"ERROR","ErrorId":5000}`))
	f.Add([]byte(`{"EventType":"PERSISTED","FragmentTimecode":1,"X":{"y":["}",{"z":"\"{"}]}}`))
	f.Add([]byte(`  {"EventType":"RECEIVED","FragmentTimecode":9223372036854775807}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := NewAckDecoder(strings.NewReader(string(data)))
		for range 1000 {
			a, err := d.Next()
			if err != nil {
				return
			}
			if a.EventType == "" {
				t.Fatal("ack without EventType")
			}
			b, err := a.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			a2, err := ParseAck(b)
			if err != nil || a2 != a {
				t.Fatalf("re-encoded %s parsed to %+v, %v; want %+v", b, a2, err, a)
			}
		}
	})
}
