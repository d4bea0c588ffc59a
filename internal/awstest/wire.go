package awstest

import (
	"testing"

	"github.com/lakekit/lakekit/internal/awslocal"
)

// JSONHandler answers one AWS JSON 1.1 operation (see awslocal).
type JSONHandler = awslocal.JSONHandler

// APIError is an error response in the AWS JSON protocol.
type APIError = awslocal.APIError

// WireServer is a local HTTP server that speaks a service's real wire
// protocol, for services with no local server. The public kit's Glue
// (lakepipe/gluetest) and Firehose (kda/kinesistest) are built on it.
type WireServer = awslocal.WireServer

// NewWireServer starts a WireServer, closed when the test ends. targetPrefix
// is the service's X-Amz-Target prefix ("AWSGlue", "RekognitionService",
// "AmazonAthena", "Firehose_20150804"); signingName is the SigV4 service name
// in the credential scope ("glue", "rekognition", …), checked on every
// request.
func NewWireServer(tb testing.TB, targetPrefix, signingName string) *WireServer {
	tb.Helper()
	return awslocal.NewWireServer(tb, targetPrefix, signingName)
}
