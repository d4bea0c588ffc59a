// Package inproc serves HTTP requests in the calling goroutine: an
// http.RoundTripper over an http.Handler, with no network, so that a
// client and a simulated server (s3sim, fanoutsim) run in one
// testing/synctest bubble.
package inproc

import (
	"net/http"
	"net/http/httptest"
)

// Transport returns a RoundTripper that answers each request with h, in
// the calling goroutine. A request without a body reaches h with
// http.NoBody, as a server would see it; a request whose context ends
// while h runs fails with the context's error.
func Transport(h http.Handler) http.RoundTripper { return transport{h} }

type transport struct{ h http.Handler }

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	in := req
	if in.Body == nil {
		in = req.Clone(req.Context())
		in.Body = http.NoBody
	}
	t.h.ServeHTTP(rec, in)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}
