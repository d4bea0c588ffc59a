package deploycheck

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lakekit/lakekit/examples/text-detection/textapi"
	"github.com/lakekit/lakekit/internal/awstest"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// TestSystem2Chain runs seed system 2's API through the emulated
// detecttext Lambda, with the environment
// examples/text-detection/template.yaml gives it (AllowOrigin set): the
// seed app's POST /detecttext, as the template's HTTP API (payload format
// 1.0) hands it over (aws-lambda-go's apigw-request.json, path, headers and
// body replaced) → the image stored under uploads/ on the S3 server →
// DetectText on the wire-protocol Rekognition → the TextDetections the
// seed's client reads, with the CORS header for the allowed origin. An
// image under the minimum size is a 400 with its reason and stores nothing.
func TestSystem2Chain(t *testing.T) {
	s3srv := awstest.S3Server(t)
	c := s3srv.S3()
	bucket := awstest.Name(t, "images")
	createBucket(t, c, bucket)
	w := rekogtest.New(t)

	origin := "https://app.example"
	env := templateEnv(t, "examples/text-detection/template.yaml", "DetectTextFunction", map[string]string{"ImageBucket": bucket, "AllowOrigin": origin})
	fn := startLambda(t, "text-detection-detecttext", withEnv(env, map[string]string{"AWS_ENDPOINT_URL_S3": s3srv.Endpoint, "AWS_ENDPOINT_URL_REKOGNITION": w.Endpoint}))

	request := func(name string, width, height int) events.APIGatewayProxyRequest {
		var req events.APIGatewayProxyRequest
		sample(t, "apigw-request.json", &req)
		req.Resource, req.Path, req.HTTPMethod = "/detecttext", "/detecttext", "POST"
		req.RequestContext.ResourcePath, req.RequestContext.Path, req.RequestContext.HTTPMethod = "/detecttext", "/detecttext", "POST"
		req.PathParameters, req.QueryStringParameters, req.MultiValueQueryStringParameters = nil, nil, nil
		req.Headers["Origin"] = origin
		req.MultiValueHeaders["Origin"] = []string{origin}
		body, _ := json.Marshal(textapi.Request{Image: "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngImage(t, width, height)), Name: name})
		req.Body = string(body)
		return req
	}
	decode := func(body []byte) events.APIGatewayProxyResponse {
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(body, &resp); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		return resp
	}

	status, body := fn.invoke(t, request("monday sign", 320, 200))
	resp := decode(body)
	if status != 200 || resp.StatusCode != 200 {
		t.Fatalf("detecttext answered %d %s", status, body)
	}
	if got := resp.Headers["Access-Control-Allow-Origin"]; got != origin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q (the template's AllowOrigin)", got, origin)
	}
	var out textapi.Response
	if err := json.Unmarshal([]byte(resp.Body), &out); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, d := range out.TextDetections {
		if d.Type == "LINE" {
			lines = append(lines, d.DetectedText)
		}
	}
	if strings.Join(lines, " / ") != "IT'S / MONDAY / but keep / Smiling" || out.Width != 320 || out.Format != "png" {
		t.Fatalf("response %s, want the sample's four lines of a 320 px PNG", resp.Body)
	}
	keys := listKeys(t, c, bucket)
	if len(keys) != 1 || keys[0] != out.Key || !strings.HasPrefix(out.Key, env["KEY_PREFIX"]) {
		t.Fatalf("bucket holds %v, want only the response's key %q under %s", keys, out.Key, env["KEY_PREFIX"])
	}

	status, body = fn.invoke(t, request("tiny", 20, 20))
	resp = decode(body)
	var fail textapi.ErrorBody
	if err := json.Unmarshal([]byte(resp.Body), &fail); status != 200 || err != nil || resp.StatusCode != 400 || fail.Reason != "too_small" {
		t.Fatalf("a 20 px image answered %d %s, want HTTP 400 too_small", status, body)
	}
	if keys := listKeys(t, c, bucket); len(keys) != 1 {
		t.Fatalf("after the refused image the bucket holds %v", keys)
	}

	recordEffect(t, "text-detection-detecttext", "HTTP API payload 1.0 (apigw-request.json, POST /detecttext, Origin allowed), a 320×200 PNG data URL",
		"200; the sample's 4 LINEs from Rekognition (wire fake); the image stored under uploads/ as the response's Key; Access-Control-Allow-Origin set")
	recordEffect(t, "text-detection-detecttext", "same request, a 20×20 PNG", `HTTP 400 {"reason":"too_small"}; nothing stored`)
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{Y: uint8((x*7 + y*3) % 256)})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
