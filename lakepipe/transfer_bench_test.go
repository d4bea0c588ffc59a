package lakepipe

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lakekit/lakekit/internal/awstest"
)

// BenchmarkTransfersLandingToRaw moves landed 1 KiB files to the raw zone
// one step at a time (one file per Lambda invocation, as the pipeline
// does) and reports files/s beside a bare CopyObject loop on the same
// gofakes3 server in the same run; "ratio" is the step's rate over the
// bare loop's. A step costs a ListObjectsV2, the CopyObject and the
// verifying HeadObject, where the bare loop sends one request.
func BenchmarkTransfersLandingToRaw(b *testing.B) {
	ctx := context.Background()
	c := awstest.S3Server(b).S3()
	bucket := "bench-lake"
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	const files = 200
	body := strings.Repeat("x", 1024)
	reqs := make([]TransferRequest, files)
	for i := range files {
		day := fmt.Sprintf("%02d", 1+i%28)
		key := fmt.Sprintf("data/landing/ds%03d_201908%s.csv", i, day)
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			b.Fatal(err)
		}
		reqs[i] = TransferRequest{Step: StepLandingToRaw, Bucket: bucket, SourcePrefix: DefaultLandingPrefix, DestinationPrefix: "data/raw/",
			Key: key, Dataset: fmt.Sprintf("ds%03d", i), Year: "2019", Month: "08", Day: day}
	}
	tr := must(NewTransfers(c))
	var stepTime, rawTime time.Duration
	round := 0
	for b.Loop() {
		round++
		start := time.Now()
		for i, r := range reqs {
			r.DestinationPrefix = fmt.Sprintf("data/raw%d/", round)
			res, err := tr.Step(ctx, r)
			if err != nil || res.Copied != 1 {
				b.Fatal(i, err, res)
			}
		}
		stepTime += time.Since(start)
		start = time.Now()
		for _, r := range reqs {
			dst := fmt.Sprintf("data/bare%d/%s", round, strings.TrimPrefix(r.Key, DefaultLandingPrefix))
			if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &bucket, Key: aws.String(dst), CopySource: aws.String(bucket + "/" + r.Key)}); err != nil {
				b.Fatal(err)
			}
		}
		rawTime += time.Since(start)
	}
	n := float64(round * files)
	b.ReportMetric(n/stepTime.Seconds(), "files/s")
	b.ReportMetric(n/rawTime.Seconds(), "bare-copies/s")
	b.ReportMetric(rawTime.Seconds()/stepTime.Seconds(), "ratio")
}
