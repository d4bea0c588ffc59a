package sqsbatch_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/lakekit/lakekit/sqsbatch"
)

func TestPointerRoundTrip(t *testing.T) {
	p := sqsbatch.Pointer{Bucket: "large-payloads", Key: "offload/5c0d\"é"}
	body := sqsbatch.EncodePointer(p)
	if !strings.HasPrefix(body, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"large-payloads","s3Key":`) {
		t.Fatalf("encoded %s", body)
	}
	got, err := sqsbatch.DecodePointer(body)
	if err != nil || got != p {
		t.Fatalf("decoded %+v, %v", got, err)
	}
	// The Java extended client's own output.
	java := `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-bucket","s3Key":"a1b2c3d4-0000-4e5f-8a9b-0123456789ab"}]`
	if got, err := sqsbatch.DecodePointer(java); err != nil || got.Bucket != "my-bucket" {
		t.Fatalf("java pointer: %+v %v", got, err)
	}
	for _, bad := range []string{`{"id":"1"}`, `[]`, `["software.amazon.payloadoffloading.PayloadS3Pointer"]`,
		`["other.Class",{"s3BucketName":"b","s3Key":"k"}]`, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"","s3Key":"k"}]`, "plain text"} {
		if _, err := sqsbatch.DecodePointer(bad); !errors.Is(err, sqsbatch.ErrNotPointer) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// FuzzDecodePointer: decoding never panics; whatever decodes has a bucket
// and a key and survives a round trip.
func FuzzDecodePointer(f *testing.F) {
	for _, s := range []string{
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`,
		`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k","x":1}]`,
		` ["software.amazon.payloadoffloading.PayloadS3Pointer",null] `, `[1,2]`, `{"a":1}`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		p, err := sqsbatch.DecodePointer(body)
		if err != nil {
			if !errors.Is(err, sqsbatch.ErrNotPointer) {
				t.Fatalf("unexpected error type %v", err)
			}
			return
		}
		if p.Bucket == "" || p.Key == "" {
			t.Fatalf("decoded an empty pointer from %q", body)
		}
		again, err := sqsbatch.DecodePointer(sqsbatch.EncodePointer(p))
		if err != nil || again != p {
			t.Fatalf("round trip %+v -> %+v %v", p, again, err)
		}
		if !json.Valid([]byte(body)) {
			t.Fatalf("accepted invalid JSON %q", body)
		}
	})
}
