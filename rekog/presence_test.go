package rekog_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// pigoFile reads a file shipped in the pigo module (its cascade and its
// sample photo), located through the go command's module cache.
func pigoFile(t testing.TB, rel string) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/esimov/pigo").Output()
	if err != nil {
		t.Fatalf("locating the pigo module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), rel))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func blankJPEG(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.RGBA{180, 190, 200, 255}), image.Point{}, draw.Src)
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFaceGate(t *testing.T) {
	gate, err := rekog.NewFaceGate(pigoFile(t, "cascade/facefinder"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rekog.NewFaceGate([]byte("not a cascade")); err == nil {
		t.Fatal("garbage cascade accepted")
	}
	photo, err := jpeg.Decode(bytes.NewReader(pigoFile(t, "testdata/sample.jpg")))
	if err != nil {
		t.Fatal(err)
	}
	// The sample is a portrait: one face, centred, filling about 60% of
	// the width, eyes at 45% of the height.
	faces := gate.Faces(photo)
	if len(faces) != 1 {
		t.Fatalf("%d faces in pigo's one-face sample: %+v", len(faces), faces)
	}
	b := faces[0].Box
	if cx, cy := b.Left+b.Width/2, b.Top+b.Height/2; cx < 0.4 || cx > 0.6 || cy < 0.35 || cy > 0.65 || b.Width < 0.4 || b.Width > 0.8 {
		t.Fatalf("face box %+v", b)
	}
	blank, _ := jpeg.Decode(bytes.NewReader(blankJPEG(t, 640, 480)))
	if n := len(gate.Faces(blank)); n != 0 {
		t.Fatalf("%d faces in a blank frame", n)
	}
	noise := image.NewGray(image.Rect(0, 0, 320, 240))
	for i := range noise.Pix {
		noise.Pix[i] = uint8((i*7919 + i/320*104729) % 256)
	}
	if n := len(gate.Faces(noise)); n != 0 {
		t.Fatalf("%d faces in noise", n)
	}
}

// TestGatedSearch: frames without a face never reach Rekognition.
func TestGatedSearch(t *testing.T) {
	ctx := context.Background()
	w := rekogtest.New(t)
	rc := w.Client
	gate, err := rekog.NewFaceGate(pigoFile(t, "cascade/facefinder"))
	if err != nil {
		t.Fatal(err)
	}
	photo := pigoFile(t, "testdata/sample.jpg")
	if _, err := rekog.CreateCollection(ctx, rc, "door", false); err != nil {
		t.Fatal(err)
	}
	if _, err := rekog.IndexFace(ctx, rc, "door", rekog.ImageRef{Bytes: photo}, "visitor", 1); err != nil {
		t.Fatal(err)
	}
	gs := rekog.NewGatedSearch(gate, rc, "door", 80)
	blank := blankJPEG(t, 640, 480)
	for range 5 {
		res, err := gs.Search(ctx, blank)
		if err != nil || res != nil {
			t.Fatalf("blank frame: %+v %v", res, err)
		}
	}
	if n := w.Calls("SearchFacesByImage"); n != 0 {
		t.Fatalf("%d SearchFacesByImage calls for empty frames", n)
	}
	res, err := gs.Search(ctx, photo)
	if err != nil || res == nil || len(res.Matches) != 1 || res.Matches[0].ExternalImageID != "visitor" {
		t.Fatalf("photo: %+v %v", res, err)
	}
	if st := gs.Stats(); st.Frames != 6 || st.Searched != 1 || w.Calls("SearchFacesByImage") != 1 {
		t.Fatalf("stats %+v, calls %d", st, w.Calls("SearchFacesByImage"))
	}
	if _, err := gs.Search(ctx, []byte("GIF89a")); err == nil {
		t.Fatal("GIF frame accepted")
	}
}

func BenchmarkFaceGate640x480(b *testing.B) {
	gate, err := rekog.NewFaceGate(pigoFile(b, "cascade/facefinder"))
	if err != nil {
		b.Fatal(err)
	}
	photo, err := jpeg.Decode(bytes.NewReader(pigoFile(b, "testdata/sample.jpg")))
	if err != nil {
		b.Fatal(err)
	}
	// Scale into a 640×480 frame, as a webcam snapshot.
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	sb := photo.Bounds()
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			frame.Set(x, y, photo.At(sb.Min.X+x*sb.Dx()/640, sb.Min.Y+y*sb.Dy()/480))
		}
	}
	if len(gate.Faces(frame)) == 0 {
		b.Fatal("no face in the scaled frame")
	}
	b.ResetTimer()
	for b.Loop() {
		gate.Faces(frame)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "frames/s")
}

// TestGatedSearchPixelCap: a 10000×10000 PNG of about 100 KB (valid for
// Rekognition, which allows 10000 px per side) is refused from its header:
// before the cap it was decoded to 100 MB of pixels, then scanned by pigo
// (723 MB allocated, 15.7 s).
func TestGatedSearchPixelCap(t *testing.T) {
	gate, err := rekog.NewFaceGate(pigoFile(t, "cascade/facefinder"))
	if err != nil {
		t.Fatal(err)
	}
	frame := hugeGrayPNG(t, 10000, 10000)
	t.Logf("10000x10000 PNG: %d bytes", len(frame))
	gs := rekog.NewGatedSearch(gate, nil, "door", 80)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = gs.Search(context.Background(), frame)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("Search allocated %d bytes: %v", alloc, err)
	var ie *rekog.InvalidImageError
	if !errors.As(err, &ie) || ie.Reason != rekog.ReasonPixels {
		t.Fatalf("err = %v, want InvalidImageError with reason %s", err, rekog.ReasonPixels)
	}
	if ie.Width != 10000 || ie.Height != 10000 || ie.Limit != rekog.DefaultGateMaxPixels {
		t.Fatalf("error carries %dx%d limit %d", ie.Width, ie.Height, ie.Limit)
	}
	if alloc > 1<<20 {
		t.Fatalf("refusing a 10000x10000 frame allocated %d bytes, want < 1 MiB", alloc)
	}

	// The cap is an option; a frame under it is decoded and searched.
	small, err := rekog.NewFaceGate(pigoFile(t, "cascade/facefinder"), func(o *rekog.GateOptions) { o.MaxPixels = 640 * 479 })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rekog.NewGatedSearch(small, nil, "door", 80).Search(context.Background(), blankJPEG(t, 640, 480)); !errors.As(err, &ie) || ie.Reason != rekog.ReasonPixels {
		t.Fatalf("640x480 frame over a 640x479 cap: %v", err)
	}
	if res, err := rekog.NewGatedSearch(small, nil, "door", 80).Search(context.Background(), blankJPEG(t, 640, 479)); err != nil || res != nil {
		t.Fatalf("640x479 blank frame under the cap: %+v %v", res, err)
	}
	if _, err := rekog.NewFaceGate(pigoFile(t, "cascade/facefinder"), func(o *rekog.GateOptions) { o.MaxPixels = -1 }); err == nil {
		t.Fatal("negative MaxPixels accepted")
	}
}
