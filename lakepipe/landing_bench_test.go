package lakepipe

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// BenchmarkLandingParseEvent parses a notification of 100 records and
// reports keys per second.
func BenchmarkLandingParseEvent(b *testing.B) {
	var ev events.S3Event
	for i := range 100 {
		ev.Records = append(ev.Records, events.S3EventRecord{EventName: "ObjectCreated:Put", S3: events.S3Entity{
			Bucket: events.S3Bucket{Name: "lake"},
			Object: events.S3Object{Key: fmt.Sprintf("data/landing/daily%%5Fcustomers%%2Deu_2019%02d%02d.csv", 1+i%12, 1+i%28), Sequencer: fmt.Sprint(i)},
		}})
	}
	p, err := NewLandingParser()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		ls, err := p.ParseEvent(ev)
		if err != nil || len(ls) != 100 {
			b.Fatal(err, len(ls))
		}
	}
	b.ReportMetric(float64(b.N*100)/time.Since(start).Seconds(), "keys/s")
}
