//go:build tesseract

package main

import (
	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/tesseract"
)

func localDetector() (rekog.TextDetector, string, func()) {
	d := tesseract.New()
	return d, "tesseract", func() { _ = d.Close() }
}
