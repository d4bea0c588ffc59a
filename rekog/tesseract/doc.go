// Package tesseract is the offline rekog.TextDetector: Tesseract OCR
// through cgo (github.com/otiai10/gosseract/v2), returning the same shape
// as Rekognition's DetectText — lines in reading order with their words,
// confidences in 0–100 and boxes as 0–1 ratios of the image.
//
// The implementation builds only with the `tesseract` build tag, so a plain
// `go build ./...` needs no C libraries. With the tag it needs the Debian
// packages tesseract-ocr, tesseract-ocr-eng, libtesseract-dev and
// libleptonica-dev:
//
//	apt-get install -y tesseract-ocr tesseract-ocr-eng libtesseract-dev libleptonica-dev
//	go test -tags tesseract ./rekog/tesseract/
//
// Differences from Rekognition worth knowing: Tesseract reports one
// confidence per word (a line's is the mean of its words'); its polygons are
// the axis-aligned boxes; text rotated by more than a few degrees is read
// poorly unless the page is deskewed first; Rekognition's limit of 100 words
// per image does not apply.
//
// # Errors
//
// DetectText returns *rekog.InvalidImageError for input Tesseract cannot
// read, and wraps Tesseract's own errors otherwise.
//
// # Concurrency
//
// A Detector is safe for concurrent use. A Tesseract engine is not, so a
// Detector keeps a pool of Options.Concurrency engines (default 1) and a
// call waits for a free one (or for its context). Close releases them.
package tesseract
