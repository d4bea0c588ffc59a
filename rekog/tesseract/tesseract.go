//go:build tesseract

package tesseract

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"sort"
	"strings"
	"sync"

	_ "image/jpeg" // DecodeConfig of JPEG input
	_ "image/png"  // DecodeConfig of PNG input

	"github.com/otiai10/gosseract/v2"

	"github.com/lakekit/lakekit/rekog"
)

// Options configure a Detector.
type Options struct {
	// Concurrency is the number of Tesseract engines, hence of images read
	// at once. Default 1: an engine uses a whole core while it reads.
	Concurrency int
	// Languages are Tesseract language codes. Default ["eng"].
	Languages []string
	// PageSegMode is Tesseract's page segmentation mode. Default
	// gosseract.PSM_AUTO (3): photos of signs and documents.
	PageSegMode gosseract.PageSegMode
}

// Detector is a rekog.TextDetector backed by Tesseract.
type Detector struct {
	opts Options
	pool chan *gosseract.Client

	mu     sync.Mutex
	all    []*gosseract.Client
	closed bool
}

// New returns a Detector. Engines are created on first use.
func New(optFns ...func(*Options)) *Detector {
	d := &Detector{}
	for _, fn := range optFns {
		fn(&d.opts)
	}
	if d.opts.Concurrency <= 0 {
		d.opts.Concurrency = 1
	}
	if len(d.opts.Languages) == 0 {
		d.opts.Languages = []string{"eng"}
	}
	if d.opts.PageSegMode == 0 {
		d.opts.PageSegMode = gosseract.PSM_AUTO
	}
	d.pool = make(chan *gosseract.Client, d.opts.Concurrency)
	for range d.opts.Concurrency {
		d.pool <- nil // a slot; the engine is made when first taken
	}
	return d
}

// Close waits for the calls in progress, then frees the engines. Calls
// after Close fail.
func (d *Detector) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.mu.Unlock()
	// Take every slot, so that no engine is freed while a call reads with
	// it (d.mu is not held: a caller holding a slot may be waiting for it).
	for range d.opts.Concurrency {
		<-d.pool
	}
	d.mu.Lock()
	var first error
	for _, c := range d.all {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	d.all = nil
	d.mu.Unlock()
	// Empty slots let later calls through to acquire's closed check.
	for range d.opts.Concurrency {
		d.pool <- nil
	}
	return first
}

func (d *Detector) acquire(ctx context.Context) (*gosseract.Client, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case c := <-d.pool:
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.closed {
			d.pool <- nil
			return nil, fmt.Errorf("tesseract: detector closed")
		}
		if c == nil {
			c = gosseract.NewClient()
			if err := c.SetLanguage(d.opts.Languages...); err != nil {
				c.Close()
				d.pool <- nil
				return nil, fmt.Errorf("tesseract: %w", err)
			}
			if err := c.SetPageSegMode(d.opts.PageSegMode); err != nil {
				c.Close()
				d.pool <- nil
				return nil, fmt.Errorf("tesseract: %w", err)
			}
			d.all = append(d.all, c)
		}
		return c, nil
	}
}

// DetectText reads in.Image with Tesseract. in.S3 is ignored; in.Filter is
// applied as Rekognition applies it.
func (d *Detector) DetectText(ctx context.Context, in rekog.TextInput) (*rekog.TextResult, error) {
	if in.Image == nil || len(in.Image.Bytes) == 0 {
		return nil, &rekog.InvalidImageError{Reason: rekog.ReasonEmpty, Detail: "the Tesseract backend needs the image bytes"}
	}
	if err := in.Filter.Validate(); err != nil {
		return nil, err
	}
	w, h := in.Image.Width, in.Image.Height
	if w <= 0 || h <= 0 {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(in.Image.Bytes))
		if err != nil {
			return nil, &rekog.InvalidImageError{Reason: rekog.ReasonCorrupt, Detail: err.Error()}
		}
		w, h = cfg.Width, cfg.Height
	}
	c, err := d.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { d.pool <- c }()
	if err := c.SetImageFromBytes(in.Image.Bytes); err != nil {
		return nil, &rekog.InvalidImageError{Reason: rekog.ReasonCorrupt, Detail: err.Error()}
	}
	boxes, err := c.GetBoundingBoxesVerbose()
	if err != nil {
		return nil, fmt.Errorf("tesseract: %w", err)
	}
	res := Build(boxes, w, h)
	res.ModelVersion = "tesseract " + gosseract.Version()
	in.Filter.Apply(res)
	return res, nil
}

// Build groups Tesseract's word boxes into lines (by block, paragraph and
// line number) and normalises boxes to ratios of a w×h image. Line IDs come
// first (0…), then word IDs, as in Rekognition's answers.
func Build(boxes []gosseract.BoundingBox, w, h int) *rekog.TextResult {
	type key struct{ block, par, line int }
	var order []key
	groups := map[key][]gosseract.BoundingBox{}
	for _, b := range boxes {
		text := strings.TrimSpace(b.Word)
		if text == "" || b.Confidence < 0 {
			continue
		}
		b.Word = text
		k := key{b.BlockNum, b.ParNum, b.LineNum}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], b)
	}
	res := &rekog.TextResult{Backend: "tesseract"}
	fw, fh := float64(w), float64(h)
	norm := func(r image.Rectangle) rekog.Box {
		r = r.Intersect(image.Rect(0, 0, w, h))
		return rekog.Box{Left: float64(r.Min.X) / fw, Top: float64(r.Min.Y) / fh, Width: float64(r.Dx()) / fw, Height: float64(r.Dy()) / fh}
	}
	poly := func(b rekog.Box) []rekog.Point {
		return []rekog.Point{{X: b.Left, Y: b.Top}, {X: b.Right(), Y: b.Top}, {X: b.Right(), Y: b.Bottom()}, {X: b.Left, Y: b.Bottom()}}
	}
	nextWord := len(order)
	for i, k := range order {
		ws := groups[k]
		sort.SliceStable(ws, func(a, b int) bool { return ws[a].WordNum < ws[b].WordNum })
		line := rekog.Line{ID: i}
		var union image.Rectangle
		var texts []string
		var conf float64
		for _, b := range ws {
			union = union.Union(b.Box)
			texts = append(texts, b.Word)
			conf += b.Confidence
			box := norm(b.Box)
			line.Words = append(line.Words, rekog.Word{ID: nextWord, LineID: i, Text: b.Word, Confidence: b.Confidence, Box: box, Polygon: poly(box)})
			nextWord++
		}
		line.Text = strings.Join(texts, " ")
		line.Confidence = conf / float64(len(ws))
		line.Box = norm(union)
		line.Polygon = poly(line.Box)
		res.Lines = append(res.Lines, line)
	}
	return res
}
