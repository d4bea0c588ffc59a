package rekogtest_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// A test of code that calls DetectText points a real Rekognition client at
// the fake and scripts what the service answers.
func Example() {
	fake := rekogtest.Start() // in a test: rekogtest.New(t)
	rc := fake.Client
	defer fake.Close()
	fake.SetTextDetections([]rekogtest.TextDetection{
		{DetectedText: "OPEN 24 HOURS", Type: "LINE", Id: 0, Confidence: 99.1},
		{DetectedText: "OPEN", Type: "WORD", Id: 1, ParentId: ptr(0), Confidence: 99.3},
	})

	var buf bytes.Buffer
	_ = png.Encode(&buf, image.NewGray(image.Rect(0, 0, 100, 100)))
	img, err := rekog.ValidateImage(buf.Bytes(), "")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := rekog.NewRekognitionText(rc).DetectText(context.Background(), rekog.TextInput{Image: img})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, l := range res.Lines {
		fmt.Printf("%s (%d words)\n", l.Text, len(l.Words))
	}
	// Output:
	// OPEN 24 HOURS (1 words)
}

func ptr(i int) *int { return &i }
