package rekog_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

func TestDecodeSampleRecord(t *testing.T) {
	r, err := rekog.DecodeFaceRecord([]byte(rekogtest.SampleFaceRecord))
	if err != nil {
		t.Fatal(err)
	}
	kv := r.InputInformation.KinesisVideo
	if kv.StreamArn != "arn:aws:kinesisvideo:us-west-2:nnnnnnnnnnnn:stream/stream-name" ||
		kv.FragmentNumber != "91343852333289682796718532614445757584843717598" || kv.FrameOffsetInSeconds != 2 {
		t.Fatalf("kinesis video = %+v", kv)
	}
	if got := kv.ServerTime(); !got.Equal(time.Date(2017, 11, 13, 5, 56, 33, 455e6, time.UTC)) {
		t.Fatalf("server time %v", got)
	}
	if got := kv.FrameTime(); !got.Equal(time.Date(2017, 11, 13, 5, 56, 35, 193e6, time.UTC)) {
		t.Fatalf("frame time %v", got)
	}
	if r.StreamProcessorInformation.Status != "RUNNING" || len(r.FaceSearchResponse) != 1 {
		t.Fatalf("record = %+v", r)
	}
	m := r.FaceSearchResponse[0].MatchedFaces[0]
	if m.Similarity != 88.86396 || m.Face.ExternalImageId != "matchedImage.jpeg" || m.Face.FaceId != "ed1b560f-d6af-5158-989a-ff586c931545" {
		t.Fatalf("match = %+v", m)
	}

	tests := []struct {
		name      string
		c         rekog.Classifier
		known     bool
		person    string
		sightings int
	}{
		{"trust processor", rekog.Classifier{}, true, "matchedImage.jpeg", 1},
		{"stricter threshold", rekog.Classifier{Threshold: 90}, false, "", 1},
		{"at threshold", rekog.Classifier{Threshold: 88.86396}, true, "matchedImage.jpeg", 1},
		{"face confidence floor", rekog.Classifier{MinFaceConfidence: 99.99}, false, "", 0},
	}
	for _, tt := range tests {
		s := tt.c.Classify(nil, r)
		if len(s) != tt.sightings {
			t.Fatalf("%s: %d sightings", tt.name, len(s))
		}
		if len(s) == 0 {
			continue
		}
		if s[0].Known != tt.known || s[0].Name != tt.person {
			t.Errorf("%s: sighting %+v", tt.name, s[0])
		}
		if s[0].Box.Left != 0.428125 || !s[0].Time.Equal(kv.FrameTime()) {
			t.Errorf("%s: box/time %+v %v", tt.name, s[0].Box, s[0].Time)
		}
	}
}

func TestClassifyPicksBestMatch(t *testing.T) {
	rec := `{"InputInformation":{"KinesisVideo":{"StreamArn":"arn:s","FragmentNumber":"1","ServerTimestamp":1600000000}},
	"FaceSearchResponse":[{"DetectedFace":{"Confidence":99},"MatchedFaces":[
		{"Similarity":86,"Face":{"FaceId":"a","ExternalImageId":"Bob"}},
		{"Similarity":97,"Face":{"FaceId":"b","ExternalImageId":"Jane_Doe"}}]},
		{"DetectedFace":{"Confidence":98},"MatchedFaces":[]}]}`
	r, err := rekog.DecodeFaceRecord([]byte(rec))
	if err != nil {
		t.Fatal(err)
	}
	s := rekog.Classifier{}.Classify(nil, r)
	if len(s) != 2 || !s[0].Known || s[0].Name != "Jane Doe" || s[0].Similarity != 97 || s[1].Known {
		t.Fatalf("sightings %+v", s)
	}
	if !s[0].Time.Equal(time.Unix(1600000000, 0)) {
		t.Fatalf("time falls back to server time: %v", s[0].Time)
	}
}

func TestDecodeFaceRecordRejects(t *testing.T) {
	for name, in := range map[string]string{
		"empty":          "",
		"array":          "[]",
		"not json":       "{nope",
		"empty object":   "{}",
		"wrong type":     `{"FaceSearchResponse":"x"}`,
		"similarity 150": `{"FaceSearchResponse":[{"MatchedFaces":[{"Similarity":150}]}]}`,
		"negative conf":  `{"FaceSearchResponse":[{"DetectedFace":{"Confidence":-1}}]}`,
		"negative time":  `{"InputInformation":{"KinesisVideo":{"StreamArn":"a","ServerTimestamp":-5}}}`,
		"too large":      `{"FaceSearchResponse":[],"x":"` + strings.Repeat("a", rekog.MaxRecordBytes) + `"}`,
	} {
		_, err := rekog.DecodeFaceRecord([]byte(in))
		var re *rekog.RecordError
		if !errors.As(err, &re) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func FuzzDecodeFaceRecord(f *testing.F) {
	f.Add([]byte(rekogtest.SampleFaceRecord))
	f.Add(rekogtest.FaceRecordJSON("arn:s", 1, 1.6e9, rekogtest.SeenFace{ExternalImageID: "Jane"}, rekogtest.SeenFace{}))
	f.Add([]byte(`{"FaceSearchResponse":[{"MatchedFaces":[{"Similarity":1e309}]}]}`))
	f.Add([]byte(`{"InputInformation":{"KinesisVideo":{"ServerTimestamp":1e300}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := rekog.DecodeFaceRecord(data)
		if err != nil {
			var re *rekog.RecordError
			if !errors.As(err, &re) {
				t.Fatalf("error type %T", err)
			}
			return
		}
		for _, s := range (rekog.Classifier{Threshold: 80}).Classify(nil, r) {
			if s.Known && (s.Similarity < 80 || s.Similarity > 100) {
				t.Fatalf("known with similarity %v", s.Similarity)
			}
			_, _ = rekog.AlertMessage(s)
		}
	})
}
