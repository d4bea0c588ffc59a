// Package textapi is the HTTP API of seed system 2: POST /detecttext with
// the seed app's JSON body {"Image": data URL, "name": string}, answered
// with Rekognition's TextDetections shape (so the seed's client works
// unchanged) plus lines with their words. Invalid input is a 4xx JSON
// {"error", "reason"}; backend failures are a 502 whose details go to the
// log only. CORS headers are set on every answer.
package textapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lakekit/lakekit/rekog"
)

// MaxBodyBytes bounds the request body: a 5 MB image is ≈ 6.7 MB as base64,
// and Lambda's synchronous payload limit is 6 MB anyway.
const MaxBodyBytes = 8 << 20

// Handler answers the seed's POST /detecttext as an API Gateway (HTTP API,
// payload format 1.0, or REST API proxy) Lambda handler.
type Handler struct {
	Service *rekog.TextService
	// AllowOrigin is sent as Access-Control-Allow-Origin. Default "*".
	AllowOrigin string
	// Logger receives backend errors. Nil is silent.
	Logger *slog.Logger
}

// request is the seed app's body: {"Image": "data:image/jpeg;base64,…", "name": "…"}.
// Request is the seed app's body.
type Request struct {
	Image string `json:"Image"`
	Name  string `json:"name"`
}

// TextDetection keeps Rekognition's response shape, so the seed's client
// (response.TextDetections[i].DetectedText) works unchanged.
type TextDetection struct {
	DetectedText string
	Type         string
	Id           int
	ParentId     *int `json:",omitempty"`
	Confidence   float64
	Geometry     struct{ BoundingBox rekog.Box }
}

// Response is the JSON of a 200 answer.
type Response struct {
	Key            string
	Width, Height  int
	Format         string
	Backend        string
	TextDetections []TextDetection
	Lines          []rekog.Line
}

// ErrorBody is the JSON of every 4xx/5xx answer.
type ErrorBody struct {
	Error  string `json:"error"`
	Reason string `json:"reason"`
}

// Handle answers one request; the error is always nil (failures are HTTP
// answers).
func (a *Handler) Handle(ctx context.Context, req events.APIGatewayProxyRequest) (events.APIGatewayProxyResponse, error) {
	switch req.HTTPMethod {
	case http.MethodOptions:
		return a.reply(http.StatusNoContent, nil), nil
	case http.MethodPost:
	default:
		return a.fail(http.StatusMethodNotAllowed, "method_not_allowed", "use POST"), nil
	}
	body := req.Body
	if len(body) > MaxBodyBytes*4/3+4 {
		return a.fail(http.StatusRequestEntityTooLarge, string(rekog.ReasonTooLarge), "request body too large"), nil
	}
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return a.fail(http.StatusBadRequest, "bad_body", "body is not valid base64"), nil
		}
		body = string(b)
	}
	if len(body) > MaxBodyBytes {
		return a.fail(http.StatusRequestEntityTooLarge, string(rekog.ReasonTooLarge), "request body too large"), nil
	}
	var in Request
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		return a.fail(http.StatusBadRequest, "bad_json", "body must be JSON {\"Image\": data URL, \"name\": string}"), nil
	}
	if in.Image == "" {
		return a.fail(http.StatusBadRequest, string(rekog.ReasonEmpty), "Image is required"), nil
	}
	if in.Name == "" {
		return a.fail(http.StatusBadRequest, string(rekog.ReasonNameEmpty), "name is required"), nil
	}
	det, err := a.Service.Detect(ctx, in.Name, in.Image)
	var ie *rekog.InvalidImageError
	var ne *rekog.InvalidNameError
	switch {
	case errors.As(err, &ie):
		status := http.StatusBadRequest
		if ie.Reason == rekog.ReasonTooLarge {
			status = http.StatusRequestEntityTooLarge
		}
		return a.fail(status, string(ie.Reason), ie.Error()), nil
	case errors.As(err, &ne):
		return a.fail(http.StatusBadRequest, string(ne.Reason), ne.Error()), nil
	case err != nil:
		// Details go to the log, not to the caller.
		if a.Logger != nil {
			a.Logger.ErrorContext(ctx, "text detection failed", "err", err)
		}
		return a.fail(http.StatusBadGateway, "backend_error", "text detection failed; try again"), nil
	}
	return a.reply(http.StatusOK, toResponse(det)), nil
}

func toResponse(det *rekog.TextDetection) Response {
	out := Response{Key: det.Key, Width: det.Width, Height: det.Height, Format: string(det.Format),
		Backend: det.Result.Backend, Lines: det.Result.Lines, TextDetections: []TextDetection{}}
	for _, l := range det.Result.Lines {
		td := TextDetection{DetectedText: l.Text, Type: "LINE", Id: l.ID, Confidence: l.Confidence}
		td.Geometry.BoundingBox = l.Box
		out.TextDetections = append(out.TextDetections, td)
	}
	for _, w := range det.Result.Words() {
		parent := w.LineID
		td := TextDetection{DetectedText: w.Text, Type: "WORD", Id: w.ID, ParentId: &parent, Confidence: w.Confidence}
		td.Geometry.BoundingBox = w.Box
		out.TextDetections = append(out.TextDetections, td)
	}
	return out
}

func (a *Handler) headers() map[string]string {
	origin := a.AllowOrigin
	if origin == "" {
		origin = "*"
	}
	return map[string]string{
		"Content-Type":                 "application/json",
		"Access-Control-Allow-Origin":  origin,
		"Access-Control-Allow-Methods": "POST, OPTIONS",
		"Access-Control-Allow-Headers": "Content-Type, Accept",
		"X-Content-Type-Options":       "nosniff",
	}
}

func (a *Handler) reply(status int, v any) events.APIGatewayProxyResponse {
	r := events.APIGatewayProxyResponse{StatusCode: status, Headers: a.headers()}
	if v != nil {
		b, _ := json.Marshal(v)
		r.Body = string(b)
	}
	return r
}

func (a *Handler) fail(status int, reason, msg string) events.APIGatewayProxyResponse {
	return a.reply(status, ErrorBody{Error: msg, Reason: reason})
}
