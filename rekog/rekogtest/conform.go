package rekogtest

import (
	"strings"
	"testing"

	"github.com/lakekit/lakekit/rekog"
)

// CheckTextResult checks the contract every rekog.TextDetector keeps, so
// the Rekognition and Tesseract backends are held to the same shape: IDs
// unique, every word pointing at its line and found in its line's text in
// order, confidences in 0–100, boxes inside the image in 0–1 ratios.
func CheckTextResult(tb testing.TB, res *rekog.TextResult) {
	tb.Helper()
	if res == nil {
		tb.Fatal("nil TextResult")
	}
	if res.Backend == "" {
		tb.Error("TextResult.Backend is empty")
	}
	seen := map[int]bool{}
	const eps = 1e-6
	inside := func(what string, b rekog.Box) {
		if b.Left < -eps || b.Top < -eps || b.Width < 0 || b.Height < 0 || b.Right() > 1+eps || b.Bottom() > 1+eps {
			tb.Errorf("%s box %+v is not inside the image", what, b)
		}
	}
	for _, l := range res.Lines {
		if seen[l.ID] {
			tb.Errorf("duplicate ID %d", l.ID)
		}
		seen[l.ID] = true
		if l.Confidence < 0 || l.Confidence > 100 {
			tb.Errorf("line %q confidence %v", l.Text, l.Confidence)
		}
		inside("line "+l.Text, l.Box)
		var words []string
		for _, w := range l.Words {
			if seen[w.ID] {
				tb.Errorf("duplicate ID %d", w.ID)
			}
			seen[w.ID] = true
			if w.LineID != l.ID {
				tb.Errorf("word %q has LineID %d, its line is %d", w.Text, w.LineID, l.ID)
			}
			if w.Confidence < 0 || w.Confidence > 100 {
				tb.Errorf("word %q confidence %v", w.Text, w.Confidence)
			}
			inside("word "+w.Text, w.Box)
			words = append(words, w.Text)
		}
		// A filter may drop some of a line's words; those left appear in
		// the line's text, in order.
		rest := l.Text
		for _, w := range words {
			i := strings.Index(rest, w)
			if i < 0 {
				tb.Errorf("line %q: word %q missing or out of order", l.Text, w)
				break
			}
			rest = rest[i+len(w):]
		}
		if len(l.Words) == 0 {
			tb.Errorf("line %q has no words", l.Text)
		}
	}
}
