package awslocal

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// JSONHandler answers one AWS JSON 1.1 operation. body is the request's JSON
// document. The returned value is marshalled as the response; a returned
// *APIError becomes the service's error response; any other error is a 500
// InternalFailure.
type JSONHandler func(ctx context.Context, body json.RawMessage) (any, error)

// APIError is an error response in the AWS JSON protocol: the SDK maps Code
// to the operation's modelled exception type (for example Glue's
// CrawlerRunningException) or to a smithy.GenericAPIError.
type APIError struct {
	Status  int    // HTTP status; 400 when zero
	Code    string // the exception's shape name, sent as __type
	Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// WireServer is a local HTTP server that speaks a service's real wire
// protocol for services with no local server: AWS JSON 1.1 requests are
// dispatched on X-Amz-Target to handlers registered with HandleJSON.
// Handlers return documented sample responses and keep whatever state the
// service would. Requests must be
// SigV4-signed for the configured signing name, as the service requires.
type WireServer struct {
	*Server

	targetPrefix string
	signingName  string

	mu    sync.Mutex
	json  map[string]JSONHandler
	calls map[string]int
}

// NewWireServer starts a WireServer, closed when the test ends. targetPrefix
// is the service's X-Amz-Target prefix ("AWSGlue", "RekognitionService",
// "AmazonAthena", "Firehose_20150804"); signingName is the SigV4 service name
// in the credential scope ("glue", "rekognition", …), checked on every
// request.
func NewWireServer(tb testing.TB, targetPrefix, signingName string) *WireServer {
	tb.Helper()
	w := StartWireServer(targetPrefix, signingName)
	tb.Cleanup(func() { _ = w.Close() })
	return w
}

// StartWireServer is NewWireServer for programs that are not tests; the
// caller closes it.
func StartWireServer(targetPrefix, signingName string) *WireServer {
	w := &WireServer{
		targetPrefix: targetPrefix,
		signingName:  signingName,
		json:         map[string]JSONHandler{},
		calls:        map[string]int{},
	}
	hs := httptest.NewServer(http.HandlerFunc(w.serveHTTP))
	w.Server = NewServer("wire", hs.URL, func() error { hs.Close(); return nil })
	return w
}

// HandleJSON registers the handler of an AWS JSON 1.1 operation, by its name
// without the target prefix ("GetCrawler").
func (w *WireServer) HandleJSON(operation string, h JSONHandler) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.json[operation] = h
}

// Calls returns how many requests the operation (its name, "GetCrawler")
// has received.
func (w *WireServer) Calls(operation string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[operation]
}

func (w *WireServer) serveHTTP(rw http.ResponseWriter, r *http.Request) {
	if !w.signedFor(r) {
		writeJSONError(rw, &APIError{Status: http.StatusForbidden, Code: "InvalidSignatureException",
			Message: fmt.Sprintf("request is not SigV4-signed for service %q", w.signingName)})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, w.targetPrefix+".")
	w.mu.Lock()
	h := w.json[op]
	w.calls[op]++
	w.mu.Unlock()
	if !ok || h == nil {
		writeJSONError(rw, &APIError{Code: "UnknownOperationException", Message: "no handler for " + target})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeJSONError(rw, &APIError{Code: "SerializationException", Message: "unexpected Content-Type " + ct})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSONError(rw, &APIError{Code: "SerializationException", Message: err.Error()})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	if !json.Valid(body) {
		writeJSONError(rw, &APIError{Code: "SerializationException", Message: "request body is not JSON"})
		return
	}
	out, err := h(r.Context(), body)
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) { // handlers may wrap it
			apiErr = &APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()}
		}
		writeJSONError(rw, apiErr)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	data, err := json.Marshal(out)
	if err != nil {
		writeJSONError(rw, &APIError{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()})
		return
	}
	rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_, _ = rw.Write(data)
}

// signedFor reports whether the request carries a SigV4 Authorization whose
// credential scope names the service.
func (w *WireServer) signedFor(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return false
	}
	return w.signingName == "" || strings.Contains(auth, "/"+w.signingName+"/aws4_request")
}

func writeJSONError(rw http.ResponseWriter, e *APIError) {
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
	rw.Header().Set("X-Amzn-ErrorType", e.Code)
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}
