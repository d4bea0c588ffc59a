//go:build tesseract

package tesseract_test

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// placed is a word drawn on a test image, with its pixel box.
type placed struct {
	Text string
	Box  image.Rectangle
}

func face(t testing.TB, ttf []byte, size float64) font.Face {
	t.Helper()
	f, err := opentype.Parse(ttf)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		t.Fatal(err)
	}
	return fc
}

// page draws lines of words on a white w×h page, each line starting at x0
// and spaced by 1.8 times the font size, and returns where each word went.
func page(t testing.TB, w, h int, fc font.Face, size float64, x0, y0 int, lines [][]string) (*image.RGBA, []placed) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: fc}
	var out []placed
	space := d.MeasureString(" ")
	for i, words := range lines {
		y := y0 + int(float64(i)*size*1.8)
		d.Dot = fixed.P(x0, y)
		for _, word := range words {
			b, _ := d.BoundString(word)
			r := image.Rect(b.Min.X.Floor(), b.Min.Y.Floor(), b.Max.X.Ceil(), b.Max.Y.Ceil())
			if !r.In(img.Bounds()) {
				t.Fatalf("word %q drawn at %v, outside the %dx%d page", word, r, w, h)
			}
			out = append(out, placed{word, r})
			d.DrawString(word)
			d.Dot.X += space
		}
	}
	return img, out
}

// rotate turns src by deg degrees about its centre onto a white page
// (nearest neighbour), and maps the word boxes' centres.
func rotate(src *image.RGBA, deg float64) *image.RGBA {
	b := src.Bounds()
	dst := image.NewRGBA(b)
	draw.Draw(dst, b, image.White, image.Point{}, draw.Src)
	s, c := math.Sincos(deg * math.Pi / 180)
	cx, cy := float64(b.Dx())/2, float64(b.Dy())/2
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			fx, fy := float64(x)-cx, float64(y)-cy
			sx, sy := int(c*fx+s*fy+cx), int(-s*fx+c*fy+cy)
			if image.Pt(sx, sy).In(b) {
				dst.Set(x, y, src.At(sx, sy))
			}
		}
	}
	return dst
}

// noisy adds salt-and-pepper noise to a fraction p of pixels.
func noisy(src *image.RGBA, p float64, seed uint64) *image.RGBA {
	r := rand.New(rand.NewPCG(seed, 7))
	dst := image.NewRGBA(src.Bounds())
	copy(dst.Pix, src.Pix)
	for i := 0; i < len(dst.Pix); i += 4 {
		if r.Float64() < p {
			v := uint8(0)
			if r.IntN(2) == 0 {
				v = 255
			}
			dst.Pix[i], dst.Pix[i+1], dst.Pix[i+2] = v, v, v
		}
	}
	return dst
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var fonts = []struct {
	name string
	ttf  []byte
}{
	{"goregular", goregular.TTF},
	{"gobold", gobold.TTF},
	{"gomono", gomono.TTF},
}

var sampleLines = [][]string{
	{"Invoice", "number", "4821"},
	{"Delivered", "to", "Harbour", "Street"},
	{"Total", "due", "within", "thirty", "days"},
	{"Thank", "you", "for", "shopping"},
}
