package awserr_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/lakekit/lakekit/internal/awserr"
)

func clientConfig(endpoint string) aws.Config {
	return aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")}
}

// errorServer answers every call with status and an AWS JSON error of the
// given code; queryCode, if set, goes in x-amzn-query-error as SQS sends it.
func errorServer(t *testing.T, status int, code, queryCode string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if queryCode != "" {
			w.Header().Set("x-amzn-query-error", queryCode+";Sender")
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":"com.amazonaws.service#%s","message":"answer %s"}`, code, code)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestPermanentSDKErrors runs the real SDK clients against a server that
// answers with each error code, and classifies what the SDK returns.
func TestPermanentSDKErrors(t *testing.T) {
	cases := []struct {
		status          int
		code, queryCode string
		permanent       bool
	}{
		{400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", true},
		{400, "QueueDoesNotExist", "", true},
		{400, "AccessDeniedException", "", true},
		{403, "AccessDenied", "", true},
		{403, "InvalidClientTokenId", "", true},
		{400, "UnrecognizedClientException", "", true},
		{403, "SignatureDoesNotMatch", "", true},
		{403, "IncompleteSignature", "", true},
		{400, "KmsAccessDenied", "KMS.AccessDeniedException", true},
		{400, "KmsDisabled", "KMS.DisabledException", true},
		{400, "KmsNotFound", "KMS.NotFoundException", true},
		{400, "InvalidAddress", "InvalidAddress", true},
		{400, "SomethingNew", "", true}, // an unknown 4xx is the caller's fault
		{400, "ThrottlingException", "", false},
		{400, "RequestThrottled", "RequestThrottled", false},
		{400, "KmsThrottled", "KMS.ThrottlingException", false},
		{403, "OverLimit", "OverLimit", false},
		{429, "SomethingNew", "", false},
		{500, "InternalError", "", false},
		{503, "ServiceUnavailable", "", false},
		{502, "SomethingNew", "", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("sqs-%d-%s-%s", tc.status, tc.code, tc.queryCode), func(t *testing.T) {
			c := sqs.NewFromConfig(clientConfig(errorServer(t, tc.status, tc.code, tc.queryCode)))
			_, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://x/000000000000/q")})
			if err == nil {
				t.Fatal("no error")
			}
			if got := awserr.Permanent(err); got != tc.permanent {
				t.Fatalf("Permanent(%v) = %v, want %v (code %q)", err, got, tc.permanent, awserr.Code(err))
			}
		})
	}
	for _, tc := range []struct {
		code      string
		permanent bool
	}{{"ResourceNotFoundException", true}, {"KMSAccessDeniedException", true}, {"ProvisionedThroughputExceededException", false}, {"ExpiredIteratorException", false}} {
		t.Run("kinesis-"+tc.code, func(t *testing.T) {
			c := kinesis.NewFromConfig(clientConfig(errorServer(t, 400, tc.code, "")))
			_, err := c.GetRecords(context.Background(), &kinesis.GetRecordsInput{ShardIterator: aws.String("it")})
			if got := awserr.Permanent(err); err == nil || got != tc.permanent {
				t.Fatalf("Permanent(%v) = %v, want %v", err, got, tc.permanent)
			}
			if awserr.Code(err) != tc.code {
				t.Fatalf("Code = %q", awserr.Code(err))
			}
		})
	}
}

func TestTransientAndLocalErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	c := sqs.NewFromConfig(clientConfig(closed))
	_, err = c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://x/000000000000/q")})
	if err == nil || awserr.Permanent(err) || awserr.Code(err) != "" {
		t.Fatalf("connection refused: Permanent(%v) = %v, code %q", err, awserr.Permanent(err), awserr.Code(err))
	}
	// A required field left out fails in the client, every time.
	_, err = c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{})
	if err == nil || !awserr.Permanent(err) {
		t.Fatalf("missing QueueUrl: Permanent(%v) = false", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String("http://x/000000000000/q")})
	if err == nil || awserr.Permanent(err) {
		t.Fatalf("cancelled: Permanent(%v) = true", err)
	}
	if awserr.Permanent(nil) {
		t.Fatal("Permanent(nil)")
	}
}

// TestFatalAndDenied sorts permanent errors by their reach: Fatal ones fail
// every call to the target, Denied ones may be scoped to some keys, input
// errors belong to one request.
func TestFatalAndDenied(t *testing.T) {
	for _, tc := range []struct {
		status          int
		code, queryCode string
		fatal, denied   bool
	}{
		{400, "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", true, false},
		{403, "InvalidClientTokenId", "", true, false},
		{403, "SignatureDoesNotMatch", "", true, false},
		{400, "KmsDisabled", "KMS.DisabledException", true, false},
		{403, "AccessDenied", "", false, true},
		{400, "AccessDeniedException", "", false, true},
		{400, "InvalidParameterValue", "", false, false},
		{400, "SomethingNew", "", false, false},
		{400, "ThrottlingException", "", false, false},
		{503, "ServiceUnavailable", "", false, false},
	} {
		t.Run(tc.code, func(t *testing.T) {
			c := sqs.NewFromConfig(clientConfig(errorServer(t, tc.status, tc.code, tc.queryCode)))
			_, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String("http://x/000000000000/q"),
				Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("0"), MessageBody: aws.String("b")}}})
			if err == nil {
				t.Fatal("no error")
			}
			if got := awserr.Fatal(err); got != tc.fatal {
				t.Errorf("Fatal(%v) = %v, want %v", err, got, tc.fatal)
			}
			if got := awserr.Denied(err); got != tc.denied {
				t.Errorf("Denied(%v) = %v, want %v", err, got, tc.denied)
			}
		})
	}
	if awserr.Fatal(nil) || awserr.Denied(nil) {
		t.Fatal("nil is neither Fatal nor Denied")
	}
}
