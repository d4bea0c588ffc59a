package rekog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// MaxRecordBytes is the largest Kinesis record (1 MiB): DecodeFaceRecord
// rejects anything larger before parsing.
const MaxRecordBytes = 1 << 20

// maxTimestamp is 9999-12-31T23:59:59Z in epoch seconds.
const maxTimestamp = 253402300799

// FaceRecord is one record a face-search stream processor writes to its
// Kinesis data stream (Rekognition Developer Guide, "Reading streaming
// video analysis results").
type FaceRecord struct {
	InputInformation struct {
		KinesisVideo KinesisVideoInfo
	}
	StreamProcessorInformation struct {
		Status string
	}
	FaceSearchResponse []FaceSearchResult
}

// KinesisVideoInfo locates the analysed frame in the video stream.
type KinesisVideoInfo struct {
	StreamArn            string
	FragmentNumber       string
	ServerTimestamp      float64 // seconds since the epoch
	ProducerTimestamp    float64 // seconds since the epoch
	FrameOffsetInSeconds float64
}

// ServerTime returns ServerTimestamp as a time.
func (k KinesisVideoInfo) ServerTime() time.Time { return epochSeconds(k.ServerTimestamp) }

// ProducerTime returns ProducerTimestamp as a time.
func (k KinesisVideoInfo) ProducerTime() time.Time { return epochSeconds(k.ProducerTimestamp) }

// FrameTime is the time of the analysed frame: the fragment's producer
// timestamp plus the frame's offset in it.
func (k KinesisVideoInfo) FrameTime() time.Time {
	if k.ProducerTimestamp == 0 {
		return time.Time{}
	}
	return epochSeconds(k.ProducerTimestamp + k.FrameOffsetInSeconds)
}

func epochSeconds(s float64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	// Rekognition writes milliseconds; rounding to microseconds removes
	// the float's representation error (…33.455 would read …33.454999924).
	return time.UnixMicro(int64(math.Round(s * 1e6))).UTC()
}

// FaceSearchResult is one face detected in the frame with its matches in
// the collection, most similar first once decoded.
type FaceSearchResult struct {
	DetectedFace struct {
		BoundingBox jsonBox
		Confidence  float64
	}
	MatchedFaces []MatchedFace
}

// MatchedFace is one collection face similar to a detected face.
type MatchedFace struct {
	Similarity float64
	Face       struct {
		BoundingBox     jsonBox
		FaceId          string
		Confidence      float64
		ImageId         string
		ExternalImageId string
	}
}

type jsonBox struct {
	Width, Height, Left, Top float64
}

func (b jsonBox) box() Box { return Box{Left: b.Left, Top: b.Top, Width: b.Width, Height: b.Height} }

// RecordError reports a stream-processor record that cannot be decoded.
// Such a record is poison: retrying it cannot succeed.
type RecordError struct {
	Reason string
}

func (e *RecordError) Error() string { return "rekog: bad stream processor record: " + e.Reason }

// DecodeFaceRecord decodes one Kinesis record's data. It rejects records
// over MaxRecordBytes, JSON that is not an object, and records carrying
// neither input information nor face results; confidences and
// similarities must lie in 0–100 and numbers must be finite. Matches are
// sorted by similarity, highest first.
func DecodeFaceRecord(data []byte) (*FaceRecord, error) {
	if len(data) > MaxRecordBytes {
		return nil, &RecordError{Reason: fmt.Sprintf("%d bytes, limit %d", len(data), MaxRecordBytes)}
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return nil, &RecordError{Reason: "not a JSON object"}
	}
	var r FaceRecord
	if err := json.Unmarshal(data, &r); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return nil, &RecordError{Reason: fmt.Sprintf("JSON syntax at byte %d", se.Offset)}
		case errors.As(err, &te):
			return nil, &RecordError{Reason: fmt.Sprintf("field %s: %s where %s expected", te.Field, te.Value, te.Type)}
		}
		return nil, &RecordError{Reason: "invalid JSON"}
	}
	kv := r.InputInformation.KinesisVideo
	if kv.StreamArn == "" && kv.FragmentNumber == "" && r.FaceSearchResponse == nil && r.StreamProcessorInformation.Status == "" {
		return nil, &RecordError{Reason: "no InputInformation, StreamProcessorInformation or FaceSearchResponse"}
	}
	for _, ts := range []float64{kv.ServerTimestamp, kv.ProducerTimestamp, kv.FrameOffsetInSeconds} {
		if ts < 0 || ts > maxTimestamp {
			return nil, &RecordError{Reason: fmt.Sprintf("timestamp %v outside 0–%v", ts, float64(maxTimestamp))}
		}
	}
	for i := range r.FaceSearchResponse {
		f := &r.FaceSearchResponse[i]
		if !percent(f.DetectedFace.Confidence) {
			return nil, &RecordError{Reason: fmt.Sprintf("face %d: confidence %v outside 0–100", i, f.DetectedFace.Confidence)}
		}
		for _, m := range f.MatchedFaces {
			if !percent(m.Similarity) {
				return nil, &RecordError{Reason: fmt.Sprintf("face %d: similarity %v outside 0–100", i, m.Similarity)}
			}
		}
		sort.SliceStable(f.MatchedFaces, func(a, b int) bool { return f.MatchedFaces[a].Similarity > f.MatchedFaces[b].Similarity })
	}
	return &r, nil
}

func percent(v float64) bool { return v >= 0 && v <= 100 }

// Sighting is one face seen in a frame, classified.
type Sighting struct {
	Known bool
	// Name is the person's name decoded from ExternalImageID (known faces).
	Name            string
	ExternalImageID string
	FaceID          string
	Similarity      float64 // of the best match; 0 when unknown
	Confidence      float64 // that the detected box is a face
	Box             Box
	Stream          string
	Fragment        string
	// Time is the frame's time: producer timestamp plus frame offset, or
	// the server timestamp when the producer's is absent.
	Time time.Time
}

// Classifier sorts detected faces into known and unknown.
type Classifier struct {
	// Threshold is the similarity a match needs to count as known. Zero
	// trusts the stream processor's FaceMatchThreshold (every match it
	// reports is known); set it higher to be stricter than the processor.
	Threshold float64
	// MinFaceConfidence ignores detected faces below this confidence, so a
	// shadow is not announced as an unknown person. Zero keeps all.
	MinFaceConfidence float64
}

// Classify returns one Sighting per detected face in the record, appended
// to dst.
func (c Classifier) Classify(dst []Sighting, r *FaceRecord) []Sighting {
	kv := r.InputInformation.KinesisVideo
	t := kv.FrameTime()
	if t.IsZero() {
		t = kv.ServerTime()
	}
	for _, f := range r.FaceSearchResponse {
		if f.DetectedFace.Confidence < c.MinFaceConfidence {
			continue
		}
		s := Sighting{Confidence: f.DetectedFace.Confidence, Box: f.DetectedFace.BoundingBox.box(),
			Stream: kv.StreamArn, Fragment: kv.FragmentNumber, Time: t}
		if len(f.MatchedFaces) > 0 && f.MatchedFaces[0].Similarity >= c.Threshold {
			m := f.MatchedFaces[0]
			s.Known = true
			s.Similarity = m.Similarity
			s.FaceID = m.Face.FaceId
			s.ExternalImageID = m.Face.ExternalImageId
			s.Name = NameFromExternalImageID(m.Face.ExternalImageId)
			if s.Name == "" {
				s.Name = m.Face.FaceId
			}
		}
		dst = append(dst, s)
	}
	return dst
}
