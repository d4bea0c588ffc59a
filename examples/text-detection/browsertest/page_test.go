package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// renderPNG draws two lines of text on a white 800×400 page.
func renderPNG(t *testing.T, path string) {
	t.Helper()
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		t.Fatal(err)
	}
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: 48, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		t.Fatal(err)
	}
	img := image.NewRGBA(image.Rect(0, 0, 800, 400))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	d := &font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: face}
	for i, line := range []string{"Harbour Street", "Delivery window"} {
		d.Dot = fixed.P(60, 130+i*110)
		d.DrawString(line)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startServer builds and starts `text-detection -local` with Tesseract
// and returns its URL; the process is stopped by its pid when the test
// ends.
func startServer(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "text-detection")
	build := exec.Command("go", "build", "-tags", "tesseract", "-o", bin, "./examples/text-detection")
	build.Dir = "../../.."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-local", "-addr", "127.0.0.1:0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the server's address: %v", err)
	}
	if !strings.Contains(line, "tesseract backend") {
		t.Fatalf("server did not start with Tesseract: %q", line)
	}
	i := strings.Index(line, "http://")
	if i < 0 {
		t.Fatalf("no URL in %q", line)
	}
	return strings.TrimSpace(line[i:])
}

func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium not found: apt-get install -y chromium")
	return ""
}

func TestUploadShowsDetectedText(t *testing.T) {
	dir := t.TempDir()
	imgPath := filepath.Join(dir, "street.png")
	renderPNG(t, imgPath)
	url := startServer(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)), chromedp.NoSandbox, chromedp.Headless,
		chromedp.WindowSize(1000, 1200), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	defer cancelT()

	var lines, boxes, errText string
	var shot []byte
	err := chromedp.Run(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible("#drop", chromedp.ByID),
		chromedp.SetUploadFiles("#file", []string{imgPath}, chromedp.ByID),
		// The page fills the name from the file name once the file is read.
		chromedp.Poll(`document.getElementById("name").value === "street"`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SetValue("#name", "browser-street", chromedp.ByID),
		chromedp.Click("#submit", chromedp.ByID),
		chromedp.Poll(`document.querySelectorAll("#lines li").length > 0 || document.getElementById("error").textContent !== ""`,
			nil, chromedp.WithPollingTimeout(30*time.Second)),
		chromedp.Text("#error", &errText, chromedp.ByID),
		chromedp.Text("#lines", &lines, chromedp.ByID),
		chromedp.AttributeValue("#canvas", "data-boxes", &boxes, nil, chromedp.ByID),
		chromedp.FullScreenshot(&shot, 100), // 100: PNG,
	)
	if err != nil {
		t.Fatal(err)
	}
	artifacts := os.Getenv("BROWSER_ARTIFACTS")
	if artifacts == "" {
		artifacts = "artifacts"
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	shotPath := filepath.Join(artifacts, "text-detection-page.png")
	if err := os.WriteFile(shotPath, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", shotPath)
	if errText != "" {
		t.Fatalf("page shows error %q", errText)
	}
	for _, w := range []string{"Harbour", "Street", "Delivery", "window"} {
		if !strings.Contains(lines, w) {
			t.Errorf("word %q not listed; page lists %q", w, lines)
		}
	}
	if n, _ := strconv.Atoi(boxes); n < 2 {
		t.Errorf("%s boxes drawn, want one per line", boxes)
	}
}
