package rekogtest

import (
	"encoding/json"
	"strconv"
)

// SampleFaceRecord is the face-search stream processor output record of the
// Rekognition Developer Guide ("Reading streaming video analysis results"):
// one detected face matched to one collection face.
const SampleFaceRecord = `{
  "InputInformation": {
    "KinesisVideo": {
      "StreamArn": "arn:aws:kinesisvideo:us-west-2:nnnnnnnnnnnn:stream/stream-name",
      "FragmentNumber": "91343852333289682796718532614445757584843717598",
      "ServerTimestamp": 1510552593.455,
      "ProducerTimestamp": 1510552593.193,
      "FrameOffsetInSeconds": 2
    }
  },
  "StreamProcessorInformation": {
    "Status": "RUNNING"
  },
  "FaceSearchResponse": [
    {
      "DetectedFace": {
        "BoundingBox": {
          "Height": 0.075,
          "Width": 0.05625,
          "Left": 0.428125,
          "Top": 0.40833333
        },
        "Confidence": 99.975174,
        "Landmarks": [
          {"X": 0.4452057, "Y": 0.4395594, "Type": "eyeLeft"},
          {"X": 0.46340984, "Y": 0.43744427, "Type": "eyeRight"},
          {"X": 0.45960626, "Y": 0.4526856, "Type": "nose"},
          {"X": 0.44958648, "Y": 0.4696949, "Type": "mouthLeft"},
          {"X": 0.46409217, "Y": 0.46704912, "Type": "mouthRight"}
        ],
        "Pose": {"Pitch": 2.9691637, "Roll": -6.8904796, "Yaw": 23.84388},
        "Quality": {"Brightness": 40.592964, "Sharpness": 96.09616}
      },
      "MatchedFaces": [
        {
          "Similarity": 88.863960,
          "Face": {
            "BoundingBox": {
              "Height": 0.557692,
              "Width": 0.749838,
              "Left": 0.103426,
              "Top": 0.206731
            },
            "FaceId": "ed1b560f-d6af-5158-989a-ff586c931545",
            "Confidence": 99.999201,
            "ImageId": "70e09693-2114-57e1-807c-50b6d61fa4dc",
            "ExternalImageId": "matchedImage.jpeg"
          }
        }
      ]
    }
  ]
}`

// SeenFace is one face to put in a generated record. An empty
// ExternalImageID makes an unknown face (no MatchedFaces).
type SeenFace struct {
	ExternalImageID string
	FaceID          string
	Similarity      float64
}

// FaceRecordJSON builds a stream processor output record in the documented
// shape: fragment numbers and timestamps as the service writes them, one
// FaceSearchResponse entry per face.
func FaceRecordJSON(streamARN string, fragment int64, serverTS float64, faces ...SeenFace) []byte {
	type box struct{ Height, Width, Left, Top float64 }
	type face struct {
		BoundingBox     box
		FaceId          string
		Confidence      float64
		ImageId         string
		ExternalImageId string
	}
	type match struct {
		Similarity float64
		Face       face
	}
	type detected struct {
		DetectedFace struct {
			BoundingBox box
			Confidence  float64
		}
		MatchedFaces []match
	}
	resp := make([]detected, len(faces))
	for i, f := range faces {
		d := &resp[i]
		d.DetectedFace.BoundingBox = box{0.075, 0.05625, 0.1 + 0.2*float64(i%4), 0.40833333}
		d.DetectedFace.Confidence = 99.97
		d.MatchedFaces = []match{}
		if f.ExternalImageID != "" {
			id := f.FaceID
			if id == "" {
				id = "face-" + f.ExternalImageID
			}
			sim := f.Similarity
			if sim == 0 {
				sim = 97.5
			}
			d.MatchedFaces = append(d.MatchedFaces, match{Similarity: sim, Face: face{
				BoundingBox: box{0.557692, 0.749838, 0.103426, 0.206731}, FaceId: id, Confidence: 99.99,
				ImageId: "image-" + f.ExternalImageID, ExternalImageId: f.ExternalImageID,
			}})
		}
	}
	rec := map[string]any{
		"InputInformation": map[string]any{"KinesisVideo": map[string]any{
			"StreamArn":            streamARN,
			"FragmentNumber":       "9134385233328968279671853261444575758484371" + strconv.FormatInt(10000+fragment%90000, 10),
			"ServerTimestamp":      serverTS,
			"ProducerTimestamp":    serverTS - 0.262,
			"FrameOffsetInSeconds": 0.0,
		}},
		"StreamProcessorInformation": map[string]any{"Status": "RUNNING"},
		"FaceSearchResponse":         resp,
	}
	b, _ := json.Marshal(rec)
	return b
}
