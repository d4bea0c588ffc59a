package rekog_test

import (
	"fmt"
	"testing"

	"github.com/lakekit/lakekit/rekog"
	"github.com/lakekit/lakekit/rekog/rekogtest"
)

// BenchmarkDecodeClassify measures the Lambda's per-record CPU work:
// decoding a stream-processor record and classifying its faces.
func BenchmarkDecodeClassify(b *testing.B) {
	records := make([][]byte, 64)
	for i := range records {
		records[i] = rekogtest.FaceRecordJSON("arn:aws:kinesisvideo:us-east-1:0:stream/door/1", int64(i), 1.7e9+float64(i),
			rekogtest.SeenFace{ExternalImageID: fmt.Sprintf("person-%d", i%5)}, rekogtest.SeenFace{})
	}
	var bytes int64
	for _, r := range records {
		bytes += int64(len(r))
	}
	c := rekog.Classifier{Threshold: 85}
	var sightings []rekog.Sighting
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		r, err := rekog.DecodeFaceRecord(records[n%len(records)])
		if err != nil {
			b.Fatal(err)
		}
		sightings = c.Classify(sightings[:0], r)
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.SetBytes(bytes / int64(len(records)))
}
