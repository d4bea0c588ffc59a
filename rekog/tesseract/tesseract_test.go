//go:build tesseract

package tesseract_test

import (
	"context"
	"fmt"
	"image"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
	"github.com/lakekit/lakekit/rekog/tesseract"
)

func detect(t testing.TB, d *tesseract.Detector, pngBytes []byte, filter *rekog.TextFilter) *rekog.TextResult {
	t.Helper()
	img, err := rekog.ValidateImage(pngBytes, "", func(o *rekog.DecodeOptions) { o.MaxBytes = rekog.MaxS3ImageBytes })
	if err != nil {
		t.Fatal(err)
	}
	res, err := d.DetectText(context.Background(), rekog.TextInput{Image: img, Filter: filter})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// recall matches each drawn word to a detected word with the same text
// (case-sensitive, punctuation stripped) and returns the fraction found and
// the worst distance between matched box centres, in image ratios.
func recall(drawn []placed, res *rekog.TextResult, w, h int) (float64, float64, []string) {
	used := map[int]bool{}
	words := res.Words()
	found, worst := 0, 0.0
	var missing []string
	for _, p := range drawn {
		cx, cy := float64(p.Box.Min.X+p.Box.Max.X)/2/float64(w), float64(p.Box.Min.Y+p.Box.Max.Y)/2/float64(h)
		best, bestD := -1, 1e9
		for i, wd := range words {
			if used[i] || strings.Trim(wd.Text, ".,;:!?'\"") != p.Text {
				continue
			}
			dx, dy := wd.Box.Left+wd.Box.Width/2-cx, wd.Box.Top+wd.Box.Height/2-cy
			if d := dx*dx + dy*dy; d < bestD {
				best, bestD = i, d
			}
		}
		if best < 0 {
			missing = append(missing, p.Text)
			continue
		}
		used[best] = true
		found++
		worst = max(worst, bestD)
	}
	return float64(found) / float64(len(drawn)), sqrt(worst), missing
}

func sqrt(x float64) float64 {
	z := x
	for range 30 {
		if z == 0 {
			return 0
		}
		z = (z + x/z) / 2
	}
	return z
}

func TestCleanPagesRecall(t *testing.T) {
	d := tesseract.New()
	defer d.Close()
	for _, f := range fonts {
		for _, size := range []float64{20, 30, 42} {
			t.Run(fmt.Sprintf("%s-%v", f.name, size), func(t *testing.T) {
				img, drawn := page(t, 800, 600, face(t, f.ttf, size), size, 40, 40+int(size), sampleLines)
				res := detect(t, d, encodePNG(t, img), nil)
				rekogtest.CheckTextResult(t, res)
				r, worst, missing := recall(drawn, res, 800, 600)
				if r < 0.95 {
					t.Fatalf("recall %.2f, missing %v; read %q", r, missing, res.Text())
				}
				// Boxes in the right places: every matched word's centre
				// within 1% of the image of where it was drawn.
				if worst > 0.01 {
					t.Fatalf("a word's box is %.3f of the image away from where it was drawn", worst)
				}
				if len(res.Lines) != len(sampleLines) {
					t.Fatalf("%d lines, want %d: %q", len(res.Lines), len(sampleLines), res.Text())
				}
				for i, l := range res.Lines {
					if l.Text != strings.Join(sampleLines[i], " ") {
						t.Errorf("line %d = %q", i, l.Text)
					}
					for _, w := range l.Words {
						if w.LineID != l.ID || w.Confidence <= 0 || w.Confidence > 100 {
							t.Errorf("word %+v of line %d", w, l.ID)
						}
						if w.Box.Left < l.Box.Left-1e-9 || w.Box.Right() > l.Box.Right()+1e-9 {
							t.Errorf("word %q box outside its line", w.Text)
						}
					}
				}
				if res.Backend != "tesseract" || !strings.HasPrefix(res.ModelVersion, "tesseract ") {
					t.Errorf("backend %q model %q", res.Backend, res.ModelVersion)
				}
			})
		}
	}
}

func TestRotatedAndNoisy(t *testing.T) {
	d := tesseract.New()
	defer d.Close()
	img, drawn := page(t, 800, 600, face(t, fonts[0].ttf, 36), 36, 60, 120, sampleLines)
	for _, tt := range []struct {
		name string
		img  image.Image
		min  float64
	}{
		{"rotated 3 degrees", rotate(img, 3), 0.75},
		{"noise 1%", noisy(img, 0.01, 1), 0.85},
		{"noise 2%", noisy(img, 0.02, 1), 0.7},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := detect(t, d, encodePNG(t, tt.img), nil)
			rekogtest.CheckTextResult(t, res)
			// Rotation moves boxes; only recall is asserted.
			found := map[string]bool{}
			for _, w := range res.Words() {
				found[strings.Trim(w.Text, ".,;:!?'\"")] = true
			}
			n := 0
			for _, p := range drawn {
				if found[p.Text] {
					n++
				}
			}
			if r := float64(n) / float64(len(drawn)); r < tt.min {
				t.Fatalf("recall %.2f < %.2f; read %q", r, tt.min, res.Text())
			} else {
				t.Logf("recall %.2f", r)
			}
		})
	}
}

func TestFilterMatchesRekognitionSemantics(t *testing.T) {
	d := tesseract.New()
	defer d.Close()
	img, _ := page(t, 800, 600, face(t, fonts[0].ttf, 32), 32, 40, 80, sampleLines)
	// Keep only the top half of the page: lines 1 and 2 (y ≈ 80 and 138).
	res := detect(t, d, encodePNG(t, img), &rekog.TextFilter{Regions: []rekog.Box{{Left: 0, Top: 0, Width: 1, Height: 0.25}}})
	if got := res.Text(); got != "Invoice number 4821\nDelivered to Harbour Street" {
		t.Fatalf("filtered text %q", got)
	}
	res = detect(t, d, encodePNG(t, img), &rekog.TextFilter{MinBoxWidth: 0.1})
	for _, w := range res.Words() {
		if w.Box.Width < 0.1 {
			t.Fatalf("word %q width %.3f kept", w.Text, w.Box.Width)
		}
	}
}

func TestRejectsUnreadableInput(t *testing.T) {
	d := tesseract.New()
	defer d.Close()
	if _, err := d.DetectText(context.Background(), rekog.TextInput{}); err == nil {
		t.Fatal("empty input accepted")
	}
	if _, err := d.DetectText(context.Background(), rekog.TextInput{Image: &rekog.Image{Bytes: []byte("not an image")}}); err == nil {
		t.Fatal("garbage accepted")
	}
	closed := tesseract.New()
	closed.Close()
	img, _ := page(t, 200, 100, face(t, fonts[0].ttf, 20), 20, 10, 40, [][]string{{"x"}})
	if _, err := closed.DetectText(context.Background(), rekog.TextInput{Image: &rekog.Image{Bytes: encodePNG(t, img)}}); err == nil {
		t.Fatal("closed detector ran")
	}
}

func BenchmarkDetect800x600(b *testing.B) {
	d := tesseract.New()
	defer d.Close()
	img, _ := page(b, 800, 600, face(b, fonts[0].ttf, 28), 28, 40, 60, sampleLines)
	data := encodePNG(b, img)
	in, err := rekog.ValidateImage(data, "")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.DetectText(context.Background(), rekog.TextInput{Image: in}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
}

// TestConcurrentCallsShareEngines: calls from several goroutines through a
// pool of two engines read what one engine reads alone.
func TestConcurrentCallsShareEngines(t *testing.T) {
	d := tesseract.New(func(o *tesseract.Options) { o.Concurrency = 2 })
	defer d.Close()
	var pages [][]byte
	for i, size := range []float64{24, 30, 36} {
		img, _ := page(t, 640, 360, face(t, fonts[i].ttf, size), size, 30, 60, sampleLines[:2])
		pages = append(pages, encodePNG(t, img))
	}
	want := make([]string, len(pages))
	for i, p := range pages {
		want[i] = detect(t, d, p, nil).Text()
	}
	errs := make(chan error, 6)
	for g := range 6 {
		go func() {
			i := g % len(pages)
			img, err := rekog.ValidateImage(pages[i], "")
			if err != nil {
				errs <- err
				return
			}
			res, err := d.DetectText(context.Background(), rekog.TextInput{Image: img})
			if err == nil && res.Text() != want[i] {
				err = fmt.Errorf("page %d read %q, alone %q", i, res.Text(), want[i])
			}
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCloseWaitsForCallInProgress: Close during a call frees the engine
// only after the call is done with it; the call reads the page or is
// refused, and calls after Close are refused.
func TestCloseWaitsForCallInProgress(t *testing.T) {
	img, _ := page(t, 800, 600, face(t, fonts[0].ttf, 28), 28, 40, 60, sampleLines)
	data := encodePNG(t, img)
	ref := tesseract.New()
	want := detect(t, ref, data, nil).Text()
	_ = ref.Close()

	d := tesseract.New()
	in, err := rekog.ValidateImage(data, "")
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		res, err := d.DetectText(context.Background(), rekog.TextInput{Image: in})
		if err != nil {
			done <- result{err: err}
			return
		}
		done <- result{text: res.Text()}
	}()
	<-started
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if r := <-done; r.err == nil && r.text != want {
		t.Fatalf("call overlapping Close read %q, want %q", r.text, want)
	}
	if _, err := d.DetectText(context.Background(), rekog.TextInput{Image: in}); err == nil {
		t.Fatal("call after Close ran")
	}
}
