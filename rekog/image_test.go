package rekog

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// noisyPNG returns a PNG of about n bytes: random pixels do not compress.
func noisyPNG(t testing.TB, n int) []byte {
	t.Helper()
	side := 1
	for side*side*3 < n {
		side++
	}
	img := image.NewNRGBA(image.Rect(0, 0, side, side))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(r.Uint32())
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func dataURL(mediaType string, b []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func TestDecodeImage(t *testing.T) {
	jpg := jpegBytes(t, 120, 90)
	pngb := pngBytes(t, 100, 100)
	six := noisyPNG(t, 6*1024*1024)
	if len(six) < 6*1024*1024 {
		t.Fatalf("noisy PNG is only %d bytes", len(six))
	}
	wrapped := base64.StdEncoding.EncodeToString(jpg)
	var lines []string
	for len(wrapped) > 76 {
		lines = append(lines, wrapped[:76])
		wrapped = wrapped[76:]
	}
	lines = append(lines, wrapped)

	tests := []struct {
		name   string
		in     string
		opts   DecodeOptions
		reason Reason
		format Format
		w, h   int
	}{
		{name: "jpeg data URL", in: dataURL("image/jpeg", jpg), format: FormatJPEG, w: 120, h: 90},
		{name: "png data URL", in: dataURL("image/png", pngb), format: FormatPNG, w: 100, h: 100},
		{name: "raw base64", in: base64.StdEncoding.EncodeToString(pngb), format: FormatPNG, w: 100, h: 100},
		{name: "unpadded url alphabet", in: base64.RawURLEncoding.EncodeToString(jpg), format: FormatJPEG, w: 120, h: 90},
		{name: "line-wrapped base64", in: "data:image/jpeg;base64," + strings.Join(lines, "\r\n"), format: FormatJPEG, w: 120, h: 90},
		{name: "upper-case prefix", in: "DATA:IMAGE/JPEG;BASE64," + base64.StdEncoding.EncodeToString(jpg), format: FormatJPEG, w: 120, h: 90},
		{name: "png labelled jpeg is png", in: dataURL("image/jpeg", pngb), format: FormatPNG, w: 100, h: 100},
		{name: "png labelled jpeg strict", in: dataURL("image/jpeg", pngb), opts: DecodeOptions{StrictType: true}, reason: ReasonMismatch},
		{name: "wrong prefix text", in: dataURL("text/plain", jpg), reason: ReasonPrefix},
		{name: "not base64 data URL", in: "data:image/jpeg," + string(jpg[:10]), reason: ReasonPrefix},
		{name: "no comma", in: "data:image/jpeg;base64", reason: ReasonPrefix},
		{name: "bad base64", in: "data:image/jpeg;base64,@@@not*base64", reason: ReasonBase64},
		{name: "empty", in: "", reason: ReasonEmpty},
		{name: "empty payload", in: "data:image/png;base64,", reason: ReasonEmpty},
		{name: "gif bytes", in: dataURL("image/gif", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")), reason: ReasonFormat},
		{name: "truncated jpeg", in: dataURL("image/jpeg", jpg[:20]), reason: ReasonCorrupt},
		{name: "6 MB image", in: dataURL("image/png", six), reason: ReasonTooLarge},
		{name: "6 MB image within S3 limit", in: dataURL("image/png", six), opts: DecodeOptions{MaxBytes: MaxS3ImageBytes}, format: FormatPNG},
		{name: "10x10 image", in: dataURL("image/png", pngBytes(t, 10, 10)), reason: ReasonTooSmall},
		{name: "80x79 image", in: dataURL("image/png", pngBytes(t, 80, 79)), reason: ReasonTooSmall},
		{name: "10x10 with lower minimum", in: dataURL("image/png", pngBytes(t, 10, 10)), opts: DecodeOptions{MinDimension: 8}, format: FormatPNG, w: 10, h: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, err := DecodeImage(tt.in, func(o *DecodeOptions) { *o = tt.opts })
			if tt.reason != "" {
				var ie *InvalidImageError
				if !errors.As(err, &ie) {
					t.Fatalf("err = %v, want InvalidImageError", err)
				}
				if ie.Reason != tt.reason {
					t.Fatalf("reason = %s (%v), want %s", ie.Reason, err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if img.Format != tt.format {
				t.Errorf("format = %s, want %s", img.Format, tt.format)
			}
			if tt.w != 0 && (img.Width != tt.w || img.Height != tt.h) {
				t.Errorf("size = %dx%d, want %dx%d", img.Width, img.Height, tt.w, tt.h)
			}
		})
	}
}

func TestObjectKey(t *testing.T) {
	tests := []struct {
		name, in string
		format   Format
		want     string
		reason   Reason
	}{
		{"plain", "receipt", FormatJPEG, "uploads/receipt.jpg", ""},
		{"spaces and unicode", "Menü du jour (2)", FormatPNG, "uploads/Menü du jour (2).png", ""},
		{"extension replaced", "scan.PNG", FormatJPEG, "uploads/scan.jpg", ""},
		{"dot inside", "v1.2 notes", FormatPNG, "uploads/v1.2 notes.png", ""},
		{"traversal", "../../x", FormatJPEG, "", ReasonName},
		{"dot dot", "..", FormatJPEG, "", ReasonName},
		{"hidden", ".env", FormatJPEG, "", ReasonName},
		{"trailing dot", "0.", FormatJPEG, "", ReasonName},
		{"slash", "a/b", FormatJPEG, "", ReasonNameChars},
		{"backslash", `a\b`, FormatJPEG, "", ReasonNameChars},
		{"newline", "a\nb", FormatJPEG, "", ReasonNameChars},
		{"nul", "a\x00b", FormatJPEG, "", ReasonNameChars},
		{"bidi override", "abc\u202egpj", FormatJPEG, "", ReasonNameChars},
		{"tab", "a\tb", FormatJPEG, "", ReasonNameChars},
		{"percent", "100%", FormatJPEG, "", ReasonNameChars},
		{"bad utf8", "a\xffb", FormatJPEG, "", ReasonNameChars},
		{"empty", "", FormatJPEG, "", ReasonNameEmpty},
		{"leading space", " a", FormatJPEG, "", ReasonName},
		{"too long", strings.Repeat("a", MaxNameBytes+1), FormatJPEG, "", ReasonNameLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ObjectKey("uploads/", tt.in, tt.format)
			if tt.reason != "" {
				var ne *InvalidNameError
				if !errors.As(err, &ne) || ne.Reason != tt.reason {
					t.Fatalf("err = %v, want reason %s", err, tt.reason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("key = %q, want %q", got, tt.want)
			}
		})
	}
}

func FuzzDecodeImage(f *testing.F) {
	f.Add(dataURL("image/jpeg", jpegBytes(f, 80, 80)))
	f.Add(dataURL("image/png", pngBytes(f, 81, 90)))
	f.Add("data:image/jpeg;base64,/9j/4AAQ")
	f.Add("data:,")
	f.Add("data:image/png;charset=x;base64,iVBORw0KGgo=")
	f.Add("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
	f.Add("data:image/png;;;;;;;;;;;;;;;;;base64,iVBORw0KGgo=")
	f.Add("data:image/png;base64, iVBO Rw0K\r\nGgo= ")
	f.Add("data:image/png;base64,iVBORw0KGgo= =")
	f.Add("data:image/png;base64,iV=BORw0KGgo")
	f.Add("data:image/png")
	f.Add(base64.RawURLEncoding.EncodeToString(pngBytes(f, 81, 81)))
	f.Fuzz(func(t *testing.T, s string) {
		img, err := DecodeImage(s, func(o *DecodeOptions) { o.MinDimension = 1 })
		if err != nil {
			var ie *InvalidImageError
			if !errors.As(err, &ie) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if len(img.Bytes) == 0 || len(img.Bytes) > MaxImageBytes {
			t.Fatalf("accepted %d bytes", len(img.Bytes))
		}
		if img.Width < 1 || img.Height < 1 || img.Width > MaxImageDimension || img.Height > MaxImageDimension {
			t.Fatalf("accepted %dx%d", img.Width, img.Height)
		}
		if img.Format != FormatJPEG && img.Format != FormatPNG {
			t.Fatalf("format %q", img.Format)
		}
		// The in-place decoder agrees with decoding the whitespace-free
		// payload in one call.
		payload := s
		if i := strings.IndexByte(s, ','); strings.HasPrefix(strings.ToLower(s), "data:") && i >= 0 {
			payload = s[i+1:]
		}
		payload = strings.TrimRight(strings.Map(func(r rune) rune {
			if r < 0x80 && isSpace(byte(r)) {
				return -1
			}
			return r
		}, payload), "=")
		enc := base64.RawStdEncoding
		if strings.ContainsAny(payload, "-_") {
			enc = base64.RawURLEncoding
		}
		want, err := enc.Strict().DecodeString(payload)
		if err != nil || !bytes.Equal(want, img.Bytes) {
			t.Fatalf("decoded %d bytes, one-call decoding gives %d (%v)", len(img.Bytes), len(want), err)
		}
	})
}

func FuzzObjectKey(f *testing.F) {
	for _, s := range []string{"receipt", "../../x", "a/b", "Menü", "x.jpg", ".", "a\u202eb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		key, err := ObjectKey("uploads/", name, FormatPNG)
		if err != nil {
			return
		}
		rest, ok := strings.CutPrefix(key, "uploads/")
		if !ok || strings.ContainsAny(rest, "/\\") || strings.Contains(rest, "..") || !strings.HasSuffix(rest, ".png") {
			t.Fatalf("unsafe key %q from %q", key, name)
		}
	})
}

// TestDecodeImageHostileHeader: an 8 MB body of semicolons before any
// comma used to be split into 8 million strings (128 MB); the header is now
// parsed in place, at most MaxDataURLHeaderBytes.
func TestDecodeImageHostileHeader(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"semicolons then comma", "data:image/png" + strings.Repeat(";", 8<<20) + ";base64,AAAA"},
		{"semicolons no comma", "data:image/png" + strings.Repeat(";", 8<<20)},
		{"spaces in payload", "data:image/png;base64," + strings.Repeat(" ", 8<<20) + "AAAA"},
		{"payload too large", "data:image/png;base64," + strings.Repeat("A", 8<<20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := DecodeImage(tc.in)
			runtime.ReadMemStats(&after)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d-byte input: allocated %d bytes: %v", len(tc.in), alloc, err)
			var ie *InvalidImageError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want *InvalidImageError", err)
			}
			if alloc > 64<<10 {
				t.Fatalf("rejecting a %d-byte data URL allocated %d bytes, want < 64 KiB", len(tc.in), alloc)
			}
		})
	}
}
