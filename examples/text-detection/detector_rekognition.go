//go:build !tesseract

package main

import (
	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// localDetector without Tesseract: a local Rekognition wire server that
// answers DetectText with the documented sample, whatever the image.
func localDetector() (rekog.TextDetector, string, func()) {
	srv := rekogtest.Start()
	client := srv.Client
	return rekog.NewRekognitionText(client), "rekognition sample (build with -tags tesseract to read images)", func() { _ = srv.Close() }
}
