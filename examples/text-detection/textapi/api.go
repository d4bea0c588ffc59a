// Package textapi is the HTTP API of seed system 2: POST /detecttext with
// the seed app's JSON body {"Image": data URL, "name": string}, answered
// with Rekognition's TextDetections shape (so the seed's client works
// unchanged) plus lines with their words. Invalid input is a 4xx JSON
// {"error", "reason"}; backend failures are a 502 whose details go to the
// log only. No CORS header is sent unless Handler.AllowedOrigins names the
// request's Origin: by default only the page's own origin may call the API.
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
	// AllowedOrigins are the origins ("https://app.example") that may
	// call the API from another site: a request whose Origin header is in
	// the list gets it back as Access-Control-Allow-Origin (with Vary:
	// Origin). Default none: no CORS header, so browsers allow only
	// same-origin callers. "*" allows every origin and must be listed
	// explicitly.
	AllowedOrigins []string
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
		return a.reply(req, http.StatusNoContent, nil), nil
	case http.MethodPost:
	default:
		return a.fail(req, http.StatusMethodNotAllowed, "method_not_allowed", "use POST"), nil
	}
	body := req.Body
	if len(body) > MaxBodyBytes*4/3+4 {
		return a.fail(req, http.StatusRequestEntityTooLarge, string(rekog.ReasonTooLarge), "request body too large"), nil
	}
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return a.fail(req, http.StatusBadRequest, "bad_body", "body is not valid base64"), nil
		}
		body = string(b)
	}
	if len(body) > MaxBodyBytes {
		return a.fail(req, http.StatusRequestEntityTooLarge, string(rekog.ReasonTooLarge), "request body too large"), nil
	}
	var in Request
	dec := json.NewDecoder(strings.NewReader(body))
	if err := dec.Decode(&in); err != nil {
		return a.fail(req, http.StatusBadRequest, "bad_json", "body must be JSON {\"Image\": data URL, \"name\": string}"), nil
	}
	if in.Image == "" {
		return a.fail(req, http.StatusBadRequest, string(rekog.ReasonEmpty), "Image is required"), nil
	}
	if in.Name == "" {
		return a.fail(req, http.StatusBadRequest, string(rekog.ReasonNameEmpty), "name is required"), nil
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
		return a.fail(req, status, string(ie.Reason), ie.Error()), nil
	case errors.As(err, &ne):
		return a.fail(req, http.StatusBadRequest, string(ne.Reason), ne.Error()), nil
	case err != nil:
		// Details go to the log, not to the caller.
		if a.Logger != nil {
			a.Logger.ErrorContext(ctx, "text detection failed", "err", err)
		}
		return a.fail(req, http.StatusBadGateway, "backend_error", "text detection failed; try again"), nil
	}
	return a.reply(req, http.StatusOK, toResponse(det)), nil
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

// ParseOrigins splits a comma-separated list of origins (an environment
// variable or a flag) for Handler.AllowedOrigins; "" gives none.
func ParseOrigins(s string) []string {
	var out []string
	for _, o := range strings.Split(s, ",") {
		if o = strings.TrimSpace(o); o != "" {
			out = append(out, o)
		}
	}
	return out
}

// headers are the answer's headers; CORS ones only for an allowed Origin.
func (a *Handler) headers(req events.APIGatewayProxyRequest) map[string]string {
	h := map[string]string{
		"Content-Type":           "application/json",
		"X-Content-Type-Options": "nosniff",
	}
	origin := ""
	for k, v := range req.Headers { // API Gateway may lower-case names
		if strings.EqualFold(k, "Origin") {
			origin = v
		}
	}
	if origin == "" {
		return h
	}
	for _, allowed := range a.AllowedOrigins {
		if allowed == "*" || allowed == origin {
			h["Access-Control-Allow-Origin"] = allowed
			h["Access-Control-Allow-Methods"] = "POST, OPTIONS"
			h["Access-Control-Allow-Headers"] = "Content-Type, Accept"
			h["Vary"] = "Origin"
			if allowed != "*" {
				h["Access-Control-Allow-Origin"] = origin
			}
			break
		}
	}
	return h
}

func (a *Handler) reply(req events.APIGatewayProxyRequest, status int, v any) events.APIGatewayProxyResponse {
	r := events.APIGatewayProxyResponse{StatusCode: status, Headers: a.headers(req)}
	if v != nil {
		b, _ := json.Marshal(v)
		r.Body = string(b)
	}
	return r
}

func (a *Handler) fail(req events.APIGatewayProxyRequest, status int, reason, msg string) events.APIGatewayProxyResponse {
	return a.reply(req, status, ErrorBody{Error: msg, Reason: reason})
}
