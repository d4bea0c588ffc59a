package textapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func newAPI(t *testing.T) (*Handler, *s3.Client) {
	t.Helper()
	s3c := awstest.S3(t)
	if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("detect-text-in-image")}); err != nil {
		t.Fatal(err)
	}
	rc := rekogtest.New(t).Client
	svc, err := rekog.NewTextService(s3c, "detect-text-in-image", rekog.NewRekognitionText(rc), func(o *rekog.TextOptions) { o.Prefix = "uploads/" })
	if err != nil {
		t.Fatal(err)
	}
	return &Handler{Service: svc, AllowedOrigins: []string{"https://app.example"}, Logger: slog.New(slog.DiscardHandler)}, s3c
}

func post(body any) events.APIGatewayProxyRequest {
	b, _ := json.Marshal(body)
	return events.APIGatewayProxyRequest{HTTPMethod: "POST", Path: "/detecttext", Body: string(b), Headers: map[string]string{"origin": "https://app.example"}}
}

func TestHandler(t *testing.T) {
	a, s3c := newAPI(t)
	ctx := context.Background()
	img := pngBytes(t, 200, 120)
	okURL := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(img) // the seed app's label
	six := make([]byte, 6<<20)
	copy(six, img)

	tests := []struct {
		name   string
		req    events.APIGatewayProxyRequest
		status int
		reason string
	}{
		{"ok", post(map[string]string{"Image": okURL, "name": "sign"}), 200, ""},
		{"base64 body", func() events.APIGatewayProxyRequest {
			r := post(map[string]string{"Image": okURL, "name": "sign2"})
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(r.Body)), true
			return r
		}(), 200, ""},
		{"preflight", events.APIGatewayProxyRequest{HTTPMethod: "OPTIONS", Headers: map[string]string{"Origin": "https://app.example"}}, 204, ""},
		{"GET", events.APIGatewayProxyRequest{HTTPMethod: "GET", Headers: map[string]string{"origin": "https://app.example"}}, 405, "method_not_allowed"},
		{"not json", events.APIGatewayProxyRequest{HTTPMethod: "POST", Body: "Image=x", Headers: map[string]string{"origin": "https://app.example"}}, 400, "bad_json"},
		{"no image", post(map[string]string{"name": "x"}), 400, "empty"},
		{"no name", post(map[string]string{"Image": okURL}), 400, "name_empty"},
		{"wrong prefix", post(map[string]string{"Image": "data:text/html;base64,PGI+", "name": "x"}), 400, "bad_prefix"},
		{"bad base64", post(map[string]string{"Image": "data:image/png;base64,*&^", "name": "x"}), 400, "bad_base64"},
		{"10x10", post(map[string]string{"Image": "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngBytes(t, 10, 10)), "name": "x"}), 400, "too_small"},
		{"6 MB", post(map[string]string{"Image": "data:image/png;base64," + base64.StdEncoding.EncodeToString(six), "name": "x"}), 413, "too_large"},
		{"traversal", post(map[string]string{"Image": okURL, "name": "../../x"}), 400, "bad_name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := a.Handle(ctx, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			if resp.Headers["Access-Control-Allow-Origin"] != "https://app.example" {
				t.Fatalf("CORS headers %v", resp.Headers)
			}
			if tt.reason != "" {
				var e ErrorBody
				if err := json.Unmarshal([]byte(resp.Body), &e); err != nil || e.Reason != tt.reason || e.Error == "" {
					t.Fatalf("error body %s (want reason %s)", resp.Body, tt.reason)
				}
			}
		})
	}

	resp, _ := a.Handle(ctx, post(map[string]string{"Image": okURL, "name": "sign"}))
	var out struct {
		Key            string
		TextDetections []struct {
			DetectedText, Type string
			ParentId           *int
		}
		Lines []rekog.Line
	}
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatal(err)
	}
	if out.Key != "uploads/sign.png" || len(out.Lines) != 4 || len(out.TextDetections) != 9 ||
		out.TextDetections[0].DetectedText != "IT'S" || out.TextDetections[6].ParentId == nil {
		t.Fatalf("response %s", resp.Body)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("detect-text-in-image")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if strings.Join(keys, ",") != "uploads/sign.png,uploads/sign2.png" {
		t.Fatalf("stored %v", keys)
	}
}

// FuzzHandle: whatever the body, the answer is a well-formed JSON 2xx/4xx,
// never a 5xx or a Lambda error.
func FuzzHandle(f *testing.F) {
	img := base64.StdEncoding.EncodeToString(pngBytes(f, 100, 100))
	f.Add(`{"Image":"data:image/png;base64,`+img+`","name":"ok"}`, false)
	f.Add(`{"Image":"data:image/png;base64,`+img+`","name":"../x"}`, false)
	f.Add(`{"Image":"data:;base64,","name":"x"}`, false)
	f.Add(`eyJJbWFnZSI6IngifQ==`, true)
	f.Add(`[1,2]`, false)
	f.Add(`{"Image":1}`, false)
	f.Fuzz(func(t *testing.T, body string, b64 bool) {
		a := fuzzAPI(t)
		resp, err := a.Handle(context.Background(), events.APIGatewayProxyRequest{HTTPMethod: "POST", Body: body, IsBase64Encoded: b64})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 || resp.StatusCode < 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, resp.Body)
		}
		if !json.Valid([]byte(resp.Body)) {
			t.Fatalf("body %q", resp.Body)
		}
	})
}

var fuzzHandler *Handler

func fuzzAPI(t *testing.T) *Handler {
	if fuzzHandler == nil {
		// One server pair for the whole fuzz run; they stop with the
		// process.
		s3srv := awstest.StartS3()
		s3c := s3srv.S3()
		if _, err := s3c.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("fuzz")}); err != nil {
			t.Fatal(err)
		}
		rc := rekogtest.Start().Client
		svc, err := rekog.NewTextService(s3c, "fuzz", rekog.NewRekognitionText(rc))
		if err != nil {
			t.Fatal(err)
		}
		fuzzHandler = &Handler{Service: svc}
	}
	return fuzzHandler
}

// TestCORS: no CORS header unless the request's Origin is listed; the
// default list is empty (same-origin only). Before, every answer carried
// Access-Control-Allow-Origin: * unless configured otherwise.
func TestCORS(t *testing.T) {
	req := func(method, origin string) events.APIGatewayProxyRequest {
		r := events.APIGatewayProxyRequest{HTTPMethod: method, Body: "{}"}
		if origin != "" {
			r.Headers = map[string]string{"origin": origin}
		}
		return r
	}
	tests := []struct {
		name    string
		allowed []string
		origin  string
		want    string
	}{
		{"default, foreign origin", nil, "https://evil.example", ""},
		{"default, no origin", nil, "", ""},
		{"listed origin", []string{"https://app.example"}, "https://app.example", "https://app.example"},
		{"unlisted origin", []string{"https://app.example"}, "https://evil.example", ""},
		{"explicit wildcard", []string{"*"}, "https://any.example", "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Handler{AllowedOrigins: tt.allowed}
			for _, m := range []string{"OPTIONS", "POST"} {
				resp, _ := a.Handle(context.Background(), req(m, tt.origin))
				if got := resp.Headers["Access-Control-Allow-Origin"]; got != tt.want {
					t.Fatalf("%s: Access-Control-Allow-Origin %q, want %q (headers %v)", m, got, tt.want, resp.Headers)
				}
				if tt.want == "" && resp.Headers["Access-Control-Allow-Methods"] != "" {
					t.Fatalf("%s: CORS headers without an allowed origin: %v", m, resp.Headers)
				}
			}
		})
	}
	if got := ParseOrigins(" https://a.example, ,https://b.example "); len(got) != 2 || got[1] != "https://b.example" {
		t.Fatalf("ParseOrigins: %q", got)
	}
}
