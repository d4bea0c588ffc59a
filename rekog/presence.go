package rekog

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"sync/atomic"

	pigo "github.com/esimov/pigo/core"
	"github.com/lakekit/lakekit/internal/opt"
)

// FaceGate defaults (pigo's recommended settings for its facefinder
// cascade).
const (
	DefaultGateMinFace     = 40  // px: Rekognition's own minimum face size in a 1920×1080 frame
	DefaultGateShiftFactor = 0.1 // window step as a fraction of its size
	DefaultGateScaleFactor = 1.1 // window growth per scale
	DefaultGateIoU         = 0.2 // detections overlapping more are one face
	DefaultGateMinScore    = 5.0 // cluster score below which a detection is noise
)

// GateOptions tune a FaceGate. Zero fields take the Default… constants;
// MaxFace defaults to the image's shorter side. Negative values, factors
// out of range and a MaxFace below MinFace are an *OptionError.
type GateOptions struct {
	MinFace, MaxFace         int
	ShiftFactor, ScaleFactor float64
	IoUThreshold             float64
	MinScore                 float32
	// MaxPixels is the largest frame (width×height) GatedSearch decodes;
	// a larger one is rejected from its header with an *InvalidImageError
	// (ReasonPixels) before any pixel is decoded. Default
	// DefaultGateMaxPixels.
	MaxPixels int
}

// FaceGate detects locally, with pigo, whether a frame shows a face — the
// seed's cost note: call Rekognition with a snapshot only when a person is
// there. It needs pigo's face cascade (cascade/facefinder in the
// github.com/esimov/pigo module), passed as bytes so the caller chooses how
// to ship it (a file, or a copy embedded in the binary).
type FaceGate struct {
	classifier *pigo.Pigo
	opts       GateOptions
}

// NewFaceGate unpacks the cascade.
func NewFaceGate(cascade []byte, optFns ...func(*GateOptions)) (*FaceGate, error) {
	// pigo's Unpack indexes the packet without bounds checks: validate the
	// layout first (8-byte header, depth, count, then per tree 4·2^d−4 code
	// bytes, 2^d float predictions and a float threshold).
	if len(cascade) < 16 {
		return nil, fmt.Errorf("rekog: face cascade: %d bytes", len(cascade))
	}
	depth := binary.LittleEndian.Uint32(cascade[8:])
	trees := binary.LittleEndian.Uint32(cascade[12:])
	if depth == 0 || depth > 12 || trees == 0 || trees > 1<<16 {
		return nil, fmt.Errorf("rekog: face cascade: implausible depth %d, %d trees", depth, trees)
	}
	perTree := uint64(4<<depth-4) + uint64(4<<depth) + 4
	if need := 16 + uint64(trees)*perTree; need > uint64(len(cascade)) {
		return nil, fmt.Errorf("rekog: face cascade: %d bytes, layout needs %d", len(cascade), need)
	}
	c, err := pigo.NewPigo().Unpack(cascade)
	if err != nil {
		return nil, fmt.Errorf("rekog: face cascade: %w", err)
	}
	g := &FaceGate{classifier: c}
	for _, fn := range optFns {
		fn(&g.opts)
	}
	if err := g.opts.setDefaults(); err != nil {
		return nil, err
	}
	return g, nil
}

// setDefaults validates o and fills in its zero fields.
func (o *GateOptions) setDefaults() error {
	const typ = "rekog.GateOptions"
	for _, err := range []error{
		opt.Min(typ, "MinFace", o.MinFace, 0),
		opt.Min(typ, "MaxFace", o.MaxFace, 0),
		opt.Range(typ, "ShiftFactor", o.ShiftFactor, 0, 1),
		opt.Range(typ, "IoUThreshold", o.IoUThreshold, 0, 1),
		opt.Min(typ, "MinScore", o.MinScore, 0),
		opt.Min(typ, "MaxPixels", o.MaxPixels, 0),
	} {
		if err != nil {
			return err
		}
	}
	if o.ScaleFactor != 0 && o.ScaleFactor <= 1 {
		return &OptionError{Type: typ, Field: "ScaleFactor", Value: o.ScaleFactor, Want: "above 1 (0: DefaultGateScaleFactor)"}
	}
	if o.MaxFace != 0 && o.MaxFace < opt.Default(o.MinFace, DefaultGateMinFace) {
		return &OptionError{Type: typ, Field: "MaxFace", Value: o.MaxFace, Want: "at least MinFace"}
	}
	o.MinFace = opt.Default(o.MinFace, DefaultGateMinFace)
	o.ShiftFactor = opt.Default(o.ShiftFactor, DefaultGateShiftFactor)
	o.ScaleFactor = opt.Default(o.ScaleFactor, DefaultGateScaleFactor)
	o.IoUThreshold = opt.Default(o.IoUThreshold, DefaultGateIoU)
	o.MinScore = opt.Default(o.MinScore, DefaultGateMinScore)
	o.MaxPixels = opt.Default(o.MaxPixels, DefaultGateMaxPixels)
	return nil
}

// DetectedFace is a face FaceGate found: its box in image ratios and
// pigo's cluster score.
type DetectedFace struct {
	Box   Box
	Score float32
}

// Faces returns the faces in img, best first.
func (g *FaceGate) Faces(img image.Image) []DetectedFace {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	maxFace := g.opts.MaxFace
	if maxFace <= 0 {
		maxFace = min(w, h)
	}
	dets := g.classifier.RunCascade(pigo.CascadeParams{
		MinSize: g.opts.MinFace, MaxSize: maxFace, ShiftFactor: g.opts.ShiftFactor, ScaleFactor: g.opts.ScaleFactor,
		ImageParams: pigo.ImageParams{Pixels: grayscale(img), Rows: h, Cols: w, Dim: w},
	}, 0)
	dets = g.classifier.ClusterDetections(dets, g.opts.IoUThreshold)
	var out []DetectedFace
next:
	for i := len(dets) - 1; i >= 0; i-- { // ClusterDetections sorts by score, ascending
		d := dets[i]
		if d.Q < g.opts.MinScore {
			continue
		}
		s := float64(d.Scale)
		f := DetectedFace{Score: d.Q, Box: Box{
			Left: (float64(d.Col) - s/2) / float64(w), Top: (float64(d.Row) - s/2) / float64(h),
			Width: s / float64(w), Height: s / float64(h),
		}}
		// pigo's clusters can nest (one face found at several scales):
		// keep a box only if it is not mostly inside a better one.
		for _, kept := range out {
			if f.Box.overlap(kept.Box) > 0.5 || kept.Box.overlap(f.Box) > 0.5 {
				continue next
			}
		}
		out = append(out, f)
	}
	return out
}

// grayscale returns the image's luma, row-major. YCbCr (JPEG) and Gray
// images are copied without colour conversion.
func grayscale(img image.Image) []uint8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]uint8, w*h)
	switch m := img.(type) {
	case *image.YCbCr:
		for y := 0; y < h; y++ {
			copy(out[y*w:(y+1)*w], m.Y[m.YOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			copy(out[y*w:(y+1)*w], m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	default:
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
				out[y*w+x] = uint8((19595*r + 38470*g + 7471*bl + 1<<15) >> 24)
			}
		}
	}
	return out
}

// GatedSearch runs SearchFacesByImage only on frames where the FaceGate
// sees a face.
type GatedSearch struct {
	gate       *FaceGate
	client     SearchFacesByImageAPI
	collection string
	threshold  float64

	frames, searched atomic.Int64
}

// NewGatedSearch returns a GatedSearch of collection; threshold as for
// SearchFacesByImage.
func NewGatedSearch(gate *FaceGate, client SearchFacesByImageAPI, collection string, threshold float64) *GatedSearch {
	return &GatedSearch{gate: gate, client: client, collection: collection, threshold: threshold}
}

// GateStats counts frames seen and frames sent to Rekognition.
type GateStats struct{ Frames, Searched int64 }

// Stats returns a snapshot of the counters.
func (s *GatedSearch) Stats() GateStats {
	return GateStats{Frames: s.frames.Load(), Searched: s.searched.Load()}
}

// Search checks a JPEG or PNG frame locally and, when it shows a face,
// searches the collection. It returns nil without calling Rekognition when
// no face is seen. The frame's dimensions are read from its header first:
// a frame over GateOptions.MaxPixels is an *InvalidImageError
// (ReasonPixels) and is never decoded.
func (s *GatedSearch) Search(ctx context.Context, frame []byte) (*FaceSearch, error) {
	s.frames.Add(1)
	img, err := validateImage(frame, "", DecodeOptions{MaxBytes: MaxImageBytes, MinDimension: 1, MaxPixels: s.gate.opts.MaxPixels})
	if err != nil {
		return nil, err
	}
	var decoded image.Image
	if img.Format == FormatJPEG {
		decoded, err = jpeg.Decode(bytes.NewReader(frame))
	} else {
		decoded, err = png.Decode(bytes.NewReader(frame))
	}
	if err != nil {
		return nil, &InvalidImageError{Reason: ReasonCorrupt, Detail: err.Error()}
	}
	if len(s.gate.Faces(decoded)) == 0 {
		return nil, nil
	}
	s.searched.Add(1)
	return SearchFacesByImage(ctx, s.client, s.collection, ImageRef{Bytes: frame}, s.threshold, 0)
}
