// Package browsertest drives the text-detection web page in headless
// Chromium: it builds `examples/text-detection` with the Tesseract backend,
// starts it in local mode, uploads an image rendered by the test, submits
// it and checks that the detected words are listed and boxes are drawn. A
// screenshot is written to $BROWSER_ARTIFACTS (default ./artifacts).
//
// It is a nested module so chromedp never enters lakekit's go.mod. It needs
// the Debian packages chromium, tesseract-ocr, tesseract-ocr-eng,
// libtesseract-dev and libleptonica-dev:
//
//	cd examples/text-detection/browsertest && go test -count=1 ./...
package browsertest
