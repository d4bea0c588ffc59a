package s3sim_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/lakekit/lakekit/s3copy/s3test/s3sim"
)

// FuzzServeHTTP sends the Sim requests built from fuzzed parts (the
// method, the path and query, the copy-source headers and the body it
// parses): it must answer every one without panicking, with an S3 status.
func FuzzServeHTTP(f *testing.F) {
	f.Add(uint8(0), "/src?list-type=2&prefix=a/&delimiter=/&max-keys=2&continuation-token=YS8", "", "", "")
	f.Add(uint8(1), "/dst/k", "src/a/b", "bytes=0-10", "")
	f.Add(uint8(2), "/dst/k?uploadId=s3sim-upload-00000001", "", "", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>")
	f.Add(uint8(1), "/dst/k?partNumber=1&uploadId=s3sim-upload-00000001", "/src/a%2Fb?versionId=1", "bytes=5-1", "")
	f.Add(uint8(3), "/src/a/b?tagging", "", "", "")
	methods := []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodHead, http.MethodDelete}
	f.Fuzz(func(t *testing.T, m uint8, target, copySource, rng, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		sim, err := s3sim.New(func(o *s3sim.SimOptions) {
			o.ConstantLatency = true
			o.FirstByteMedian = time.Nanosecond
			o.ListPerKey = time.Nanosecond
			o.CopyBandwidth = 1e18
		})
		if err != nil {
			t.Fatal(err)
		}
		sim.PutObjects("src", s3sim.Object{Key: "a/b", Size: 100, Tags: map[string]string{"k": "v"}}, s3sim.Object{Key: "a/c/d", Size: 6 << 20})
		sim.CreateBucket("dst")
		req, err := http.NewRequest(methods[int(m)%len(methods)], "http://s3sim.invalid"+target, strings.NewReader(body))
		if err != nil {
			return
		}
		if copySource != "" {
			req.Header.Set("x-amz-copy-source", copySource)
		}
		if rng != "" {
			req.Header.Set("x-amz-copy-source-range", rng)
		}
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
	})
}
