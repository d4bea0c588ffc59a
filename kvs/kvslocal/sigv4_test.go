package kvslocal

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/lakekit/lakekit/kvs"
)

// TestVerifySigV4DocumentedExample checks the verifier against the worked
// example of the AWS Signature Version 4 documentation (IAM ListUsers,
// 2015-08-30), independent of the SDK's signer.
func TestVerifySigV4DocumentedExample(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08", nil)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "+
		"SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
	now := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	if err := VerifySigV4(r, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "iam", kvs.EmptyPayloadHash, now, time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySigV4(t *testing.T) {
	now := time.Now().UTC()
	sign := func(secret string, at time.Time, mutate func(*http.Request)) *http.Request {
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1234/putMedia", strings.NewReader("x"))
		r.ContentLength = -1
		r.Header.Set(kvs.HeaderStreamName, "cam")
		r.Header.Set(kvs.HeaderTimecodeType, "ABSOLUTE")
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AK", SecretAccessKey: secret},
			r, kvs.EmptyPayloadHash, kvs.SigningName, "us-east-1", at)
		if err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	tests := []struct {
		name    string
		r       *http.Request
		service string
		hash    string
		ok      bool
	}{
		{"valid", sign("secret", now, nil), kvs.SigningName, kvs.EmptyPayloadHash, true},
		{"wrong secret", sign("other", now, nil), kvs.SigningName, kvs.EmptyPayloadHash, false},
		{"tampered stream header", sign("secret", now, func(r *http.Request) { r.Header.Set(kvs.HeaderStreamName, "other") }), kvs.SigningName, kvs.EmptyPayloadHash, false},
		{"other host", sign("secret", now, func(r *http.Request) { r.Host = "evil:1234" }), kvs.SigningName, kvs.EmptyPayloadHash, false},
		{"other payload hash", sign("secret", now, nil), kvs.SigningName, strings.Repeat("0", 64), false},
		{"other service", sign("secret", now, nil), "kinesis", kvs.EmptyPayloadHash, false},
		{"too old", sign("secret", now.Add(-10*time.Minute), nil), kvs.SigningName, kvs.EmptyPayloadHash, false},
		{"unsigned", sign("secret", now, func(r *http.Request) { r.Header.Del("Authorization") }), kvs.SigningName, kvs.EmptyPayloadHash, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySigV4(tt.r, "AK", "secret", tt.service, tt.hash, now, 5*time.Minute)
			if (err == nil) != tt.ok {
				t.Fatalf("err = %v, want ok=%v", err, tt.ok)
			}
		})
	}
}
