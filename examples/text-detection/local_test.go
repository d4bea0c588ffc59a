package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/examples/text-detection/textapi"
)

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestLocalServer(t *testing.T) {
	l, err := newLocalStack(context.Background(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	srv := httptest.NewServer(l.handler())
	defer srv.Close()

	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`id="canvas"`)) || res.Header.Get("Content-Security-Policy") == "" {
		t.Fatalf("page: %d %q", res.StatusCode, res.Header)
	}
	req, _ := json.Marshal(map[string]string{"Image": "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngBytes(t, 120, 90)), "name": "local"})
	res, err = http.Post(srv.URL+"/detecttext", "application/json", bytes.NewReader(req))
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(body, []byte(`"Key":"uploads/local.png"`)) {
		t.Fatalf("detect: %d %s", res.StatusCode, body)
	}
	res, err = http.Post(srv.URL+"/detecttext", "application/json", strings.NewReader(strings.Repeat("x", textapi.MaxBodyBytes+10)))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", res.StatusCode)
	}
}

// TestLocalServerCORS: by default the local server answers a request from
// another origin without Access-Control-Allow-Origin (browsers then refuse
// it); an origin passed to -allow-origin gets it.
func TestLocalServerCORS(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string
		want    string
	}{
		{"default", nil, "https://evil.example", ""},
		{"allowed", []string{"https://app.example"}, "https://app.example", "https://app.example"},
		{"not allowed", []string{"https://app.example"}, "https://evil.example", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := newLocalStack(context.Background(), slog.New(slog.DiscardHandler), tc.allowed...)
			if err != nil {
				t.Fatal(err)
			}
			defer l.close()
			srv := httptest.NewServer(l.handler())
			defer srv.Close()
			for _, method := range []string{http.MethodOptions, http.MethodPost} {
				req, _ := http.NewRequest(method, srv.URL+"/detecttext", strings.NewReader(`{"Image":"x","name":"y"}`))
				req.Header.Set("Origin", tc.origin)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if got := res.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
					t.Fatalf("%s with Origin %s: Access-Control-Allow-Origin %q, want %q", method, tc.origin, got, tc.want)
				}
			}
		})
	}
	// The page posts to its own origin only; the query string cannot
	// redirect the upload.
	if bytes.Contains(page, []byte("location.search")) || !bytes.Contains(page, []byte(`new URL("detecttext", location.href)`)) {
		t.Fatal("page.html takes its API URL from the query string")
	}
}
