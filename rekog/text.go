package rekog

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	rtypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"
)

// DetectText limits.
const (
	// MaxRegionsOfInterest is the most regions DetectText accepts.
	MaxRegionsOfInterest = 10
	// MaxTextWords is the most words DetectText returns for one image.
	MaxTextWords = 100
	// DefaultWordMinConfidence is Rekognition's own word confidence floor
	// when a WordFilter sets none.
	DefaultWordMinConfidence = 80
)

// DetectTextAPI is the Rekognition call the Rekognition text backend makes.
type DetectTextAPI interface {
	DetectText(ctx context.Context, in *rekognition.DetectTextInput, optFns ...func(*rekognition.Options)) (*rekognition.DetectTextOutput, error)
}

// Box is an axis-aligned box in ratios of the image's width and height
// (0–1), as Rekognition reports it.
type Box struct {
	Left, Top, Width, Height float64
}

// Right returns Left+Width.
func (b Box) Right() float64 { return b.Left + b.Width }

// Bottom returns Top+Height.
func (b Box) Bottom() float64 { return b.Top + b.Height }

// overlap returns the fraction of b's area that lies inside r.
func (b Box) overlap(r Box) float64 {
	w := min(b.Right(), r.Right()) - max(b.Left, r.Left)
	h := min(b.Bottom(), r.Bottom()) - max(b.Top, r.Top)
	area := b.Width * b.Height
	if w <= 0 || h <= 0 || area <= 0 {
		return 0
	}
	return w * h / area
}

// Point is a polygon vertex in image ratios.
type Point struct{ X, Y float64 }

// Word is one detected word.
type Word struct {
	ID         int
	LineID     int // the ParentId of the word: its line's ID
	Text       string
	Confidence float64 // 0–100
	Box        Box
	Polygon    []Point
}

// Line is one detected line with its words in reading order.
type Line struct {
	ID         int
	Text       string
	Confidence float64 // 0–100
	Box        Box
	Polygon    []Point
	Words      []Word
}

// TextResult is what a TextDetector found in one image.
type TextResult struct {
	Lines []Line
	// Backend names the detector: "rekognition" or "tesseract".
	Backend string
	// ModelVersion is the backend's model version, when it reports one.
	ModelVersion string
}

// Text returns the lines joined by newlines.
func (r *TextResult) Text() string {
	var b strings.Builder
	for i, l := range r.Lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(l.Text)
	}
	return b.String()
}

// Words returns every word of every line, in order.
func (r *TextResult) Words() []Word {
	var out []Word
	for _, l := range r.Lines {
		out = append(out, l.Words...)
	}
	return out
}

// TextFilter mirrors DetectText's Filters. Zero fields filter nothing.
type TextFilter struct {
	// MinConfidence drops words below this confidence (0–100). Rekognition
	// applies 80 when a word filter is sent without one.
	MinConfidence float64
	// MinBoxHeight and MinBoxWidth drop words with smaller boxes (ratios).
	MinBoxHeight, MinBoxWidth float64
	// Regions keeps only words more than half inside one of these boxes. At
	// most MaxRegionsOfInterest.
	Regions []Box
}

func (f *TextFilter) empty() bool {
	return f == nil || (f.MinConfidence == 0 && f.MinBoxHeight == 0 && f.MinBoxWidth == 0 && len(f.Regions) == 0)
}

// Validate checks the filter against the service's rules.
func (f *TextFilter) Validate() error {
	if f == nil {
		return nil
	}
	if len(f.Regions) > MaxRegionsOfInterest {
		return fmt.Errorf("rekog: %d regions of interest, limit %d", len(f.Regions), MaxRegionsOfInterest)
	}
	if f.MinConfidence < 0 || f.MinConfidence > 100 {
		return fmt.Errorf("rekog: MinConfidence %v outside 0–100", f.MinConfidence)
	}
	if f.MinBoxHeight < 0 || f.MinBoxHeight > 1 || f.MinBoxWidth < 0 || f.MinBoxWidth > 1 {
		return errors.New("rekog: minimum box sizes are ratios in 0–1")
	}
	return nil
}

// keepWord applies the filter as the service does.
func (f *TextFilter) keepWord(w Word) bool {
	if f == nil {
		return true
	}
	if w.Confidence < f.MinConfidence || w.Box.Height < f.MinBoxHeight || w.Box.Width < f.MinBoxWidth {
		return false
	}
	if len(f.Regions) == 0 {
		return true
	}
	for _, r := range f.Regions {
		if w.Box.overlap(r) > 0.5 {
			return true
		}
	}
	return false
}

// Apply filters a result the way DetectText's Filters do, for backends
// that cannot filter themselves: words failing the filter are dropped, and
// a line left without words is dropped.
func (f *TextFilter) Apply(r *TextResult) {
	if f.empty() {
		return
	}
	lines := r.Lines[:0]
	for _, l := range r.Lines {
		words := l.Words[:0]
		for _, w := range l.Words {
			if f.keepWord(w) {
				words = append(words, w)
			}
		}
		l.Words = words
		if len(words) > 0 {
			lines = append(lines, l)
		}
	}
	r.Lines = lines
}

// S3Location names an object.
type S3Location struct {
	Bucket, Key string
	Version     string // optional
}

// TextInput is one image to read. A backend uses what it can: Rekognition
// prefers S3 when set (images up to MaxS3ImageBytes) and sends Image.Bytes
// otherwise (up to MaxImageBytes); Tesseract needs Image.
type TextInput struct {
	Image  *Image
	S3     *S3Location
	Filter *TextFilter
}

// TextDetector finds lines and words of text in an image. Implementations
// return boxes as 0–1 ratios of the image and confidences in 0–100, lines
// in reading order, each with its words.
type TextDetector interface {
	DetectText(ctx context.Context, in TextInput) (*TextResult, error)
}

// RekognitionText is the Rekognition TextDetector.
type RekognitionText struct {
	client DetectTextAPI
}

// NewRekognitionText returns a TextDetector that calls DetectText.
func NewRekognitionText(client DetectTextAPI) *RekognitionText {
	return &RekognitionText{client: client}
}

// DetectText calls Rekognition and builds the line/word tree from the
// detections' ParentId.
func (d *RekognitionText) DetectText(ctx context.Context, in TextInput) (*TextResult, error) {
	if err := in.Filter.Validate(); err != nil {
		return nil, err
	}
	req := &rekognition.DetectTextInput{Image: &rtypes.Image{}}
	switch {
	case in.S3 != nil:
		req.Image.S3Object = &rtypes.S3Object{Bucket: aws.String(in.S3.Bucket), Name: aws.String(in.S3.Key)}
		if in.S3.Version != "" {
			req.Image.S3Object.Version = aws.String(in.S3.Version)
		}
	case in.Image != nil:
		if len(in.Image.Bytes) > MaxImageBytes {
			return nil, &InvalidImageError{Reason: ReasonTooLarge, Detail: fmt.Sprintf("%d bytes: images over %d bytes must be passed as an S3 object", len(in.Image.Bytes), MaxImageBytes)}
		}
		req.Image.Bytes = in.Image.Bytes
	default:
		return nil, errors.New("rekog: TextInput has neither Image nor S3")
	}
	if !in.Filter.empty() {
		req.Filters = rekognitionFilters(in.Filter)
	}
	out, err := d.client.DetectText(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("rekog: DetectText: %w", err)
	}
	res := BuildTextResult(out.TextDetections)
	res.Backend = "rekognition"
	res.ModelVersion = aws.ToString(out.TextModelVersion)
	return res, nil
}

func rekognitionFilters(f *TextFilter) *rtypes.DetectTextFilters {
	out := &rtypes.DetectTextFilters{}
	if f.MinConfidence != 0 || f.MinBoxHeight != 0 || f.MinBoxWidth != 0 {
		out.WordFilter = &rtypes.DetectionFilter{
			MinConfidence:        aws.Float32(float32(f.MinConfidence)),
			MinBoundingBoxHeight: aws.Float32(float32(f.MinBoxHeight)),
			MinBoundingBoxWidth:  aws.Float32(float32(f.MinBoxWidth)),
		}
	}
	for _, r := range f.Regions {
		out.RegionsOfInterest = append(out.RegionsOfInterest, rtypes.RegionOfInterest{BoundingBox: &rtypes.BoundingBox{
			Left: aws.Float32(float32(r.Left)), Top: aws.Float32(float32(r.Top)),
			Width: aws.Float32(float32(r.Width)), Height: aws.Float32(float32(r.Height)),
		}})
	}
	return out
}

// BuildTextResult turns DetectText's flat TextDetections into lines with
// their words. Words are ordered by Id within a line (the word Id is its
// index); a word whose parent line is absent is kept on a synthetic line of
// its own so nothing the service returned is lost.
func BuildTextResult(dets []rtypes.TextDetection) *TextResult {
	res := &TextResult{}
	index := map[int]int{} // line ID → position in res.Lines
	var orphans []Word
	for _, d := range dets {
		if d.Type != rtypes.TextTypesLine {
			continue
		}
		l := Line{ID: int(aws.ToInt32(d.Id)), Text: aws.ToString(d.DetectedText), Confidence: float64(aws.ToFloat32(d.Confidence))}
		l.Box, l.Polygon = geometry(d.Geometry)
		index[l.ID] = len(res.Lines)
		res.Lines = append(res.Lines, l)
	}
	for _, d := range dets {
		if d.Type != rtypes.TextTypesWord {
			continue
		}
		w := Word{ID: int(aws.ToInt32(d.Id)), Text: aws.ToString(d.DetectedText), Confidence: float64(aws.ToFloat32(d.Confidence))}
		w.Box, w.Polygon = geometry(d.Geometry)
		if d.ParentId == nil {
			orphans = append(orphans, w)
			continue
		}
		w.LineID = int(*d.ParentId)
		i, ok := index[w.LineID]
		if !ok {
			orphans = append(orphans, w)
			continue
		}
		res.Lines[i].Words = append(res.Lines[i].Words, w)
	}
	for i := range res.Lines {
		sort.SliceStable(res.Lines[i].Words, func(a, b int) bool { return res.Lines[i].Words[a].ID < res.Lines[i].Words[b].ID })
	}
	for _, w := range orphans {
		res.Lines = append(res.Lines, Line{ID: w.LineID, Text: w.Text, Confidence: w.Confidence, Box: w.Box, Polygon: w.Polygon, Words: []Word{w}})
	}
	return res
}

func geometry(g *rtypes.Geometry) (Box, []Point) {
	if g == nil {
		return Box{}, nil
	}
	var b Box
	if bb := g.BoundingBox; bb != nil {
		b = Box{float64(aws.ToFloat32(bb.Left)), float64(aws.ToFloat32(bb.Top)), float64(aws.ToFloat32(bb.Width)), float64(aws.ToFloat32(bb.Height))}
	}
	var pts []Point
	for _, p := range g.Polygon {
		pts = append(pts, Point{float64(aws.ToFloat32(p.X)), float64(aws.ToFloat32(p.Y))})
	}
	return b, pts
}
