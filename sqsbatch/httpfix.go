package sqsbatch

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// SafeRequestBody is an [sqs.Options] function, applied by this package to
// every SQS call it makes, that keeps net/http from closing a connection
// under a response that is still being read.
//
// The race (aws-sdk-go-v2 sqs v1.53 / smithy-go v1.28, seen against a fast
// local server about once per few thousand ReceiveMessage calls): net/http
// writes a request body it does not recognise as in-memory straight to the
// socket, then makes one more read of the body to check that nothing is
// left over. A fast server may already have answered; smithy-go closes the
// request body as soon as the HTTP client returns, and its body wrapper's
// WriteTo reports (0, io.EOF) once closed. net/http takes that as a write
// error and closes the connection while the SDK deserializes the response,
// which fails with "use of closed network connection". The SDK retries the
// call, but for ReceiveMessage the messages the first attempt took stay
// invisible for the whole visibility timeout.
//
// The fix hides WriteTo from net/http: the trailing check then goes through
// Read, which reports a clean io.EOF after close. Users may apply it to their
// own clients too: sqs.NewFromConfig(cfg, sqsbatch.SafeRequestBody).
func SafeRequestBody(o *sqs.Options) {
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	if _, done := o.HTTPClient.(safeBodyClient); done {
		return
	}
	o.HTTPClient = safeBodyClient{o.HTTPClient}
}

type safeBodyClient struct{ next sqs.HTTPClient }

func (c safeBodyClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req.Body = readOnlyBody{req.Body}
	}
	return c.next.Do(req)
}

// readOnlyBody exposes only Read and Close, never WriteTo.
type readOnlyBody struct{ io.ReadCloser }

// applySafeBody returns a client that makes every call with SafeRequestBody
// and the per-call options to pass for it: for an *sqs.Client, a copy built
// once with the fix (no per-call cost); for anything else (a wrapper), the
// option itself, to pass on each call.
func applySafeBody[C any](c C) (C, []func(*sqs.Options)) {
	if sc, ok := any(c).(*sqs.Client); ok {
		if fixed, ok := any(sqs.New(sc.Options(), SafeRequestBody)).(C); ok {
			return fixed, nil
		}
	}
	return c, []func(*sqs.Options){SafeRequestBody}
}
